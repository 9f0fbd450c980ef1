"""Candidate clips from flagged sentences. Pure: records in, records out; times in seconds.

A candidate is a run of whole consecutive sentences of one interview that carries at least one
theme. The builder
1. finds runs of themed sentences (bridging short theme-less stretches), never starting or
   ending mid-sentence and breaking at long silences;
2. keeps sentences with body-excluded risks (pro-group advocacy, martyrdom glorification,
   justification of violence) out of the body: they end a run, and context is taken from the
   other side first; only when a clip cannot reach its minimum length otherwise is such a
   sentence included, and then the risk is on the candidate for the reviewer to acknowledge;
3. adds context sentences where the clip would otherwise start or end abruptly, grows short
   runs to the minimum length and splits long ones near the target length;
4. pads in and out points into the silence around the clip, never past the midpoint of the
   silence to the neighbouring words, so no word (or its onset) is cut;
5. ranks by theme strength, transcript confidence and fit to the target length, with reasons;
6. merges or drops overlapping candidates so no sentence appears in two candidates.

With `CandidateOptions.interviewee` set (a diarization speaker id), only that speaker's sentences
can be in a clip: every other speaker's sentence ends a run and is never added as context, so no
interviewer word is in a clip's time range or subtitles. When the interviewer's question just
before a clip is needed to understand it, it travels as a `QuestionCard` (on-screen text, marked
as the interviewer's), never as the subject's words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.labels import CREDIBILITY
from pipeline.records import CredibilityWarning, Sentence, SentenceFlags
from pipeline.themes.taxonomy import RISK_IDS

# The shipped taxonomy's risk ids; callers with an edited taxonomy pass its risk ids in
# CandidateOptions.risk_ids.
DEFAULT_RISK_IDS = RISK_IDS
BODY_EXCLUDED_RISKS = ("pro_group_advocacy", "martyrdom_glorification", "justifies_violence")

# Sentence openings that lean on what came before ("And then they...", "That is why...").
# A clip starting with one gets the previous sentence as context. Lower-case first words.
DEPENDENT_OPENERS = frozenset(
    {
        "and", "but", "so", "because", "then", "that", "this", "these", "those", "it", "he", "she",
        "they", "them", "his", "her", "their", "also", "which", "or", "yes", "no", "after", "even",
        "still", "there", "et", "mais", "donc", "alors", "parce", "il", "elle", "ils", "elles", "ce",
        "cela", "ça", "oui", "non", "puis", "und", "aber", "dann", "weil", "er", "sie", "es",
    }
)  # fmt: skip


WarningLike = CredibilityWarning  # fresh from the flagger or read back from the store


@dataclass(frozen=True, slots=True)
class CandidateOptions:
    """How candidates are cut and ranked. Durations in seconds.

    min_duration / max_duration: hard limits on a clip's length, padding included (15 / 90).
    target_duration: the length ranked best; long runs are split near it (45: long enough for
        one complete story, short enough for social platforms).
    padding: at most this much silence kept before the first and after the last word (0.3);
        never more than half the silence to the neighbouring word.
    context_sentences: at most this many sentences added on each side to make a clip
        understandable (a dependent opening, a dangling question) (1).
    bridge_sentences: theme-less sentences allowed inside a run between themed ones (3: a story's
        short connecting sentences often carry no theme of their own).
    max_bridge_duration: ... and at most this many seconds of them (15.0).
    max_gap: a silence longer than this ends a run and is never bridged (5.0; longer pauses are
        usually a change of subject or an edit).
    min_theme_score: a theme label counts when its score is at least this (0.0: trust labels).
    risk_ids: labels that are risks; every other label is a theme.
    body_excluded_risks: risks kept out of the body where the boundaries allow.
    excluded_risk_penalty: rank multiplier for a candidate that had to include one (0.75).
    theme_weight, confidence_weight, fit_weight: the rank's mix (0.5 / 0.25 / 0.25).
    max_candidates: keep only the best N (None: all).
    interviewee: the diarization speaker id of the interviewee; other speakers' sentences are
        kept out of clips (None: no diarization, every sentence is the subject's).
    question_card: keep the interviewer's question right before a clip as a QuestionCard when
        the clip needs it (it ends with a question mark, or the clip's opening leans on it) (True).
    max_question_gap: ... and only when the answer starts within this many seconds (5.0).
    """

    min_duration: float = 15.0
    max_duration: float = 90.0
    target_duration: float = 45.0
    padding: float = 0.3
    context_sentences: int = 1
    bridge_sentences: int = 3
    max_bridge_duration: float = 15.0
    max_gap: float = 5.0
    min_theme_score: float = 0.0
    risk_ids: tuple[str, ...] = DEFAULT_RISK_IDS
    body_excluded_risks: tuple[str, ...] = BODY_EXCLUDED_RISKS
    excluded_risk_penalty: float = 0.75
    theme_weight: float = 0.5
    confidence_weight: float = 0.25
    fit_weight: float = 0.25
    max_candidates: int | None = None
    interviewee: str | None = None
    question_card: bool = True
    max_question_gap: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.min_duration <= self.target_duration <= self.max_duration:
            raise ValueError("need 0 < min_duration <= target_duration <= max_duration")
        if self.padding < 0 or self.max_gap <= 0:
            raise ValueError("padding must be >= 0 and max_gap > 0")


@dataclass(frozen=True, slots=True)
class QuestionCard:
    """The interviewer's question before a clip, shown on screen as a card marked as the
    interviewer's, never burned in as the subject's subtitle. Times are the question's in the
    source, seconds (it lies before the clip's `start`); `sentence_indices` are its sentences."""

    text: str
    start: float
    end: float
    speaker: str | None = None
    sentence_indices: tuple[int, ...] = ()
    kind: str = "interviewer_question"


@dataclass(frozen=True, slots=True)
class CandidateProposal:
    """A proposed clip. `start`/`end` in seconds (padded into silence); `sentence_indices` are
    `Sentence.index` values in order; `risks` includes "credibility" when the interview carries a
    credibility warning; `rank` in [0, 1], higher is better; `reasons` explain the rank."""

    start: float
    end: float
    sentence_indices: tuple[int, ...]
    themes: tuple[str, ...]
    risks: tuple[str, ...]
    rank: float
    reasons: tuple[str, ...]
    text: str = ""
    confidence: float = 0.0
    theme_scores: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    question: QuestionCard | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class _Info:
    """Per-sentence facts the builder needs, by position."""

    themes: Mapping[str, float]
    risks: tuple[str, ...]
    excluded: bool
    first: float  # first word's start
    last: float  # last word's end
    other_speaker: bool = False  # said by someone other than the interviewee


def propose_candidates(
    sentences: Sequence[Sentence],
    flags: Sequence[SentenceFlags],
    warnings: Iterable[WarningLike] = (),
    options: CandidateOptions = CandidateOptions(),
    duration: float | None = None,
) -> tuple[CandidateProposal, ...]:
    """Candidates for one transcript, best first. `flags[i]` labels `sentences[i]`;
    `duration` (seconds of media) bounds the last clip's padding when given."""
    if len(flags) != len(sentences):
        raise ValueError(f"need one SentenceFlags per sentence ({len(flags)} for {len(sentences)})")
    if not sentences:
        return ()
    order = sorted(range(len(sentences)), key=lambda i: (sentences[i].start, sentences[i].index))
    sents = [sentences[i] for i in order]
    infos = [_info(sentences[i], flags[i], options) for i in order]
    warns = tuple(warnings)

    spans: list[tuple[int, int]] = []
    for a, b in _runs(sents, infos, options):
        spans.extend(_fit(a, b, sents, infos, options, duration))
    spans = _dedupe(spans, sents, infos, warns, options, duration)
    proposals = [_proposal(a, b, sents, infos, warns, options, duration) for a, b in spans]
    proposals.sort(key=lambda p: (-p.rank, p.start))
    if options.max_candidates is not None:
        proposals = proposals[: options.max_candidates]
    return tuple(proposals)


# ---------------------------------------------------------------------------------- steps


def _info(s: Sentence, f: SentenceFlags, o: CandidateOptions) -> _Info:
    first = s.words[0].start if s.words else s.start
    last = s.words[-1].end if s.words else s.end
    if o.interviewee is not None and s.speaker is not None and s.speaker != o.interviewee:
        # Another speaker's themes and risks are not the subject's: the sentence is a wall.
        return _Info({}, (), False, min(first, s.start), max(last, s.end), other_speaker=True)
    risks = tuple(lab for lab in f.labels if lab in o.risk_ids)
    themes = {
        lab: float(f.scores.get(lab, 1.0))
        for lab in f.labels
        if lab not in o.risk_ids and float(f.scores.get(lab, 1.0)) >= o.min_theme_score
    }
    return _Info(
        themes, risks, any(r in o.body_excluded_risks for r in risks), min(first, s.start), max(last, s.end)
    )


def _gap(sents: Sequence[Sentence], infos: Sequence[_Info], i: int) -> float:
    """Silence between sentence i and i+1, seconds."""
    return infos[i + 1].first - infos[i].last


def _span_duration(infos: Sequence[_Info], a: int, b: int) -> float:
    return infos[b].last - infos[a].first


def _runs(sents: Sequence[Sentence], infos: Sequence[_Info], o: CandidateOptions) -> list[tuple[int, int]]:
    """Maximal runs [a, b] that start and end on themed sentences, contain no body-excluded
    sentence, bridge at most `bridge_sentences` theme-less ones and no silence > max_gap."""
    runs: list[tuple[int, int]] = []
    start = last_themed = None
    for i, info in enumerate(infos):
        broken = start is not None and (
            info.excluded
            or info.other_speaker
            or _gap(sents, infos, i - 1) > o.max_gap
            or (not info.themes and i - last_themed > o.bridge_sentences)  # type: ignore[operator]
            or _off_theme(infos, last_themed, i) > o.max_bridge_duration  # type: ignore[arg-type]
        )
        if broken:
            runs.append((start, last_themed))  # type: ignore[arg-type]
            start = last_themed = None
        if info.themes and not info.excluded:
            if start is None:
                start = i
            last_themed = i
    if start is not None:
        runs.append((start, last_themed))  # type: ignore[arg-type]
    return runs


def _off_theme(infos: Sequence[_Info], last_themed: int, i: int) -> float:
    """Seconds without a theme between the last themed sentence and sentence i (its end when i
    is theme-less, its start when i is themed)."""
    edge = infos[i].first if infos[i].themes else infos[i].last
    return edge - infos[last_themed].last


def _can_join(infos: Sequence[_Info], sents: Sequence[Sentence], i: int, j: int, o: CandidateOptions) -> bool:
    """May sentence j (a neighbour of the span edge i) be added without crossing a long pause?"""
    lo, hi = min(i, j), max(i, j)
    return (
        0 <= j < len(infos)
        and not infos[j].other_speaker
        and _gap(sents, infos, lo) <= o.max_gap
        and hi - lo == 1
    )


def _context(
    a: int, b: int, sents: Sequence[Sentence], infos: Sequence[_Info], o: CandidateOptions
) -> tuple[int, int]:
    """Add up to `context_sentences` on each side where the clip would start or end abruptly."""
    budget = o.max_duration - 2 * o.padding
    for _ in range(o.context_sentences):
        if (
            _dependent_start(sents[a])
            and _can_join(infos, sents, a, a - 1, o)
            and not infos[a - 1].excluded
            and not _tainted(infos, a - 1)
        ):
            if _span_duration(infos, a - 1, b) <= budget:
                a -= 1
    for _ in range(o.context_sentences):
        if (
            _dangling_end(sents[b])
            and _can_join(infos, sents, b, b + 1, o)
            and not infos[b + 1].excluded
            and not _tainted(infos, b + 1)
        ):
            if _span_duration(infos, a, b + 1) <= budget:
                b += 1
    return a, b


def _dependent_start(s: Sentence) -> bool:
    words = s.text.strip().split()
    if not words:
        return False
    first = words[0].strip("\"'“‘«(¿¡,.").lower()
    return first in DEPENDENT_OPENERS or len(words) <= 3


def _dangling_end(s: Sentence) -> bool:
    t = s.text.strip()
    return t.endswith(("?", ":", "؟", "...", "…", ",")) or len(t.split()) <= 3


def _clip_length(
    infos: Sequence[_Info], a: int, b: int, o: CandidateOptions, duration: float | None
) -> float:
    """Length of the padded clip over sentences a..b (the minimum counts padding, as documented)."""
    start, end = _clip_edges(a, b, infos, o, duration)
    return end - start


def _grow(
    a: int, b: int, sents: Sequence[Sentence], infos: Sequence[_Info], o: CandidateOptions,
    duration: float | None = None,
) -> tuple[int, int]:
    """Extend a short span to min_duration with neighbours: risk-free ones first, then ones
    not touching an excluded sentence (they often continue its thought), then ones that do not
    leave the clip ending on a question, then the side with the shorter silence. Body-excluded
    sentences only when nothing else reaches the minimum (their risk then travels with it)."""
    budget_min = o.min_duration
    budget_max = o.max_duration - 2 * o.padding
    for allow_excluded in (False, True):
        while _clip_length(infos, a, b, o, duration) < budget_min:
            options = []
            for j, edge in ((a - 1, a), (b + 1, b)):
                if not _can_join(infos, sents, edge, j, o):
                    continue
                if infos[j].excluded and not allow_excluded:
                    continue
                na, nb = min(a, j), max(b, j)
                if _span_duration(infos, na, nb) > budget_max:
                    continue
                silence = infos[j].first - infos[edge].last if j > edge else infos[edge].first - infos[j].last
                question = j > edge and sents[j].text.rstrip().endswith(("?", "؟"))
                options.append((infos[j].excluded, _tainted(infos, j), question, silence, na, nb))
            if not options:
                break
            *_, a, b = min(options)
        if _clip_length(infos, a, b, o, duration) >= budget_min:
            break
    return a, b


def _tainted(infos: Sequence[_Info], j: int) -> bool:
    """Does sentence j sit next to a body-excluded sentence?"""
    return any(0 <= k < len(infos) and infos[k].excluded for k in (j - 1, j + 1))


def _split(a: int, b: int, infos: Sequence[_Info], o: CandidateOptions) -> list[tuple[int, int]]:
    """Cut a long run into consecutive windows, each ending where its length is closest to the
    target without exceeding the maximum."""
    budget = o.max_duration - 2 * o.padding
    out: list[tuple[int, int]] = []
    i = a
    while i <= b:
        best_j, best_err = i, float("inf")
        for j in range(i, b + 1):
            d = _span_duration(infos, i, j)
            if d > budget:
                break
            # Prefer ending on a themed sentence; theme-less bridge ends cost a little.
            err = abs(d - o.target_duration) + (0 if infos[j].themes else 5.0)
            if err < best_err:
                best_j, best_err = j, err
        out.append((i, best_j))
        i = best_j + 1
    return out


def _fit(
    a: int, b: int, sents: Sequence[Sentence], infos: Sequence[_Info], o: CandidateOptions,
    duration: float | None = None,
) -> list[tuple[int, int]]:
    """Spans within the length limits for one run (possibly none)."""
    budget_max = o.max_duration - 2 * o.padding
    pieces = _split(a, b, infos, o) if _span_duration(infos, a, b) > budget_max else [(a, b)]
    out = []
    for pa, pb in pieces:
        pa, pb = _trim(pa, pb, sents, infos)
        if pa > pb or _span_duration(infos, pa, pb) > budget_max:
            continue  # a single sentence longer than the maximum cannot be cut sentence-bounded
        pa, pb = _context(pa, pb, sents, infos, o)
        pa, pb = _grow(pa, pb, sents, infos, o, duration)
        if _clip_length(infos, pa, pb, o, duration) >= o.min_duration:
            out.append((pa, pb))
    return out


def _trim(a: int, b: int, sents: Sequence[Sentence], infos: Sequence[_Info]) -> tuple[int, int]:
    """Drop edge sentences a reviewer would not want a clip to start or end on: theme-less ones
    (left by a split), lead-ins to or continuations of an excluded sentence, and a closing
    question. Stops before removing the last themed sentence; returns a > b when none is left."""

    def themed_inside(lo: int, hi: int) -> bool:
        return any(infos[k].themes for k in range(lo, hi + 1))

    changed = True
    while changed and a <= b:
        changed = False
        if not infos[a].themes or (_tainted(infos, a) and themed_inside(a + 1, b)):
            a, changed = a + 1, True
        elif a <= b and (
            not infos[b].themes
            or (
                (_tainted(infos, b) or sents[b].text.rstrip().endswith(("?", "؟")))
                and themed_inside(a, b - 1)
            )
        ):
            b, changed = b - 1, True
    return a, b


def _dedupe(
    spans: list[tuple[int, int]],
    sents: Sequence[Sentence],
    infos: Sequence[_Info],
    warns: tuple[WarningLike, ...],
    o: CandidateOptions,
    duration: float | None,
) -> list[tuple[int, int]]:
    """No sentence in two candidates: overlapping spans merge when the union fits the maximum,
    otherwise the lower-ranked one is dropped."""
    budget = o.max_duration - 2 * o.padding
    ranked = sorted(set(spans), key=lambda s: -_proposal(s[0], s[1], sents, infos, warns, o, duration).rank)
    kept: list[tuple[int, int]] = []
    for a, b in ranked:
        changed = True
        while changed:
            changed = False
            for k, (ka, kb) in enumerate(kept):
                if a <= kb and ka <= b:  # shares a sentence
                    ua, ub = min(a, ka), max(b, kb)
                    if _span_duration(infos, ua, ub) <= budget:
                        kept.pop(k)
                        a, b = ua, ub
                        changed = True
                    else:
                        a = b = -1
                    break
            if a < 0:
                break
        if a >= 0:
            kept.append((a, b))
    return kept


def _clip_edges(
    a: int, b: int, infos: Sequence[_Info], o: CandidateOptions, duration: float | None
) -> tuple[float, float]:
    """Padded in/out points: into the silence, at most half-way to the neighbouring word."""
    first, last = infos[a].first, infos[b].last
    lo = 0.0 if a == 0 else first - max(0.0, first - infos[a - 1].last) / 2
    hi = (duration if duration is not None else last + o.padding) if b == len(infos) - 1 else None
    if hi is None:
        hi = last + max(0.0, infos[b + 1].first - last) / 2
    start = max(lo, first - o.padding, 0.0)
    end = min(hi, last + o.padding)
    end = max(end, last)
    start = min(start, first)
    # The hard maximum includes padding: give padding back symmetrically if needed.
    over = (end - start) - o.max_duration
    if over > 0:
        start = min(first, start + over / 2)
        end = max(last, end - over / 2)
    return round(start, 3), round(end, 3)


def _proposal(
    a: int,
    b: int,
    sents: Sequence[Sentence],
    infos: Sequence[_Info],
    warns: tuple[WarningLike, ...],
    o: CandidateOptions,
    duration: float | None,
) -> CandidateProposal:
    body = range(a, b + 1)
    start, end = _clip_edges(a, b, infos, o, duration)
    length = end - start

    theme_scores: dict[str, float] = {}
    themed_time = 0.0
    for i in body:
        for t, sc in infos[i].themes.items():
            theme_scores[t] = max(theme_scores.get(t, 0.0), sc)
        if infos[i].themes:
            themed_time += infos[i].last - infos[i].first
    themes = tuple(sorted(theme_scores, key=lambda t: (-theme_scores[t], t)))
    strengths = [max(infos[i].themes.values()) for i in body if infos[i].themes]
    mean_strength = sum(strengths) / len(strengths) if strengths else 0.0
    coverage = min(1.0, themed_time / max(length, 1e-6))
    theme_strength = min(1.0, 0.6 * mean_strength + 0.4 * coverage)

    confidence, conf_known = _confidence(sents[i] for i in body)
    half_range = max(o.target_duration - o.min_duration, o.max_duration - o.target_duration, 1e-6)
    fit = max(0.0, 1.0 - abs(length - o.target_duration) / half_range)

    risks: list[str] = []
    for i in body:
        risks.extend(r for r in infos[i].risks if r not in risks)
    included_excluded = [r for r in risks if r in o.body_excluded_risks]
    if warns and CREDIBILITY not in risks:
        risks.append(CREDIBILITY)

    rank = o.theme_weight * theme_strength + o.confidence_weight * confidence + o.fit_weight * fit
    rank /= o.theme_weight + o.confidence_weight + o.fit_weight
    reasons = [
        "themes: "
        + ", ".join(f"{t} ({theme_scores[t]:.2f})" for t in themes)
        + f"; {coverage:.0%} of the clip is on theme (strength {theme_strength:.2f})",
        f"transcript confidence {confidence:.2f}" + ("" if conf_known else " (no word probabilities)"),
        f"length {length:.1f} s against a {o.target_duration:.0f} s target (fit {fit:.2f})",
    ]
    if included_excluded:
        rank *= o.excluded_risk_penalty
        which = sorted({sents[i].index for i in body if infos[i].excluded})
        reasons.append(
            f"includes {', '.join(included_excluded)} (sentence {', '.join(map(str, which))}): "
            "the clip could not reach its minimum length without it; reviewers must acknowledge it"
        )
    other = [r for r in risks if r not in o.body_excluded_risks and r != CREDIBILITY]
    if other:
        reasons.append(f"carries risks: {', '.join(other)}")
    if warns:
        where = ", ".join(f"{w.risk} at {_clock(w.start)}" for w in warns[:5])
        more = f" and {len(warns) - 5} more" if len(warns) > 5 else ""
        reasons.append(f"the interview carries credibility warnings: {where}{more}")
    question = _question_card(a, sents, infos, o)
    if question is not None:
        reasons.append(f'the interviewer\'s question "{question.text}" is kept as an on-screen card')
    return CandidateProposal(
        question=question,
        start=start,
        end=end,
        sentence_indices=tuple(sents[i].index for i in body),
        themes=themes,
        risks=tuple(risks),
        rank=round(rank, 4),
        reasons=tuple(reasons),
        text=" ".join(sents[i].text.strip() for i in body),
        confidence=round(confidence, 4),
        theme_scores=theme_scores,
    )


def _question_card(
    a: int, sents: Sequence[Sentence], infos: Sequence[_Info], o: CandidateOptions
) -> QuestionCard | None:
    """The other speaker's turn right before sentence a (its consecutive sentences, at most 3),
    when the clip needs it: the turn asks something, or the clip's opening depends on it."""
    if not o.question_card or a == 0 or not infos[a - 1].other_speaker:
        return None
    if infos[a].first - infos[a - 1].last > o.max_question_gap:
        return None
    speaker = sents[a - 1].speaker
    k = a - 1
    while k - 1 >= 0 and a - k < 3 and infos[k - 1].other_speaker and sents[k - 1].speaker == speaker:
        k -= 1
    turn = list(range(k, a))
    text = " ".join(sents[i].text.strip() for i in turn)
    asks = text.rstrip().endswith(("?", "؟")) or "?" in text
    if not (asks or _dependent_start(sents[a])):
        return None
    return QuestionCard(
        text=text,
        start=round(infos[k].first, 3),
        end=round(infos[a - 1].last, 3),
        speaker=speaker,
        sentence_indices=tuple(sents[i].index for i in turn),
    )


def _clock(seconds: float) -> str:
    m, sec = divmod(int(seconds), 60)
    return f"{m}:{sec:02d}"


def _confidence(sents: Iterable[Sentence]) -> tuple[float, bool]:
    """Duration-weighted mean word probability; 0.5 when the backend gave none."""
    total = weight = 0.0
    for s in sents:
        for w in s.words:
            d = max(w.end - w.start, 0.02)
            total += w.probability * d
            weight += d
    return (total / weight, True) if weight else (0.5, False)


def proposals_to_json(proposals: Sequence[CandidateProposal]) -> list[dict[str, Any]]:
    """Plain dicts for logs and reports."""
    return [
        {
            "start": p.start, "end": p.end, "sentences": list(p.sentence_indices), "themes": list(p.themes),
            "risks": list(p.risks), "rank": p.rank, "reasons": list(p.reasons),
            **({"question": {"text": p.question.text, "start": p.question.start, "end": p.question.end,
                             "speaker": p.question.speaker, "kind": p.question.kind}}
               if p.question is not None else {}),
        }
        for p in proposals
    ]  # fmt: skip
