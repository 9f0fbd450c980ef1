"""`plan_for`: the one place a candidate's publication plan is built from the store.

The gate and approvals, the preview and the export all call it, so what a reviewer watches, what
they approve and what is rendered come from the same inputs: the candidate's current version, a
snapshot of its interviewee's registry entry and consent, and the target (profile, burned-in
language, platform). `review_target` is the target reviewers watch; an approval records the hash
and the JSON of that plan (`clips_metadata.plans_repo`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clips_metadata.read_memo import remembered
from clips_metadata.stored_records import ANY, UNASSIGNED
from pipeline.publication import PlanError, PublicationPlan, Target, plan_hash

REVIEW_PROFILE = "master"


def editor_redactions(
    redactions: Sequence[Mapping[str, Any]],
) -> tuple[tuple[str, ...], tuple[tuple[float, float], ...]]:
    """Terms and time spans an editor added to the candidate version (lenient about key names)."""
    terms: list[str] = []
    spans: list[tuple[float, float]] = []
    for r in redactions:
        text = next((str(r[k]) for k in ("term", "text", "word") if r.get(k)), "")
        if text.strip():
            terms.append(text.strip())
        if r.get("start") is not None and r.get("end") is not None and float(r["end"]) > float(r["start"]):
            spans.append((float(r["start"]), float(r["end"])))
    return tuple(terms), tuple(spans)


def _year(recorded: str) -> str:
    digits = "".join(c for c in recorded[:4] if c.isdigit())
    return digits if len(digits) == 4 else ""


def plan_for(store: Any, candidate_id: int, target: Target, *, key: bytes,
             preset: str | None = None, read: PlanRecords | None = None) -> PublicationPlan:
    """The publication plan of the candidate's current version for `target`, from the store as it
    stands now. Raises PlanError when the consent or the registry do not allow one. `read`: the
    candidate, interview, interviewee and words as the caller read them (one snapshot with its
    cache key, `review.plan_cache`); read here when not given."""
    from pipeline.blur_boxes import clip_boxes, regions_of
    from pipeline.publication import ConsentSnapshot, RegistrySnapshot, VersionData, build_plan
    from pipeline.render.cards import end_card, question_card, title_card
    from pipeline.render.profiles import RenderOptions
    from pipeline.render.subs import SubtitleTrack
    from pipeline.render.timing import cues_for_text
    from pipeline.terms import IdentifyingWord, TermError

    if read is None:
        cand = store.get_candidate(candidate_id)
        interview = store.get_interview(cand.interview_id)
        person = store.get_interviewee_by_id(interview.interviewee_id)
    else:
        cand, interview, person = read.candidate, read.interview, read.person
    if person.pseudonym == UNASSIGNED:
        raise PlanError("the interview is not assigned to a registered interviewee")
    words = store.load_transcript(cand.transcript_id).words if read is None else read.words()
    opts = dict(cand.render_options)
    extra_terms, extra_spans = editor_redactions(cand.redactions)
    from pipeline.frames import media_fps, snap_to_frames
    from review.tracks import current_tracks, inside_cut
    from review.translating import checked_cues

    rate = media_fps(interview.media)
    fps = float(rate)
    # The cut on the source's frames (outwards, like the cue tracks), so every cue time in the
    # clip sits on the clip's own frame grid.
    cut_in, cut_out = snap_to_frames(cand.start, rate, "floor"), snap_to_frames(cand.end, rate, "ceil")
    texts = {**{k: v for k, v in cand.translations.items() if str(v).strip()},
             **{k: v for k, v in cand.subtitles.items() if str(v).strip()}}
    # The version's stored cue tracks (issue 14) are its subtitles; a language with text but no
    # track is timed from the words. Checked translation tracks (issue 17) are the only
    # translation text a plan may carry; they replace any text the candidate holds in that language.
    stored = current_tracks(store, cand, words, rate)
    by_lang = {lang: cues_for_text(text, words, cand.start, cand.end, lang, fps)
               for lang, text in texts.items() if lang not in stored}
    by_lang.update({lang: t.as_cues() for lang, t in stored.items()})
    # a snapshot with no translation track has no checked one (and needs no source track built)
    by_lang.update(checked_cues(store, candidate_id) if read is None or read.translated else {})
    tracks = tuple(SubtitleTrack(lang, inside_cut(cues, cut_in, cut_out))
                   for lang, cues in sorted(by_lang.items()))
    title = title_card(person.pseudonym, interview.place, _year(interview.recorded)) \
        if opts.get("title_card") else None
    end = end_card(str(opts["end_card"])) if opts.get("end_card") else None
    # Issue 16: the editor's manual blur regions and the interviewer's question card (both in the
    # version's render options, so in its hash).
    asked = opts.get("question_card") or {}
    question = question_card(str(asked["text"])) if str(asked.get("text", "")).strip() else None
    try:
        extra = tuple(IdentifyingWord.parse(t) for t in extra_terms)
        words_to_hide = tuple(IdentifyingWord.parse(w) for w in person.identifying_words if w.strip())
    except TermError as exc:
        raise PlanError(str(exc)) from exc
    version = VersionData(
        candidate_id=cand.id, version=cand.version, source_sha256=interview.sha256, source_fps=fps,
        start=cut_in, end=cut_out, tracks=tracks, words=tuple(words),
        extra_terms=extra, extra_bleeps=extra_spans,
        options=RenderOptions(preset=preset) if preset else RenderOptions(), title_card=title, end_card=end,
        blur_boxes=clip_boxes(regions_of(opts), cand.start, cand.end), question_card=question,
        blur_faces=bool(opts.get("blur_faces")), alter_voice=bool(opts.get("alter_voice")),
        redact_names=bool(opts.get("redact_names")))
    c = person.consent
    consent = ConsentSnapshot(face=c.face, voice=c.voice, name=c.name, languages=tuple(c.languages),
                              platforms=tuple(c.platforms),
                              expires=c.expires.isoformat() if c.expires else "")
    registry = RegistrySnapshot(person.id, person.pseudonym, tuple(person.real_names), words_to_hide, consent)
    return build_plan(version, registry, target, key=key)


def review_target(store: Any, candidate_id: int) -> Target:
    """What reviewers watch: the master profile, subtitles burned in the clip's language when the
    consent covers it, on the first platform the consent allows."""
    cand = store.get_candidate(candidate_id)
    interview = store.get_interview(cand.interview_id)
    return target_of(cand, interview, store.get_interviewee_by_id(interview.interviewee_id).consent)


def target_of(cand: Any, interview: Any, consent: Any) -> Target:
    """`review_target` from records already read."""
    platforms = tuple(consent.platforms)
    platform = "any" if (ANY in platforms or not platforms) else sorted(platforms)[0]
    language = cand.language or interview.language or ""
    texts = {k for k, v in {**cand.translations, **cand.subtitles}.items() if str(v).strip()}
    allowed = ANY in consent.languages or language.lower() in {x.lower() for x in consent.languages}
    return Target(REVIEW_PROFILE, language if (language in texts and allowed) else "", platform)


@dataclass(frozen=True, slots=True)
class PlanRecords:
    """What `plan_for` reads of the store, read by its caller: `words()` gives the transcript's."""

    candidate: Any
    interview: Any
    person: Any
    words: Callable[[], Sequence[Any]]
    translated: bool = True  # False: the candidate has no translation track in the snapshot


@dataclass(frozen=True, slots=True)
class CurrentPlan:
    """The plan reviewers watch now, or why there is none."""

    plan: PublicationPlan | None
    hash: str
    problem: str = ""


class Planner:
    """Builds plans with the workspace's export key (the registry digest is keyed by it)."""

    def __init__(self, store: Any, key: bytes) -> None:
        self.store = store
        self.key = key

    @classmethod
    def for_workspace(cls, store: Any, workspace: Any) -> Planner:
        from review.keys import load_or_create_key

        return cls(store, load_or_create_key(workspace, "export"))

    def plan(self, candidate_id: int, target: Target, preset: str | None = None) -> PublicationPlan:
        return plan_for(self.store, candidate_id, target, key=self.key, preset=preset)

    @remembered  # a page view asks for it several times (approval facts, preview, form)
    def review_plan(self, candidate_id: int) -> CurrentPlan:
        """The plan reviewers watch (see `review_target`); `problem` says why when none can be
        built (its message names no registry term). Remembered across requests by a digest of
        all its inputs (`review.plan_cache`)."""
        from review import plan_cache

        store = self.store
        cand = store.get_candidate(candidate_id)
        interview = store.get_interview(cand.interview_id)
        person = store.get_interviewee_by_id(interview.interviewee_id)
        target = target_of(cand, interview, person.consent)
        stored = plan_cache.stored_inputs(store, cand)
        if stored.body is None:  # words kept by path only: plan_for reads (or refuses) them itself
            return self._review_plan(candidate_id, target, None)
        lookup = plan_cache.fingerprint(store, self.key, cand, interview, person, target, stored)

        def words() -> Sequence[Any]:
            return plan_cache.words_of(stored)

        def unchanged() -> bool:
            if not plan_cache.build_may_write(stored, cand.language or "en"):
                return True
            # the build may have stored a first cue track or a reconciled translation track
            now = plan_cache.stored_inputs(store, cand, with_body=False)
            return (now.cue_tracks, now.translations) == (stored.cue_tracks, stored.translations)

        read = PlanRecords(cand, interview, person, words, translated=bool(stored.translations))
        return plan_cache.remembered_plan(lookup, lambda: self._review_plan(candidate_id, target, read),
                                          unchanged)

    def _review_plan(self, candidate_id: int, target: Target, read: PlanRecords | None) -> CurrentPlan:
        try:
            p = plan_for(self.store, candidate_id, target, key=self.key, read=read)
        except PlanError as exc:
            return CurrentPlan(None, "", str(exc))
        return CurrentPlan(p, plan_hash(p))
