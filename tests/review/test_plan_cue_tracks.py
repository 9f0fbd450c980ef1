"""The publication plan takes its subtitles from the version's stored cue track, on the source's
own frame grid (a 30 fps source gives multiples of 1/30 s), and never outside [in, out]."""

from __future__ import annotations

from tests.review.seed import add_candidate, add_interview

TEXTS = ["They told us lies at night.", "I saw what they did to people in the square.",
         "I want others to know this.", "Do not go."]


def _plan(store, fps: float):
    from pipeline.publication import Target
    from review.plans import plan_for

    _, tid, sents = add_interview(store, pseudonym="Omar", texts=TEXTS, labels={}, fps=fps,
                                  seconds_per_word=0.27)
    cid = add_candidate(store, tid, sents, [0, 1, 2], themes=["witnessed_brutality"])
    return plan_for(store, cid, Target("master", "en", "any"), key=b"k" * 32), store.get_candidate(cid)


def test_thirty_fps_plan_puts_cues_on_the_thirty_fps_grid(store):
    plan, _ = _plan(store, 30.0)
    (track,) = plan.tracks
    assert track.cues
    for c in track.cues:
        for x in (c.start, c.end):  # the plan keeps milliseconds, as SRT does
            assert abs(x - round(x * 30) / 30) <= 0.0005 + 1e-9, x
    assert abs(plan.start - round(plan.start * 30) / 30) <= 0.0005 + 1e-9


def test_cues_stay_inside_the_cut_and_come_from_the_stored_track(store):
    from clips_metadata.cue_tracks_repo import CueTracksRepo

    plan, cand = _plan(store, 25.0)
    (track,) = plan.tracks
    stored = CueTracksRepo(store).tracks(cand.id, cand.version)["en"]
    length = plan.end - plan.start
    assert all(0 <= c.start < c.end <= length + 1e-9 for c in track.cues)
    assert [c.lines for c in track.cues] == [c.lines for c in stored.cues]
    assert all(a.end <= b.start for a, b in zip(track.cues, track.cues[1:], strict=False))
