"""Pure helpers of the candidate page: label colours, the interview timeline, trim snapping to
word boundaries, the clip's text, and preview subtitle cues. Times are seconds."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline import labels as label_source
from pipeline.records import Cue, Sentence, Word


def known_themes() -> tuple[str, ...]:
    """The taxonomy's theme ids, in its order (their colour slots follow it)."""
    return label_source.theme_ids()


def known_risks() -> tuple[str, ...]:
    """The taxonomy's risk ids, then "credibility"."""
    return (*label_source.risk_ids(), label_source.CREDIBILITY)


# Cool colours for themes, warm ones for risks; the CSS classes t0..t7 / r0..r7 use the same.
# Dark enough that white chip text passes WCAG AA (4.5:1) on each.
THEME_COLOURS = ("#1f5f99", "#11665f", "#4b4f9e", "#2a6b34", "#1f5f8b", "#5f479f", "#1d5e86", "#3f6127")
RISK_COLOURS = ("#b02a2a", "#a34a06", "#96137f", "#a3301f", "#7a5a00", "#9b2d20", "#b3321a", "#8c2865")


def is_risk(label: str, risks: Sequence[str] | None = None) -> bool:
    return label in (known_risks() if risks is None else risks)


def _slot(label: str, known: Sequence[str]) -> int:
    if label in known:
        return known.index(label) % 8
    return int(hashlib.sha1(label.encode()).hexdigest(), 16) % 8  # noqa: S324 - colour only


def label_class(label: str) -> str:
    """CSS class for a label: `r<n>` for a risk, `t<n>` for a theme."""
    if label in known_risks():
        return f"r{_slot(label, known_risks())}"
    return f"t{_slot(label, known_themes())}"


def label_colour(label: str) -> str:
    if label in known_risks():
        return RISK_COLOURS[_slot(label, known_risks())]
    return THEME_COLOURS[_slot(label, known_themes())]


def label_title(label: str) -> str:
    return label.replace("_", " ")


def label_chips(themes: Sequence[str], risks: Sequence[str]) -> Any:
    """A queue row's label chips (themes, then risks marked ⚠), escaped."""
    return _label_chips(tuple(themes), tuple(risks))


@functools.lru_cache(maxsize=4096)
def _label_chips(themes: tuple[str, ...], risks: tuple[str, ...]) -> Any:
    # made once per distinct label set: a queue page has ~50 rows of a few chips each
    from markupsafe import Markup, escape

    return Markup("".join(f'<span class="chip {label_class(x)}">{mark}{escape(label_title(x))}</span>'
                          for group, mark in ((themes, ""), (risks, "⚠ ")) for x in group))


def queue_rows(items: Sequence[Any], approved: dict[int, int], needed: dict[int, int],
               snippets: dict[int, str]) -> Any:
    """The queue's rows as HTML, escaped: one Python string per page, where the template spent
    ~15 expressions a row on 50 rows (issue 19). Numbers are formatted from ints and floats."""
    from markupsafe import Markup, escape

    rows = []
    for c in items:
        cid = int(c.id)
        status, span = escape(c.status), float(c.end - c.start)
        rows.append(
            f'<li class="row">\n    <a href="/candidates/{cid}" class="row-link" id="row-{cid}">\n'
            f'      <span class="row-head"><strong>#{cid}</strong>\n'
            f'        <span class="status {status}">{status.replace("_", " ")}</span>\n'
            f'        <span class="progress">{int(approved.get(cid, 0))} of {int(needed[cid])}'
            f' approvals</span>\n'
            f'        <span class="muted">{escape(c.pseudonym)} · interview {int(c.interview_id)} · '
            f'{escape(c.language)} · {span:.1f} s · rank {float(c.rank):.2f}</span></span>\n'
            f'      <span class="snippet">{escape(snippets.get(cid, ""))}</span>\n'
            f'      <span class="row-labels">{label_chips(c.themes, c.risks)}</span>\n'
            f'    </a>\n  </li>\n')
    return Markup("".join(rows))


@dataclass(frozen=True, slots=True)
class Bar:
    """One coloured span of the timeline, in viewBox units (0..1000 wide)."""

    x: float
    width: float
    row: int  # 0 = themes, 1 = risks
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Timeline:
    bars: tuple[Bar, ...]
    clip_x: float
    clip_width: float
    width: int = 1000

    @property
    def bars_svg(self) -> Any:
        """The bars as SVG `<rect>`s with their titles, escaped."""
        return _bars_svg(self.bars)


@functools.lru_cache(maxsize=256)
def _bars_svg(bars: tuple[Bar, ...]) -> Any:
    # One interview's lanes are the same on every candidate page of that interview: made once.
    from markupsafe import Markup, escape

    return Markup("".join(f'<rect x="{b.x}" y="{12 + b.row * 14}" width="{b.width}" height="12" '
                          f'fill="{escape(b.colour)}"><title>{escape(b.title)}</title></rect>'
                          for b in bars))


@functools.lru_cache(maxsize=8192)
def words_html(words: tuple[tuple[float, float, str], ...], text: str) -> Any:
    """A transcript sentence's words as clickable spans (the text when it has no word times),
    escaped; made once per distinct sentence (a page shows ~30 of them, ~10 words each)."""
    from markupsafe import Markup, escape

    if not words:
        return escape(text)
    # the times are floats (SentenceView), whose text needs no escaping: two escapes a word fewer
    return Markup("".join(f'<span class="w" tabindex="0" data-s="{float(a)!r}" data-e="{float(b)!r}">'
                          f"{escape(w)}</span> " for a, b, w in words))


def add_label_options(labels: Sequence[str], on_sentence: Sequence[str], dismissed: Any) -> Any:
    """The `<option>`s of a sentence's "missed label" select: every taxonomy label the sentence
    does not carry (a dismissed one may be added again), escaped."""
    hidden = frozenset(on_sentence) - frozenset(dismissed)
    return _label_options(tuple(labels), hidden)


@functools.lru_cache(maxsize=1024)
def _label_options(labels: tuple[str, ...], hidden: frozenset[str]) -> Any:
    # made once per distinct label set instead of ~13 options for each of ~30 sentences a page
    from markupsafe import Markup, escape

    return Markup("\n".join(f'<option value="{escape(lab)}">{escape(label_title(lab))}</option>'
                           for lab in labels if lab not in hidden))


def timeline(sentences: Sequence[tuple[float, float, Sequence[str]]], duration: float, clip_start: float,
             clip_end: float, width: int = 1000) -> Timeline:
    """Bars for each labelled sentence (start, end, labels) on the whole interview's clock."""
    duration = max(duration, clip_end, *(s[1] for s in sentences)) if sentences else max(duration, clip_end)
    scale = width / duration if duration > 0 else 0.0
    bars = _bars(tuple((a, b, tuple(labels)) for a, b, labels in sentences), scale)
    return Timeline(bars, round(clip_start * scale, 2),
                    round(max(2.0, (clip_end - clip_start) * scale), 2), width)


@functools.lru_cache(maxsize=256)
def _bars(sentences: tuple[tuple[float, float, tuple[str, ...]], ...], scale: float) -> tuple[Bar, ...]:
    # Every candidate of an interview shares its bars: worked out once per interview and scale.
    bars = []
    for start, end, labels in sentences:
        themes = [x for x in labels if x not in known_risks()]
        risks = [x for x in labels if x in known_risks()]
        for row, group in ((0, themes), (1, risks)):
            if group:
                bars.append(Bar(round(start * scale, 2), round(max(1.5, (end - start) * scale), 2), row,
                                label_colour(group[0]),
                                f"{start:.1f}-{end:.1f} s: " + ", ".join(label_title(g) for g in group)))
    return tuple(bars)


class TrimError(ValueError):
    """Trim points that cannot make a clip."""


def snap_trim(start: float, end: float, words: Sequence[Word], *,
              min_length: float = 1.0) -> tuple[float, float]:
    """Snap an in point to the start of the nearest word and an out point to the end of the
    nearest word, so no word is cut. Raises TrimError when the result is empty or too short."""
    if not words:
        raise TrimError("the transcript has no word timings to snap to")
    if end <= start:
        raise TrimError("the out point must come after the in point")
    starts = sorted(w.start for w in words)
    ends = sorted(w.end for w in words)
    s = min(starts, key=lambda t: (abs(t - start), t))
    e = min(ends, key=lambda t: (abs(t - end), -t))
    if e - s < min_length:
        raise TrimError(f"the clip would be shorter than {min_length:g} s after snapping to words")
    return round(s, 3), round(e, 3)


def sentences_in(sentences: Sequence[Sentence], start: float, end: float) -> tuple[int, ...]:
    """Indices of sentences that overlap [start, end]."""
    return tuple(s.index for s in sentences if s.end > start and s.start < end)


def words_in(sentences: Sequence[Sentence], start: float, end: float) -> tuple[Word, ...]:
    return tuple(w for s in sentences for w in s.words if w.start >= start - 1e-3 and w.end <= end + 1e-3)


def spoken_text(sentences: Sequence[Sentence], start: float, end: float) -> str:
    """What is said between start and end, from word timings."""
    return " ".join(w.text.strip() for w in words_in(sentences, start, end) if w.text.strip())


def _norm(text: str) -> str:
    return " ".join(text.split())


def is_auto_text(text: str, sentences: Sequence[Sentence], start: float, end: float,
                 indices: Sequence[int]) -> bool:
    """True when `text` is what the builder would write (not edited by a person)."""
    by_index = {s.index: s for s in sentences}
    joined = " ".join(by_index[i].text.strip() for i in indices if i in by_index)
    return _norm(text) in (_norm(joined), _norm(spoken_text(sentences, start, end)))


def preview_cues(text: str, sentences: Sequence[Sentence], start: float, end: float,
                 max_chars: int = 42) -> tuple[Cue, ...]:
    """Cues on the source clock for the review player.

    Unedited text: cues built from the word timings (pipeline.cues). Edited text has no word
    timings, so its words are spread over the clip in proportion to the spoken words' times.
    """
    spoken = words_in(sentences, start, end)
    if not spoken:
        return ()
    if _norm(text) == _norm(" ".join(w.text for w in spoken)) or not text.strip():
        try:
            from pipeline.cues import build_cues

            keep = set(spoken)
            part = [Sentence(s.index, s.start, s.end, s.text, tuple(w for w in s.words if w in keep),
                             s.language) for s in sentences]
            cues = build_cues([p for p in part if p.words])
            if cues:
                return cues
        except Exception:  # noqa: BLE001, S110 - the fallback below is good enough to preview
            pass
    tokens = text.split() or [w.text for w in spoken]
    n, m = len(tokens), len(spoken)
    chunks: list[tuple[int, int, tuple[str, ...]]] = []  # first token, last token, lines
    first, lines, line = 0, [], []
    for k, tok in enumerate(tokens):
        if line and len(" ".join([*line, tok])) > max_chars:
            lines.append(" ".join(line))
            line = []
            if len(lines) == 2:
                chunks.append((first, k - 1, tuple(lines)))
                first, lines = k, []
        line.append(tok)
    lines.append(" ".join(line))
    chunks.append((first, n - 1, tuple(lines)))
    cues = []
    for lo, hi, text_lines in chunks:
        # each edited token takes the time slot of the spoken word at the same relative position
        t0 = spoken[min(m - 1, lo * m // n)].start
        t1 = spoken[min(m - 1, ((hi + 1) * m - 1) // n)].end
        cues.append(Cue(t0, max(t1, t0 + 0.5), text_lines))
    return tuple(cues)


def _vtt_time(t: float) -> str:
    ms = max(0, int(round(t * 1000)))
    h, rem = divmod(ms, 3_600_000)
    mnt, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{mnt:02d}:{s:02d}.{ms:03d}"


def format_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text. Cue text is escaped (&, <, >) so markup in a transcript stays literal."""
    out = ["WEBVTT", ""]
    for c in cues:
        out.append(f"{_vtt_time(c.start)} --> {_vtt_time(c.end)}")
        out.extend(x.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for x in c.lines)
        out.append("")
    return "\n".join(out)


def parse_time(text: str) -> float | None:
    """Seconds from "12.5", "1:02.5" or "1:00:02"; None when it is not a finite time."""
    import math

    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        return None
    if len(parts) > 3 or any(not math.isfinite(p) or p < 0 for p in parts):
        return None
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total


@dataclass(frozen=True, slots=True)
class Tick:
    x: float  # viewBox units (0..width)
    label: str


def ticks(duration: float, width: int = 1000, target: int = 10) -> tuple[Tick, ...]:
    """Time ticks at a round step giving about `target` marks over the interview."""
    if duration <= 0:
        return ()
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
    step = next((s for s in steps if duration / s <= target), steps[-1])
    out = []
    t = 0.0
    while t <= duration + 1e-9:
        m, s = divmod(int(t), 60)
        out.append(Tick(round(t / duration * width, 2), f"{m}:{s:02d}"))
        t += step
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Flagged:
    """A flagged sentence inside the clip, for an acknowledgement that names it."""

    index: int
    start: float
    text: str
    labels: tuple[str, ...]
    why: tuple[tuple[str, str], ...]


def flagged_in_clip(sentences: Sequence[Any], start: float, end: float,
                    risks: Sequence[str]) -> dict[str, tuple[Flagged, ...]]:
    """Per risk of the clip, the sentences inside [start, end] flagged with it."""
    out: dict[str, list[Flagged]] = {r: [] for r in risks}
    for s in sentences:
        if not (s.end > start and s.start < end):
            continue
        for lab in s.labels:
            if lab in out:
                out[lab].append(Flagged(s.index, s.start, s.text, tuple(s.labels),
                                        tuple((k, v) for k, v in s.why.items())))
    return {k: tuple(v) for k, v in out.items()}


def waveform_path(store: Any, workspace: Any, source_sha256: str, cand: Any,
                  duration: float, width: int = 1000, height: int = 40) -> str:
    """The interview's waveform as an SVG path `d` ("" when there is no audio to read).

    Peaks are computed once (first view) from the proxy or the source and stored."""
    from clips_metadata.waveforms_repo import WaveformsRepo

    key = (source_sha256, round(duration, 3), width, height)
    if key in _PATHS:
        return _PATHS[key]
    repo = WaveformsRepo(store)
    peaks = repo.get(source_sha256)
    if peaks is None:
        peaks = _compute_peaks(store, workspace, source_sha256, cand)
        if peaks is None:
            return ""
        repo.put(source_sha256, peaks)
    from pipeline.waveform import svg_path

    path = svg_path(peaks, width, height, 0.0, max(duration, 0.001))
    if len(_PATHS) >= 512:  # peaks never change: a small cache spares redrawing per view
        _PATHS.pop(next(iter(_PATHS)))
    _PATHS[key] = path
    return path


_PATHS: dict[tuple[str, float, int, int], str] = {}
_NO_AUDIO: set[str] = set()  # sources found unreadable in this process: not retried per view


def _compute_peaks(store: Any, workspace: Any, sha: str, cand: Any) -> Any:
    from pathlib import Path

    from pipeline.errors import CounterclipsError
    from pipeline.waveform import peaks_for_file
    from review.proxy_files import proxy_path

    if sha in _NO_AUDIO:
        return None
    interview = store.get_interview(cand.interview_id)
    src = Path(interview.source_path)
    if not src.is_absolute():
        src = workspace.root / src
    for path in (src, proxy_path(workspace, sha)):
        if path is not None and Path(path).is_file():
            try:
                return peaks_for_file(path)
            except (CounterclipsError, OSError):
                continue
    _NO_AUDIO.add(sha)
    return None
