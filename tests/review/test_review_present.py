"""Pure helpers of the candidate page and the password hashing."""

from __future__ import annotations

import pytest

from review.passwords import PasswordError, hash_password, verify_password
from review.present import (
    TrimError,
    format_vtt,
    is_auto_text,
    label_class,
    label_colour,
    preview_cues,
    sentences_in,
    snap_trim,
    spoken_text,
    timeline,
)
from tests.review.seed import make_sentences

SENTS = make_sentences(["One two three four.", "Five six seven.", "Eight nine ten eleven twelve."],
                       seconds_per_word=0.5)
WORDS = [w for s in SENTS for w in s.words]


def test_trim_points_snap_to_word_boundaries():
    start, end = snap_trim(0.93, 3.1, WORDS)
    assert start in {w.start for w in WORDS} and end in {w.end for w in WORDS}
    assert abs(start - 0.7) < 1e-6  # nearest word start to 0.93 is "two" at 0.7
    with pytest.raises(TrimError, match="after"):
        snap_trim(3.0, 2.0, WORDS)
    with pytest.raises(TrimError, match="shorter"):
        snap_trim(1.0, 1.1, WORDS)
    with pytest.raises(TrimError, match="no word"):
        snap_trim(0, 5, [])


def test_clip_text_follows_the_cut():
    assert sentences_in(SENTS, 2.0, 3.5) == (0, 1)
    assert spoken_text(SENTS, 0.7, 1.625) == "two three"
    assert is_auto_text("One two three four.  Five six seven.", SENTS, 0, 4, (0, 1))
    assert not is_auto_text("Edited by a person.", SENTS, 0, 4, (0, 1))


def test_preview_cues_cover_the_clip_and_escape_markup():
    cues = preview_cues("One two <i>three</i> four. Five six seven.", SENTS, SENTS[0].start, SENTS[1].end)
    assert cues and cues[0].start >= SENTS[0].start - 1e-6 and cues[-1].end <= SENTS[1].end + 0.5
    vtt = format_vtt(cues)
    assert vtt.startswith("WEBVTT") and "&lt;i&gt;three&lt;/i&gt;" in vtt and "<i>" not in vtt
    auto = preview_cues("One two three four. Five six seven.", SENTS, SENTS[0].start, SENTS[1].end)
    assert " ".join(" ".join(c.lines) for c in auto).split() == "One two three four. Five six seven.".split()


def test_timeline_marks_the_clip_and_colours_themes_and_risks():
    tl = timeline([(0.0, 10.0, ("witnessed_brutality",)), (50.0, 60.0, ("justifies_violence",)),
                   (70.0, 80.0, ())], 100.0, 40.0, 65.0)
    assert [(b.row, b.colour) for b in tl.bars] == [(0, label_colour("witnessed_brutality")),
                                                   (1, label_colour("justifies_violence"))]
    assert tl.clip_x == 400.0 and tl.clip_width == 250.0
    assert label_class("justifies_violence").startswith("r") and label_class("coercion_fear").startswith("t")


def test_passwords_hash_and_verify():
    h = hash_password("long enough password")
    assert h.startswith("$argon2") and verify_password(h, "long enough password")
    assert not verify_password(h, "wrong password!!") and not verify_password("garbage", "x")
    with pytest.raises(PasswordError):
        hash_password("short")
