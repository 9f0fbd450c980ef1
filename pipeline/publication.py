"""The publication plan: everything that decides an export's pixels and samples, built by one pure
function, hashed canonically. The hash is what reviewers approve and the gate signs; the renderer
renders only from a plan whose hash an authorisation signs (`pipeline.render.render_export`).

Clocks: a plan's cues, bleeps and manual blur boxes are on the CLIP clock (0 = the in point,
before any title card); `start`/`end` are on the source clock.

The plan carries no registry term: the text is already redacted, bleeps are intervals, and the
registry's words enter only as a keyed digest (`registry_digest`), so a changed word list changes
the hash without the plan (or a manifest quoting its hash) revealing the words.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from pipeline.authorisation import canonical_json
from pipeline.boxes import TimedBox
from pipeline.errors import CounterclipsError
from pipeline.records import Cue, Word
from pipeline.render.cards import CardText
from pipeline.render.profiles import RenderOptions, get_profile
from pipeline.render.redaction import Redaction, bleep_intervals, find_spoken, redact_track, words_near
from pipeline.render.subs import SubtitleTrack, clip_cues
from pipeline.terms import IdentifyingWord, TermError, TermMatcher, fold, redaction_terms

SCHEMA = "counterclips.plan/1"
ANY = "*"  # a consent list that allows everything (as clips_metadata.records.ANY)


class PlanError(CounterclipsError):
    """A publication plan cannot be built from this version, registry entry and target."""


BlurBox = TimedBox  # a box blurred by hand: source pixels, clip seconds [start, end)


@dataclass(frozen=True, slots=True)
class ConsentSnapshot:
    """What the interviewee agreed to. `expires` is an ISO date ("" = no expiry). `languages` and
    `platforms` list what is allowed (`ANY` = all; empty = none), as the review gate reads them."""

    face: bool = False
    voice: bool = False
    name: bool = False
    languages: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    expires: str = ""


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    """The interviewee's registry entry as it stands when the plan is built."""

    interviewee_id: int
    pseudonym: str
    real_names: tuple[str, ...]
    identifying_words: tuple[IdentifyingWord, ...]
    consent: ConsentSnapshot


@dataclass(frozen=True, slots=True)
class VersionData:
    """A candidate version as stored. Times on the source clock; `tracks` are its approved cue
    texts per language; `words` the transcript's timed words (for bleeps; those within
    `SPOKEN_MARGIN` of the cut are all it reads); `extra_terms` words an
    editor marked for hiding in this clip; `extra_bleeps` spans an editor marked (source clock)."""

    candidate_id: int
    version: int
    source_sha256: str
    source_fps: float
    start: float
    end: float
    tracks: tuple[SubtitleTrack, ...]
    words: tuple[Word, ...] = ()
    extra_terms: tuple[IdentifyingWord, ...] = ()
    extra_bleeps: tuple[tuple[float, float], ...] = ()
    blur_boxes: tuple[BlurBox, ...] = ()  # clip clock
    options: RenderOptions = field(default_factory=RenderOptions)
    title_card: CardText | None = None
    end_card: CardText | None = None
    # The interviewer's question a clip needs (issue 16): shown as a card marked as the
    # interviewer's before the clip, after any title card; never as the subject's subtitle.
    question_card: CardText | None = None
    # Approved render options may add protection beyond what the consent requires, never less.
    blur_faces: bool = False
    alter_voice: bool = False
    redact_names: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """Where the clip goes: profile, the burned-in language ("" = none) and the platform."""

    profile: str = "master"
    language: str = ""
    platform: str = "any"


@dataclass(frozen=True, slots=True)
class PlanTrack:
    """One language's final cues: clip clock, redacted text."""

    language: str
    cues: tuple[Cue, ...]


@dataclass(frozen=True, slots=True)
class PublicationPlan:
    """Everything that decides an export's pixels and samples (see the module docstring)."""

    candidate_id: int
    version: int
    source_sha256: str
    source_fps: float
    start: float  # source clock
    end: float  # source clock
    interviewee_id: int
    pseudonym: str
    consent: ConsentSnapshot
    registry_digest: str  # keyed digest of the words hidden and their replacements
    profile: str
    platform: str
    language: str  # burned-in language, "" = none
    tracks: tuple[PlanTrack, ...]  # per language, redacted, clip clock
    bleeps: tuple[tuple[float, float], ...]  # clip clock, padded and merged
    blur_faces: bool
    blur_boxes: tuple[BlurBox, ...]  # manual boxes, clip clock
    alter_voice: bool
    title_card: CardText | None
    end_card: CardText | None
    loudness_target: float | None  # LUFS; None = not normalised
    options: RenderOptions  # encoder settings (profile name included)
    schema: str = SCHEMA

    @property
    def duration(self) -> float:
        return round(self.end - self.start, 3)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(t.language for t in self.tracks)

    def track(self, language: str) -> PlanTrack | None:
        return next((t for t in self.tracks if t.language == language), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def registry_digest(terms: tuple[tuple[str, str], ...], key: bytes) -> str:
    """HMAC-SHA256 over (folded term, replacement) pairs: changes with any word or replacement,
    and cannot be checked against guessed names without the workspace key."""
    body = sorted({(fold(t), r) for t, r in terms})
    return hmac.new(key, canonical_json(body), hashlib.sha256).hexdigest()


def _allows(allowed: tuple[str, ...], value: str) -> bool:
    return ANY in allowed or value.lower() in {a.lower() for a in allowed}


def build_plan(version: VersionData, person: RegistrySnapshot, target: Target, *, key: bytes,
               today: date | None = None) -> PublicationPlan:
    """The plan for publishing `version` of a candidate under `person`'s consent to `target`.

    Pure. Raises PlanError when the consent does not allow the target (platform, burned language,
    expiry on `today` when given) or the registry's replacements are unsafe. Subtitle languages
    the consent does not cover are left out of the plan."""
    get_profile(target.profile)
    if not version.end > version.start >= 0:
        raise PlanError(f"invalid cut {version.start:.3f}-{version.end:.3f}s: out must follow in")
    consent = person.consent
    if not _allows(consent.platforms, target.platform):
        raise PlanError(f"the consent does not cover platform {target.platform!r}")
    if today is not None and consent.expires and date.fromisoformat(consent.expires) < today:
        raise PlanError(f"the consent expired on {consent.expires}")
    try:
        terms = redaction_terms(person.real_names, (*person.identifying_words, *version.extra_terms),
                                person.pseudonym, shows_name=consent.name and not version.redact_names)
    except TermError as exc:
        raise PlanError(str(exc)) from exc
    matcher = TermMatcher(terms)
    options = version.options.with_profile(target.profile)

    tracks = []
    for track in sorted(version.tracks, key=lambda t: t.language):
        if not _allows(consent.languages, track.language):
            continue
        # Redact the whole track first: a name split across the cut's edge is still found.
        cues = clip_cues(redact_track(track.cues, matcher), version.start, version.end)
        if cues:
            tracks.append(PlanTrack(track.language, cues))
    if target.language and target.language not in {t.language for t in tracks}:
        raise PlanError(
            f"no subtitles in language {target.language!r} that the consent allows inside the cut")

    title = _with_question(version.title_card, version.question_card, matcher)

    spoken = find_spoken(words_near(version.words, version.start, version.end), matcher) if terms else ()
    marked = tuple(Redaction("", a, b, "") for a, b in version.extra_bleeps)
    bleeps = bleep_intervals((*spoken, *marked), version.start, version.end, options.bleep_padding)
    return PublicationPlan(
        candidate_id=version.candidate_id, version=version.version,
        source_sha256=version.source_sha256, source_fps=float(version.source_fps),
        start=round(version.start, 3), end=round(version.end, 3),
        interviewee_id=person.interviewee_id, pseudonym=person.pseudonym, consent=consent,
        registry_digest=registry_digest(tuple((t.text, t.replacement) for t in terms), key),
        profile=target.profile, platform=target.platform, language=target.language,
        tracks=tuple(tracks), bleeps=bleeps,
        blur_faces=version.blur_faces or not consent.face, blur_boxes=tuple(version.blur_boxes),
        alter_voice=version.alter_voice or not consent.voice,
        title_card=title, end_card=version.end_card,
        loudness_target=options.loudness_target if options.normalise_loudness else None,
        options=options,
    )


def _with_question(title: CardText | None, question: CardText | None,
                   matcher: TermMatcher) -> CardText | None:
    """The title card followed by the interviewer's question (its words redacted like the
    subtitles), as one card: the render shows one opening card, and the plan hashes it."""
    if question is None:
        return title
    cues = redact_track((Cue(0.0, question.duration, tuple(question.lines)),), matcher, max_chars=60)
    lines = cues[0].lines if cues else ()
    if not lines:
        return title
    if title is None:
        return CardText(tuple(lines), question.duration)
    return CardText((*title.lines, "", *lines), round(title.duration + question.duration, 3))


def plan_json(plan: PublicationPlan) -> bytes:
    """Canonical bytes of a plan (sorted keys, floats to the millisecond)."""
    return canonical_json(plan.to_dict())


def plan_hash(plan: PublicationPlan) -> str:
    return hashlib.sha256(plan_json(plan)).hexdigest()


def plan_from_dict(data: Mapping[str, Any]) -> PublicationPlan:
    """A plan back from `to_dict()` / its JSON (for a job queue or a stored preview)."""
    try:
        def card(d: Mapping[str, Any] | None) -> CardText | None:
            return None if d is None else CardText(tuple(d["lines"]), float(d["duration"]))

        return PublicationPlan(
            candidate_id=int(data["candidate_id"]), version=int(data["version"]),
            source_sha256=str(data["source_sha256"]), source_fps=float(data["source_fps"]),
            start=float(data["start"]), end=float(data["end"]),
            interviewee_id=int(data["interviewee_id"]), pseudonym=str(data["pseudonym"]),
            consent=ConsentSnapshot(**{**data["consent"],
                                       "languages": tuple(data["consent"]["languages"]),
                                       "platforms": tuple(data["consent"]["platforms"])}),
            registry_digest=str(data["registry_digest"]), profile=str(data["profile"]),
            platform=str(data["platform"]), language=str(data["language"]),
            tracks=tuple(PlanTrack(t["language"], tuple(Cue(c["start"], c["end"], tuple(c["lines"]))
                                                        for c in t["cues"])) for t in data["tracks"]),
            bleeps=tuple((float(a), float(b)) for a, b in data["bleeps"]),
            blur_faces=bool(data["blur_faces"]),
            blur_boxes=tuple(BlurBox(**b) for b in data["blur_boxes"]),
            alter_voice=bool(data["alter_voice"]),
            title_card=card(data["title_card"]), end_card=card(data["end_card"]),
            loudness_target=data["loudness_target"],
            options=RenderOptions(**data["options"]), schema=str(data.get("schema", SCHEMA)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"malformed publication plan: {exc}") from exc


# Checked in this order; the first difference names the reason. Fixed phrases only: a reason is
# shown to reviewers and logged, so it never quotes a name, a word or subtitle text.
_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("schema",), "the plan format changed"),
    (("candidate_id",), "the plan is for another candidate"),
    (("source_sha256", "source_fps"), "the source media changed"),
    (("interviewee_id",), "the interview is assigned to another interviewee"),
    (("pseudonym",), "the interviewee's pseudonym changed"),
    (("consent",), "the interviewee's consent changed"),
    (("registry_digest",), "the registry's words to hide changed"),
    (("start", "end"), "the cut changed"),
    (("tracks",), "the subtitle text changed"),
    (("bleeps",), "the audio redactions changed"),
    (("blur_faces", "blur_boxes"), "the face blur changed"),
    (("alter_voice",), "the voice alteration changed"),
    (("title_card", "end_card"), "the cards changed"),
)


def plan_difference(old: PublicationPlan, new: PublicationPlan) -> str | None:
    """None when both plans hash alike, else one line naming what changed (never a term)."""
    if plan_hash(old) == plan_hash(new):
        return None
    a, b = old.to_dict(), new.to_dict()

    def differs(names: tuple[str, ...]) -> bool:
        return any(canonical_json(a[n]) != canonical_json(b[n]) for n in names)

    for names, reason in _REASONS:
        if differs(names):
            return reason
    if old.profile != new.profile:
        return f"the profile changed ({old.profile} to {new.profile})"
    if old.platform != new.platform:
        return "the platform changed"
    if old.language != new.language:
        return f"the burned-in language changed ({old.language or 'none'} to {new.language or 'none'})"
    if differs(("options", "loudness_target")):
        return "the encoder or loudness settings changed"
    if old.version != new.version:
        return f"the candidate was edited (version {old.version} to {new.version})"
    return "the plan changed"
