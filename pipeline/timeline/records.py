"""Records of the timeline core: what goes into a timeline, what comes back from an edited one.

Times are float seconds on the source's clock unless a field says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.publication import PlanTrack


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A media file by path and content hash (the hash is what ties a reference to approved bytes)."""

    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class RenderedMedia:
    """The rendered, redacted export of a clip: its file, hash and where the approved cut starts in it.

    `content_start_s` is the time in the rendered file where the source's in point plays (after a
    title card, for instance); `duration_s` is the whole file's length.
    """

    media: MediaRef
    duration_s: float
    content_start_s: float = 0.0
    width: int = 0  # 0: same as the source
    height: int = 0
    fps: float | None = None  # None: same as the source


@dataclass(frozen=True, slots=True)
class ClipMarker:
    """A note on the source's clock: kind is "theme", "risk", "comment", "bleep" or "blur"."""

    kind: str
    label: str
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class BlurRegion:
    """A rectangle blurred from `start_s` to `end_s` (source seconds); x/y/w/h are pixels of the source."""

    start_s: float
    end_s: float
    x: int = 0
    y: int = 0
    w: int = 0
    h: int = 0


@dataclass(frozen=True, slots=True)
class RedactionPlan:
    """What the flattened export hides: bleeped audio intervals and blurred regions (source seconds)."""

    bleeps: tuple[tuple[float, float], ...] = ()
    blur_regions: tuple[BlurRegion, ...] = ()
    blur_faces: bool = False
    alter_voice: bool = False


@dataclass(frozen=True, slots=True)
class TimelineClip:
    """One approved clip as a timeline sees it; built from a publication plan and its export.

    `clip_id` is a neutral id (e.g. "c12v3"): it names the clip, its reel and nothing else, so
    never pass a title, file name or person's name. `rendered` is the redacted export; the raw
    `source` is referenced only under a `RawSourceGrant` (see `select_media`).
    """

    clip_id: str
    candidate_id: int
    version: int
    source: MediaRef
    fps: float
    in_s: float
    out_s: float
    width: int = 0
    height: int = 0
    source_duration_s: float | None = None
    rendered: RenderedMedia | None = None
    markers: tuple[ClipMarker, ...] = ()
    subtitles: tuple[PlanTrack, ...] = ()  # the plan's: redacted, on the clip's clock
    redaction: RedactionPlan = RedactionPlan()
    plan_hash: str = ""


@dataclass(frozen=True, slots=True)
class RawSourceGrant:
    """The gate's separate decision that this candidate version may be handed out as raw footage.

    Phase 2 builds it only from an authorisation the gate signed for a role allowed to hand out raw
    footage, and records it in the manifest; the pure core only checks that it matches the clip.
    """

    candidate_id: int
    version: int
    source_sha256: str
    granted_by: str = ""


@dataclass(frozen=True, slots=True)
class MediaChoice:
    """The media a timeline clip points at and the range of it to use (seconds of that file)."""

    media: MediaRef
    in_s: float
    out_s: float
    raw: bool
    to_source_s: float  # add to a time in this media to get source seconds
    fps: float
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class KnownMedia:
    """A file an edited timeline may point at, and how its clock maps to the source's.

    `names` are the reel or clip names a format without paths (EDL) may use for it.
    """

    media: MediaRef
    duration_s: float
    to_source_s: float = 0.0
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportedCut:
    """The ranges an edited timeline keeps of one source, in order, as one clip with cuts.

    `ranges` are (start, end) source seconds; `cuts` are the source intervals removed between them.
    """

    source_sha256: str
    ranges: tuple[tuple[float, float], ...]
    fmt: str

    @property
    def in_s(self) -> float:
        return self.ranges[0][0]

    @property
    def out_s(self) -> float:
        return self.ranges[-1][1]

    @property
    def cuts(self) -> tuple[tuple[float, float], ...]:
        return tuple(
            (a[1], b[0]) for a, b in zip(self.ranges, self.ranges[1:], strict=False) if b[0] > a[1]
        )


@dataclass(frozen=True, slots=True)
class Publication:
    """One recorded publication of an export: where, when, and the exact file (by sha256)."""

    export_id: int
    candidate_id: int
    version: int
    platform: str
    url: str
    published_at: str  # ISO 8601, UTC
    file_sha256: str
    taken_down_at: str | None = None


@dataclass(frozen=True, slots=True)
class ExportEntry:
    """An export folder as the withdrawal sees it; `interviewee` is a pseudonym, never a real name."""

    export_id: int
    candidate_id: int
    version: int
    interviewee: str
    folder: str
    file_name: str
    file_sha256: str
    created_at: str = ""


@dataclass(frozen=True, slots=True)
class TakedownRow:
    """One item to take down: a recorded publication, or an export folder holding an affected copy."""

    kind: str  # "publication" | "export"
    interviewee: str
    candidate_id: int
    version: int
    export_id: int
    platform: str
    url: str
    published_at: str
    folder: str
    file_name: str
    file_sha256: str
    status: str  # "open" | "taken down"
    taken_down_at: str = ""
