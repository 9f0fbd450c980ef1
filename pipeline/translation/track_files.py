"""A track as files translators already use: XLIFF 1.2, XLIFF 2.0 and SRT, out and back in.

Export: one unit per source cue, the cue id as the unit id, the source-language text as source,
the translation (if any) as target, and the cue times in a note ("start=S end=E", seconds; XLIFF
2.0 also in `mda:metadata`). SRT has no ids: cue number n is the n-th source cue, its times are
the source times, and a cue with no translation yet carries the source text.

Import validates the whole file and raises `TrackFileError` with every error and its line:
unknown or duplicate ids, missing cues, lines over the script's limits, inline markup elements,
broken or changed timing (translations are timed on the source; re-time the source instead).
Markup characters in text are text: XML escaping covers `<`, `&`; SRT files are written with
`pipeline.subtitles.escape_srt` (word joiners), which import strips again.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from pipeline.records import Cue
from pipeline.subtitles import RLM, WORD_JOINER, format_srt
from pipeline.translation.errors import TrackFileError
from pipeline.translation.limits import Problem, base_language, check_cue
from pipeline.translation.track import (
    SourceTrack,
    TranslatedCue,
    TranslationTrack,
    clean_lines,
    new_track,
)
from pipeline.translation.xmlsafe import ParsedXml, local, namespace, parse_xml, xml_text

XliffVersion = Literal["1.2", "2.0"]
NS12 = "urn:oasis:names:tc:xliff:document:1.2"
NS20 = "urn:oasis:names:tc:xliff:document:2.0"
NS_MDA = "urn:oasis:names:tc:xliff:metadata:2.0"
MAX_TRACK_BYTES = 5_000_000
_TIME_TOLERANCE = 0.0015  # files round to milliseconds
_NOTE_TIME = re.compile(r"start=(\d+(?:\.\d+)?)\s+end=(\d+(?:\.\d+)?)")
# States that say a person accepted the target text.
_DONE_12 = frozenset({"translated", "final", "signed-off", "needs-review-l10n", "needs-l10n"})
_DONE_20 = frozenset({"translated", "reviewed", "final"})


@dataclass(frozen=True, slots=True)
class ImportResult:
    """An imported track, the warnings it still has (reading speed...), and how many cues changed."""

    track: TranslationTrack
    warnings: tuple[Problem, ...]
    changed: int


def _time_note(start: float, end: float) -> str:
    return f"start={start:.3f} end={end:.3f}"


def _state12(cue: TranslatedCue | None, track: TranslationTrack | None) -> dict[str, str]:
    if cue is None or cue.is_empty:
        return {"state": "needs-translation"}
    if cue.needs_look:
        return {"state": "needs-review-translation"}
    if cue.machine_made:
        qualifier = "mt-suggestion" if cue.origin == "machine" else "exact-match"
        return {"state": "needs-review-translation", "state-qualifier": qualifier}
    return {"state": "final" if track is not None and track.status == "checked" else "translated"}


def _state20(cue: TranslatedCue | None, track: TranslationTrack | None) -> str:
    if cue is None or cue.is_empty or cue.needs_look or cue.machine_made:
        return "initial"
    return "final" if track is not None and track.status == "checked" else "translated"


def format_xliff(
    source: SourceTrack,
    track: TranslationTrack | None = None,
    *,
    language: str = "",
    version: XliffVersion = "1.2",
    original: str = "clip",
) -> str:
    """XLIFF text of `track` over `source` (or of `source` alone, for `language`, when no track)."""
    target_language = track.language if track is not None else language
    mine = {c.source_id: c for c in track.cues} if track is not None else {}
    if version == "1.2":
        root = ET.Element("xliff", {"xmlns": NS12, "version": "1.2"})
        attrib = {"original": xml_text(original), "source-language": source.language, "datatype": "plaintext"}
        if target_language:
            attrib["target-language"] = target_language
        body = ET.SubElement(ET.SubElement(root, "file", attrib), "body")
        for s in source.cues:
            cue = mine.get(s.id)
            unit = ET.SubElement(body, "trans-unit", {"id": s.id, "xml:space": "preserve"})
            ET.SubElement(unit, "source").text = xml_text("\n".join(s.lines))
            if cue is not None and not cue.is_empty:
                ET.SubElement(unit, "target", _state12(cue, track)).text = xml_text(cue.text)
            ET.SubElement(unit, "note", {"from": "counterclips"}).text = _time_note(s.start, s.end)
    elif version == "2.0":
        attrib = {"xmlns": NS20, "xmlns:mda": NS_MDA, "version": "2.0", "srcLang": source.language}
        if target_language:
            attrib["trgLang"] = target_language
        root = ET.Element("xliff", attrib)
        file = ET.SubElement(root, "file", id="f1", original=xml_text(original))
        for s in source.cues:
            cue = mine.get(s.id)
            unit = ET.SubElement(file, "unit", id=s.id)
            group = ET.SubElement(ET.SubElement(unit, "mda:metadata"), "mda:metaGroup")
            group.set("category", "counterclips-time")
            ET.SubElement(group, "mda:meta", type="start").text = f"{s.start:.3f}"
            ET.SubElement(group, "mda:meta", type="end").text = f"{s.end:.3f}"
            notes = ET.SubElement(unit, "notes")
            ET.SubElement(notes, "note", category="timing").text = _time_note(s.start, s.end)
            segment = ET.SubElement(unit, "segment", state=_state20(cue, track))
            src = ET.SubElement(segment, "source", {"xml:space": "preserve"})
            src.text = xml_text("\n".join(s.lines))
            if cue is not None and not cue.is_empty:
                tgt = ET.SubElement(segment, "target", {"xml:space": "preserve"})
                tgt.text = xml_text(cue.text)
    else:
        raise ValueError(f"unknown XLIFF version {version!r}")
    ET.indent(root)
    # Plain tag names with xmlns attributes: ElementTree would otherwise invent ns0: prefixes.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


@dataclass(frozen=True, slots=True)
class _Unit:
    id: str
    line: int
    source_text: str | None
    target: tuple[str, ...] | None  # None: no target element
    target_line: int
    done: bool
    times: tuple[float, float] | None


def _plain(doc: ParsedXml, element: ET.Element, problems: list[Problem]) -> str:
    for child in element:
        problems.append(
            Problem(
                f"inline markup <{local(child.tag)}> is not supported in subtitle text", line=doc.line(child)
            )
        )
    return element.text or ""


def _units12(doc: ParsedXml, problems: list[Problem]) -> tuple[str, str, list[_Unit]]:
    file = next((e for e in doc.root if local(e.tag) == "file"), None)
    if file is None:
        problems.append(Problem("no <file> element", line=doc.line(doc.root)))
        return "", "", []
    units = []
    # Every <file> counts (some tools split a document); languages come from the first.
    for unit in doc.root.iter(f"{{{NS12}}}trans-unit"):
        src = unit.find(f"{{{NS12}}}source")
        tgt = unit.find(f"{{{NS12}}}target")
        done = tgt is not None and tgt.get("state", "translated") in _DONE_12
        units.append(_unit(doc, unit, src, tgt, done, _note_times(unit.findall(f"{{{NS12}}}note")), problems))
    return file.get("source-language", ""), file.get("target-language", ""), units


def _units20(doc: ParsedXml, problems: list[Problem]) -> tuple[str, str, list[_Unit]]:
    units = []
    for unit in doc.root.iter(f"{{{NS20}}}unit"):
        segments = unit.findall(f"{{{NS20}}}segment")
        if len(segments) != 1:
            problems.append(
                Problem(f"unit needs exactly one <segment>, has {len(segments)}", line=doc.line(unit))
            )
            continue
        seg = segments[0]
        src = seg.find(f"{{{NS20}}}source")
        tgt = seg.find(f"{{{NS20}}}target")
        meta = {m.get("type"): m.text or "" for m in unit.iter(f"{{{NS_MDA}}}meta")}
        times = None
        try:
            if "start" in meta and "end" in meta:
                times = (float(meta["start"]), float(meta["end"]))
        except ValueError:
            problems.append(Problem("unreadable start/end metadata", unit.get("id", ""), doc.line(unit)))
        times = times or _note_times(unit.iter(f"{{{NS20}}}note"))
        done = tgt is not None and seg.get("state", "initial") in _DONE_20
        units.append(_unit(doc, unit, src, tgt, done, times, problems))
    return doc.root.get("srcLang", ""), doc.root.get("trgLang", ""), units


def _note_times(notes: Iterable[ET.Element]) -> tuple[float, float] | None:
    """The last "start-end" time pair written in a unit's notes (None: none)."""
    times = None
    for note in notes:
        m = _NOTE_TIME.search(note.text or "")
        if m:
            times = (float(m.group(1)), float(m.group(2)))
    return times


def _unit(doc: ParsedXml, unit: ET.Element, src: ET.Element | None, tgt: ET.Element | None, done: bool,
          times: tuple[float, float] | None, problems: list[Problem]) -> _Unit:
    """One translation unit of either XLIFF version, its texts reduced to plain lines."""
    return _Unit(
        unit.get("id", ""), doc.line(unit),
        None if src is None else _plain(doc, src, problems),
        None if tgt is None else clean_lines([_plain(doc, tgt, problems)]),
        doc.line(tgt) if tgt is not None else doc.line(unit),
        done, times,
    )  # fmt: skip


def read_xliff(
    data: bytes | str,
    source: SourceTrack,
    language: str,
    track: TranslationTrack | None = None,
    *,
    user: str,
    name: str = "XLIFF",
) -> ImportResult:
    """The `language` track after importing an XLIFF 1.2 or 2.0 file (version from the file)."""
    doc = parse_xml(data, name, max_bytes=MAX_TRACK_BYTES)
    problems: list[Problem] = []
    root_ns = namespace(doc.root.tag)
    if local(doc.root.tag) != "xliff" or root_ns not in (NS12, NS20):
        raise TrackFileError(name, [Problem("not an XLIFF 1.2 or 2.0 document", line=doc.line(doc.root))])
    src_lang, trg_lang, units = (_units12 if root_ns == NS12 else _units20)(doc, problems)
    if src_lang and base_language(src_lang) != base_language(source.language):
        problems.append(
            Problem(
                f"source language is {src_lang}, this clip's is {source.language}", line=doc.line(doc.root)
            )
        )
    if trg_lang and base_language(trg_lang) != base_language(language):
        problems.append(Problem(f"target language is {trg_lang}, not {language}", line=doc.line(doc.root)))
    return _apply(name, source, language, track, units, problems, user, last_line=doc.line(doc.root))


def _apply(
    name: str,
    source: SourceTrack,
    language: str,
    track: TranslationTrack | None,
    units: Sequence[_Unit],
    problems: list[Problem],
    user: str,
    *,
    last_line: int,
    template_fallback: bool = False,
) -> ImportResult:
    by_id = {c.id: c for c in source.cues}
    base = track if track is not None else new_track(source, language)
    mine = {c.source_id: c for c in base.cues}
    seen: dict[str, _Unit] = {}
    warnings: list[Problem] = []
    for u in units:
        if not u.id:
            problems.append(Problem("unit without an id", line=u.line))
            continue
        if u.id not in by_id:
            problems.append(Problem("unknown cue id", u.id, u.line))
            continue
        if u.id in seen:
            problems.append(Problem(f"duplicate cue (first on line {seen[u.id].line})", u.id, u.line))
            continue
        seen[u.id] = u
        s = by_id[u.id]
        if u.times is not None and (
            abs(u.times[0] - s.start) > _TIME_TOLERANCE or abs(u.times[1] - s.end) > _TIME_TOLERANCE
        ):
            problems.append(
                Problem(
                    f"times {u.times[0]:.3f}-{u.times[1]:.3f} s differ from the source cue's "
                    f"{s.start:.3f}-{s.end:.3f} s (re-time the source, not the translation)",
                    u.id, u.line,
                )
            )  # fmt: skip
        template = template_fallback and u.target == clean_lines(s.lines)
        if u.target and not template:
            for p in check_cue(u.target, s.start, s.end, language, cue_id=u.id, line=u.target_line):
                (problems if p.severity == "error" else warnings).append(p)
    for s in source.cues:
        if s.id not in seen:
            problems.append(Problem("cue missing from the file", s.id, last_line))
    if problems:
        raise TrackFileError(name, sorted(problems, key=lambda p: p.line))
    cues: list[TranslatedCue] = []
    changed = 0
    for s in source.cues:
        u = seen[s.id]
        old = mine.get(s.id) or TranslatedCue(s.id, s.start, s.end)
        old = replace(old, start=s.start, end=s.end)
        lines = u.target or ()
        if template_fallback and old.is_empty and lines == clean_lines(s.lines):
            warnings.append(
                Problem("still holds the source text; left untranslated", s.id, u.line, "warning")
            )
            lines = ()
        stale = u.source_text is not None and clean_lines([u.source_text]) != clean_lines(s.lines)
        if lines != old.lines:
            new = replace(
                old,
                lines=lines,
                origin="human",
                confirmed=bool(lines),
                needs_look=False,
                look_reason="",
                engine="",
            )
        elif u.done and old.machine_made:
            new = replace(old, confirmed=True)
        else:
            new = old
        if stale and not new.is_empty:
            warnings.append(
                Problem("translated against older source text; marked for a look", s.id, u.line, "warning")
            )
            new = replace(new, needs_look=True, look_reason="file was translated against older source text")
        changed += new != (mine.get(s.id) or TranslatedCue(s.id, s.start, s.end))
        cues.append(new)
    # Keep cues whose source is gone (reconcile marked them); a translator removes them.
    cues.extend(c for c in base.cues if c.source_id not in by_id)
    if not changed:
        return ImportResult(base, tuple(warnings), 0)
    translators = base.translators if user in base.translators else (*base.translators, user)
    result = replace(base, cues=tuple(cues), status="draft", checker="", translators=translators)
    return ImportResult(result, tuple(warnings), changed)


# ---------------------------------------------------------------------------------------------
# SRT

_SRT_TIMING = re.compile(
    r"^(\d+):(\d{2}):(\d{2})[,.](\d{3})\s*-->\s*(\d+):(\d{2}):(\d{2})[,.](\d{3})(?:\s.*)?$"
)
_INVISIBLE = str.maketrans("", "", WORD_JOINER + RLM + "\u200e\ufeff")


def format_track_srt(source: SourceTrack, track: TranslationTrack | None = None) -> str:
    """SRT of `track`, cue n being the n-th source cue; untranslated cues carry the source text."""
    mine = {c.source_id: c for c in track.cues} if track is not None else {}
    cues = []
    for s in source.cues:
        cue = mine.get(s.id)
        lines = cue.lines if cue is not None and not cue.is_empty else clean_lines(s.lines)
        cues.append(Cue(s.start, s.end, lines))
    return format_srt(cues)


def _ms(h: str, m: str, s: str, ms: str) -> float:
    return (int(h) * 3_600_000 + int(m) * 60_000 + int(s) * 1000 + int(ms)) / 1000


def read_track_srt(
    data: bytes | str,
    source: SourceTrack,
    language: str,
    track: TranslationTrack | None = None,
    *,
    user: str,
    name: str = "SRT",
) -> ImportResult:
    """The `language` track after importing an SRT file written by `format_track_srt`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_TRACK_BYTES:
        raise TrackFileError(
            name, [Problem(f"file is {len(raw):,} bytes, over the {MAX_TRACK_BYTES:,} byte limit")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TrackFileError(name, [Problem("not UTF-8 text", line=line)]) from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[list[tuple[int, str]]] = [[]]
    for n, line in enumerate(lines, 1):
        if line.strip():
            blocks[-1].append((n, line))
        elif blocks[-1]:
            blocks.append([])
    problems: list[Problem] = []
    units: list[_Unit] = []
    for block in (b for b in blocks if b):
        (n0, first), rest = block[0], block[1:]
        if not first.strip().isdigit():
            problems.append(Problem(f"expected a cue number, found {first.strip()[:40]!r}", line=n0))
            continue
        number = int(first.strip())
        if not rest or not (m := _SRT_TIMING.match(rest[0][1].strip())):
            problems.append(
                Problem("broken timing line (HH:MM:SS,mmm --> HH:MM:SS,mmm)", line=rest[0][0] if rest else n0)
            )
            continue
        start, end = _ms(*m.groups()[:4]), _ms(*m.groups()[4:])
        if not end > start:
            problems.append(
                Problem(f"broken timing: ends at {end:.3f} s, not after {start:.3f} s", line=rest[0][0])
            )
            continue
        if not 1 <= number <= len(source.cues):
            problems.append(
                Problem(f"unknown cue number {number} (the clip has {len(source.cues)})", line=n0)
            )
            continue
        text_lines = clean_lines(t.translate(_INVISIBLE) for _, t in rest[1:])
        cue_id = source.cues[number - 1].id
        units.append(
            _Unit(cue_id, n0, None, text_lines, rest[1][0] if len(rest) > 1 else n0, False, (start, end))
        )
    return _apply(
        name, source, language, track, units, problems, user, last_line=len(lines), template_fallback=True
    )
