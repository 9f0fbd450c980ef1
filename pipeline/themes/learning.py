"""Learning from reviewers' corrections (issue 15), the pure core: correction records, refitting
the label heads on the taxonomy's exemplars plus the corrections, a guard that refuses a model
losing risk recall on the sealed split, and JSONL export/import with registry terms redacted.

The store, CLI and page wiring (`review label`, `flagger learn`, `flagger export-corrections`)
live elsewhere; everything here takes and returns plain values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.atomic import write_text_atomic
from pipeline.errors import CounterclipsError
from pipeline.themes.language import detect_language
from pipeline.themes.scoring import Flagger, LabelledText, fit_heads, interview_exemplars
from pipeline.themes.taxonomy import Taxonomy

REDACTED = "[REDACTED]"


class CorrectionError(CounterclipsError):
    """A correction names an unknown label, or a corrections file line is malformed."""


class RecallGuardError(CounterclipsError):
    """A new model would lose risk recall on the sealed split; it must not be installed."""


@dataclass(frozen=True, slots=True)
class Correction:
    """A reviewer's correction of one sentence's flags: labels it should carry (`add`) and
    labels it wrongly got (`remove`), with the reviewer's reason."""

    text: str
    language: str
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    reason: str = ""

    def check(self, taxonomy: Taxonomy) -> None:
        """Raise CorrectionError for labels outside the taxonomy or both added and removed."""
        unknown = sorted((set(self.add) | set(self.remove)) - set(taxonomy.ids))
        if unknown:
            raise CorrectionError(f"unknown label(s) in correction: {', '.join(unknown)}")
        if set(self.add) & set(self.remove):
            both = sorted(set(self.add) & set(self.remove))
            raise CorrectionError(f"a label both added and removed: {', '.join(both)}")
        if not self.text.strip():
            raise CorrectionError("a correction needs the sentence text")


@dataclass(frozen=True, slots=True)
class GuardReport:
    """Any-risk recall of the old and new model on the sealed split, and the risky sentences
    the old model caught that the new one misses."""

    old_recall: float
    new_recall: float
    lost: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.new_recall >= self.old_recall and not self.lost


def learn(taxonomy: Taxonomy, corrections: Sequence[Correction], base_model: Flagger) -> Flagger:
    """A new flagger whose label heads are refitted on the taxonomy's exemplars, the packaged
    interview sentences and `corrections` (each weighs only on the labels it names). A
    correction's sentence is repeated so one reviewer's word outweighs the general exemplars
    near it; thresholds stay those of `base_model`."""
    if base_model.encoder is None:
        raise CorrectionError("learning needs a flagger with its encoder (not cues_only)")
    for c in corrections:
        c.check(taxonomy)
    extra = interview_exemplars(taxonomy) if base_model.options.interview_exemplars else []
    rows = [
        LabelledText(c.text, c.language or detect_language(c.text), tuple(c.add), tuple(c.remove), f"c{i}")
        for i, c in enumerate(corrections)
    ]
    fitted = fit_heads(
        taxonomy, base_model.encoder, base_model.options, [*extra, *rows * CORRECTION_WEIGHT],
        base_thresholds=base_model.thresholds.copy(),
        base_arabic_thresholds=base_model.language_thresholds.get("ar"),
    )
    return base_model.with_heads(fitted)


CORRECTION_WEIGHT = 3  # copies of each corrected sentence in the training rows


def recall_guard(old: Flagger, new: Flagger, sealed_split: Sequence[dict]) -> GuardReport:
    """Compare any-risk recall on `sealed_split` items (`text`, `labels`, optional `language`);
    raise RecallGuardError when the new model's is lower or it misses a risky sentence the old
    one caught. Returns the figures otherwise."""
    risks = set(old.taxonomy.risk_ids)
    risky = [x for x in sealed_split if set(x["labels"]) & risks]
    if not risky:
        return GuardReport(1.0, 1.0, ())
    texts = [x["text"] for x in risky]
    langs = [x.get("language") for x in risky]
    caught_old = [bool(set(f.labels) & risks) for f in old.flag_texts(texts, language=langs)]
    caught_new = [bool(set(f.labels) & risks) for f in new.flag_texts(texts, language=langs)]
    lost = tuple(t for t, a, b in zip(texts, caught_old, caught_new, strict=True) if a and not b)
    report = GuardReport(sum(caught_old) / len(risky), sum(caught_new) / len(risky), lost)
    if not report.ok:
        raise RecallGuardError(
            f"refused: any-risk recall {report.old_recall:.3f} -> {report.new_recall:.3f},"
            f" {len(lost)} risky sentence(s) no longer caught"
        )
    return report


def redact(text: str, terms: Iterable[str]) -> str:
    """`text` with every registry term replaced by REDACTED, found by the one rule of
    `pipeline.terms` (folded case, accents and look-alikes, whole words, long parts of a
    multi-word term on their own)."""
    from pipeline.terms import IdentifyingWord, TermMatcher, redaction_terms

    words = [IdentifyingWord(" ".join(t.split()), REDACTED) for t in terms if t.strip()]
    if not words or not text:
        return text
    matches = TermMatcher(redaction_terms((), words, pseudonym="")).find(text)
    for m in reversed(matches):
        text = text[: m.start] + REDACTED + text[m.end :]
    return text


def export_corrections(corrections: Iterable[Correction], path: str | Path, terms: Iterable[str]) -> int:
    """Write corrections as JSONL with registry `terms` redacted from text and reason; returns
    the number written."""
    terms = list(terms)
    lines = [
        json.dumps(
            {
                "text": redact(c.text, terms),
                "language": c.language,
                "add": list(c.add),
                "remove": list(c.remove),
                "reason": redact(c.reason, terms),
            },
            ensure_ascii=False,
        )
        for c in corrections
    ]
    write_text_atomic(Path(path), "".join(line + "\n" for line in lines))
    return len(lines)


def import_corrections(
    path: str | Path, taxonomy: Taxonomy | None = None, terms: Iterable[str] = ()
) -> list[Correction]:
    """Read a corrections JSONL file (checked against `taxonomy` when given; `terms` redacted
    again, in case the file came from a team that redacts fewer)."""
    terms = list(terms)
    out: list[Correction] = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorrectionError(f"{path}: cannot read corrections ({exc})") from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            x = json.loads(line)
            c = Correction(
                redact(str(x["text"]), terms),
                str(x.get("language") or ""),
                tuple(str(v) for v in x.get("add", ())),
                tuple(str(v) for v in x.get("remove", ())),
                redact(str(x.get("reason", "")), terms),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CorrectionError(f"{path} line {n}: not a correction record") from None
        if taxonomy is not None:
            try:
                c.check(taxonomy)
            except CorrectionError as exc:
                raise CorrectionError(f"{path} line {n}: {exc}") from None
        out.append(c)
    return out
