"""Face protection: sample frames, detect faces (CenterFace, see face_detect.py), follow them over
time, and turn them, with any manual regions, into the blur regions the render graph applies.

Detection is high-recall on purpose: an extra blurred patch costs nothing, a missed face exposes
a person. Every stretch between two samples where the detections do not agree (a face seen at one
end only, a doubtful score, no face at all) is blurred whole, so a detector miss fails safe.

Two passes: a detection runs at `fast_width` (finds faces from ~48 px of a 720p frame up at 480), and at
least every `fine_every` seconds at `fine_width` too (finds faces down to ~24 px). Small faces are
followed on the fine samples only, large ones on every sample.

Each pass runs only where the picture changed since that pass last looked there, outside the
faces it found (compared on a small greyscale thumbnail, cell by cell, with a margin of context):
faces away from every change are carried over, since nothing can have entered an unchanged
picture; a face touching a change is detected afresh. Each pass still runs on the whole frame at
least every `max_carry` seconds, and on the last sample; if such a run finds a face away from
every change that the pass did not know (a change too faint for the thumbnail), everything back to
its previous whole-frame run is blurred whole. A small face that enters is found by the next fine
pass, and the span back to the previous fine sample is blurred whole then. A whole-frame run leaves
out the flat blocks of the picture (`textured_boxes`: pillarbox and letterbox bars, plain
backdrops), where no face can be.

Times are float seconds; samples and manual regions use the source clock, blur regions the clip
clock. Boxes are in source pixels.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from pipeline.boxes import TimedBox
from pipeline.errors import MediaError
from pipeline.render.face_detect import SURE, UNSURE, CenterFace, FaceDetector
from pipeline.render.plan import BlurRegion

T = TypeVar("T")

SEGMENT = 1.0  # seconds: blur boxes are unions over windows of this length
MAX_WINDOWS = 150  # the blur graph holds one term per window in its expressions
MATCH_IOU = 0.2  # two samples' boxes of one face overlap at least this much
CHANGE_CELL = 8  # thumbnail pixels per side of a change cell (64 source pixels of a 1280-wide frame)
# A thumbnail pixel that changed by more than this (0-255) is a change. 32, not 16: a talking
# head's shading shifts by 16-32 at every sample, and each such change re-ran the detector around
# the face (19 % fewer detector pixels on the benchmark clip, 14 % on a full-frame interview, the
# same faces; bench/RESULTS.md, "Faces, phase 8"). A fainter arrival is not missed: the periodic
# whole-frame run finds it and blurs everything back to the previous one (`FaceSample.since`).
CHANGE_LEVEL = 32
SMALL_FACE = 56 / 720  # share of the frame height under which the fast pass may miss a face
FLAT_LEVEL = 4  # a block whose pixels all lie within this (0-255, each colour) is flat: no face there
TEXTURED_SHARE = 0.8  # textured areas covering this share of the frame: detect on all of it


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in source pixels (integers: it ends up in an ffmpeg crop)."""

    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    def padded(self, share: float, max_w: int, max_h: int) -> Box:
        dx, dy = self.width * share, self.height * share
        x0, y0 = max(0, math.floor(self.x - dx)), max(0, math.floor(self.y - dy))
        x1 = min(max_w, math.ceil(self.x + self.width + dx))
        y1 = min(max_h, math.ceil(self.y + self.height + dy * 1.3))  # chin and neck
        return Box(x0, y0, max(1, x1 - x0), max(1, y1 - y0))

    def union(self, other: Box) -> Box:
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1 = max(self.x + self.width, other.x + other.width)
        y1 = max(self.y + self.height, other.y + other.height)
        return Box(x0, y0, x1 - x0, y1 - y0)

    def overlaps(self, other: Box) -> bool:
        return not (self.x + self.width <= other.x or other.x + other.width <= self.x
                    or self.y + self.height <= other.y or other.y + other.height <= self.y)

    def iou(self, other: Box) -> float:
        w = min(self.x + self.width, other.x + other.width) - max(self.x, other.x)
        h = min(self.y + self.height, other.y + other.height) - max(self.y, other.y)
        if w <= 0 or h <= 0:
            return 0.0
        inter = w * h
        return inter / (self.width * self.height + other.width * other.height - inter)


@dataclass(frozen=True, slots=True)
class Face:
    """One detection on a sample: its box and the detector's score (0-1)."""

    box: Box
    score: float


@dataclass(frozen=True, slots=True)
class FaceSample:
    """Faces found on the frame shown at `time` (source seconds). `fine`: the small-face pass
    ran on this frame too. `since`: a whole-frame run here found a face where the change check
    had carried the picture over since that time (source seconds), so it may have been there,
    unseen, since then: everything from `since` to here is blurred whole."""

    time: float
    faces: tuple[Face, ...]
    fine: bool = True
    since: float | None = None

    @property
    def boxes(self) -> tuple[Box, ...]:
        return tuple(f.box for f in self.faces)


# An editor's blur box (source pixels) over [start, end) on the source clock: a face the
# detector missed, a tattoo, a badge.
ManualRegion = TimedBox


@dataclass(frozen=True, slots=True)
class SamplingOptions:
    """How frames are sampled and detected. `small_face`: faces shorter than this share of the
    frame height are trusted to the fine pass only (the fast pass misses some of them)."""

    fast_width: int = 480
    fine_width: int = 960
    fine_every: float = 2.0
    small_face: float = SMALL_FACE
    threshold: float = UNSURE
    max_carry: float = 4.0  # seconds a detection may be carried over an unchanged picture (0: never)
    thumb_width: int = 160  # the change check's greyscale thumbnail (area-averaged)
    change_level: int = CHANGE_LEVEL  # a thumbnail pixel changed by more than this is a change...
    change_pixels: int = 2  # ...and this many such pixels outside the faces make the picture changed
    crop_share: float = 0.6  # changed areas covering this share of the frame: detect on all of it
    workers: int = 0  # parts of a long range detected side by side (0: one per core, at most 2)
    min_part: float = 10.0  # seconds: a range is cut only into parts at least this long
    # Frames a helper thread decodes ahead of each part's detector (0: decoded in turn). The same
    # frames and faces either way; it overlaps decoding with inference in wall time, without the
    # second part's extra whole-frame runs (bench/RESULTS.md, "Faces, phase 7").
    decode_ahead: int = 0


_DETECTOR: list[CenterFace] = []


def default_detector() -> CenterFace:
    """One CenterFace per process (loading it takes a fraction of a second), on one thread: on two
    shared cores a second inference thread doubled the CPU time and gained no wall time
    (bench/RESULTS.md, "Faces, phase 3")."""
    if not _DETECTOR:
        _DETECTOR.append(CenterFace(threshold=UNSURE, threads=1))
    return _DETECTOR[0]


def iter_frames(path: str, start: float, end: float, every: float,
                seek: float | None = None) -> Iterator[tuple[float, Any]]:
    """(source time, PyAV frame) about every `every` seconds in [start, end]: the first at
    `start`, the last the final decoded frame before `end`. Decoding starts at the keyframe at
    or before `seek` (default: a second before `start`).

    Frames no other frame refers to are not decoded (about half of them): the next reference
    frame is at most a few frames later, and this halves the decoding cost. The decoder runs on
    the calling thread: frame threads cost ~20 % more CPU (bench/RESULTS.md, "Faces, phase 3"),
    and `detect_faces` decodes parts of a range side by side instead.
    """
    import av

    try:
        container = av.open(path)
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"{path}: cannot decode video for face detection: {exc}") from exc
    with container:
        if not container.streams.video:
            raise MediaError(f"{path}: no video stream for face detection")
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        stream.codec_context.skip_frame = "NONREF"
        at = max(0.0, start - 1.0 if seek is None else seek)
        if at > 0:
            container.seek(round(at / stream.time_base), stream=stream, backward=True)
        due = start
        last: tuple[float, Any] | None = None
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                t = float(frame.time)
                if t < start - 1e-3:
                    continue
                if t >= end:
                    break
                if t + 1e-3 >= due:
                    yield t, frame
                    due = max(due + every, t + every / 2)
                    last = None
                else:
                    last = (t, frame)
        except av.FFmpegError as exc:
            raise MediaError(f"{path}: video decoding failed during face detection: {exc}") from exc
        if last is not None:  # the clip's last frame, so the tail is covered by a real sample
            yield last


_END = object()


def decoded_ahead(items: Iterator[T], depth: int) -> Iterator[T]:
    """`items` in order, drawn by a helper thread up to `depth` ahead of the caller (`depth` <= 0:
    drawn in turn). PyAV's decoder releases the GIL, so decoding overlaps the caller's work. An
    error raised by `items` is raised here at its place; when the caller stops early (or fails),
    the helper stops, closes `items` in its own thread and is joined."""
    if depth <= 0:
        yield from items
        return
    import queue
    import threading

    box: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                box.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def draw() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            put((_END, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    helper = threading.Thread(target=draw, name="face-decode-ahead", daemon=True)
    helper.start()
    try:
        while True:
            item, error = box.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        helper.join()


class Scaler:
    """Frames to arrays at fixed sizes, one swscale context per output size and format: a frame
    converted to the thumbnail, 480 and 960 px in turn on one context re-initialised it on every
    call, which cost about as much as the conversions (bench/RESULTS.md, "Faces, phase 6"). The
    pixels are the same as `frame.to_ndarray(...)`'s. One per thread."""

    def __init__(self) -> None:
        self._contexts: dict[tuple[int, int, str, str | None], Any] = {}

    def array(self, frame: Any, width: int, height: int, format: str,
              interpolation: str | None = None) -> Any:
        from av.video.reformatter import VideoReformatter

        key = (width, height, format, interpolation)
        context = self._contexts.get(key)
        if context is None:
            context = self._contexts[key] = VideoReformatter()
        return context.reformat(frame, width=width, height=height, format=format,
                                interpolation=interpolation).to_ndarray()


def _scaled_rgb(frame: Any, width: int, scaler: Scaler | None = None) -> tuple[Any, float]:
    """The frame as RGB at most `width` wide, and the factor back to source pixels."""
    w = min(width, frame.width)
    h = max(1, round(frame.height * w / frame.width))
    return (scaler or Scaler()).array(frame, w, h, "rgb24"), frame.width / w


def _detect_in(detector: FaceDetector, rgb: Any, k: float, areas: Sequence[Box] | None) -> list[Face]:
    """Faces on `rgb` (a frame scaled by 1/k), in source pixels: on the whole picture, or only
    inside `areas` (source pixels), each run on its own."""
    out: list[Face] = []
    for area in (None,) if areas is None else areas:
        x0 = y0 = 0
        part = rgb
        if area is not None:
            x0, y0 = math.floor(area.x / k), math.floor(area.y / k)
            part = rgb[y0:math.ceil((area.y + area.height) / k), x0:math.ceil((area.x + area.width) / k)]
        out += [Face(Box(round((d.x0 + x0) * k), round((d.y0 + y0) * k), max(1, round((d.x1 - d.x0) * k)),
                         max(1, round((d.y1 - d.y0) * k))), d.score) for d in detector.detect(part)]
    return out


def _detect_at(detector: FaceDetector, frame: Any, width: int) -> list[Face]:
    return _detect_in(detector, *_scaled_rgb(frame, width), None)


def _merge(fast: Sequence[Face], fine: Sequence[Face]) -> tuple[Face, ...]:
    """The fine pass's faces plus the fast pass's that it did not find (same face: IoU > 0.3)."""
    out = list(fine)
    for f in fast:
        if all(f.box.iou(g.box) <= 0.3 for g in fine):
            out.append(f)
    return tuple(out)


def faces_on_frame(frame: Any, detector: FaceDetector | None = None,
                   options: SamplingOptions = SamplingOptions(), fine: bool = True) -> tuple[Face, ...]:
    """Faces on one PyAV video frame (source pixels): the fast pass, plus the fine one if `fine`."""
    detector = detector or default_detector()
    fast = _detect_at(detector, frame, options.fast_width)
    if fine and frame.width > options.fast_width:
        return _merge(fast, _detect_at(detector, frame, options.fine_width))
    return tuple(fast)


@dataclass(slots=True)
class _Pass:
    """One detection pass (fast or fine) over a run of samples: the faces it knows, per thumbnail
    pixel the picture they were checked on, and when it last ran on the whole frame."""

    width: int
    faces: tuple[Face, ...] = ()
    ref: Any = None
    full_at: float = -math.inf
    scaler: Scaler = field(default_factory=Scaler)

    def run(self, detector: FaceDetector, frame: Any, thumb: Any, t: float, options: SamplingOptions,
            full: bool) -> tuple[tuple[Face, ...], float | None]:
        """The pass's faces on `frame`: detected afresh on the whole frame if `full` (or without a
        reference), else only where the picture changed since it was last checked there; faces
        away from every change are carried over (nothing can have entered an unchanged picture).

        Second: when a whole-frame run finds a face away from every change that the carried
        faces lack (a change too faint for the thumbnail check), the time of the previous
        whole-frame run, since when that face may have been shown unseen; else None."""
        comparable = thumb is not None and self.ref is not None and self.ref.shape == thumb.shape
        areas = changed_boxes(self.ref, thumb, self.faces, frame.width, frame.height, options.change_level,
                              options.change_pixels) if comparable else ()
        if comparable and not full and not areas:
            return self.faces, None
        rgb, k = _scaled_rgb(frame, self.width, self.scaler)
        if full or not comparable or (  # most of the picture changed: one run on all of it costs less
                sum(a.width * a.height for a in areas) >= options.crop_share * frame.width * frame.height):
            found = _detect_in(detector, rgb, k, textured_boxes(rgb, k, frame.width, frame.height))
            missed = comparable and any(not any(f.box.overlaps(a) for a in areas)
                                        and all(f.box.iou(g.box) < MATCH_IOU for g in self.faces)
                                        for f in found)
            since = self.full_at if missed else None
            self.faces, self.ref, self.full_at = tuple(found), thumb, t
            return self.faces, since
        found = _detect_in(detector, rgb, k, areas)
        kept = [f for f in self.faces if not any(f.box.overlaps(a) for a in areas)]
        self.faces = tuple(kept) + tuple(f for f in found if all(f.box.iou(g.box) <= 0.3 for g in kept))
        ref = self.ref.copy()
        ky, kx = thumb.shape[0] / frame.height, thumb.shape[1] / frame.width
        for a in areas:  # thumbnail pixels wholly inside the area are checked now
            rows = slice(math.ceil(a.y * ky), math.floor((a.y + a.height) * ky))
            cols = slice(math.ceil(a.x * kx), math.floor((a.x + a.width) * kx))
            ref[rows, cols] = thumb[rows, cols]
        self.ref = ref
        return self.faces, None


def detect_faces(path: str, start: float, end: float, sample_fps: float = 2.0,
                 detector: FaceDetector | None = None,
                 progress: Callable[[float], None] | None = None,
                 options: SamplingOptions = SamplingOptions()) -> tuple[FaceSample, ...]:
    """Faces on frames sampled `sample_fps` times a second between `start` and `end` (seconds).
    `progress` receives the share of the stretch done (0-1) after each sample.

    A long range is cut at keyframes into `options.workers` parts detected side by side (each
    decodes only its own part; the decoder and the detector release the GIL); each part starts
    with a whole-frame detection of both passes, as a range does."""
    from concurrent.futures import ThreadPoolExecutor, wait

    detector = detector or default_detector()
    workers = options.workers or min(2, os.cpu_count() or 1)
    cuts = _keyframe_cuts(path, start, end, workers, options.min_part) if workers > 1 else []
    if not cuts:
        return _detect_part(path, start, end, None, sample_fps, detector, progress, options)
    bounds = list(zip([start, *cuts], [*cuts, end], strict=True))
    done = [0.0] * len(bounds)  # seconds of each part done, written by its own thread

    def report(i: int) -> Callable[[float], None]:
        def one(share: float) -> None:
            done[i] = share * (bounds[i][1] - bounds[i][0])

        return one

    with ThreadPoolExecutor(len(bounds)) as pool:
        parts = [pool.submit(_detect_part, path, a, b, a if i else None, sample_fps, detector, report(i),
                             options, b == end) for i, (a, b) in enumerate(bounds)]
        pending = set(parts)
        while pending:  # progress is reported from the caller's thread (it may write to a database)
            _, pending = wait(pending, timeout=0.5)
            if progress is not None:
                progress(min(1.0, sum(done) / max(1e-6, end - start)))
        return tuple(s for part in parts for s in part.result())


def _keyframe_cuts(path: str, start: float, end: float, parts: int, min_part: float) -> list[float]:
    """Keyframe times in (start, end) nearest to cutting it into `parts` even parts, keeping
    every part at least `min_part` seconds long; [] when the range is too short or has none."""
    import av

    if end - start < 2 * min_part:
        return []
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            if start > 0:
                container.seek(int(start / stream.time_base), stream=stream, backward=True)
            keys = []
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                t = float(packet.pts * stream.time_base)
                if t >= end:
                    break
                if packet.is_keyframe and start + min_part <= t <= end - min_part:
                    keys.append(t)
    except (av.FFmpegError, OSError, IndexError):
        return []  # iter_frames reports an unreadable file
    cuts: list[float] = []
    for k in range(1, parts):
        target = start + (end - start) * k / parts
        best = min(keys, key=lambda t: abs(t - target), default=None)
        if best is not None and best - (cuts[-1] if cuts else start) >= min_part and best not in cuts:
            cuts.append(best)
    return cuts


def _detect_part(path: str, start: float, end: float, seek: float | None, sample_fps: float,
                 detector: FaceDetector, progress: Callable[[float], None] | None,
                 options: SamplingOptions, tail: bool = True) -> tuple[FaceSample, ...]:
    """The samples of [start, end). `tail`: the range ends here, so its last sample runs both
    passes on the whole frame (a part that another follows leaves that to the next part's first
    sample, at its cut)."""
    out: list[FaceSample] = []
    next_fine = start
    scaler = Scaler()  # this part's thread's
    fast, small = _Pass(options.fast_width, scaler=scaler), _Pass(options.fine_width, scaler=scaler)
    frames = iter_frames(path, start, end, 1.0 / sample_fps, seek)
    for t, frame in decoded_ahead(frames, options.decode_ahead):
        last = tail and t + 1.0 / sample_fps >= end
        thumb = _thumbnail(frame, options.thumb_width, scaler) if options.max_carry > 0 else None

        def full(p: _Pass, t: float = t, last: bool = last, thumb: Any = thumb) -> bool:
            return last or thumb is None or t - p.full_at >= options.max_carry - 1e-3

        faces, since = fast.run(detector, frame, thumb, t, options, full(fast))
        fine = last or t + 1e-3 >= next_fine or frame.width <= options.fast_width  # one pass is fine then
        if fine:
            if frame.width > options.fast_width:
                fine_faces, fine_since = small.run(detector, frame, thumb, t, options, full(small))
                faces = _merge(faces, fine_faces)
                since = min((x for x in (since, fine_since) if x is not None), default=None)
            next_fine = t + options.fine_every
        out.append(FaceSample(t, faces, fine, since))
        if progress is not None:
            progress(min(1.0, (t - start) / max(1e-6, end - start)))
    return tuple(out)


def _thumbnail(frame: Any, width: int, scaler: Scaler | None = None) -> Any:
    w = min(width, frame.width)
    h = max(1, round(frame.height * w / frame.width))
    return (scaler or Scaler()).array(frame, w, h, "gray", "AREA")


def _diff_mask(before: Any, after: Any, faces: Sequence[Face], src_width: int, level: int,
               padding: float) -> Any:
    import numpy as np

    diff = np.abs(after.astype(np.int16) - before.astype(np.int16)) > level
    k = after.shape[1] / src_width
    for f in faces:  # a face moving inside its own blurred box changes nothing that is shown
        b = f.box.padded(padding, src_width, 10**6)
        diff[max(0, math.floor(b.y * k)):math.ceil((b.y + b.height) * k),
             max(0, math.floor(b.x * k)):math.ceil((b.x + b.width) * k)] = False
    return diff


def picture_changed(before: Any, after: Any, faces: Sequence[Face], src_width: int,
                    level: int = CHANGE_LEVEL, pixels: int = 2, padding: float = 0.35) -> bool:
    """Whether two greyscale thumbnails of one video differ outside the (padded) face boxes: more
    than `pixels` thumbnail pixels changed by more than `level`."""
    if before is None or after is None or before.shape != after.shape:
        return True
    return int(_diff_mask(before, after, faces, src_width, level, padding).sum()) >= pixels


def changed_boxes(before: Any, after: Any, faces: Sequence[Face], src_width: int, src_height: int,
                  level: int = CHANGE_LEVEL, pixels: int = 2, padding: float = 0.35,
                  cell: int = CHANGE_CELL) -> tuple[Box, ...]:
    """Where two greyscale thumbnails of one video differ outside the (padded) face boxes, as boxes
    in source pixels to run the detector on; () when `picture_changed` is False.

    The thumbnail is cut into cells of `cell` pixels; every cell holding a changed pixel and the
    cells around it (context for the detector: a face half in the change is whole in the box) are
    grouped into connected areas; an area touching a padded face box grows to hold it whole, so
    every known face is either re-detected or away from every change.
    """
    import numpy as np

    if not picture_changed(before, after, faces, src_width, level, pixels, padding):
        return ()
    diff = _diff_mask(before, after, faces, src_width, level, padding)
    h, w = diff.shape
    gh, gw = -(-h // cell), -(-w // cell)
    grid = np.zeros((gh * cell, gw * cell), dtype=bool)
    grid[:h, :w] = diff
    cells = _grown(grid.reshape(gh, cell, gw, cell).any(axis=(1, 3)))
    boxes = _cell_areas(cells, cell * src_height / h, cell * src_width / w, src_width, src_height)
    padded = [f.box.padded(padding, src_width, src_height) for f in faces]
    while True:
        grown = _clusters([next((b.union(p) for p in padded if b.overlaps(p) and b.union(p) != b), b)
                           for b in boxes])
        if grown == boxes:
            return tuple(boxes)
        boxes = grown


def _grown(hit: Any) -> Any:
    """A boolean cell grid with every set cell's 8 neighbours set too (one cell of context)."""
    import numpy as np

    gh, gw = hit.shape
    padded = np.pad(hit, 1)
    cells = np.zeros((gh, gw), dtype=bool)
    for dy in range(3):
        for dx in range(3):
            cells |= padded[dy:dy + gh, dx:dx + gw]
    return cells


def _cell_areas(cells: Any, cell_h: float, cell_w: float, src_width: int, src_height: int) -> list[Box]:
    """The bounding boxes (source pixels) of the connected groups of set cells of a grid whose
    cells are `cell_h` x `cell_w` source pixels."""
    import numpy as np

    gh, gw = cells.shape
    boxes: list[Box] = []
    seen = np.zeros_like(cells)
    for r, c in zip(*np.nonzero(cells), strict=True):
        if seen[r, c]:
            continue
        seen[r, c] = True
        stack, r0, r1, c0, c1 = [(int(r), int(c))], int(r), int(r), int(c), int(c)
        while stack:
            y, x = stack.pop()
            r0, r1, c0, c1 = min(r0, y), max(r1, y), min(c0, x), max(c1, x)
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < gh and 0 <= nx < gw and cells[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        x0, y0 = math.floor(c0 * cell_w), math.floor(r0 * cell_h)
        x1 = min(src_width, math.ceil((c1 + 1) * cell_w))
        y1 = min(src_height, math.ceil((r1 + 1) * cell_h))
        boxes.append(Box(x0, y0, x1 - x0, y1 - y0))
    return boxes


def textured_boxes(rgb: Any, k: float, src_width: int, src_height: int, level: int = FLAT_LEVEL,
                   cell: int = CHANGE_CELL * 8, share: float = TEXTURED_SHARE) -> tuple[Box, ...] | None:
    """Where a frame (RGB at 1/`k` of the source size) is not flat, as boxes in source pixels to
    run the detector on instead of the whole frame; None when that is most of the frame.

    The frame is cut into blocks of `cell` source pixels; a block is flat when, in each colour,
    all its pixels lie within `level` of each other (a pillarbox or letterbox bar, a plain
    backdrop). A face is never flat, so every face touches a textured block; each textured block
    and the blocks around it (context for the detector: a face part-flat is whole in the box) are
    grouped into connected areas. () when the whole frame is flat."""
    import numpy as np

    b = max(1, round(cell / k))
    h, w = rgb.shape[:2]
    gh, gw = -(-h // b), -(-w // b)
    if gh * b != h or gw * b != w:
        rgb = np.pad(rgb, ((0, gh * b - h), (0, gw * b - w), (0, 0)), mode="edge")
    rows = rgb.reshape(gh, b, gw * b, 3)  # per block row: the max and min down its pixel rows,
    hi, lo = rows.max(axis=1), rows.min(axis=1)  # then across each block's columns
    hi, lo = hi.reshape(gh, gw, b, 3).max(axis=2), lo.reshape(gh, gw, b, 3).min(axis=2)
    textured = ((hi - lo) > level).any(axis=2)
    if not textured.any():
        return ()
    cells = _grown(textured)
    if cells.mean() >= share:
        return None
    boxes = _clusters(_cell_areas(cells, b * k, b * k, src_width, src_height))
    if sum(x.width * x.height for x in boxes) >= share * src_width * src_height:
        return None
    return tuple(boxes)


def speaker_centre(samples: Sequence[FaceSample]) -> tuple[float, float] | None:
    """Median centre (source pixels) of the largest sure face per sample, or None without faces."""
    centres = [max((f.box for f in s.faces if f.score >= SURE), key=lambda b: b.width * b.height).centre
               for s in samples if any(f.score >= SURE for f in s.faces)]
    if not centres:
        return None
    xs, ys = sorted(c[0] for c in centres), sorted(c[1] for c in centres)
    return xs[len(xs) // 2], ys[len(ys) // 2]


def _clusters(boxes: Sequence[Box]) -> list[Box]:
    """Union of overlapping boxes, repeated until no two results overlap."""
    out = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                if out[i].overlaps(out[j]):
                    out[i] = out[i].union(out.pop(j))
                    merged = True
                    break
            if merged:
                break
    return out


def _agree(a: Sequence[Face], b: Sequence[Face]) -> bool:
    """Whether two samples see the same faces: every sure face of each has a partner (IoU >=
    MATCH_IOU, one to one) in the other, and neither holds a doubtful score."""
    if any(f.score < SURE for f in (*a, *b)) or len(a) != len(b):
        return False
    free = list(b)
    for f in sorted(a, key=lambda f: -f.box.width * f.box.height):
        best = max(free, key=lambda g: f.box.iou(g.box), default=None)
        if best is None or f.box.iou(best.box) < MATCH_IOU:
            return False
        free.remove(best)
    return True


@dataclass(frozen=True, slots=True)
class Span:
    """What is blurred over [start, end) (clip seconds): `boxes`, or the whole frame."""

    start: float
    end: float
    boxes: tuple[Box, ...]
    whole: bool


def face_spans(samples: Sequence[FaceSample], start: float, end: float, src_height: int,
               small_face: float = SMALL_FACE,
               fallback_when_empty: bool = True) -> tuple[Span, ...]:
    """Spans between consecutive samples (clip clock) with the faces seen at both ends.

    Large faces are checked between consecutive samples, small ones between consecutive fine
    samples. A span is whole-frame when the ends disagree (a face at one end only, a doubtful
    score) or, with `fallback_when_empty`, when neither end sees any face, or when it lies
    between a sample's `since` and that sample.
    """
    duration = end - start
    ordered = sorted(samples, key=lambda s: s.time)
    if not ordered:
        return (Span(0.0, duration, (), fallback_when_empty),)
    limit = small_face * src_height

    def small(f: Face) -> bool:
        return f.box.height < limit

    fine_idx = [i for i, s in enumerate(ordered) if s.fine] or [0, len(ordered) - 1]
    spans: list[Span] = []
    times = [max(0.0, s.time - start) for s in ordered]
    edges = [0.0, *times[1:], duration] if len(ordered) > 1 else [0.0, duration]
    for i in range(len(edges) - 1):
        # Span i runs from sample i to sample i + 1 (the first from the clip's start, the last
        # from the final sample to the clip's end, judged on that sample alone).
        a_i, b_i = i, min(i + 1, len(ordered) - 1)
        a, b = ordered[a_i], ordered[b_i]
        large_a = [f for f in a.faces if not small(f)]
        large_b = [f for f in b.faces if not small(f)]
        ok = _agree(large_a, large_b)
        # The fine samples around this span: small faces must agree there.
        fa = max((j for j in fine_idx if j <= a_i), default=fine_idx[0])
        fb = min((j for j in fine_idx if j >= b_i), default=fine_idx[-1])
        small_a = [f for f in ordered[fa].faces if small(f)]
        small_b = [f for f in ordered[fb].faces if small(f)]
        ok = ok and _agree(small_a, small_b)
        boxes = tuple(f.box for f in (*large_a, *large_b, *small_a, *small_b,
                                      *(f for f in (*a.faces, *b.faces) if small(f))))
        empty = not boxes
        spans.append(Span(edges[i], edges[i + 1], boxes, (not ok) or (empty and fallback_when_empty)))
    for s in ordered:  # a face the change check carried past: unseen since `since`, maybe
        if s.since is not None:
            a, b = s.since - start, s.time - start
            spans = [replace(x, whole=True) if x.start < b and x.end > a else x for x in spans]
    return tuple(s for s in spans if s.end > s.start)


def blur_regions(samples: Sequence[FaceSample], start: float, end: float, src_width: int,
                 src_height: int, padding: float = 0.35, full_frame_fallback: bool = True,
                 segment: float = SEGMENT, manual: Sequence[ManualRegion] = (),
                 small_face: float = SMALL_FACE) -> tuple[BlurRegion, ...]:
    """Blur regions on the clip clock covering every frame between `start` and `end`.

    Face spans (`face_spans`) are gathered into windows of `segment` seconds: a window blurs the
    padded union of the faces of every span it touches (`padding` of the box on each side, which
    with the union absorbs motion between samples), or the whole frame where one of those spans
    is whole-frame. With `full_frame_fallback` False nothing is blurred whole (an explicit choice
    to accept misses). Manual regions (source clock) are added exactly over their time range:
    windows are cut at their edges.
    """
    duration = end - start
    spans = face_spans(samples, start, end, src_height, small_face)
    segment = max(segment, duration / MAX_WINDOWS)
    n = max(1, math.ceil(duration / segment - 1e-9))
    grid = [min(duration, k * segment) for k in range(n + 1)]
    marks = {round(x, 3) for x in grid}
    clip_manual = []
    for m in manual:
        a, b = max(0.0, m.start - start), min(duration, m.end - start)
        x0, y0 = max(0, m.x), max(0, m.y)
        x1, y1 = min(src_width, m.x + m.width), min(src_height, m.y + m.height)
        if b > a and x1 > x0 and y1 > y0:
            clip_manual.append((round(a, 3), round(b, 3), Box(x0, y0, x1 - x0, y1 - y0)))
            marks |= {round(a, 3), round(b, 3)}
    cuts = sorted(marks)
    regions: list[BlurRegion] = []
    for k in range(len(cuts) - 1):
        a, b = cuts[k], cuts[k + 1]
        if b - a < 1e-6:
            continue
        g = min(n - 1, int((a + 1e-9) // segment))  # the grid window this piece lies in
        ga, gb = grid[g], grid[g + 1]
        touching = [s for s in spans if s.start < gb and s.end > ga]
        whole = full_frame_fallback and any(s.whole for s in touching)
        boxes = [bx.padded(padding, src_width, src_height) for s in touching for bx in s.boxes]
        boxes += [bx for ma, mb, bx in clip_manual if ma < b and mb > a]
        if any(bx.x <= 0 and bx.y <= 0 and bx.width >= src_width and bx.height >= src_height for bx in boxes):
            whole = True
        rb = b if k < len(cuts) - 2 else duration + 1.0  # the last reaches past the final frame
        if whole:
            regions.append(BlurRegion(0, 0, src_width, src_height, round(a, 3), round(rb, 3), True))
        for box in _clusters(boxes) if not whole else ():
            regions.append(BlurRegion(box.x, box.y, box.width, box.height, round(a, 3), round(rb, 3)))
    return tuple(regions)
