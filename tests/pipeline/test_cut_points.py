"""Cut points snap to word edges and frames; bad cuts are refused or warned, by name."""

from __future__ import annotations

from pipeline.cut_points import cut_warnings, snap_cut
from pipeline.frames import on_grid
from pipeline.records import Word
from pipeline.sentences import build_sentences

WORDS = [Word(1.00, 1.40, "Nobody", 0.9), Word(1.45, 1.80, "could", 0.9), Word(1.85, 2.30, "leave.", 0.9),
         Word(3.00, 3.20, "I", 0.9), Word(3.25, 3.60, "ran", 0.9), Word(3.65, 4.10, "away.", 0.9)]


def test_snap_cut_goes_to_word_edges_then_frames():
    assert snap_cut(WORDS, 1.6, "in") == 1.45  # inside "could": its start
    assert snap_cut(WORDS, 1.6, "out") == 1.80
    assert snap_cut(WORDS, 2.8, "in") == 3.00  # in a pause: the nearest word start
    assert snap_cut(WORDS, 2.5, "out") == 2.30
    t_in = snap_cut(WORDS, 1.6, "in", 30)
    t_out = snap_cut(WORDS, 1.6, "out", 30)
    assert on_grid(t_in, 30) and t_in <= 1.45 and on_grid(t_out, 30) and t_out >= 1.80
    assert snap_cut([], 5.0, "in") == 5.0


def test_cut_warnings():
    sentences = build_sentences(WORDS, "en")
    assert cut_warnings(sentences, 1.0, 4.1, 60.0) == ()
    mid = cut_warnings(sentences, 1.45, 4.1, 60.0)
    assert [(p.severity, p.kind, p.side) for p in mid] == [("warning", "mid_sentence", "in")]
    assert "Nobody could leave." in mid[0].message
    far = cut_warnings(sentences, 1.0, 9999, 60.0)
    assert [(p.severity, p.kind) for p in far] == [("error", "after_end")]
    assert {p.kind for p in cut_warnings(sentences, -1, 0.5, 60.0)} == {"before_start"}
    assert {p.kind for p in cut_warnings(sentences, 5, 4, 60.0)} == {"order"}
    assert {p.kind for p in cut_warnings(sentences, float("nan"), None, 60.0)} == {"not_a_number"}  # type: ignore[arg-type]
