"""Ingest one media file into the store: probe → transcribe → diarize → flag → propose.

Each step is a separately callable function that persists its result together with its
`ingest_steps` row in one transaction, and skips itself when the store already has that
result. So a run killed at any point (even `kill -9`) resumes at the first missing step, and
ingesting the same bytes twice creates nothing new. `STEPS` is the one table of steps and
`needs` the one rule for "is this step still to do?". The nightly flow's Prefect tasks call these
steps; `ingest_media` runs them in order (the CLI's `counterclips ingest`), then makes the review
proxy exactly as the nightly run does (`make_review_proxy`).

Models are loaded once by the caller and passed in (`backend`, `speakers`, `flagger`); when
omitted, a step loads its own. `ingest_media` decodes the audio once for Whisper and diarization,
which begins beside Whisper as in the nightly run: on 2-3 cores in the idle-time helper process,
finished after Whisper (`diarize_while_idle`; wholly after Whisper where no helper can run), from
4 cores on a thread (`diarize_decoded`).

Diarization labels every word with a speaker; the interviewee is the speaker with the most
speech (or, with `interviewer_first`, the most among the others than the first voice). Flags,
credibility warnings and candidates then count only the interviewee's sentences; an
interviewer question a clip needs travels as a question card in the candidate's render options.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from clips_metadata.errors import NotFoundError
from clips_metadata.speakers_repo import InterviewSpeakers, SpeakersRepo, sentence_speaker
from clips_metadata.store import Store
from clips_metadata.stored_records import INGEST_STEPS, UNASSIGNED, Candidate, Interview, TranscriptInfo
from clips_metadata.workspace import Workspace
from pipeline.candidates import CandidateOptions
from pipeline.records import Sentence, Transcript
from pipeline.translation_align import align_translations, english_sentences

if TYPE_CHECKING:
    from concurrent.futures import Future

    import numpy as np

    from pipeline.idle_diarization import IdleJob
    from pipeline.speakers import Diarized, DiarizeOptions, SpeakerModel, SpeechFeatures
    from pipeline.themes import Flagger
    from pipeline.transcribe import Backend, TranscribeOptions


class SidecarLike(Protocol):
    """What the operator wrote beside a file (flows.inbox.Sidecar); empty strings mean "not given"."""

    interviewee: str
    language: str
    recorded: str
    place: str


Who = str | SidecarLike | None
"""Whose interview: a pseudonym, a sidecar, or None (the "unassigned" interviewee)."""

STEPS = INGEST_STEPS
"""The per-file ingest steps, in order; each persists its result with its `ingest_steps` row."""

_DOING = {"transcribe": "transcribing", "diarize": "finding who speaks when",
          "flag": "flagging themes and risks",
          "propose": "proposing candidates"}

Progress = Callable[[str, str], None]
"""Called with (step, message) as steps start and finish; a test may also pause in it."""


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How one file is ingested.

    transcribe: a `pipeline.transcribe.TranscribeOptions`; None means its defaults with
        `translate=True` (non-English footage gets Whisper's English translation: flagging
        reads English and reviewers see both). A language hint on the interview (from the CLI
        or a sidecar) fills its `language` when that is None.
    candidates: how candidates are cut and ranked (`CandidateOptions()` defaults).
    language, recorded, place: as entered by the operator; stored on the interview.
    keep_transcript_file: also write the transcript JSON to the workspace's transcripts/ (True).
    diarize: a `pipeline.speakers.DiarizeOptions` (`num_speakers` from `--speakers N`); None
        (the default) means its defaults. `no_diarize=True` skips diarization (the step is still
        recorded, with no speakers: every sentence counts as the interviewee's).
    interviewer_first: the first voice is the interviewer's (`ingest --interviewer-first` or the
        sidecar key `interviewer_first`).
    diarize_idle: on 2-3 cores, begin the diarization beside Whisper in the idle-time helper
        process and finish it after (`diarize_while_idle`; the same turns), as the nightly run
        does (`flows.nightly_worker.WorkOptions.diarize_idle`); where no helper can run, or with
        False, diarization runs wholly after Whisper.
    """

    transcribe: TranscribeOptions | None = None
    candidates: CandidateOptions = field(default_factory=CandidateOptions)
    language: str = ""
    recorded: str = ""
    place: str = ""
    keep_transcript_file: bool = True
    diarize: DiarizeOptions | None = None
    no_diarize: bool = False
    interviewer_first: bool = False
    diarize_idle: bool = True


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What `ingest_media` found or did. `steps_run` lists steps that did work this time
    (empty when the file was already fully ingested)."""

    interview: Interview
    created: bool
    steps_run: tuple[str, ...]
    transcript: TranscriptInfo | None
    candidates: tuple[Candidate, ...]


# ---------------------------------------------------------------------------- the steps


def probe_step(
    store: Store,
    path: str | os.PathLike[str],
    who: Who = None,
    options: IngestOptions | None = None,
    sha256: str | None = None,
) -> Interview:
    """Register the file's interview (or find it: the same bytes are the same interview).

    `who` is a pseudonym, a sidecar-like object with `interviewee`, `language`, `recorded` and
    `place` attributes, or None (the "unassigned" interviewee). Raises MediaError for unusable
    media and NotFoundError for an unknown pseudonym. `sha256`, when the caller already hashed
    the file (the inbox scan does), saves reading it once more to find a known interview.
    """
    return _probe(store, path, who, options or IngestOptions(), sha256)[0]


def _probe(
    store: Store, path: str | os.PathLike[str], who: Who, options: IngestOptions, sha256: str | None = None
) -> tuple[Interview, bool]:
    from pipeline.atomic import file_sha256
    from pipeline.media import check_media_file, probe

    existing = store.find_interview(sha256 or file_sha256(check_media_file(path)))
    if existing is not None:
        return existing, False
    pseudonym, language, recorded, place = _who(who, options)
    if pseudonym is not None and pseudonym != UNASSIGNED:
        store.get_interviewee(pseudonym)  # fail on a typo before the slow probe
    media = probe(path)
    return store.register_interview(media, pseudonym, language=language, recorded=recorded, place=place)


def _who(who: Who, options: IngestOptions) -> tuple[str | None, str, str, str]:
    if who is None or isinstance(who, str):
        return (who or None), options.language, options.recorded, options.place
    return (
        getattr(who, "interviewee", "") or None,
        getattr(who, "language", "") or options.language,
        str(getattr(who, "recorded", "") or options.recorded),
        getattr(who, "place", "") or options.place,
    )


def transcribe_step(
    store: Store,
    interview: int | Interview,
    options: TranscribeOptions | None = None,
    backend: Backend | None = None,
    workspace: Workspace | None = None,
    path: str | os.PathLike[str] | None = None,
    audio: np.ndarray | None = None,
) -> TranscriptInfo:
    """Transcribe (and translate) the interview's media and store transcript and sentences.

    Skips when the interview already has a transcript. `options`: TranscribeOptions (None:
    defaults with translation on); `backend` from `pipeline.transcribe.load_backend`, reused
    across files; `path` overrides the interview's recorded source path; `audio`, the already
    decoded 16 kHz mono samples (`pipeline.media.load_audio`), saves decoding again.
    """
    from pipeline.sentences import build_sentences
    from pipeline.transcribe import TranscribeOptions, transcribe

    iv = _interview(store, interview)
    latest = store.latest_transcript(iv.id)
    if latest is not None:
        return latest
    if options is None:
        options = TranscribeOptions(translate=True)
    if options.language is None and iv.language:
        options = replace(options, language=iv.language)
    from pipeline.media import load_audio

    # The run's one audio decode: transcription, the waveform peaks and diarization (given the
    # same array by the caller) read it.
    if audio is None:
        audio = load_audio(path or iv.source_path)
    transcript = transcribe(path or iv.source_path, options, backend=backend, audio=audio)
    if workspace is not None:
        _write_peaks(workspace, iv, audio)
    sentences = build_sentences(transcript.words, transcript.language)
    english = english_sentences(transcript)
    translations = align_translations(sentences, english) if english else None
    body_path = ""
    if workspace is not None:
        body_path = str(_write_transcript_file(workspace, iv, transcript))
    return store.add_transcript(iv.id, transcript, sentences, translations=translations, body_path=body_path)


def diarize_step(
    store: Store,
    interview: int | Interview,
    options: IngestOptions | None = None,
    speakers: SpeakerModel | None = None,
    workspace: Workspace | None = None,
    path: str | os.PathLike[str] | None = None,
    audio: np.ndarray | None = None,
    early: Future[Diarized] | None = None,
) -> InterviewSpeakers:
    """Label every word and segment of the latest transcript with its speaker, rebuild the
    sentences (one voice each), choose the interviewee and store it all (`SpeakersRepo`).

    Skips when done for the latest transcript. `speakers` from `pipeline.speakers.
    load_speaker_model`, reused across files; `audio`: the decoded 16 kHz mono samples Whisper
    heard (decoded from `path` or the interview's source when None); `early`: the turns
    `diarize_decoded` found (then neither audio nor model is needed
    here). With `no_diarize` the step is recorded without speakers."""
    from pipeline.media import SAMPLE_RATE, load_audio
    from pipeline.sentences import build_sentences
    from pipeline.speakers import (
        DiarizeOptions,
        SpeakerTurn,
        apply_turns,
        label_speakers,
        load_speaker_model,
        speaker_times,
        transcript_interviewee,
    )

    options = options or IngestOptions()
    iv = _interview(store, interview)
    tr = _latest(store, iv)
    repo = SpeakersRepo(store)
    if not needs(store, iv.id, "diarize"):
        found = repo.get(iv.id)
        if found is not None:
            return found
    transcript = store.load_transcript(tr.id)
    first = options.interviewer_first or _sidecar_interviewer_first(store, iv)
    if options.no_diarize:
        labelled, model_id = transcript, "none"
    elif early is not None:
        found, speakers = early.result()
        labelled = apply_turns(transcript, found)
        model_id = speakers.model_id
    else:
        if audio is None:
            audio = load_audio(path or iv.source_path)
        if speakers is None:
            speakers = load_speaker_model()
        labelled = label_speakers(transcript, audio, SAMPLE_RATE, speakers,
                                  options.diarize or DiarizeOptions())
        model_id = speakers.model_id
    turns = [SpeakerTurn(w.start, w.end, w.speaker) for w in labelled.words if w.speaker is not None]
    seconds = speaker_times(turns)
    sentences = build_sentences(labelled.words, labelled.language)
    english = english_sentences(labelled)
    translations = align_translations(sentences, english) if english else None
    if workspace is not None and options.keep_transcript_file:
        _write_transcript_file(workspace, iv, labelled)
    return repo.save_diarization(tr.id, labelled, sentences, translations,
                                 interviewee=transcript_interviewee(labelled, first),
                                 interviewer_first=first, seconds=seconds, model=model_id)


# Diarize beside Whisper only where cores are left over: Whisper's fixed two threads wait on
# each other at every parallel step, so on 2 cores a third busy thread stalls both. Measured on the
# nightly corpus: 23 more CPU-seconds and 30 % more wall than diarizing after Whisper
# (bench/RESULTS.md, nightly run 7).
BESIDE_MIN_CORES = 4


def diarize_beside() -> bool:
    """Whether this machine diarizes on a thread of its own while Whisper transcribes."""
    return (os.cpu_count() or 1) >= BESIDE_MIN_CORES


def diarize_decoded(
    audio: np.ndarray, options: IngestOptions | None = None,
    speakers: SpeakerModel | Callable[[], SpeakerModel] | None = None, *, beside: bool = False,
    features: SpeechFeatures | None = None, idle: IdleJob | None = None,
) -> Future[Diarized] | None:
    """Diarize decoded 16 kHz `audio` for `diarize_step(early=...)`; None with `no_diarize`.
    `beside`: on a thread of its own, started before Whisper transcribes the same array (see
    `diarize_beside`); otherwise now, on this thread, as a finished future (a failure is held in
    it, so it fails the diarize step, not the transcription). `speakers`: the model, a loader of
    it (a per-process cache), or None to load one. `features`: `pipeline.speakers.
    speech_features` of the same audio, made ahead (the same turns). `idle`: the same
    diarization begun by `diarize_while_idle` before Whisper, finished here (the same turns)."""
    options = options or IngestOptions()
    if options.no_diarize:
        return None
    from pipeline.media import SAMPLE_RATE
    from pipeline.speakers import (
        DiarizeOptions,
        SpeakerModel,
        diarize_in_background,
        diarize_into_future,
        load_speaker_model,
    )

    if isinstance(speakers, SpeakerModel):
        model = speakers

        def load() -> SpeakerModel:
            return model
    else:
        load = speakers or load_speaker_model
    if beside:
        return diarize_in_background(audio, SAMPLE_RATE, options.diarize or DiarizeOptions(), load)
    return diarize_into_future(audio, SAMPLE_RATE, options.diarize or DiarizeOptions(), load, features, idle)


def diarize_while_idle(audio: np.ndarray, options: IngestOptions | None = None) -> IdleJob | None:
    """Begin diarizing decoded 16 kHz `audio` in the idle-time helper process
    (`pipeline.idle_diarization.HELPER`), before Whisper transcribes it on 2-3 cores; hand the
    job to `diarize_decoded(idle=...)` after Whisper (the same turns). None with `no_diarize`,
    or where no helper can run (diarization then runs wholly after Whisper)."""
    options = options or IngestOptions()
    if options.no_diarize:
        return None
    from pipeline.idle_diarization import HELPER
    from pipeline.media import SAMPLE_RATE
    from pipeline.speakers import DiarizeOptions

    return HELPER.begin(audio, SAMPLE_RATE, options.diarize or DiarizeOptions())


def _sidecar_interviewer_first(store: Store, iv: Interview) -> bool:
    """The sidecar beside the source says `interviewer_first: true` (read again here so the
    nightly run and `counterclips ingest` agree without passing it through every task)."""
    from flows.inbox import SidecarError, read_sidecar, sidecar_path

    side = sidecar_path(Path(iv.source_path))
    if not side.is_file():
        return False
    try:
        return read_sidecar(side).interviewer_speaks_first
    except SidecarError:
        return False


def _with_speakers(sentences: Sequence[Sentence]) -> tuple[Sentence, ...]:
    return tuple(replace(s, speaker=sentence_speaker(s)) for s in sentences)


def interviewee_of(store: Store, interview_id: int) -> str | None:
    """The interviewee's speaker id of a diarized interview (None: not diarized, or no speech)."""
    found = SpeakersRepo(store).get(interview_id)
    return found.interviewee if found is not None else None


def flag_step(
    store: Store, interview: int | Interview, flagger: Flagger | None = None,
    workspace: Workspace | None = None,
) -> int:
    """Flag themes and risks of the latest transcript's sentences, store flags (with the model
    version) and credibility warnings. Skips when already done for that transcript. Without a
    `flagger`, loads the packaged one with `workspace`'s learned heads. Returns the warnings."""
    from pipeline.speakers import interviewee_flags
    from pipeline.themes import credibility_warnings, flag_sentences

    iv = _interview(store, interview)
    tr = _latest(store, iv)
    if not needs(store, iv.id, "flag"):
        return len(store.get_warnings(tr.id))
    sentences = store.get_sentences(tr.id)
    if not sentences:
        store.save_flags(tr.id, [], [])
        return 0
    english = _stored_english(store, tr.id, sentences)
    if flagger is None:
        from flows.services.flagger_model import load_flagger

        flagger = load_flagger(workspace)
    # Each sentence is read on its own text (multilingual encoder, cues of its language) and on
    # Whisper's English translation when there is one; the two readings are combined.
    flags = flag_sentences(sentences, flagger, translated=english, language=tr.language or None)
    # Themes, risks and the credibility warning are the interviewee's only.
    flags = interviewee_flags(_with_speakers(sentences), flags, interviewee_of(store, iv.id))
    warnings = credibility_warnings(sentences, flags)
    store.save_flags(tr.id, flags, warnings)
    return len(warnings)


def propose_step(
    store: Store, interview: int | Interview, options: CandidateOptions | None = None,
    flagger: Flagger | None = None,
) -> tuple[Candidate, ...]:
    """Propose candidates from the latest transcript's flags and store them (status
    "proposed"). Skips (returning the stored ones) when already done for that transcript.
    `flagger`, when given, supplies its taxonomy's risk ids (an edited taxonomy may add some)."""
    from pipeline.candidates import propose_candidates

    iv = _interview(store, interview)
    tr = _latest(store, iv)
    if not needs(store, iv.id, "propose"):
        return store.list_candidates(interview_id=iv.id)
    options = options or CandidateOptions()
    risk_ids = _risk_ids(flagger)
    if risk_ids and set(risk_ids) != set(options.risk_ids):
        options = replace(options, risk_ids=tuple(dict.fromkeys((*options.risk_ids, *risk_ids))))
    sentences = _with_speakers(store.get_sentences(tr.id))
    interviewee = interviewee_of(store, iv.id)
    if interviewee is not None and options.interviewee is None:
        options = replace(options, interviewee=interviewee)
    flags = store.get_flags(tr.id)
    if len(flags) != len(sentences):
        raise NotFoundError(f"interview {iv.id} has not been flagged yet")
    proposals = propose_candidates(sentences, flags, store.get_warnings(tr.id), options, duration=iv.duration)
    candidates = store.add_candidates(tr.id, proposals)
    # The editor page reads each candidate's cue track; build them once here, not on first view.
    from pipeline.frames import media_fps
    from review.tracks import store_first_tracks

    store_first_tracks(store, candidates, [w for s in sentences for w in s.words], media_fps(iv.media))
    return candidates


def ingest_media(
    store: Store,
    workspace: Workspace | None,
    path: str | os.PathLike[str],
    interviewee: Who = None,
    options: IngestOptions | None = None,
    *,
    backend: Backend | None = None,
    speakers: SpeakerModel | None = None,
    flagger: Flagger | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Bring one file fully into the store, running only the steps still missing.

    `interviewee`: pseudonym, sidecar-like object or None ("unassigned"). On a failure the
    interview is marked "failed" with the reason and the error is raised; the next call
    resumes at the failed step.
    """
    options = options or IngestOptions()
    if getattr(interviewee, "interviewer_speaks_first", False) and not options.interviewer_first:
        options = replace(options, interviewer_first=True)  # the sidecar says so
    say = progress or (lambda _s, _m: None)
    say("probe", f"probing {os.fspath(path)}")
    interview, created = _probe(store, path, interviewee, options)
    if created:
        say("probe", "probe done")
    state = store.ingest_state(interview.id)
    if state.complete:
        if workspace is not None:
            make_review_proxy(store, workspace, interview)
        say("done", f"already ingested as interview {interview.id}")
        return IngestResult(
            interview, False, (), store.latest_transcript(interview.id),
            store.list_candidates(interview_id=interview.id),
        )  # fmt: skip
    ran = ["probe"] if created else []
    decoded: list[np.ndarray] = []

    def audio() -> np.ndarray | None:
        # Decode once: Whisper and the speaker model hear the same samples.
        if not decoded and not options.no_diarize:
            from pipeline.media import load_audio

            decoded.append(load_audio(path))
        return decoded[0] if decoded else None

    early: list[Future[Diarized]] = []

    def transcribe_beside_diarization() -> TranscriptInfo:
        # Diarization begins beside Whisper from the same decoded array: on a thread with cores
        # to spare, else in the idle-time helper (finished after Whisper), as the nightly does.
        samples = audio()
        idle = None
        if samples is not None and diarize_beside():
            found = diarize_decoded(samples, options, speakers, beside=True)
            early.extend([found] if found is not None else [])
        elif samples is not None and options.diarize_idle and needs(store, interview.id, "diarize"):
            idle = diarize_while_idle(samples, options)
        try:
            info = transcribe_step(store, interview, options.transcribe, backend,
                                   workspace if options.keep_transcript_file else None, path, samples)
        except BaseException:
            if idle is not None:
                idle.cancel()
            raise
        if idle is not None:
            found = diarize_decoded(samples, options, speakers, idle=idle)
            early.extend([found] if found is not None else [])
        return info

    def diarize_then_forget_audio() -> InterviewSpeakers:
        found = diarize_step(store, interview, options, speakers, workspace, path,
                             None if early else audio(), early[0] if early else None)
        decoded.clear()  # the samples' last use: flagging and proposing need none
        early.clear()
        return found

    try:
        for step, run in (
            ("transcribe", transcribe_beside_diarization),
            ("diarize", diarize_then_forget_audio),
            ("flag", lambda: flag_step(store, interview, flagger, workspace)),
            ("propose", lambda: propose_step(store, interview, options.candidates, flagger)),
        ):  # fmt: skip
            if needs(store, interview.id, step):
                say(step, _DOING[step])
                run()
                ran.append(step)
                say(step, f"{step} done")
        if workspace is not None and needs_proxy(store, workspace, interview):
            say("proxy", "making the review proxy")
            make_review_proxy(store, workspace, interview)
    except Exception as exc:
        _mark_failed(store, interview.id, exc)
        raise
    final = store.get_interview(interview.id)
    cands = store.list_candidates(interview_id=interview.id)
    say("done", f"interview {final.id}: {len(cands)} candidates")
    return IngestResult(final, created, tuple(ran), store.latest_transcript(final.id), cands)


def needs(store: Store, interview_id: int | None, step: str) -> bool:
    """Whether the store lacks `step`'s result for the interview: the one done-ness rule.

    Probe is done once the interview exists; transcribe once it has a transcript; flags and
    candidates count only when they belong to the interview's latest transcript."""
    if step not in STEPS:
        raise ValueError(f"unknown ingest step {step!r}")
    if interview_id is None:
        return True
    if step == "probe":
        return False
    latest = store.latest_transcript(interview_id)
    if step == "transcribe" or latest is None:
        return latest is None
    detail = store.step_detail(interview_id, step)
    return detail is None or detail.get("transcript_id") != latest.id


def needs_proxy(store: Store, workspace: Workspace, interview: Interview) -> bool:
    """Whether the interview should get a review proxy now: it has candidates, no proxy yet, and
    its source is still there (the nightly run and `ingest_media` both ask this)."""
    from review.proxy_files import proxy_path

    if proxy_path(workspace, interview.sha256) is not None or not Path(interview.source_path).is_file():
        return False
    return bool(store.list_candidates(interview_id=interview.id))


def make_review_proxy(store: Store, workspace: Workspace, interview: Interview,
                      niceness: int = 0) -> Path | None:
    """Make the interview's review proxy when `needs_proxy`; returns its path (None: not needed).
    Raises review.proxy_files.ProxyError when the encode fails. `niceness`: the encode's lower
    CPU priority (the nightly run's proxies run beside transcriptions)."""
    from review.proxy_files import make_proxy

    if not needs_proxy(store, workspace, interview):
        return None
    return make_proxy(workspace, Path(interview.source_path), interview.sha256, niceness=niceness)


# -------------------------------------------------------------------- translation helpers



def _stored_english(
    store: Store, transcript_id: int, sentences: Sequence[Sentence]
) -> tuple[Sentence, ...] | None:
    """English sentences for flagging, rebuilt from the stored per-sentence translations so a
    resumed run flags exactly what a straight run would."""
    texts = store.get_sentence_translations(transcript_id)
    if not any(t.strip() for t in texts):
        return None
    return tuple(
        Sentence(s.index, s.start, s.end, t.strip(), (), "en")
        for s, t in zip(sentences, texts, strict=True)
        if t.strip()
    )


# ----------------------------------------------------------------------------- helpers


def _interview(store: Store, interview: int | Interview) -> Interview:
    return interview if isinstance(interview, Interview) else store.get_interview(int(interview))


def _latest(store: Store, iv: Interview) -> TranscriptInfo:
    tr = store.latest_transcript(iv.id)
    if tr is None:
        raise NotFoundError(f"interview {iv.id} has no transcript yet")
    return tr


def _risk_ids(flagger: Flagger | None) -> tuple[str, ...]:
    tax = getattr(flagger, "taxonomy", None)
    entries = getattr(tax, "entries", ()) or ()
    return tuple(e.id for e in entries if getattr(e, "kind", "") == "risk")


def _write_transcript_file(workspace: Workspace, iv: Interview, transcript: Transcript) -> Path:
    from clips_metadata.serialize import media_from_json
    from pipeline.atomic import PRIVATE, write_json_atomic
    from pipeline.transcript_io import transcript_to_dict

    workspace.transcripts.mkdir(parents=True, exist_ok=True)
    target = workspace.transcripts / f"{iv.sha256[:16]}-interview{iv.id}.json"
    media = media_from_json(iv.media) if iv.media else None
    # a transcript holds real names before redaction: owner only
    return write_json_atomic(target, transcript_to_dict(transcript, media), mode=PRIVATE)


def _write_peaks(workspace: Workspace, iv: Interview, audio: np.ndarray) -> Path:
    """The waveform peaks beside the proxy (`proxies/<sha256>.peaks`), from the decoded audio."""
    from pipeline.atomic import atomic_path
    from pipeline.media import SAMPLE_RATE
    from pipeline.waveform import compute_peaks, peaks_to_bytes
    from review.proxy_files import peaks_file

    target = peaks_file(workspace, iv.sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_bytes(peaks_to_bytes(compute_peaks(audio, SAMPLE_RATE)))
    return target


def _mark_failed(store: Store, interview_id: int, exc: BaseException) -> None:
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    try:
        store.set_interview_status(interview_id, "failed", reason)
    except Exception:  # noqa: BLE001 - never hide the original failure behind a bookkeeping one
        pass
