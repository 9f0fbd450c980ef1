"""Cue edits: text, split, merge and nudges change only the cues they name, and say what broke."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cue_edits import (
    edit_text,
    merge_cues,
    nudge_boundary,
    nudge_edge,
    split_cue,
    wrap_text,
)
from pipeline.cue_track import CueTrackError, TimedCue, build_track, check_cue, retrim
from pipeline.frames import frame_rate, frame_time
from tests.pipeline.cue_support import FPS_CHOICES, SpokenWord, assert_track_ok, speak, word_lists

TEXT = ("Nobody could leave. I ran away at night with my brother and we walked for three days "
        "before we reached the border. Yes. The men who recruited me promised money.")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def times(track, skip=()):
    return {c.id: (c.start, c.end) for c in track.cues if c.id not in skip}


@pytest.fixture
def track():
    words = speak(TEXT)
    return build_track(words, 0.0, words[-1].end + 0.2, 25, "en"), words


def test_text_edit_keeps_times_and_rewraps(track):
    tr, _ = track
    cue = tr.cues[1]
    new, problems = edit_text(tr, cue.id, "I ran away at night with my brother")
    assert new.cue(cue.id).start == cue.start and new.cue(cue.id).end == cue.end
    assert new.cue(cue.id).edited
    assert times(new) == times(tr)
    assert problems == () or all(p.cue_id == cue.id for p in problems)
    explicit, _ = edit_text(tr, cue.id, "first line\nsecond line")
    assert explicit.cue(cue.id).lines == ("first line", "second line")
    with pytest.raises(CueTrackError):
        edit_text(tr, cue.id, "  \n ")
    with pytest.raises(CueTrackError):
        edit_text(tr, "nope", "x")


def test_live_check_names_each_problem(track):
    tr, _ = track
    cue = tr.cues[0]
    long = " ".join(["word"] * 40)
    new, problems = edit_text(tr, cue.id, long)
    kinds = {p.kind for p in problems}
    assert {"lines", "cps"} <= kinds
    wide, problems = edit_text(tr, cue.id, "x" * 10 + " " + "y" * 40 + "\nok")
    assert "line_length" in {p.kind for p in problems}


def test_split_uses_the_word_times_and_keeps_the_rest(track):
    tr, words = track
    cue = max(tr.cues, key=lambda c: c.words[1] - c.words[0])
    text = " ".join(cue.text.split())
    at = text.index(" ", len(text) // 2)
    new, _ = split_cue(tr, cue.id, at, words)
    first, second = new.cues[new.index(cue.id)], new.cues[new.index(cue.id) + 1]
    assert first.start == cue.start and second.end == cue.end
    assert first.words[1] == second.words[0] and second.id == f"w{second.words[0]}"
    assert " ".join([*first.lines, *second.lines]).split() == text.split()
    assert times(new, {cue.id, second.id}) == times(tr, {cue.id})
    assert_track_ok(new)
    single, _ = edit_text(tr, cue.id, "alone")
    with pytest.raises(CueTrackError):
        split_cue(single, cue.id, 2, words)  # one word: nothing on one side


def test_merge_joins_neighbours_and_dashes_two_speakers():
    words = [*speak("Did you really leave that night?", 0.0, speaker="A"),
             *speak("Yes, with my brother, and we walked.", 3.0, speaker="B")]
    tr = build_track(words, 0.0, 7.0, 25, "en")
    assert len(tr.cues) == 2
    merged, _ = merge_cues(tr, tr.cues[0].id)
    (cue,) = merged.cues
    assert cue.lines == ("- Did you really leave that night?", "- Yes, with my brother, and we walked.")
    assert (cue.start, cue.end) == (tr.cues[0].start, tr.cues[1].end) and cue.speakers == ("A", "B")
    with pytest.raises(CueTrackError):
        merge_cues(merged, cue.id)


def test_nudges_clamp_to_neighbours_and_the_cut(track):
    tr, _ = track
    a, b = tr.cues[0], tr.cues[1]
    rate = frame_rate(tr.fps)
    new, problems = nudge_edge(tr, a.id, "end", b.end)
    assert new.cue(a.id).end == frame_time(round(b.start * rate) - 2, rate)
    assert problems[0].kind == "clamped"
    new, problems = nudge_edge(tr, a.id, "start", -5)
    assert new.cue(a.id).start == tr.start and problems[0].kind == "clamped"
    new, _ = nudge_boundary(tr, a.id, a.end - 0.2)
    assert new.cue(a.id).end == pytest.approx(a.end - 0.2)
    assert new.cue(b.id).start == pytest.approx(a.end - 0.2 + 2 / 25)
    assert times(new, {a.id, b.id}) == times(tr, {a.id, b.id})
    with pytest.raises(CueTrackError):
        nudge_edge(tr, a.id, "middle", 1.0)  # type: ignore[arg-type]


@SETTINGS
@given(data=st.data(), fps=st.sampled_from(FPS_CHOICES))
def test_every_edit_keeps_every_other_cues_times(data, fps):
    words = data.draw(word_lists(min_size=3))
    tr = build_track(words, 0.0, words[-1].end + 0.5, fps, "en")
    if len(tr.cues) < 2:
        return
    k = data.draw(st.integers(0, len(tr.cues) - 2))
    cue = tr.cues[k]
    op = data.draw(st.sampled_from(("text", "split", "merge", "edge", "boundary")))
    t = data.draw(st.floats(tr.start - 1, tr.end + 1))
    touched = {cue.id}
    try:
        if op == "text":
            new, _ = edit_text(tr, cue.id, "changed words here")
        elif op == "split":
            new, _ = split_cue(tr, cue.id, data.draw(st.integers(0, len(cue.text))), words)
            touched |= {c.id for c in new.cues} - {c.id for c in tr.cues}
        elif op == "merge":
            new, _ = merge_cues(tr, cue.id)
            touched.add(tr.cues[k + 1].id)
        elif op == "edge":
            new, _ = nudge_edge(tr, cue.id, data.draw(st.sampled_from(("start", "end"))), t)
        else:
            new, _ = nudge_boundary(tr, cue.id, t)
            touched.add(tr.cues[k + 1].id)
    except CueTrackError:
        return  # nothing to split, or too short to split: refused, nothing changed
    assert times(new, touched) == times(tr, touched)
    assert_track_ok(new)
    # A later trim to the same cut keeps every edit.
    again, dropped = retrim(new, words, new.start, new.end)
    assert dropped == ()
    assert {c.id: c.lines for c in again.cues if c.edited} == {c.id: c.lines for c in new.cues if c.edited}


def test_check_cue_reports_overlap_gap_and_outside():
    tr = build_track(speak(TEXT), 0.0, 20.0, 25, "en")
    a, b = tr.cues[0], tr.cues[1]
    bad = tr.__class__(tr.language, tr.start, tr.end, tr.fps, (
        TimedCue(a.id, a.start, b.start + 0.1, a.lines), b,
        TimedCue("w999", tr.end - 0.1, tr.end + 1.0, ("late",), words=(999, 1000))))
    assert "overlap" in {p.kind for p in check_cue(bad, a.id)}
    assert "outside" in {p.kind for p in check_cue(bad, "w999")}
    close = tr.__class__(tr.language, tr.start, tr.end, tr.fps, (
        TimedCue(a.id, a.start, b.start - 0.04, a.lines), b))
    assert "gap" in {p.kind for p in check_cue(close, b.id)}


def test_wrap_text_keeps_unspaced_and_rtl_text_in_logical_order():
    assert wrap_text("في الليل هربت مع أخي", "ar") == ("في الليل هربت مع أخي",)
    ja = "私は夜に兄と一緒に逃げました。三日間歩いて国境に着きました。"
    lines = wrap_text(ja, "ja")
    assert "".join(lines) == ja and len(lines) == 2


def test_speaker_attribute_is_optional():
    plain = speak("Nobody could leave.")
    labelled = [SpokenWord(w.start, w.end, w.text, 0.9, None) for w in plain]
    assert build_track(plain, 0, 3, 25) == build_track(labelled, 0, 3, 25)


def test_unspaced_edits_keep_latin_words_and_numbers_whole():
    lines = wrap_text("2024年にGoogle Newsで見ました。三日間歩いて国境に着きました。", "ja")
    assert lines == ("2024年にGoogle Newsで見ました。", "三日間歩いて国境に着きました。")
