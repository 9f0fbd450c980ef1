"""Fast checks of the renderer's helpers: text timing, atomic files, stale temporary files."""

from __future__ import annotations

import os
import subprocess
import sys

from pipeline.cues import check_cue_limits
from pipeline.records import Word
from pipeline.render.files import remove_stale_parts, remove_stale_work_dirs, temp_path, write_text_atomic
from pipeline.render.manifest import build_manifest, cue_text_sha256
from pipeline.render.timing import align_text, cues_for_text

SAID = "My name is Amal and I left the group in the spring. It was hard."
WORDS = tuple(Word(1.0 + i * 0.4, 1.3 + i * 0.4, t, 0.9) for i, t in enumerate(SAID.split()))


def test_unedited_text_keeps_recognised_word_times():
    timed = align_text(SAID, WORDS, 0.5, 8.0)
    assert [(w.start, w.end) for w in timed] == [(w.start, w.end) for w in WORDS]


def test_edited_or_translated_text_is_laid_over_the_speech():
    text = "Je m'appelle Amal et j'ai quitté le groupe au printemps. C'était dur."
    timed = align_text(text, WORDS, 0.5, 8.0)
    assert [w.text for w in timed] == text.split()
    assert timed[0].start == WORDS[0].start and timed[-1].end <= WORDS[-1].end + 1e-6
    assert all(a.end <= b.start + 1e-6 for a, b in zip(timed, timed[1:], strict=False))
    # Inside the pause between words nothing starts.
    starts = [w.start for w in timed]
    assert all(any(x.start - 1e-6 <= s <= x.end + 1e-6 for x in WORDS) for s in starts)


def test_cues_for_text_keep_the_style_limits():
    cues = cues_for_text(SAID, WORDS, 0.5, 8.0, "en")
    assert cues and check_cue_limits(cues) == []


def test_words_outside_the_cut_are_ignored():
    assert align_text("", WORDS, 0.0, 9.0) == ()
    timed = align_text("group", WORDS, 3.7, 4.3)
    assert len(timed) == 1 and 3.7 <= timed[0].start


def test_stale_parts_of_dead_renders_are_removed_live_ones_kept(tmp_path):
    final = tmp_path / "clip.mp4"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],  # noqa: S603
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".clip.{dead_pid}.part.mp4"
    stale.write_bytes(b"x")
    mine = temp_path(final)
    mine.write_bytes(b"y")
    (tmp_path / f"counterclips-render-{dead_pid}-abc").mkdir()
    assert remove_stale_parts(final) == [stale]
    assert mine.exists() and mine.name.startswith(f".clip.{os.getpid()}-") and mine.name.endswith(".part.mp4")
    assert [p.name for p in remove_stale_work_dirs(tmp_path)] == [f"counterclips-render-{dead_pid}-abc"]


def test_atomic_text_write_replaces_and_leaves_no_temporary(tmp_path):
    path = write_text_atomic(tmp_path / "a.srt", "one")
    write_text_atomic(path, "two")
    assert path.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["a.srt"]


def test_manifest_is_plain_json():
    import json
    from datetime import date

    m = build_manifest(candidate={"id": 1}, source={}, transcript={}, subtitles={}, redactions={},
                       identity={}, consent={"expires": date(2030, 1, 2), "languages": ("en",)},
                       authorisation={}, approvals=(), audit=(), render={}, output={}, sidecars=(), cards={})
    assert json.loads(json.dumps(m))["consent"] == {"expires": "2030-01-02", "languages": ["en"]}
    assert len(cue_text_sha256(())) == 64
