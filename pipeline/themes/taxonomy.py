"""The theme and risk taxonomy: a YAML file editors extend, validated with line numbers."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import TaxonomyError

THEME_IDS: tuple[str, ...] = (
    "witnessed_brutality",
    "hypocrisy_corruption",
    "false_promises",
    "mistreatment_within",
    "coercion_fear",
    "disillusionment_exit",
    "warning_to_others",
)
RISK_IDS: tuple[str, ...] = (
    "pro_group_advocacy",
    "martyrdom_glorification",
    "justifies_violence",
    "intent_to_return",
    "self_incrimination",
    "identifying_details",
)
# Risks that undermine the speaker as a counter-voice anywhere in the interview.
CREDIBILITY_RISKS: tuple[str, ...] = (
    "pro_group_advocacy",
    "martyrdom_glorification",
    "justifies_violence",
    "intent_to_return",
)
# Every entry lists cues for at least these languages (the interview languages we transcribe).
CUE_LANGUAGES: tuple[str, ...] = ("en", "fr", "ar", "sq", "bs")
KINDS = ("theme", "risk")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ENTRY_KEYS = {
    "id", "kind", "title", "definition", "exemplars", "cues", "negatives", "threshold", "cue_examples",
    "precise_cues",
}  # fmt: skip
_REQUIRED_KEYS = ("id", "kind", "title", "definition", "exemplars", "cues")
_LINE = "__line__"
_LINES = "__lines__"


@dataclass(frozen=True, slots=True)
class TaxonomyEntry:
    """One theme or risk. `cues` pairs a language code with its regular expressions."""

    id: str
    kind: str  # "theme" | "risk"
    title: str
    definition: str
    exemplars: tuple[str, ...]
    cues: tuple[tuple[str, tuple[str, ...]], ...]
    negatives: tuple[str, ...] = ()
    threshold: float | None = None  # None: the flagger's default
    line: int = 0  # 1-based line of the entry in its file
    # (language, sentence, whether a cue of this entry must fire): the cues' own test cases
    cue_examples: tuple[tuple[str, str, bool], ...] = ()
    # Cues whose examples show them precise: one alone raises the flag (the others add evidence).
    precise_cues: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated taxonomy; `digest` identifies its content (for caches and provenance)."""

    path: str
    entries: tuple[TaxonomyEntry, ...]
    neutral: tuple[str, ...]
    digest: str

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.entries)

    @property
    def theme_ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.entries if e.kind == "theme")

    @property
    def risk_ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.entries if e.kind == "risk")

    def get(self, entry_id: str) -> TaxonomyEntry:
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise KeyError(entry_id)


def default_taxonomy_path() -> Path:
    """The taxonomy shipped with the package."""
    return Path(str(resources.files("pipeline.themes") / "taxonomy.yaml"))


# libyaml's parser when present (ten times faster; the page's first label lookup loads this).
_SafeBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):
    """A safe loader that remembers the line of every mapping and of each of its values."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        mapping[_LINES] = {
            k.value: v.start_mark.line + 1 for k, v in node.value if isinstance(k, yaml.ScalarNode)
        }
        return mapping


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (the packaged one when `path` is None).

    Raises TaxonomyError with a one-line message naming the file and the line.
    """
    file = Path(path) if path is not None else default_taxonomy_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaxonomyError(f"{file}: cannot read taxonomy ({exc.strerror or exc})") from None
    return parse_taxonomy(text, str(file))


def parse_taxonomy(text: str, name: str = "<taxonomy>") -> Taxonomy:
    """Validate taxonomy YAML `text`; `name` is used in error messages."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise TaxonomyError(f"{name} line {line}: {problem}") from None
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{name}: invalid YAML ({exc})") from None

    def fail(line: int, message: str) -> TaxonomyError:
        return TaxonomyError(f"{name} line {line}: {message}")

    if not isinstance(data, dict):
        raise fail(1, "the taxonomy must be a mapping with an 'entries' list")
    lines = data.get(_LINES, {})
    entries_raw = data.get("entries")
    if not isinstance(entries_raw, list) or not entries_raw:
        raise fail(lines.get("entries", 1), "'entries' must be a non-empty list")
    neutral = _strings(data.get("neutral", []), "neutral", lines.get("neutral", 1), fail, allow_empty=True)

    entries: list[TaxonomyEntry] = []
    seen: dict[str, int] = {}
    for raw in entries_raw:
        if not isinstance(raw, dict):
            raise fail(lines.get("entries", 1), "each entry must be a mapping")
        entries.append(_entry(raw, fail, seen))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Taxonomy(path=name, entries=tuple(entries), neutral=neutral, digest=digest)


def _entry(raw: dict[str, Any], fail: Any, seen: dict[str, int]) -> TaxonomyEntry:
    line = raw[_LINE]
    lines = raw[_LINES]
    unknown = sorted(k for k in raw if k not in _ENTRY_KEYS and k not in (_LINE, _LINES))
    if unknown:
        allowed = ", ".join(sorted(_ENTRY_KEYS))
        raise fail(lines.get(unknown[0], line), f"unknown key '{unknown[0]}' (allowed: {allowed})")
    for key in _REQUIRED_KEYS:
        if key not in raw:
            raise fail(line, f"entry {raw.get('id', '?')!r} has no '{key}'")
    entry_id = raw["id"]
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise fail(lines["id"], f"id {entry_id!r} must be lower_snake_case")
    if entry_id in seen:
        raise fail(lines["id"], f"duplicate id '{entry_id}' (first on line {seen[entry_id]})")
    seen[entry_id] = lines["id"]
    if raw["kind"] not in KINDS:
        raise fail(lines["kind"], f"entry '{entry_id}': kind must be 'theme' or 'risk', not {raw['kind']!r}")
    for key in ("title", "definition"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise fail(lines[key], f"entry '{entry_id}': {key} must be non-empty text")
    exemplars = _strings(raw["exemplars"], f"entry '{entry_id}' exemplars", lines["exemplars"], fail)
    negatives = _strings(
        raw.get("negatives", []),
        f"entry '{entry_id}' negatives",
        lines.get("negatives", line),
        fail,
        allow_empty=True,
    )
    cues = _cues(raw["cues"], entry_id, lines["cues"], fail)
    precise = raw.get("precise_cues")
    at = lines.get("precise_cues", line)
    precise_cues = _cues(precise, entry_id, at, fail, every=False) if precise else ()
    threshold = raw.get("threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold < 1:
            raise fail(lines["threshold"], f"entry '{entry_id}': threshold must be a number between 0 and 1")
        threshold = float(threshold)
    return TaxonomyEntry(
        id=entry_id,
        kind=raw["kind"],
        title=raw["title"].strip(),
        definition=" ".join(raw["definition"].split()),
        exemplars=exemplars,
        cues=cues,
        negatives=negatives,
        threshold=threshold,
        line=line,
        precise_cues=precise_cues,
        cue_examples=_cue_examples(raw.get("cue_examples"), entry_id, lines.get("cue_examples", line), fail),
    )


def _cue_examples(value: Any, entry_id: str, line: int, fail: Any) -> tuple[tuple[str, str, bool], ...]:
    """`cue_examples: {positive: {en: [...]}, negative: {fr: [...]}}` as (lang, text, fires)."""
    if value is None:
        return ()
    if not isinstance(value, dict) or set(value) - {"positive", "negative", _LINE, _LINES}:
        raise fail(line, f"entry '{entry_id}': cue_examples must map positive/negative to languages")
    out: list[tuple[str, str, bool]] = []
    for kind in ("positive", "negative"):
        langs = value.get(kind) or {}
        if not isinstance(langs, dict):
            raise fail(line, f"entry '{entry_id}': cue_examples.{kind} must map languages to sentences")
        for lang, texts in langs.items():
            if lang in (_LINE, _LINES):
                continue
            for text in _strings(texts, f"entry '{entry_id}' cue_examples", line, fail):
                out.append((str(lang), text, kind == "positive"))
    return tuple(out)


def _strings(value: Any, what: str, line: int, fail: Any, allow_empty: bool = False) -> tuple[str, ...]:
    if value is None and allow_empty:
        return ()
    if not isinstance(value, list) or (not value and not allow_empty):
        raise fail(line, f"{what} must be a non-empty list of sentences")
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            # Items of a block list sit one per line below the key.
            raise fail(line + i + 1, f"{what}: item {i + 1} must be non-empty text, not {item!r}")
        out.append(" ".join(item.split()))
    return tuple(out)


def _cues(
    value: Any, entry_id: str, line: int, fail: Any, every: bool = True
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise fail(line, f"entry '{entry_id}': cues must map a language code to a list of patterns")
    lines = value.get(_LINES, {})
    missing = [lang for lang in CUE_LANGUAGES if lang not in value] if every else []
    if missing:
        raise fail(line, f"entry '{entry_id}': cues lack language(s) {', '.join(missing)}")
    out: list[tuple[str, tuple[str, ...]]] = []
    for lang, patterns in value.items():
        if lang in (_LINE, _LINES):
            continue
        at = lines.get(lang, line)
        if patterns is None:
            patterns = []
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p.strip() for p in patterns):
            raise fail(at, f"entry '{entry_id}': cues.{lang} must be a list of non-empty patterns")
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                message = f"entry '{entry_id}': cue {p!r} ({lang}) is not a valid pattern ({exc})"
                raise fail(at, message) from None
        out.append((str(lang), tuple(patterns)))
    return tuple(out)
