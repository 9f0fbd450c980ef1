"""Cue tracks: built from word timestamps, on the frame grid, inside the cut; trims keep edits."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cue_edits import edit_text
from pipeline.cue_track import (
    DASH,
    CueTrackError,
    build_track,
    changed_cues,
    check_track,
    retrim,
    speaker_of,
    track_words,
    words_inside,
)
from pipeline.cues import CueOptions
from pipeline.frames import frame_rate
from pipeline.sentences import ends_sentence
from pipeline.subtitles import format_srt, parse_srt
from tests.pipeline.cue_support import FPS_CHOICES, MONOLOGUE, assert_track_ok, cuts, speak, word_lists

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shown_tokens(cue) -> list[str]:
    return [tok for line in cue.lines for tok in line.removeprefix(DASH).split()]


@SETTINGS
@given(data=st.data(), fps=st.sampled_from(FPS_CHOICES))
def test_built_tracks_hold_every_invariant(data, fps):
    words = data.draw(word_lists())
    start, end = data.draw(cuts(words))
    track = build_track(words, start, end, fps, "en")
    assert_track_ok(track)
    tw = track_words(words)
    inside = set(words_inside(tw, track.start, track.end))
    for cue in track.cues:
        # Each cue shows exactly its words, in order, and only words inside the cut.
        assert shown_tokens(cue) == [tw[i].text for i in range(*cue.words)]
        assert all(i in inside for i in range(*cue.words))


@SETTINGS
@given(data=st.data())
def test_speaker_changes_inside_a_cue_are_dashed(data):
    words = data.draw(word_lists(speakers=True))
    track = build_track(words, 0.0, words[-1].end + 0.5, 25, "en")
    assert_track_ok(track)
    tw = track_words(words)
    for cue in track.cues:
        said = [speaker_of(tw[i]) for i in range(*cue.words)]
        dashed = [line.startswith(DASH) for line in cue.lines]
        assert cue.speakers == tuple(dict.fromkeys(said))
        if any(dashed):
            assert len(cue.lines) == 2 and all(dashed) and len(set(said)) == 2
        elif len(set(said)) > 1:
            # Undashed only when a one- or two-word turn, too short to read, joined a neighbour.
            assert min(said.count(s) for s in set(said)) <= 2


def test_two_short_turns_share_a_dashed_cue():
    words = [*speak("Did you go?", 0.0, speaker="A"), *speak("Yes.", 0.9, speaker="B"),
             *speak("Why did you go there alone at night?", 1.6, speaker="A")]
    track = build_track(words, 0.0, 6.0, 25, "en")
    assert track.cues[0].lines == ("- Did you go?", "- Yes.")
    assert track.cues[0].speakers == ("A", "B")
    assert all(c.lines[0][:2] != DASH for c in track.cues[1:])


@SETTINGS
@given(data=st.data(), fps=st.sampled_from(FPS_CHOICES))
def test_retrim_keeps_surviving_edits_and_reports_the_rest(data, fps):
    words = data.draw(word_lists(min_size=5))
    track = build_track(words, 0.0, words[-1].end + 0.5, fps, "en")
    if not track.cues:
        return
    picks = data.draw(st.lists(st.sampled_from([c.id for c in track.cues]), max_size=4, unique=True))
    for cue_id in picks:
        track, _ = edit_text(track, cue_id, f"EDITED {cue_id}")
    start, end = data.draw(cuts(words))
    new, dropped = retrim(track, words, start, end)
    assert_track_ok(new)
    tw = track_words(words)
    inside = set(words_inside(tw, new.start, new.end))
    dropped_ids = {d.cue_id for d in dropped}
    new_ids = {c.id: c for c in new.cues}
    for cue_id in picks:
        old = track.cue(cue_id)
        assert (cue_id in dropped_ids) != (cue_id in new_ids and new_ids[cue_id].edited)
        if cue_id not in dropped_ids:
            kept = new_ids[cue_id]
            assert kept.lines == old.lines
            assert all(i in inside for i in range(*old.words))
            # Times stay unless the new cut clamps them.
            assert kept.start == max(old.start, new.start) or kept.start > old.start
            assert kept.end == min(old.end, new.end) or kept.end < old.end
        else:
            report = next(d for d in dropped if d.cue_id == cue_id)
            assert report.text == old.text


def test_trimming_to_27_seconds_keeps_only_cues_inside_after_an_edit():
    # The reported bug: after a manual edit, a cut to 27 s kept 47 s of subtitles, overlapping.
    words = speak(MONOLOGUE) + speak(MONOLOGUE, start=speak(MONOLOGUE)[-1].end + 1.0)
    full = build_track(words, 0.0, words[-1].end, 30, "en")
    edited, _ = edit_text(full, full.cues[3].id, "I ran away at night with my brother")
    start = full.cues[2].start
    new, dropped = retrim(edited, words, start, start + 27.0)
    assert_track_ok(new)
    assert new.end - new.start == pytest.approx(27.0, abs=1 / 30)
    assert any(c.id == full.cues[3].id and c.edited for c in new.cues) or dropped
    srt = parse_srt(format_srt(new.as_cues()))
    assert all(new.start - 1e-3 <= c.start < c.end <= new.end + 1e-3 for c in srt)
    assert all(b.start >= a.end for a, b in zip(srt, srt[1:], strict=False))
    assert check_track(new, CueOptions()) is not None


def test_an_edit_outside_the_new_cut_is_reported_as_dropped():
    words = speak(MONOLOGUE)
    track = build_track(words, 0.0, words[-1].end, 25, "en")
    last = track.cues[-1]
    track, _ = edit_text(track, last.id, "Talk to someone first.")
    new, dropped = retrim(track, words, 0.0, 10.0)
    assert [d.cue_id for d in dropped] == [last.id]
    assert dropped[0].text == "Talk to someone first." and "outside" in dropped[0].reason
    assert all(c.end <= 10.0 for c in new.cues)


def test_a_text_edit_never_resplits_and_a_retrim_keeps_sentence_ends():
    # The reported bug: one corrected word re-split the text into "...at night. We".
    words = speak(MONOLOGUE)
    track = build_track(words, 0.0, words[-1].end, 25, "en")
    target = next(c for c in track.cues if "night" in c.text)
    edited, problems = edit_text(track, target.id, target.text.replace("night", "nigth"))
    assert problems == ()
    assert [(c.id, c.start, c.end, c.words) for c in edited.cues] == [
        (c.id, c.start, c.end, c.words) for c in track.cues]
    again, dropped = retrim(edited, words, track.start, track.end)
    assert dropped == ()
    assert [(c.id, c.start, c.end) for c in again.cues] == [(c.id, c.start, c.end) for c in track.cues]
    tw = track_words(words)
    for cue in again.cues:
        texts = [tw[i].text for i in range(*cue.words)]
        if any(ends_sentence(t) for t in texts[:-1]):
            assert ends_sentence(texts[-1]), cue.text  # never ends on a new sentence's first words


@pytest.mark.parametrize("fps", [30, 29.97, "30000/1001", 25, 24])
def test_cue_times_sit_on_the_source_grid_in_the_srt(fps):
    words = speak(MONOLOGUE, start=0.013)
    track = build_track(words, 1.01, 20.02, fps, "en")
    rate = frame_rate(fps)
    for cue in parse_srt(format_srt(track.as_cues())):
        for t in (cue.start, cue.end):
            frame = round(Fraction(t) * rate)
            assert abs(t - float(frame / rate)) <= 0.0005 + 1e-9  # SRT keeps milliseconds


def test_bad_cuts_are_named_errors():
    words = speak("Nobody could leave.")
    with pytest.raises(CueTrackError):
        build_track(words, 5.0, 5.0, 25)
    with pytest.raises(CueTrackError):
        build_track(words, float("nan"), 5.0, 25)
    assert build_track([], 0.0, 1.0, 25).cues == ()


@pytest.mark.parametrize(("language", "text"), [
    ("ar", "عندما انضممت إلى الجماعة كنت أعتقد أنهم يقاتلون من أجل العدالة. لم يستطع أحد المغادرة. "
           "هربت في الليل مع أخي ومشينا ثلاثة أيام قبل أن نصل إلى الحدود."),
    ("ja", "私 は 夜 に 兄 と 一緒 に 逃げ ました 。 三 日 間 歩い て 国境 に 着き ました 。 "
           "そして 新しい 生活 を 始め ました 。"),
])
def test_right_to_left_and_unspaced_tracks_keep_every_word_in_logical_order(language, text):
    words = speak(text)
    track = build_track(words, 0.0, words[-1].end, 25, language)
    assert_track_ok(track)
    tw = track_words(words)
    shown = "".join("".join(c.lines).replace(" ", "") for c in track.cues)
    assert shown == "".join(w.text for w in tw).replace(" ", "")
    assert track.cues[-1].words[1] == len(tw)


def test_changed_cues_names_what_a_trim_or_edit_touched():
    words = speak(MONOLOGUE)
    track = build_track(words, 0.0, words[-1].end, 25, "en")
    edited, _ = edit_text(track, track.cues[1].id, "changed")
    assert changed_cues(track, edited) == (track.cues[1].id,)
    trimmed, _ = retrim(track, words, track.cues[2].start, track.end)
    assert set(changed_cues(track, trimmed)) >= {track.cues[0].id, track.cues[1].id}
    assert changed_cues(track, track) == ()
