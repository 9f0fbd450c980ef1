"""Audio-only interviews get a waveform still drawn from the peaks ingest stored (issue 19)."""

from __future__ import annotations

import numpy as np

from pipeline.waveform import compute_peaks, peaks_to_bytes
from review.proxy_files import make_still, peaks_file, still_path

SHA = "ab" * 32


def test_still_is_drawn_from_stored_peaks(workspace):
    t = np.arange(16000 * 5) / 16000
    audio = (0.5 * np.sin(2 * np.pi * 220 * t) * (t < 2.5)).astype(np.float32)
    peaks_file(workspace, SHA).write_bytes(peaks_to_bytes(compute_peaks(audio, 16000)))
    path = make_still(workspace, SHA, height=180)
    assert path is not None and still_path(workspace, SHA) == path
    from PIL import Image

    with Image.open(path) as im:
        assert im.size == (320, 180)
        pixels = np.asarray(im.convert("L"))
    # Loud first half, silent second half: the drawing follows the sound.
    left, right = pixels[:, :150], pixels[:, 170:]
    assert (left > 100).sum() > 10 * max(1, (right > 100).sum())


def test_no_peaks_no_still_and_bad_names_refused(workspace):
    assert make_still(workspace, SHA) is None
    assert still_path(workspace, SHA) is None
    assert still_path(workspace, "../etc") is None
