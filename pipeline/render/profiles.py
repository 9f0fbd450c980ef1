"""Output profiles: frame geometry, subtitle placement, loudness target and codec settings.

A profile is data; `plan.py` turns it plus a source's size into filter-graph nodes. Sizes are in
pixels, loudness in LUFS, true peak in dBTP, bitrates in ffmpeg's notation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pipeline.errors import RenderError


@dataclass(frozen=True, slots=True)
class SubtitleLook:
    """How burned subtitles look, in output pixels (the ASS PlayRes is the output size).

    `size_ratio` is the font size as a share of the output height, capped so that a 42-character
    line fits the width (see `subs.ass_style`); `margin_v_ratio` the bottom
    margin as a share of the height; `margin_h_ratio` the side margins as a share of the width.
    """

    size_ratio: float = 0.055
    margin_v_ratio: float = 0.06
    margin_h_ratio: float = 0.06
    outline_ratio: float = 0.004  # black outline thickness, share of the height
    alignment: int = 2  # ASS numpad alignment: 2 = bottom centre
    latin_font: str = "Noto Sans"
    arabic_font: str = "Noto Sans Arabic"
    bold: bool = True


@dataclass(frozen=True, slots=True)
class Profile:
    """One output shape.

    `kind` is "fit" (whole frame, source size capped to `max_width`x`max_height`), "fill"
    (speaker-centred crop of the source over a blurred copy of itself filling `width`x`height`)
    or "crop" (speaker-centred crop filling the frame). `social` picks the loudness target.
    """

    name: str
    kind: str
    width: int  # output width for fill/crop; the cap for fit
    height: int  # output height for fill/crop; the cap for fit
    social: bool
    subtitles: SubtitleLook = field(default_factory=SubtitleLook)
    foreground_aspect: float = 1.0  # width/height of the speaker window in "fill"
    background_blur: int = 40  # boxblur radius of the fill, pixels at output size


# Defaults: master keeps the source (never upscales) and targets broadcast loudness (-23 LUFS,
# EBU R128); vertical and square are social (-14 LUFS, what the large platforms normalise to).
PROFILES: dict[str, Profile] = {
    "master": Profile("master", "fit", 1920, 1080, social=False),
    "vertical": Profile(
        "vertical", "fill", 1080, 1920, social=True,
        # Subtitles sit in the lower fill, below the speaker window, and are larger: phones.
        subtitles=SubtitleLook(size_ratio=0.035, margin_v_ratio=0.13, margin_h_ratio=0.05),
    ),
    "square": Profile(
        "square", "crop", 1080, 1080, social=True,
        subtitles=SubtitleLook(size_ratio=0.05, margin_v_ratio=0.07),
    ),
}


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Everything about an export's encoding that is not the content itself.

    Defaults: H.264 (libx264, `preset` "veryfast", CRF 20, yuv420p, High profile) and AAC-LC
    160 kbit/s stereo 48 kHz in MP4 with fast start; loudness -14 LUFS for social profiles and
    -23 LUFS for broadcast (master), true peak at most -1 dBTP; face boxes detected twice a
    second and padded by 35 %; pitch lowered by a ratio of 0.84 (about 3 semitones) with
    formants preserved; bleeps a 1 kHz tone at -12 dBFS.
    """

    profile: str = "master"
    video_codec: str = "libx264"
    # veryfast, not x264's medium: on the 2-core machines this runs on it encodes twice as fast
    # with 40 % less memory at 1080p; at CRF 20 on a talking head its files came out no larger
    # and about one VMAF point lower (95 vs 96, both transparent; bench/RESULTS.md). Platforms
    # re-encode uploads anyway; pass preset="medium" or slower for archive copies.
    preset: str = "veryfast"
    crf: int = 20
    pix_fmt: str = "yuv420p"
    audio_codec: str = "aac"
    audio_bitrate: str = "160k"
    sample_rate: int = 48000
    fps: float | None = None  # None keeps the source frame rate
    loudness_social: float = -14.0  # LUFS
    loudness_broadcast: float = -23.0  # LUFS
    true_peak: float = -1.0  # dBTP
    loudness_range: float = 11.0  # LU, loudnorm's LRA target
    normalise_loudness: bool = True
    face_sample_fps: float = 2.0  # detection samples per second
    face_padding: float = 0.35  # share of the box size added on each side
    face_fallback_full_frame: bool = True  # blur the whole frame where no face was found
    voice_pitch: float = 0.84  # rubberband pitch ratio when the voice must be altered
    bleep_frequency: float = 1000.0  # Hz
    bleep_level: float = 0.25  # linear amplitude of the tone (about -12 dBFS)
    bleep_padding: float = 0.06  # seconds added before and after each redacted word
    threads: int = 0  # 0 = ffmpeg decides

    @property
    def profile_spec(self) -> Profile:
        return get_profile(self.profile)

    @property
    def loudness_target(self) -> float:
        return self.loudness_social if self.profile_spec.social else self.loudness_broadcast

    def with_profile(self, name: str) -> RenderOptions:
        get_profile(name)
        return replace(self, profile=name)

    def settings(self) -> dict[str, object]:
        """The options as plain data, for the manifest and the version hash."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise RenderError(f"unknown render profile {name!r} (choose {', '.join(PROFILES)})") from None


def even(n: float) -> int:
    """Round to the nearest even integer >= 2 (yuv420p needs even frame sizes)."""
    return max(2, int(round(n / 2.0)) * 2)


def output_size(profile: Profile, src_width: int, src_height: int) -> tuple[int, int]:
    """Output frame size in pixels for a source of `src_width`x`src_height`."""
    if profile.kind == "fit":
        scale = min(1.0, profile.width / src_width, profile.height / src_height)
        return even(src_width * scale), even(src_height * scale)
    if profile.kind == "crop":
        # Never upscale a small source past its own height: a 720p source gives 720x720.
        side = even(min(profile.width, profile.height, src_height, src_width))
        ratio = profile.width / profile.height
        return (side, even(side / ratio)) if ratio >= 1 else (even(side * ratio), side)
    return profile.width, profile.height
