"""Learning from reviewers' corrections: records, JSONL export/import with redaction, refitting
the heads (changes flags on paraphrases), and the recall guard."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.themes import Flagger, load_taxonomy
from pipeline.themes.learning import (
    REDACTED,
    Correction,
    CorrectionError,
    RecallGuardError,
    export_corrections,
    import_corrections,
    learn,
    recall_guard,
)
from tests.pipeline.themes_support import real_flagger


def test_export_redacts_registry_terms_and_round_trips(tmp_path: Path) -> None:
    tax = load_taxonomy()
    corrections = [
        Correction("Ask Besnik Morina, he kept the list.", "en", ("identifying_details",), (), "Besnik"),
        Correction("Nous avons regardé leurs vidéos.", "fr", (), ("pro_group_advocacy",), "only a mention"),
    ]
    out = tmp_path / "corrections.jsonl"
    assert export_corrections(corrections, out, terms=["Besnik Morina", "besnik"]) == 2
    text = out.read_text(encoding="utf-8")
    assert "Besnik" not in text and "Morina" not in text and REDACTED in text
    back = import_corrections(out, tax)
    assert back[1] == corrections[1]
    assert back[0].add == ("identifying_details",) and REDACTED in back[0].text


def test_import_rejects_unknown_labels_and_broken_lines(tmp_path: Path) -> None:
    tax = load_taxonomy()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "add": ["no_such_label"]}\n', encoding="utf-8")
    with pytest.raises(CorrectionError, match="line 1: unknown label"):
        import_corrections(bad, tax)
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(CorrectionError, match="line 1"):
        import_corrections(bad, tax)
    with pytest.raises(CorrectionError, match="both added and removed"):
        Correction("x", "en", ("witnessed_brutality",), ("witnessed_brutality",)).check(tax)


@pytest.fixture(scope="module")
def flagger() -> Flagger:
    return real_flagger()


@pytest.mark.slow
def test_learning_from_corrections_changes_flags_on_paraphrases(flagger: Flagger) -> None:
    tax = flagger.taxonomy
    missed = "self_incrimination"
    false = "witnessed_brutality"
    corrections = [
        # A plain admission with no violent word, which the exemplars' wording misses.
        Correction("I kept the accounts of their office, every dollar passed through me.", "en", (missed,)),
        Correction("It was me who did their bookkeeping for two years.", "en", (missed,)),
        Correction("I managed the money for the emir's office in Mosul.", "en", (missed,)),
        # Ordinary sights of the fighters around town, wrongly taken for witnessed brutality.
        Correction("I watched the fighters walk past our house every morning.", "en", (), (false,)),
        Correction("Every day we saw their trucks drive through the square.", "en", (), (false,)),
        Correction("From the window I could see the fighters going to the mosque.", "en", (), (false,)),
    ]
    paraphrase_missed = "I was the one who kept the books of their finance office."
    paraphrase_false = "Each morning I saw the fighters walking by our house."
    before = flagger.flag_texts([paraphrase_missed, paraphrase_false], language="en")
    assert false in before[1].labels  # a real false flag before the corrections
    new = learn(tax, corrections, flagger)
    after = new.flag_texts([paraphrase_missed, paraphrase_false], language="en")
    assert after[0].scores[missed] > before[0].scores[missed]
    assert missed in after[0].labels
    assert after[1].scores[false] < before[1].scores[false]
    assert false not in after[1].labels
    assert new.model_version != flagger.model_version
    assert after[0].model_version == new.model_version


@pytest.mark.slow
def test_recall_guard_refuses_a_model_that_misses_a_caught_risk(flagger: Flagger) -> None:
    split = [
        {
            "text": "My husband died a martyr and I thank God for it, he is in paradise.",
            "labels": ["martyrdom_glorification"],
        },
        {"text": "We had lunch at my aunt's house.", "labels": []},
    ]
    assert recall_guard(flagger, flagger, split).ok
    # A model that would flag nothing (every threshold above 1, an any-risk gate that never
    # opens) misses the risk the old one caught.
    never = replace(flagger._fitted, thresholds=np.full(len(flagger.labels), 1.01), gate_bias=-50.0)
    weaker = flagger.with_heads(never)
    caught = flagger.flag_texts([split[0]["text"]], language="en")[0]
    assert set(caught.labels) & set(flagger.taxonomy.risk_ids)
    with pytest.raises(RecallGuardError, match="refused"):
        recall_guard(flagger, weaker, split)
