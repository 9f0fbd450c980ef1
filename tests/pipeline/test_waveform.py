"""Waveform peaks: exact on synthetic audio, compact, safely stored, drawable; real files decode."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import MediaError
from pipeline.waveform import (
    Peaks,
    WaveformError,
    WaveformOptions,
    compute_peaks,
    peaks_for_file,
    peaks_from_base64,
    peaks_from_bytes,
    peaks_json,
    peaks_to_base64,
    peaks_to_bytes,
    slice_peaks,
    svg_path,
)
from tests.conftest import SHARED_MEDIA


def media(name: str) -> Path:
    # Worktrees sit beside, not inside, the shared directory: also look where the brief keeps it.
    for root in (SHARED_MEDIA, Path(os.environ.get("COUNTERCLIPS_SHARED_MEDIA", "/work/shared/media"))):
        if (root / name).is_file():
            return root / name
    pytest.skip(f"{name} not available")


def test_peaks_follow_the_signal():
    sr = 8000
    t = np.arange(sr * 2) / sr
    audio = np.concatenate([0.5 * np.sin(2 * np.pi * 220 * t), np.zeros(sr), -np.ones(sr // 2)])
    peaks = compute_peaks(audio.astype(np.float32), sr)
    pairs = peaks.pairs()
    assert peaks.count == 175 and peaks.duration == 3.5
    assert (pairs[:100, 0] <= -63).all() and (pairs[:100, 1] >= 63).all()
    assert (pairs[100:150] == 0).all()
    assert (pairs[150:] == -127).all()


@settings(max_examples=50, deadline=None)
@given(n=st.integers(0, 50_000), sr=st.sampled_from([8000, 16000, 22050, 44100, 48000]),
       pps=st.sampled_from([1, 10, 48, 50, 100]))
def test_bucket_count_and_range(n, sr, pps):
    audio = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
    peaks = compute_peaks(audio, sr, WaveformOptions(peaks_per_second=pps))
    assert peaks.count == -(-n * pps // sr)
    pairs = peaks.pairs()
    assert (pairs[:, 0] <= pairs[:, 1]).all() and (np.abs(pairs.astype(int)) <= 127).all()
    assert peaks_from_bytes(peaks_to_bytes(peaks)) == peaks
    assert peaks_from_base64(peaks_to_base64(peaks)) == peaks


def test_a_minute_is_a_few_kilobytes():
    sr = 8000
    audio = np.random.default_rng(1).uniform(-0.3, 0.3, sr * 60).astype(np.float32)
    assert len(peaks_to_bytes(compute_peaks(audio, sr))) <= 6_100


def test_corrupt_stored_peaks_are_named_errors():
    good = peaks_to_bytes(Peaks(50, b"\x00\x01" * 10))
    for blob in (b"", b"XXXX" + good[4:], good[:-1], good + b"\x00"):
        with pytest.raises(WaveformError):
            peaks_from_bytes(blob)
    with pytest.raises(WaveformError):
        peaks_from_base64("not base64!")
    with pytest.raises(WaveformError):
        WaveformOptions(peaks_per_second=0)


def test_window_json_and_svg():
    peaks = Peaks(50, bytes(np.array([[-10, 20]] * 500, dtype=np.int8).tobytes()))
    window = slice_peaks(peaks, 2.0, 3.0)
    assert window.start == 2.0 and window.count == 50
    data = peaks_json(peaks, 2.0, 3.0)
    assert data["count"] == 50 and data["start"] == 2.0 and data["peaks_per_second"] == 50
    d = svg_path(peaks, 200, 40, 2.0, 4.0)
    assert re.fullmatch(r"M[0-9. L]+Z", d)
    points = [tuple(map(float, p.split())) for p in d[1:-1].split("L")]
    assert len(points) == 200 and min(y for _, y in points) == 0.0 and max(y for _, y in points) == 30.0
    assert svg_path(Peaks(50, b""), 100, 20) == "M0 10H100"
    with pytest.raises(WaveformError):
        svg_path(peaks, 0, 10)


@pytest.mark.slow
def test_peaks_of_a_real_recording():
    from pipeline.media import probe

    path = media("en_jfk_inaugural.flac")
    peaks = peaks_for_file(path)
    duration = probe(path).duration
    assert abs(peaks.duration - duration) <= 0.05
    assert len(peaks_to_bytes(peaks)) <= 110 * duration  # 100 bytes a second plus the header
    loud = np.abs(peaks.pairs().astype(int)).max(axis=1)
    assert loud.max() > 30 and (loud > 5).mean() > 0.3  # speech, not silence
    video = peaks_for_file(media("vid_en_talkinghead_2.mp4"))
    assert video.count > 0


@pytest.mark.slow
def test_broken_media_is_a_media_error(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(MediaError):
        peaks_for_file(empty)
    text = tmp_path / "notes.mp3"
    text.write_text("not audio at all\n" * 50)
    with pytest.raises(MediaError):
        peaks_for_file(text)
