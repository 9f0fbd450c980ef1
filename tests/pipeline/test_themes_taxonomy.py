"""The taxonomy file: shipped ids, validation errors that name the line, editor extensions."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import TaxonomyError
from pipeline.themes import (
    CREDIBILITY_RISKS,
    RISK_IDS,
    THEME_IDS,
    Flagger,
    default_taxonomy_path,
    load_taxonomy,
)

NEW_ENTRY = """
  - id: smuggling_routes
    kind: risk
    title: Smuggling routes
    definition: How people were moved across a border, detailed enough to be reused.
    cues:
      en: ['crossed (?:at|through) the (?:fence|river) near']
      fr: ['passé par la rivière']
      ar: ['عبرنا النهر']
      sq: ['kaluam lumin']
      bs: ['prešli smo rijeku']
    exemplars:
      - We crossed through the fence near the olive grove where the guards change at midnight.
      - The driver took us along the dry riverbed to a gap in the wall.
      - You pay the man at the petrol station and he drives you over the hill at night.
"""


def write(tmp_path: Path, text: str, name: str = "taxonomy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_taxonomy_has_exactly_the_issue_ids() -> None:
    tax = load_taxonomy()
    assert tax.theme_ids == THEME_IDS
    assert tax.risk_ids == RISK_IDS
    assert set(CREDIBILITY_RISKS) <= set(RISK_IDS)
    for entry in tax.entries:
        assert len(entry.exemplars) >= 12, entry.id
        assert {lang for lang, _ in entry.cues} >= {"en", "fr", "ar", "sq", "bs"}, entry.id
    assert len(tax.neutral) >= 30


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "entries:\n  - id: x\n    kind: [theme\n    title: oops\n")
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(path)
    message = str(err.value)
    assert str(path) in message and " line " in message and "\n" not in message


def test_invalid_kind_error_names_its_line(tmp_path: Path) -> None:
    text = default_taxonomy_path().read_text(encoding="utf-8")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "kind: risk")
    lines[at] = lines[at].replace("kind: risk", "kind: danger")
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(TaxonomyError, match=rf"{path} line {at + 1}: .*kind must be 'theme' or 'risk'"):
        load_taxonomy(path)


def test_bad_cue_pattern_and_unknown_key_name_their_lines(tmp_path: Path) -> None:
    bad_cue = NEW_ENTRY.replace("['passé par la rivière']", "['passé (par']")
    path = write(tmp_path, default_taxonomy_path().read_text(encoding="utf-8") + bad_cue)
    fr_line = path.read_text(encoding="utf-8").splitlines().index("      fr: ['passé (par']") + 1
    with pytest.raises(TaxonomyError, match=rf"line {fr_line}: .*not a valid pattern"):
        load_taxonomy(path)

    typo = NEW_ENTRY.replace("    exemplars:", "    exemplar:")
    path = write(tmp_path, default_taxonomy_path().read_text(encoding="utf-8") + typo)
    with pytest.raises(TaxonomyError, match=r"line \d+: unknown key 'exemplar'"):
        load_taxonomy(path)


def test_missing_language_and_duplicate_id_are_refused(tmp_path: Path) -> None:
    base = default_taxonomy_path().read_text(encoding="utf-8")
    no_bs = NEW_ENTRY.replace("      bs: ['prešli smo rijeku']\n", "")
    with pytest.raises(TaxonomyError, match="cues lack language"):
        load_taxonomy(write(tmp_path, base + no_bs))
    dup = NEW_ENTRY.replace("id: smuggling_routes", "id: false_promises")
    with pytest.raises(TaxonomyError, match="duplicate id 'false_promises' \\(first on line \\d+\\)"):
        load_taxonomy(write(tmp_path, base + dup))


def test_unreadable_file_is_a_taxonomy_error(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read taxonomy"):
        load_taxonomy(tmp_path / "missing.yaml")


def test_entry_added_in_yaml_is_picked_up_without_code_changes(tmp_path: Path) -> None:
    path = write(tmp_path, default_taxonomy_path().read_text(encoding="utf-8") + NEW_ENTRY)
    tax = load_taxonomy(path)
    assert tax.ids[-1] == "smuggling_routes" and "smuggling_routes" in tax.risk_ids
    flagger = Flagger.cues_only(tax)
    [flags] = flagger.flag_texts(["Then we crossed through the river near the old mill."])
    assert flags.labels == ("smuggling_routes",)
    assert flags.why["smuggling_routes"] == 'cue "crossed through the river near" (en)'
