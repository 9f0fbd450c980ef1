"""Render planning: one ffmpeg graph per output, built as data with ffmpeg-python.

`plan_render(job) -> argv` is pure (no files touched, no processes): it turns a `RenderJob`
(source, cut, geometry, subtitles file, blur regions, bleeps, voice, loudness figures, cards)
into the argv that `run.run_ffmpeg` executes once. `plan_audio_analysis(job)` is the audio-only
pass that measures loudness first (EBU R128 two-pass normalisation).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.boxes import TimedBox
from pipeline.errors import RenderError
from pipeline.render.loudness import (
    Loudness,
    ebur128_filter_args,
    limiter_filter_args,
    loudnorm_filter_args,
    normalisation,
)
from pipeline.render.profiles import Profile, RenderOptions, even, output_size
from pipeline.render.voice import voice_filter_args

# ffmpeg-python escapes ':' and '\' inside option values once more than ffmpeg's filtergraph
# parser expects for a path; our own temp paths never need that, and a path that would is refused.
_UNSAFE_PATH = re.compile(r"[:\\'\[\],;=\s]")
GLOBAL_ARGS = ("-hide_banner", "-y", "-loglevel", "info")
# In points are written to the millisecond, so a frame-aligned one may land up to 0.5 ms before
# the frame it names; a frame counts as on screen at t if it starts by t + FRAME_SLACK.
FRAME_SLACK = 0.001


@dataclass(frozen=True, slots=True)
class BlurRegion(TimedBox):
    """A rectangle (source pixels) blurred from `start` to `end` (clip seconds, half-open).

    Regions come in windows that partition the clip: every region of one window has the same
    `start` and `end`, and windows do not overlap.

    `full_frame` regions cover the whole picture: used where a face must be hidden but none was
    found, which is the safe answer to a detector miss.
    """

    full_frame: bool = False


@dataclass(frozen=True, slots=True)
class Card:
    """A still card (PNG made with moviepy) shown for `duration` seconds with fades."""

    image: str
    duration: float


@dataclass(frozen=True, slots=True)
class RenderJob:
    """Everything one output needs. Times in seconds: `start`/`end` on the source clock, blur
    regions and bleeps on the clip clock (0 = `start`). `speaker_x`/`speaker_y` are the speaker's
    centre in source pixels (None = frame centre)."""

    ffmpeg: str
    source: str
    start: float
    end: float
    src_width: int
    src_height: int
    fps: float
    output: str
    options: RenderOptions = RenderOptions()
    has_audio: bool = True
    ass_file: str | None = None
    fonts_dir: str | None = None
    blur: tuple[BlurRegion, ...] = ()
    bleeps: tuple[tuple[float, float], ...] = ()
    alter_voice: bool = False
    loudness: Loudness | None = None  # analysis figures of the cut as it will sound
    loudness_trim: float = 0.0  # dB added to the gain, from the check pass of a limited chain
    speaker_x: float | None = None
    speaker_y: float | None = None
    title_card: Card | None = None
    end_card: Card | None = None
    boxes: tuple[BlurRegion, ...] = ()  # blurred by hand: each its own track, any window
    scale: float = 1.0  # previews: the profile's frame scaled down by this factor

    @property
    def duration(self) -> float:
        return round(self.end - self.start, 6)

    @property
    def out_size(self) -> tuple[int, int]:
        w, h = output_size(self.options.profile_spec, self.src_width, self.src_height)
        return (w, h) if self.scale >= 1.0 else (even(w * self.scale), even(h * self.scale))

    @property
    def out_fps(self) -> float:
        return self.options.fps or self.fps

    @property
    def frames(self) -> int:
        """Frames of the cut in the output: the duration on the output frame grid."""
        return max(1, math.floor(self.duration * self.out_fps + 0.5))

    @property
    def seek(self) -> float:
        """Where the source is opened (seconds, millisecond grid): the start of the source frame
        on screen at the in point, assuming the source's frames sit on its nominal grid.

        ffmpeg's input seek drops every frame that starts before the seek point, so seeking to
        the in point itself would lose the frame already on screen there whenever the in point
        falls inside a frame (or a millisecond after a frame-aligned one).
        """
        frame = math.floor((self.start + FRAME_SLACK) * self.fps) if self.fps > 0 else 0
        start = min(self.start, frame / self.fps) if self.fps > 0 else self.start
        return max(0.0, math.floor(start * 1000 + 1e-6) / 1000)

    @property
    def lead(self) -> float:
        """Seconds decoded before the in point (less than a source frame)."""
        return round(self.start - self.seek, 6)

    @property
    def total_duration(self) -> float:
        cards = sum(c.duration for c in (self.title_card, self.end_card) if c is not None)
        return self.duration + cards


def _ffmpeg() -> Any:
    import ffmpeg  # ffmpeg-python: pure graph building, no binary needed to compile

    return ffmpeg


def _check_path(path: str, what: str) -> str:
    if _UNSAFE_PATH.search(path):
        raise RenderError(f"{what} path cannot be used inside an ffmpeg filter graph: {path!r}")
    return path


def _t(x: float) -> str:
    return f"{x:.3f}"


def _us(x: float) -> str:
    return f"{x:.6f}"


def _between(spans: Sequence[tuple[float, float]]) -> str:
    return "+".join(f"between(t,{_t(a)},{_t(b)})" for a, b in spans)


def _fps_str(fps: float) -> str:
    # NTSC rates as exact fractions so frame timing does not drift (one home: pipeline.frames).
    from pipeline.frames import fps_text

    return fps_text(fps)


@dataclass(frozen=True, slots=True)
class BlurTrack:
    """One moving blur box of a fixed size (source pixels): at each (start, end, x, y) window of
    the clip clock its top-left corner is at (x, y); outside every window it is off."""

    width: int
    height: int
    windows: tuple[tuple[float, float, int, int], ...]


def blur_tracks(regions: Sequence[BlurRegion], src_w: int, src_h: int) -> tuple[BlurTrack, ...]:
    """Face regions grouped into tracks: the k-th face from the left of every window is track k.

    A track keeps one size (the largest of its boxes) so that one crop and one blur serve the
    whole clip; its position moves per window, centred on that window's box and kept in frame.
    """
    by_window: dict[tuple[float, float], list[BlurRegion]] = {}
    for r in regions:
        if not r.full_frame:
            by_window.setdefault((r.start, r.end), []).append(r)
    if not by_window:
        return ()
    columns: list[list[tuple[float, float, BlurRegion]]] = []
    for (a, b), members in sorted(by_window.items()):
        for k, r in enumerate(sorted(members, key=lambda r: r.x + r.width / 2)):
            if k == len(columns):
                columns.append([])
            columns[k].append((a, b, r))
    tracks = []
    for column in columns:
        w = min(src_w, max(r.width for _a, _b, r in column))
        h = min(src_h, max(r.height for _a, _b, r in column))
        windows: list[tuple[float, float, int, int]] = []
        for a, b, r in column:
            x = int(min(max(0, r.x + r.width / 2 - w / 2), src_w - w))
            y = int(min(max(0, r.y + r.height / 2 - h / 2), src_h - h))
            if windows and windows[-1][1] == a and windows[-1][2:] == (x, y):
                windows[-1] = (windows[-1][0], b, x, y)  # same place: one longer window
            else:
                windows.append((a, b, x, y))
        tracks.append(BlurTrack(w, h, tuple(windows)))
    return tuple(tracks)


def _box_track(box: BlurRegion, src_w: int, src_h: int) -> BlurTrack:
    """A hand-drawn box as a track of its own, kept inside the frame."""
    w, h = max(2, min(src_w, box.width)), max(2, min(src_h, box.height))
    x, y = min(max(0, box.x), src_w - w), min(max(0, box.y), src_h - h)
    return BlurTrack(w, h, ((box.start, box.end, x, y),))


def _during(windows: Sequence[tuple[float, float]]) -> str:
    """1 while t is inside one of the (non-overlapping) half-open windows, else 0."""
    return "+".join(f"gte(t,{_t(a)})*lt(t,{_t(b)})" for a, b in windows) or "0"


def _piecewise(values: Sequence[tuple[float, float, int]]) -> str:
    """An expression of t worth `v` during each half-open window [a, b) (0 elsewhere)."""
    return "+".join(f"{v}*gte(t,{_t(a)})*lt(t,{_t(b)})" for a, b, v in values if v) or "0"


def _heavy_blur(stream: Any, w: int, h: int, enable: str) -> Any:
    # Box blur over a quarter of the box, twice: what is left is soft colour. The face detector
    # (CenterFace, at any score over 0.2) finds no face through it (tests/pipeline/test_faces_detect).
    luma = max(1, min(w, h) // 4)
    chroma = max(1, min(w, h) // 8)
    return stream.filter("boxblur", luma_radius=luma, luma_power=2, chroma_radius=chroma,
                         chroma_power=2, enable=enable)


def _patch_blur(stream: Any, w: int, h: int) -> Any:
    # The face patch is blurred at an eighth of its size and scaled back: the same soft colour as
    # _heavy_blur (nothing detectable, tests/pipeline/test_faces_detect) for a fraction of the CPU
    # (boxblur at full size was the costliest filter of a blurred render). The eighth is taken by
    # nearest neighbour: area averaging read every pixel of the patch on every frame and was half
    # of the blur graph's CPU; the box blur over a quarter of what is left erases the aliasing
    # (bench/RESULTS.md, "Faces, phase 4").
    sw, sh = max(8, w // 8 // 2 * 2), max(8, h // 8 // 2 * 2)
    return (stream.filter("scale", sw, sh, flags="neighbor")
            .filter("boxblur", luma_radius=max(1, min(sw, sh) // 4), luma_power=2,
                    chroma_radius=max(1, min(sw, sh) // 8), chroma_power=2)
            .filter("scale", w, h, flags="bilinear"))


def _apply_blur(v: Any, job: RenderJob) -> Any:
    """Face tracks (crop that follows the face, blur, overlay back) and full-frame blur windows.

    Every branch yields a frame for every frame: nothing waits for a branch to start, so memory
    stays flat however long the clip (trimmed branches made overlay queue whole seconds of video).
    """
    tracks = blur_tracks(job.blur, job.src_width, job.src_height) + tuple(
        _box_track(b, job.src_width, job.src_height) for b in job.boxes)
    full = sorted((r.start, r.end) for r in job.blur if r.full_frame)
    out = v
    if tracks:
        split = v.filter_multi_output("split", len(tracks) + 1)
        out = split[0]
        for i, track in enumerate(tracks, start=1):
            when = _during([(a, b) for a, b, _x, _y in track.windows])
            x = _piecewise([(a, b, x) for a, b, x, _y in track.windows])
            y = _piecewise([(a, b, y) for a, b, _x, y in track.windows])
            patch = _patch_blur(split[i].filter("crop", track.width, track.height, x, y),
                                track.width, track.height)
            out = out.overlay(patch, x=x, y=y, enable=when, eval="frame")
    if full:
        out = _heavy_blur(out, job.src_width, job.src_height, _during(full))
    return out


def _window(job: RenderJob, aspect: float) -> tuple[int, int, int, int]:
    """The largest source window of `aspect` (w/h) centred on the speaker, clamped inside."""
    sw, sh = job.src_width, job.src_height
    if sw / sh > aspect:
        h, w = sh, min(sw, even(sh * aspect))
    else:
        w, h = sw, min(sh, even(sw / aspect))
    cx = job.speaker_x if job.speaker_x is not None else sw / 2
    cy = job.speaker_y if job.speaker_y is not None else sh / 2
    x = int(min(max(0, cx - w / 2), sw - w))
    y = int(min(max(0, cy - h / 2), sh - h))
    return w, h, x, y


def _geometry(v: Any, job: RenderJob, profile: Profile) -> Any:
    out_w, out_h = job.out_size
    if profile.kind == "fit":
        if (out_w, out_h) != (job.src_width, job.src_height):
            v = v.filter("scale", out_w, out_h, flags="bicubic")
        return v.filter("setsar", 1)
    if profile.kind == "crop":
        w, h, x, y = _window(job, out_w / out_h)
        return v.filter("crop", w, h, x, y).filter("scale", out_w, out_h, flags="bicubic").filter("setsar", 1)
    # "fill": the speaker window over a blurred, zoomed copy of the whole frame. The fill is made
    # at 1/8 size and scaled up: blurring a full 1080x1920 frame would cost more than the encode.
    split = v.filter_multi_output("split", 2)
    bw, bh = even(out_w / 8), even(out_h / 8)
    background = (
        split[1].filter("scale", bw, bh, force_original_aspect_ratio="increase", flags="area")
        .filter("crop", bw, bh)
        .filter("boxblur", luma_radius=max(1, min(bw, bh) // 10), luma_power=2)
        .filter("scale", out_w, out_h, flags="bicubic")
    )
    w, h, x, y = _window(job, profile.foreground_aspect)
    fg_h = min(out_h, even(out_w / profile.foreground_aspect))
    fg_w = even(fg_h * profile.foreground_aspect)
    fg = split[0].filter("crop", w, h, x, y).filter("scale", fg_w, fg_h, flags="bicubic")
    # Speaker window sits a little above centre so the subtitles have room below it.
    top = even(max(0, (out_h - fg_h) / 2 - out_h * 0.05))
    return background.overlay(fg, x=(out_w - fg_w) // 2, y=top).filter("setsar", 1)


def _card_streams(ffmpeg: Any, job: RenderJob, card: Card) -> tuple[Any, Any]:
    out_w, out_h = job.out_size
    fps = _fps_str(job.out_fps)
    fade = min(0.4, card.duration / 4)
    v = (
        ffmpeg.input(card.image, loop=1, framerate=fps, t=_t(card.duration))
        .video.filter("scale", out_w, out_h, force_original_aspect_ratio="decrease")
        .filter("pad", out_w, out_h, "(ow-iw)/2", "(oh-ih)/2", color="black")
        .filter("setsar", 1)
        .filter("format", job.options.pix_fmt)
        .filter("fade", type="in", start_time=0, duration=_t(fade))
        .filter("fade", type="out", start_time=_t(card.duration - fade), duration=_t(fade))
    )
    a = ffmpeg.input(
        f"anullsrc=channel_layout=stereo:sample_rate={job.options.sample_rate}", f="lavfi",
        t=_t(card.duration),
    ).audio
    return v, a


def _audio_chain(ffmpeg: Any, src: Any, job: RenderJob) -> Any:
    """Source audio of the cut with bleeps and voice change, before loudness normalisation."""
    o = job.options
    if job.has_audio:
        # The in point becomes 0 on the same clock as the picture (not the first sample's, which
        # may start late), and aresample cuts or pads to it by the sample; the input's -t ends
        # the audio at the out point. apad adds silence where the source's audio stops before
        # the out point: a stream-copied cut's often stops a few frames before its video.
        a = src.audio.filter("asetpts", f"PTS-{_us(job.lead)}/TB")
        a = a.filter("aresample", o.sample_rate, first_pts=0).filter(
            "aformat", sample_fmts="fltp", channel_layouts="stereo")
        a = a.filter("apad", whole_len=round(job.duration * o.sample_rate))
    else:
        a = ffmpeg.input(f"anullsrc=channel_layout=stereo:sample_rate={o.sample_rate}", f="lavfi",
                         t=_t(job.duration)).audio
    if job.bleeps:
        # Mute before the voice change so nothing of a name reaches the pitch shifter.
        a = a.filter("volume", volume=f"if({_between(job.bleeps)},0,1)", eval="frame")
    if job.alter_voice:
        a = a.filter("rubberband", **voice_filter_args(o.voice_pitch))
    if job.bleeps:
        tone = ffmpeg.input(
            f"sine=frequency={o.bleep_frequency:g}:sample_rate={o.sample_rate}", f="lavfi",
            t=_t(job.duration),
        ).audio.filter("volume", volume=f"if({_between(job.bleeps)},{o.bleep_level:g},0)", eval="frame")
        tone = tone.filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
        a = ffmpeg.filter([a, tone], "amix", inputs=2, normalize=0, duration="first")
    return a


def _input(ffmpeg: Any, job: RenderJob) -> Any:
    # Input seeking with a re-encode: ffmpeg decodes from the keyframe before `seek` and drops
    # what precedes it, without decoding the file from its beginning. The exact cut is made in
    # the graph (`_video_cut`, `_audio_chain`), so this only has to cover it.
    return ffmpeg.input(job.source, ss=_t(job.seek), t=_t(job.lead + job.duration))


def _video_cut(src: Any, job: RenderJob) -> Any:
    """Exactly `job.frames` frames on the output grid from the in point: frame k is the source
    frame on screen at `start + k / fps`.

    Passing on whatever frames the input trim yields is not enough: a stream-copied source can
    lack frames before its declared end (B-frames whose presentation fell past the copy's cut
    are dropped, leaving gaps and an edit list that still spans them), and shifting the first
    frame to 0 moved the whole picture up to a frame against the sound. So the grid is anchored
    at the in point, gaps and a short track hold the last frame, and the count is fixed.
    """
    n = job.frames
    # Padding goes before fps: fps drops a last frame that its end-of-stream timestamp does not
    # outlast, so without it the final frame of a source would give way to its predecessor.
    v = src.video.filter("tpad", stop_mode="clone", stop_duration=_us(job.duration))
    v = v.filter("fps", _fps_str(job.out_fps), start_time=_us(job.lead + FRAME_SLACK), round="up")
    return v.filter("select", f"lt(n,{n})").filter("setpts", "PTS-STARTPTS")


def _normalise(a: Any, job: RenderJob) -> Any:
    """The loudness stage: a constant gain when the peaks allow it, else a gain into a peak
    limiter (speech rarely reaches -14 LUFS at -1 dBTP without one)."""
    o = job.options
    mode, gain = normalisation(o, job.loudness)
    if mode == "none":
        return a
    if mode == "linear":
        # What loudnorm's linear mode would do, a constant gain, without its 192 kHz round trip.
        return a.filter("volume", volume=f"{gain:.2f}dB")
    if mode == "limit":
        a = a.filter("volume", volume=f"{gain + job.loudness_trim:.2f}dB")
        return a.filter("alimiter", **limiter_filter_args(o))
    # No usable figures: single-pass loudnorm (dynamic); it works at 192 kHz, so resample back.
    return a.filter("loudnorm", **loudnorm_filter_args(o, None)).filter("aresample", o.sample_rate)


def plan_audio_analysis(job: RenderJob, check: bool = False) -> list[str]:
    """argv of an audio-only pass that prints ebur128's summary on stderr: of the cut as it will
    sound before normalisation, or (`check`) after the gain and limiter planned from it."""
    ffmpeg = _ffmpeg()
    src = _input(ffmpeg, job)
    a = _audio_chain(ffmpeg, src, job)
    if check:
        a = _normalise(a, job)
    a = a.filter("ebur128", **ebur128_filter_args())
    out = ffmpeg.output(a, "-", f="null")
    argv = out.compile(cmd=job.ffmpeg)
    return [argv[0], *GLOBAL_ARGS, *argv[1:]]


def plan_render(job: RenderJob) -> list[str]:
    """argv of the single ffmpeg run that writes `job.output` (MP4, H.264 + AAC, fast start)."""
    if job.duration <= 0:
        raise RenderError(f"empty cut: out point {job.end:.3f}s is not after in point {job.start:.3f}s")
    for what, path in (("source", job.source), ("output", job.output)):
        if not path.startswith("/"):  # a relative name could begin with "-" and read as an option
            raise RenderError(f"{what} path must be absolute: {path!r}")
    ffmpeg = _ffmpeg()
    o = job.options
    profile = o.profile_spec
    src = _input(ffmpeg, job)

    v = _video_cut(src, job)
    v = _apply_blur(v, job)  # source pixels: before any scaling or cropping
    v = _geometry(v, job, profile)
    if job.ass_file:
        kwargs = {"fontsdir": _check_path(job.fonts_dir, "fonts")} if job.fonts_dir else {}
        v = v.filter("ass", _check_path(job.ass_file, "subtitles"), shaping="complex", **kwargs)
    v = v.filter("format", o.pix_fmt)

    a = _audio_chain(ffmpeg, src, job)
    if o.normalise_loudness:
        a = _normalise(a, job)
    a = a.filter("aformat", sample_fmts="fltp", channel_layouts="stereo")

    parts: list[Any] = []
    if job.title_card is not None:
        parts.extend(_card_streams(ffmpeg, job, job.title_card))
    parts.extend((v, a))
    if job.end_card is not None:
        parts.extend(_card_streams(ffmpeg, job, job.end_card))
    if len(parts) > 2:
        joined = ffmpeg.concat(*parts, v=1, a=1).node
        v, a = joined[0], joined[1]

    gop = max(1, round(job.out_fps * 2))
    kwargs: dict[str, Any] = {
        "vcodec": o.video_codec, "preset": o.preset, "crf": o.crf, "pix_fmt": o.pix_fmt,
        "profile:v": "high", "g": gop, "r": _fps_str(job.out_fps),
        "acodec": o.audio_codec, "b:a": o.audio_bitrate, "ar": o.sample_rate, "ac": 2,
        "movflags": "+faststart", "f": "mp4",
        # Source metadata can hold places, dates and device names: none of it leaves with a clip.
        "map_metadata": -1, "map_chapters": -1,
        "t": _t(job.total_duration),
    }
    if o.threads:
        kwargs["threads"] = o.threads
    out = ffmpeg.output(v, a, job.output, **kwargs)
    argv = out.compile(cmd=job.ffmpeg)
    return [argv[0], *GLOBAL_ARGS, *argv[1:]]
