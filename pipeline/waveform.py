"""Audio waveform peaks for the editor's timeline, computed once at ingest.

Per bucket of 1/peaks_per_second seconds the lowest and highest sample, as int8 (-127..127 for
-1..1): at 50 buckets a second that is 100 bytes a second, 6 KB a minute, 360 KB for an hour.
Decoding goes through `pipeline.media.decode_audio` (PyAV) at a low rate, since a peak display
needs no more than a few kHz.

Stored form: `peaks_to_bytes` (a 19-byte header, then the min/max pairs), or base64 of it in JSON.
The page gets a window as JSON (`peaks_json`) or a ready SVG path (`svg_path`).
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import struct
from dataclasses import dataclass

import numpy as np

from pipeline.errors import MediaError

_MAGIC = b"CCPK"
_FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sBHdI")  # magic, version, peaks per second, start (s), bucket count
_SCALE = 127


class WaveformError(MediaError):
    """Stored waveform peaks are corrupt, or the options for computing them are invalid."""


@dataclass(frozen=True, slots=True)
class WaveformOptions:
    """peaks_per_second: buckets per second (50: a 20 ms bucket, finer than a 25 fps frame).
    sample_rate: decode rate in Hz (8000 keeps every peak a display can show)."""

    peaks_per_second: int = 50
    sample_rate: int = 8000

    def __post_init__(self) -> None:
        if not 1 <= self.peaks_per_second <= 1000 or not 1000 <= self.sample_rate <= 192_000:
            raise WaveformError("waveform needs 1-1000 peaks per second and a 1000-192000 Hz sample rate")
        if self.peaks_per_second > self.sample_rate:
            raise WaveformError("waveform needs at least one sample per peak")


@dataclass(frozen=True, slots=True)
class Peaks:
    """Min/max pairs from `start` seconds on, `peaks_per_second` pairs a second; `data` holds
    them as int8 bytes (min0, max0, min1, max1, ...)."""

    peaks_per_second: int
    data: bytes
    start: float = 0.0

    @property
    def count(self) -> int:
        return len(self.data) // 2

    @property
    def duration(self) -> float:
        return self.count / self.peaks_per_second

    def pairs(self) -> np.ndarray:
        """The peaks as an (n, 2) int8 array of (min, max)."""
        return np.frombuffer(self.data, dtype=np.int8).reshape(-1, 2)


def compute_peaks(audio: np.ndarray, sample_rate: int, options: WaveformOptions = WaveformOptions()) -> Peaks:
    """Peaks of mono float audio in [-1, 1] sampled at `sample_rate` Hz."""
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    pps = options.peaks_per_second
    n = math.ceil(samples.size * pps / sample_rate) if samples.size else 0
    if n == 0:
        return Peaks(pps, b"")
    # Bucket k covers samples [k * sr / pps, (k + 1) * sr / pps): exact for any rate pair.
    edges = (np.arange(n, dtype=np.int64) * sample_rate) // pps
    lo = np.minimum.reduceat(samples, edges)
    hi = np.maximum.reduceat(samples, edges)
    pairs = np.empty((n, 2), dtype=np.int8)
    pairs[:, 0] = np.clip(np.floor(lo * _SCALE), -_SCALE, _SCALE)
    pairs[:, 1] = np.clip(np.ceil(hi * _SCALE), -_SCALE, _SCALE)
    return Peaks(pps, pairs.tobytes())


def peaks_for_file(path: str | os.PathLike[str], options: WaveformOptions = WaveformOptions()) -> Peaks:
    """Peaks of a media file's first audio stream; MediaError when it cannot be decoded."""
    from pipeline.media import decode_audio

    return compute_peaks(decode_audio(path, options.sample_rate), options.sample_rate, options)


def slice_peaks(peaks: Peaks, start: float, end: float) -> Peaks:
    """The buckets covering [start, end] seconds (clamped to what exists)."""
    pps = peaks.peaks_per_second
    a = max(0, math.floor((start - peaks.start) * pps))
    b = min(peaks.count, max(a, math.ceil((end - peaks.start) * pps)))
    return Peaks(pps, peaks.data[2 * a : 2 * b], peaks.start + a / pps)


# ---------------------------------------------------------------------------------------------
# Stored forms


def peaks_to_bytes(peaks: Peaks) -> bytes:
    header = _HEADER.pack(_MAGIC, _FORMAT_VERSION, peaks.peaks_per_second, peaks.start, peaks.count)
    return header + peaks.data


def peaks_from_bytes(blob: bytes) -> Peaks:
    """Peaks from `peaks_to_bytes` output; WaveformError for anything else."""
    if len(blob) < _HEADER.size:
        raise WaveformError(f"waveform data is {len(blob)} bytes, shorter than its header")
    magic, version, pps, start, count = _HEADER.unpack_from(blob)
    if magic != _MAGIC or version != _FORMAT_VERSION:
        raise WaveformError("not counterclips waveform data (wrong magic or version)")
    if not 1 <= pps <= 1000 or not math.isfinite(start) or start < 0:
        raise WaveformError(f"waveform header is invalid ({pps} peaks per second, start {start})")
    if len(blob) != _HEADER.size + 2 * count:
        raise WaveformError(f"waveform data holds {len(blob) - _HEADER.size} bytes, header says {2 * count}")
    return Peaks(pps, bytes(blob[_HEADER.size :]), start)


def peaks_to_base64(peaks: Peaks) -> str:
    return base64.b64encode(peaks_to_bytes(peaks)).decode("ascii")


def peaks_from_base64(text: str) -> Peaks:
    try:
        return peaks_from_bytes(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise WaveformError("waveform data is not valid base64") from None


def peaks_json(peaks: Peaks, start: float | None = None, end: float | None = None) -> dict[str, object]:
    """A window of peaks for the page: {"peaks_per_second", "start", "count", "data"}, with
    `data` the base64 of the raw int8 min/max pairs (a JS Int8Array reads it directly)."""
    window = slice_peaks(peaks, peaks.start if start is None else start,
                         peaks.start + peaks.duration if end is None else end)
    return {"peaks_per_second": window.peaks_per_second, "start": window.start, "count": window.count,
            "data": base64.b64encode(window.data).decode("ascii")}


# ---------------------------------------------------------------------------------------------
# Drawing


def svg_path(peaks: Peaks, width: int, height: int, start: float | None = None, end: float | None = None,
             normalise: bool = True) -> str:
    """An SVG path `d` drawing the waveform of [start, end] into a width x height box: the upper
    outline left to right, the lower one back, closed. `normalise` scales the loudest peak of the
    window to the full height (quiet recordings stay visible)."""
    if width < 1 or height < 1:
        raise WaveformError("waveform drawing needs a positive width and height")
    t0 = peaks.start if start is None else start
    t1 = peaks.start + peaks.duration if end is None else end
    window = slice_peaks(peaks, t0, t1)
    if window.count == 0 or t1 <= t0:
        mid = height / 2
        return f"M0 {mid:g}H{width}"
    pairs = window.pairs().astype(np.float32)
    # Column x shows every bucket whose time falls in it.
    times = window.start + (np.arange(window.count) + 0.5) / window.peaks_per_second
    cols = np.clip(((times - t0) / (t1 - t0) * width).astype(np.int64), 0, width - 1)
    lo = np.full(width, np.nan, dtype=np.float32)
    hi = np.full(width, np.nan, dtype=np.float32)
    # times rise, so each column's buckets are one run of `cols`: reduce each run at once
    # (ufunc.at per bucket was most of a page view's drawing time)
    runs = np.flatnonzero(np.concatenate(([True], cols[1:] != cols[:-1])))
    lo[cols[runs]] = np.minimum.reduceat(pairs[:, 0], runs)
    hi[cols[runs]] = np.maximum.reduceat(pairs[:, 1], runs)
    used = np.flatnonzero(~np.isnan(hi))
    peak = float(max(np.nanmax(np.abs(lo)), np.nanmax(np.abs(hi)), 1.0)) if normalise else float(_SCALE)
    mid, half = height / 2, height / 2

    # y = mid - v / peak * half, in float32 as each value's own arithmetic was, computed for all
    # columns at once and formatted from Python floats (a numpy scalar formats ~10x slower)
    rev = used[::-1]
    top_y, bottom_y = (mid - hi[used] / peak * half).tolist(), (mid - lo[rev] / peak * half).tolist()
    top = [f"{x} {v:.1f}" for x, v in zip(used.tolist(), top_y, strict=True)]
    bottom = [f"{x} {v:.1f}" for x, v in zip(rev.tolist(), bottom_y, strict=True)]
    return "M" + "L".join(top + bottom) + "Z"
