"""Face protection: detect faces on sampled frames (OpenCV Haar cascades), track and pad the boxes
over time, and turn them into blur regions that the render graph applies.

Detection is high-recall on purpose: an extra blurred patch costs nothing, a missed face exposes a
person. Where no face is found at all in a stretch of the clip, the whole frame is blurred there
(`RenderOptions.face_fallback_full_frame`), so a detector miss fails safe.

Times are float seconds; `detect_faces` reports source-clock times, `blur_regions` clip-clock.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.errors import MediaError
from pipeline.render.plan import BlurRegion

DETECT_SIZE = 320  # frames are downscaled so their longer side is this many pixels for detection
SEGMENT = 1.0  # seconds: blur boxes are unions over windows of this length
MAX_WINDOWS = 150


@dataclass(frozen=True, slots=True)
class Box:
    """A face rectangle in source pixels."""

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
        return Box(x0, y0, x1 - x0, y1 - y0)

    def union(self, other: Box) -> Box:
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1 = max(self.x + self.width, other.x + other.width)
        y1 = max(self.y + self.height, other.y + other.height)
        return Box(x0, y0, x1 - x0, y1 - y0)

    def overlaps(self, other: Box) -> bool:
        return not (self.x + self.width <= other.x or other.x + other.width <= self.x
                    or self.y + self.height <= other.y or other.y + other.height <= self.y)


@dataclass(frozen=True, slots=True)
class FaceSample:
    """Faces found on the frame shown at `time` (source seconds)."""

    time: float
    boxes: tuple[Box, ...]


class FaceDetector:
    """Frontal and profile (both directions) Haar cascades from the OpenCV wheel's cv2.data."""

    def __init__(self, min_neighbors: int = 5, min_face: float = 0.1, min_detail: float = 4.0) -> None:
        import cv2

        root = cv2.data.haarcascades
        self._cv2 = cv2
        self._frontal = cv2.CascadeClassifier(os.path.join(root, "haarcascade_frontalface_default.xml"))
        self._profile = cv2.CascadeClassifier(os.path.join(root, "haarcascade_profileface.xml"))
        if self._frontal.empty() or self._profile.empty():
            raise MediaError(f"OpenCV face cascades missing from {root}")
        self.min_neighbors = min_neighbors
        self.min_face = min_face  # smallest face, as a share of the frame's shorter side
        # Variance of the Laplacian inside a detection, at detection size. Histogram equalisation
        # lets the cascades "see" faces in flat gradients (a blurred patch); real faces, even dim
        # and soft ones, measured 26 and more here, flat or blurred areas under 2.
        self.min_detail = min_detail

    def detect(self, gray: Any) -> tuple[Box, ...]:
        """Faces on one greyscale frame (numpy uint8 HxW), in that frame's pixels."""
        cv2 = self._cv2
        h, w = gray.shape[:2]
        scale = min(1.0, DETECT_SIZE / max(h, w))
        small = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
            if scale < 1 else gray
        small_raw = small
        small = cv2.equalizeHist(small)
        side = max(12, round(min(small.shape[:2]) * self.min_face))
        found: list[tuple[int, int, int, int]] = []
        for cascade, flip in ((self._frontal, False), (self._profile, False), (self._profile, True)):
            img = cv2.flip(small, 1) if flip else small
            rects = cascade.detectMultiScale(img, scaleFactor=1.1, minNeighbors=self.min_neighbors,
                                             minSize=(side, side))
            sw = small.shape[1]
            for x, y, bw, bh in (rects if len(rects) else ()):
                x = sw - x - bw if flip else x
                if self._detail(small_raw[y:y + bh, x:x + bw]) >= self.min_detail:
                    found.append((x, y, bw, bh))
        return tuple(Box(round(x / scale), round(y / scale), round(bw / scale), round(bh / scale))
                     for x, y, bw, bh in found)


    def _detail(self, window: Any) -> float:
        if window.size == 0:
            return 0.0
        return float(self._cv2.Laplacian(window, self._cv2.CV_64F).var())


def iter_frames(path: str, start: float, end: float, every: float) -> Iterator[tuple[float, Any]]:
    """(source time, greyscale frame) about every `every` seconds in [start, end], the first at
    `start` and the last at the final frame before `end`."""
    import av

    try:
        container = av.open(path)
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"{path}: cannot decode video for face detection: {exc}") from exc
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start > 0:
            container.seek(int(max(0.0, start - 1.0) / stream.time_base), stream=stream, backward=True)
        due = start
        last: tuple[float, Any] | None = None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            t = float(frame.time)
            if t < start - 1e-3:
                continue
            if t >= end:
                break
            if t + 1e-3 >= due:
                yield t, frame.to_ndarray(format="gray")
                due += every
                last = None
            else:
                last = (t, frame)
        if last is not None:  # the clip's last frame, so the tail is covered by a real sample
            yield last[0], last[1].to_ndarray(format="gray")


def detect_faces(path: str, start: float, end: float, sample_fps: float = 2.0,
                 detector: FaceDetector | None = None,
                 progress: Callable[[float], None] | None = None) -> tuple[FaceSample, ...]:
    """Faces on frames sampled `sample_fps` times a second between `start` and `end` (seconds).
    `progress` receives the share of the stretch done (0-1) after each sample."""
    detector = detector or FaceDetector()
    out = []
    for t, gray in iter_frames(path, start, end, 1.0 / sample_fps):
        out.append(FaceSample(t, detector.detect(gray)))
        if progress is not None:
            progress(min(1.0, (t - start) / max(1e-6, end - start)))
    return tuple(out)


def speaker_centre(samples: Sequence[FaceSample]) -> tuple[float, float] | None:
    """Median centre (source pixels) of the largest face per sample, or None without faces."""
    centres = [max(s.boxes, key=lambda b: b.width * b.height).centre for s in samples if s.boxes]
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


def blur_regions(samples: Sequence[FaceSample], start: float, end: float, src_width: int,
                 src_height: int, padding: float = 0.35, full_frame_fallback: bool = True,
                 segment: float = SEGMENT) -> tuple[BlurRegion, ...]:
    """Blur regions on the clip clock covering every frame between `start` and `end`.

    Each sample's faces are padded (`padding` of the box on each side; motion between samples is
    absorbed by the padding and by taking, for each window of `segment` seconds, the union of the
    faces seen at every sample from the one before the window to the one after it). A window with
    no face in reach is blurred whole when `full_frame_fallback`, else left clear.
    """
    duration = end - start
    ordered = sorted(samples, key=lambda s: s.time)
    times = [s.time - start for s in ordered]
    regions: list[BlurRegion] = []
    # At most MAX_WINDOWS windows: the blur graph holds one term per window in its expressions.
    segment = max(segment, duration / MAX_WINDOWS)
    n = max(1, math.ceil(duration / segment - 1e-9))
    for k in range(n):
        a, b = k * segment, min(duration, (k + 1) * segment)
        # Samples inside the window plus the nearest one on each side: a face seen just before or
        # after the window may be in it too.
        inside = [i for i, t in enumerate(times) if a <= t < b]
        before = [i for i, t in enumerate(times) if t < a]
        after = [i for i, t in enumerate(times) if t >= b]
        reach = inside + before[-1:] + after[:1]
        boxes = [bx.padded(padding, src_width, src_height) for i in reach for bx in ordered[i].boxes]
        # Half-open windows [a, b) partition the clip; the last reaches past the final frame.
        ra, rb = a, (b if k < n - 1 else duration + 1.0)
        if boxes:
            for box in _clusters(boxes):
                regions.append(BlurRegion(box.x, box.y, box.width, box.height, round(ra, 3), round(rb, 3)))
        elif full_frame_fallback:
            regions.append(BlurRegion(0, 0, src_width, src_height, round(ra, 3), round(rb, 3), True))
    return tuple(regions)

