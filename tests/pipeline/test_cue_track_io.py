"""Stored cue tracks: JSON round trips exactly; hostile data gives one named error."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cue_edits import edit_text
from pipeline.cue_track import CueTrackError, build_track
from pipeline.cue_track_io import track_from_dict, track_from_json, track_to_dict, track_to_json
from tests.pipeline.cue_support import FPS_CHOICES, SpokenWord, speak, word_lists


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=word_lists(speakers=True), fps=st.sampled_from(FPS_CHOICES))
def test_round_trip_is_exact(words, fps):
    track = build_track(words, 0.0, words[-1].end + 0.3, fps, "en")
    if track.cues:
        track, _ = edit_text(track, track.cues[0].id, "edited <b>{\\an8}</b> & more")
    assert track_from_json(track_to_json(track)) == track
    assert track_from_dict(json.loads(json.dumps(track_to_dict(track)))) == track


def stored() -> dict:
    words = [*speak("Nobody could leave.", speaker="A"), *speak("I ran away.", 1.6, speaker="B")]
    return track_to_dict(build_track([SpokenWord(w.start, w.end, w.text, 0.9, getattr(w, "speaker", None))
                                      for w in words], 0.0, 4.0, "30000/1001", "en"))


def test_stored_shape():
    data = stored()
    assert set(data) == {"version", "language", "fps", "start", "end", "cues"}
    assert data["fps"] == "30000/1001" and data["version"] == 1
    assert set(data["cues"][0]) == {"id", "start", "end", "lines", "edited", "words", "speakers"}


def _break(mutate):
    data = stored()
    mutate(data)
    return data


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.update(version=2), "version"),
    (lambda d: d.update(fps="zero"), "fps"),
    (lambda d: d.update(fps=True), "fps"),
    (lambda d: d.update(fps="-25"), "fps"),
    (lambda d: d.update(start="0"), "track start"),
    (lambda d: d.update(end=float("inf")), "track end"),
    (lambda d: d.update(end=0.0), "track span"),
    (lambda d: d.update(language="<script>"), "language"),
    (lambda d: d.update(cues={"a": 1}), "list"),
    (lambda d: d["cues"].append("cue"), "object"),
    (lambda d: d["cues"][0].update(id=""), "id"),
    (lambda d: d["cues"][0].update(start=True), "start"),
    (lambda d: d["cues"][0].update(start=0.0101), "frame grid"),
    (lambda d: d["cues"][0].update(end=d["cues"][0]["start"]), "0 <= start < end"),
    (lambda d: d["cues"][0].update(lines=[]), "lines"),
    (lambda d: d["cues"][0].update(lines=["a\x00b"]), "control"),
    (lambda d: d["cues"][0].update(lines=["x" * 501]), "at most"),
    (lambda d: d["cues"][0].update(edited="yes"), "edited"),
    (lambda d: d["cues"][0].update(words=[3, 1]), "words"),
    (lambda d: d["cues"][0].update(words=[0, True]), "words"),
    (lambda d: d["cues"][0].update(speakers=[1]), "speakers"),
    (lambda d: d["cues"][1].update(id=d["cues"][0]["id"]), "twice"),
    (lambda d: d["cues"][1].update(start=d["cues"][0]["start"]), "overlaps"),
    (lambda d: d["cues"][-1].update(end=1001 / 30000 * 300), "outside"),
])
def test_hostile_data_is_a_named_error(mutate, message):
    with pytest.raises(CueTrackError, match=message):
        track_from_dict(_break(mutate))


def test_not_json_and_not_an_object():
    for text in ("{", "[]", "null", "1e999999"):
        with pytest.raises(CueTrackError):
            track_from_json(text)
    with pytest.raises(CueTrackError):
        track_from_json("[" * 100_000)
