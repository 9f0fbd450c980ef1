"""Translated subtitle tracks timed on the source-language cues, and their status rules.

A track holds one `TranslatedCue` per source cue, keyed by the source cue's stable id and
carrying the source times it was translated against. Status runs draft -> translated -> checked:
- translated: every cue has text, none needs a look, no machine or memory text is unconfirmed,
  and no line breaks the script's limits;
- checked: by someone who did not translate it and who reads the language;
- any edit, confirmation or source change drops the track back to draft (the check is void).

Source tracks are duck-typed (`SourceTrack`): the per-version cue model's `CueTrack` of
`TimedCue(id, start, end, lines, ...)` fits as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from pipeline.records import Cue
from pipeline.translation.errors import TranslationError
from pipeline.translation.limits import Problem, base_language, check_cue, wrap_text

Origin = Literal["human", "machine", "memory"]
Status = Literal["draft", "translated", "checked"]
ORIGINS: tuple[str, ...] = ("human", "machine", "memory")
STATUSES: tuple[str, ...] = ("draft", "translated", "checked")


class SourceCue(Protocol):
    """What a translation needs of a source cue (times in seconds)."""

    @property
    def id(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def lines(self) -> tuple[str, ...]: ...


class SourceTrack(Protocol):
    """A source-language cue track: its language and cues in time order."""

    @property
    def language(self) -> str: ...
    @property
    def cues(self) -> Sequence[SourceCue]: ...


@dataclass(frozen=True, slots=True)
class TranslatedCue:
    """The translation of one source cue.

    source_id: the source cue's id. start/end: the source cue's times (seconds) this translation
    was made against. lines: translated lines; empty means not translated yet. origin: who wrote
    the text (a person, an engine, the translation memory). confirmed: a person edited or
    confirmed it. needs_look: the source changed since (look_reason says how). engine: the
    engine name for machine text.
    """

    source_id: str
    start: float
    end: float
    lines: tuple[str, ...] = ()
    origin: Origin = "human"
    confirmed: bool = False
    needs_look: bool = False
    look_reason: str = ""
    engine: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def is_empty(self) -> bool:
        return not any(line.strip() for line in self.lines)

    @property
    def machine_made(self) -> bool:
        """Machine or memory text no person has edited or confirmed yet."""
        return self.origin != "human" and not self.confirmed and not self.is_empty


@dataclass(frozen=True, slots=True)
class TranslationTrack:
    """One language's subtitle track for one version. translators: everyone who wrote, edited
    or confirmed its cues or marked it translated; checker: who checked it ("" until then)."""

    language: str
    source_language: str
    cues: tuple[TranslatedCue, ...]
    status: Status = "draft"
    translators: tuple[str, ...] = ()
    checker: str = ""

    @property
    def machine_made(self) -> bool:
        """True while any cue still holds unconfirmed machine or memory text."""
        return any(c.machine_made for c in self.cues)

    def cue(self, source_id: str) -> TranslatedCue:
        for c in self.cues:
            if c.source_id == source_id:
                return c
        raise TranslationError(f"{self.language} track has no cue {source_id!r}")


def clean_lines(lines: Iterable[str]) -> tuple[str, ...]:
    """Lines with whitespace collapsed and blank lines dropped (newlines inside a line split it)."""
    out: list[str] = []
    for line in lines:
        for part in str(line).splitlines():
            part = " ".join(part.split())
            if part:
                out.append(part)
    return tuple(out)


def new_track(source: SourceTrack, language: str) -> TranslationTrack:
    """An empty draft track in `language` with one untranslated cue per source cue."""
    if base_language(language) == base_language(source.language):
        raise TranslationError(f"{language} is the source language of this track")
    cues = tuple(TranslatedCue(c.id, c.start, c.end) for c in source.cues)
    return TranslationTrack(language, source.language, cues)


def draft_track(
    source: SourceTrack,
    language: str,
    *,
    engine: Any = None,
    memory: Any = None,
) -> TranslationTrack:
    """A draft track: exact translation-memory matches first, then `engine` for the rest.

    engine: an `engines.Engine` or None (then untranslated cues stay empty). memory: a
    `memory.TranslationMemory` or None. Every filled cue is unconfirmed, so the track stays
    machine-made until a person edits or confirms each cue.
    """
    track = new_track(source, language)
    filled: dict[str, TranslatedCue] = {}
    if memory is not None:
        for c in source.cues:
            match = memory.exact(source.language, " ".join(c.lines), language)
            if match is not None:
                filled[c.id] = TranslatedCue(
                    c.id, c.start, c.end, wrap_text(match.entry.target_text, language), "memory"
                )
    todo = [c for c in source.cues if c.id not in filled and clean_lines(c.lines)]
    if engine is not None and todo:
        texts = engine.translate([" ".join(clean_lines(c.lines)) for c in todo], source.language, language)
        for c, text in zip(todo, texts, strict=True):
            lines = wrap_text(text, language)
            if lines:
                filled[c.id] = TranslatedCue(c.id, c.start, c.end, lines, "machine", engine=engine.name)
    return replace(track, cues=tuple(filled.get(c.source_id, c) for c in track.cues))


def _changed(track: TranslationTrack, cues: tuple[TranslatedCue, ...], user: str) -> TranslationTrack:
    translators = track.translators if not user or user in track.translators else (*track.translators, user)
    return replace(track, cues=cues, status="draft", checker="", translators=translators)


def _with_cue(track: TranslationTrack, new: TranslatedCue, user: str) -> TranslationTrack:
    track.cue(new.source_id)  # raises for an unknown id
    cues = tuple(new if c.source_id == new.source_id else c for c in track.cues)
    return _changed(track, cues, user)


def edit_cue(track: TranslationTrack, source_id: str, lines: Sequence[str], user: str) -> TranslationTrack:
    """`user` writes a cue's text: it becomes a person's, confirmed, and the track a draft."""
    if not user:
        raise TranslationError("an edit needs the user who makes it")
    old = track.cue(source_id)
    new = replace(
        old,
        lines=clean_lines(lines),
        origin="human",
        confirmed=True,
        needs_look=False,
        look_reason="",
        engine="",
    )
    return _with_cue(track, new, user)


def confirm_cue(track: TranslationTrack, source_id: str, user: str) -> TranslationTrack:
    """`user` accepts a cue as it is (machine, memory or re-timed text); it keeps its origin."""
    if not user:
        raise TranslationError("a confirmation needs the user who makes it")
    old = track.cue(source_id)
    if old.is_empty:
        raise TranslationError(f"cue {source_id!r} has no text to confirm")
    return _with_cue(track, replace(old, confirmed=True, needs_look=False, look_reason=""), user)


def remove_cue(track: TranslationTrack, source_id: str, user: str) -> TranslationTrack:
    """Drop the translation of a source cue that no longer exists."""
    track.cue(source_id)
    return _changed(track, tuple(c for c in track.cues if c.source_id != source_id), user)


def track_problems(source: SourceTrack, track: TranslationTrack) -> tuple[Problem, ...]:
    """Everything that keeps `track` from being translated (errors) plus limit warnings."""
    out: list[Problem] = []
    have = {c.source_id for c in track.cues}
    wanted = {c.id for c in source.cues}
    for c in source.cues:
        if c.id not in have:
            out.append(Problem("no translated cue for this source cue", c.id))
    by_id = {c.id: c for c in source.cues}
    for c in track.cues:
        if c.source_id not in wanted:
            out.append(Problem("source cue no longer exists", c.source_id))
            continue
        s = by_id[c.source_id]
        if abs(c.start - s.start) > 5e-4 or abs(c.end - s.end) > 5e-4:
            out.append(Problem("times differ from the source cue", c.source_id))
        if c.is_empty:
            if clean_lines(s.lines):
                out.append(Problem("not translated", c.source_id))
            continue
        if c.needs_look:
            out.append(Problem(f"needs a look: {c.look_reason or 'source changed'}", c.source_id))
        if c.machine_made:
            out.append(Problem(f"{c.origin} text not confirmed by a person", c.source_id))
        out.extend(check_cue(c.lines, c.start, c.end, track.language, cue_id=c.source_id))
    return tuple(out)


def _refuse_on_errors(problems: Sequence[Problem], what: str) -> None:
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise TranslationError(f"cannot mark {what}: {errors[0]}{more}")


def mark_translated(source: SourceTrack, track: TranslationTrack, user: str) -> TranslationTrack:
    """draft -> translated, by `user` (who counts as a translator of this track)."""
    if track.status != "draft":
        raise TranslationError(f"{track.language} track is {track.status}, not draft")
    if not user:
        raise TranslationError("marking a track translated needs the user who does it")
    _refuse_on_errors(track_problems(source, track), f"{track.language} translated")
    translators = track.translators if user in track.translators else (*track.translators, user)
    return replace(track, status="translated", translators=translators)


def check_refusal(
    language: str, checker: str, checker_languages: Iterable[str], translators: Iterable[str]
) -> str:
    """Why `checker` may not check a `language` track translated by `translators` ("" if allowed).

    Four eyes: the checker must not have written any of it, and must read the language
    (users list the languages they read; `ar-EG` counts as `ar`).
    """
    if not checker:
        return "a check needs the user who makes it"
    if checker in set(translators):
        return f"{checker} translated this track and cannot check it"
    reads = {base_language(lang) for lang in checker_languages}
    if base_language(language) not in reads:
        return f"{checker} does not read {language}"
    return ""


def can_check(
    language: str, checker: str, checker_languages: Iterable[str], translators: Iterable[str]
) -> bool:
    """True when `checker` may check the track (see `check_refusal`)."""
    return not check_refusal(language, checker, checker_languages, translators)


def mark_checked(
    source: SourceTrack, track: TranslationTrack, checker: str, checker_languages: Iterable[str]
) -> TranslationTrack:
    """translated -> checked by `checker`, who reads `checker_languages`."""
    if track.status != "translated":
        raise TranslationError(f"{track.language} track is {track.status}, not translated")
    refusal = check_refusal(track.language, checker, checker_languages, track.translators)
    if refusal:
        raise TranslationError(refusal)
    _refuse_on_errors(track_problems(source, track), f"{track.language} checked")
    return replace(track, status="checked", checker=checker)


def reconcile(old_source: SourceTrack, new_source: SourceTrack, track: TranslationTrack) -> TranslationTrack:
    """`track` brought onto `new_source`: nothing is silently kept out of sync.

    A cue whose source was re-timed or trimmed takes the new times and needs a look; one whose
    source text changed needs a look; a new source cue gets an empty cue; a cue whose source was
    removed stays (marked) until a translator removes it. Any change makes the track a draft.
    """
    old_by_id = {c.id: c for c in old_source.cues}
    mine = {c.source_id: c for c in track.cues}
    new_ids = {c.id for c in new_source.cues}
    out: list[TranslatedCue] = []
    changed = False
    for s in new_source.cues:
        cue = mine.get(s.id)
        if cue is None:
            out.append(
                TranslatedCue(s.id, s.start, s.end, needs_look=bool(track.cues), look_reason="new source cue")
            )
            changed = True
            continue
        reasons = []
        before = old_by_id.get(s.id)
        retimed = abs(cue.start - s.start) > 5e-4 or abs(cue.end - s.end) > 5e-4
        if before is not None:
            retimed = retimed or abs(before.start - s.start) > 5e-4 or abs(before.end - s.end) > 5e-4
        if retimed:
            reasons.append(f"re-timed to {s.start:.3f}-{s.end:.3f} s")
        if before is not None and clean_lines(before.lines) != clean_lines(s.lines):
            reasons.append("source text changed")
        if reasons:
            changed = True
            flag = not cue.is_empty
            reason = "; ".join(reasons)
            cue = replace(
                cue,
                start=s.start,
                end=s.end,
                needs_look=cue.needs_look or flag,
                look_reason="; ".join(filter(None, (cue.look_reason, reason))) if flag else "",
            )
        out.append(cue)
    for cue in track.cues:
        if cue.source_id not in new_ids:
            changed = True
            out.append(replace(cue, needs_look=True, look_reason="source cue removed"))
    if not changed:
        return track
    return replace(track, cues=tuple(out), status="draft", checker="")


def as_cues(track: TranslationTrack) -> tuple[Cue, ...]:
    """The track's non-empty cues as render records (for subtitle files and burn-in)."""
    return tuple(Cue(c.start, c.end, c.lines) for c in track.cues if not c.is_empty)


@dataclass(frozen=True, slots=True)
class TrackSummary:
    """Per clip and language, for `counterclips languages` and the nightly report."""

    language: str
    state: Literal["missing", "draft", "translated", "checked"]
    cues: int
    translated: int
    machine_made: int
    needs_look: int
    errors: int
    warnings: int


def summarise(source: SourceTrack, track: TranslationTrack | None, language: str = "") -> TrackSummary:
    """Counts of one language's track against its source (state "missing" without a track)."""
    if track is None:
        return TrackSummary(language, "missing", len(source.cues), 0, 0, 0, 0, 0)
    problems = track_problems(source, track)
    return TrackSummary(
        track.language,
        track.status,
        len(source.cues),
        sum(1 for c in track.cues if not c.is_empty),
        sum(1 for c in track.cues if c.machine_made),
        sum(1 for c in track.cues if c.needs_look),
        sum(1 for p in problems if p.severity == "error"),
        sum(1 for p in problems if p.severity == "warning"),
    )


def language_report(
    source: SourceTrack, tracks: Mapping[str, TranslationTrack], languages: Iterable[str]
) -> tuple[TrackSummary, ...]:
    """One summary per wanted language (e.g. the consented ones) and per existing track, sorted."""
    by_base = {base_language(lang): t for lang, t in tracks.items()}
    wanted = {base_language(lang): lang for lang in languages}
    wanted.update({base_language(t.language): t.language for t in tracks.values()})
    wanted.pop(base_language(source.language), None)
    return tuple(summarise(source, by_base.get(base), lang) for base, lang in sorted(wanted.items()))


# ---------------------------------------------------------------------------------------------
# Plain records for the store (JSON column or one row per cue)


def track_to_dict(track: TranslationTrack) -> dict[str, Any]:
    """JSON-ready dict of a track; `track_from_dict` reads it back."""
    return {
        "language": track.language,
        "source_language": track.source_language,
        "status": track.status,
        "translators": list(track.translators),
        "checker": track.checker,
        "cues": [
            {
                "source_id": c.source_id,
                "start": c.start,
                "end": c.end,
                "lines": list(c.lines),
                "origin": c.origin,
                "confirmed": c.confirmed,
                "needs_look": c.needs_look,
                "look_reason": c.look_reason,
                "engine": c.engine,
            }
            for c in track.cues
        ],
    }


def track_from_dict(data: dict[str, Any]) -> TranslationTrack:
    """The track `track_to_dict` wrote; TranslationError on a malformed record."""
    try:
        cues = tuple(
            TranslatedCue(
                str(c["source_id"]),
                float(c["start"]),
                float(c["end"]),
                tuple(str(x) for x in c["lines"]),
                c["origin"],
                bool(c["confirmed"]),
                bool(c["needs_look"]),
                str(c.get("look_reason", "")),
                str(c.get("engine", "")),
            )
            for c in data["cues"]
        )
        track = TranslationTrack(
            str(data["language"]),
            str(data["source_language"]),
            cues,
            data["status"],
            tuple(str(x) for x in data.get("translators", ())),
            str(data.get("checker", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TranslationError(f"malformed translation track record: {exc!r}") from exc
    if track.status not in STATUSES or any(c.origin not in ORIGINS for c in track.cues):
        raise TranslationError("malformed translation track record: unknown status or origin")
    return track
