from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.translation.errors import TranslationError
from pipeline.translation.memory import MemoryEntry, TranslationMemory
from pipeline.translation.track import (
    TranslationTrack,
    as_cues,
    can_check,
    check_refusal,
    confirm_cue,
    draft_track,
    edit_cue,
    language_report,
    mark_checked,
    mark_translated,
    new_track,
    reconcile,
    remove_cue,
    summarise,
    track_from_dict,
    track_problems,
    track_to_dict,
)
from tests.pipeline.translation.support import SrcCue, SrcTrack, UpperEngine, source

SRC = source("I left the group.", "They lied to us.", "Now I speak out.")


def translated_by(user: str, language: str = "fr") -> TranslationTrack:
    track = new_track(SRC, language)
    for cue, text in zip(
        SRC.cues, ["J'ai quitté le groupe.", "Ils nous ont menti.", "Je parle."], strict=True
    ):
        track = edit_cue(track, cue.id, [text], user)
    return track


def test_new_track_has_an_empty_cue_per_source_cue_with_source_times() -> None:
    track = new_track(SRC, "ar")
    assert [(c.source_id, c.start, c.end, c.lines) for c in track.cues] == [
        (c.id, c.start, c.end, ()) for c in SRC.cues
    ]
    assert track.status == "draft" and not track.machine_made
    with pytest.raises(TranslationError):
        new_track(SRC, "en-GB")


def test_machine_draft_stays_machine_made_until_each_cue_is_confirmed_or_edited() -> None:
    engine = UpperEngine()
    track = draft_track(SRC, "es", engine=engine)
    assert engine.calls == [("I left the group.", "They lied to us.", "Now I speak out.")]
    assert all(c.origin == "machine" and not c.confirmed and c.engine == "upper" for c in track.cues)
    assert track.machine_made
    with pytest.raises(TranslationError, match="machine text not confirmed"):
        mark_translated(SRC, track, "ana")
    track = confirm_cue(track, "c1", "ana")
    track = edit_cue(track, "c2", ["Nos mintieron."], "ana")
    assert track.machine_made
    assert track.cue("c1").origin == "machine" and track.cue("c1").confirmed
    assert track.cue("c2").origin == "human"
    track = confirm_cue(track, "c3", "ana")
    assert not track.machine_made
    assert mark_translated(SRC, track, "ana").status == "translated"


def test_memory_fills_exact_matches_before_the_engine() -> None:
    memory = TranslationMemory([MemoryEntry("en", "they lied  to us.", "es", "Nos mintieron.")])
    engine = UpperEngine()
    track = draft_track(SRC, "es", engine=engine, memory=memory)
    assert track.cue("c2").origin == "memory" and track.cue("c2").lines == ("Nos mintieron.",)
    assert engine.calls == [("I left the group.", "Now I speak out.")]
    assert track.cue("c2").machine_made  # memory text also needs a person's confirmation


def test_status_runs_draft_translated_checked_with_four_eyes() -> None:
    track = translated_by("ana")
    with pytest.raises(TranslationError, match="not translated"):
        mark_checked(SRC, track, "bob", ["fr"])
    track = mark_translated(SRC, track, "ana")
    assert track.status == "translated" and track.translators == ("ana",)
    with pytest.raises(TranslationError, match="ana translated this track"):
        mark_checked(SRC, track, "ana", ["fr"])
    with pytest.raises(TranslationError, match="does not read fr"):
        mark_checked(SRC, track, "bob", ["ar", "en"])
    checked = mark_checked(SRC, track, "bob", ["fr-CA"])
    assert checked.status == "checked" and checked.checker == "bob"
    # Any later edit voids the check; the editor becomes a translator too.
    edited = edit_cue(checked, "c3", ["Je témoigne."], "bob")
    assert edited.status == "draft" and edited.checker == "" and edited.translators == ("ana", "bob")
    assert not can_check("fr", "bob", ["fr"], edited.translators)


def test_check_rule() -> None:
    assert can_check("ar", "rev", ["ar-EG"], ["tr1"])
    assert check_refusal("ar", "tr1", ["ar"], ["tr1"]) == "tr1 translated this track and cannot check it"
    assert check_refusal("ar", "", ["ar"], ["tr1"])
    assert check_refusal("ar", "rev", ["fa"], ["tr1"]) == "rev does not read ar"


def test_translated_refuses_gaps_and_limit_errors() -> None:
    track = edit_cue(new_track(SRC, "fr"), "c1", ["Bonjour"], "ana")
    with pytest.raises(TranslationError, match=r"cue c2: not translated \(and 1 more\)"):
        mark_translated(SRC, track, "ana")
    track = translated_by("ana")
    track = edit_cue(track, "c1", ["un deux trois quatre cinq six sept huit neuf dix onze"], "ana")
    with pytest.raises(TranslationError, match="columns wide"):
        mark_translated(SRC, track, "ana")


def test_reconcile_marks_retimed_changed_new_and_removed_cues() -> None:
    track = mark_checked(SRC, mark_translated(SRC, translated_by("ana"), "ana"), "bob", ["fr"])
    c1, c2, c3 = SRC.cues
    new_source = SrcTrack(
        "en",
        (
            replace(c1, end=c1.end - 0.8),  # trimmed
            replace(c2, lines=("They lied.",)),  # text changed
            SrcCue("c9", 20.0, 22.0, ("New words.",)),  # new cue
        ),  # c3 removed
    )
    out = reconcile(SRC, new_source, track)
    assert out.status == "draft" and out.checker == ""
    assert out.cue("c1").needs_look and out.cue("c1").end == pytest.approx(c1.end - 0.8)
    assert "re-timed" in out.cue("c1").look_reason
    assert out.cue("c2").needs_look and out.cue("c2").look_reason == "source text changed"
    assert out.cue("c9").is_empty and out.cue("c9").needs_look
    assert out.cue("c3").needs_look and out.cue("c3").look_reason == "source cue removed"
    problems = {(p.cue_id, p.message) for p in track_problems(new_source, out)}
    assert ("c3", "source cue no longer exists") in problems
    assert ("c9", "not translated") in problems
    with pytest.raises(TranslationError):
        mark_translated(new_source, out, "ana")
    # The translator looks at each, fixes or confirms, and removes the orphan.
    out = confirm_cue(out, "c1", "ana")
    out = edit_cue(out, "c2", ["Ils ont menti."], "ana")
    out = edit_cue(out, "c9", ["Mots nouveaux."], "ana")
    out = remove_cue(out, "c3", "ana")
    assert mark_translated(new_source, out, "ana").status == "translated"


def test_reconcile_without_changes_keeps_the_track() -> None:
    track = mark_translated(SRC, translated_by("ana"), "ana")
    assert reconcile(SRC, SRC, track) is track


def test_dict_records_round_trip_and_reject_garbage() -> None:
    track = draft_track(SRC, "es", engine=UpperEngine())
    track = confirm_cue(track, "c1", "ana")
    assert track_from_dict(track_to_dict(track)) == track
    data = track_to_dict(track)
    data["status"] = "published"
    with pytest.raises(TranslationError):
        track_from_dict(data)
    with pytest.raises(TranslationError):
        track_from_dict({"language": "es"})


def test_language_report_lists_wanted_and_existing_languages() -> None:
    tracks = {
        "es": draft_track(SRC, "es", engine=UpperEngine()),
        "fr": mark_translated(SRC, translated_by("ana"), "ana"),
    }
    report = language_report(SRC, tracks, ["ar", "fr-FR", "en"])
    assert [(s.language, s.state) for s in report] == [
        ("ar", "missing"),
        ("es", "draft"),
        ("fr", "translated"),
    ]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_reconcile_never_keeps_a_cue_silently_out_of_sync(data: st.DataObject) -> None:
    track = mark_translated(SRC, translated_by("ana"), "ana")
    new_cues = []
    for cue in SRC.cues:
        action = data.draw(st.sampled_from(["keep", "retime", "retext", "drop"]))
        if action == "retime":
            cue = replace(cue, start=cue.start + data.draw(st.integers(1, 900)) / 1000)
        elif action == "retext":
            cue = replace(cue, lines=("Changed.",))
        if action != "drop":
            new_cues.append(cue)
    new_source = SrcTrack("en", tuple(new_cues))
    out = reconcile(SRC, new_source, track)
    by_id = {c.id: c for c in new_source.cues}
    old_by_id = {c.id: c for c in SRC.cues}
    for cue in out.cues:
        s = by_id.get(cue.source_id)
        if s is None:
            assert cue.needs_look
            continue
        assert (cue.start, cue.end) == (s.start, s.end)
        synced = (s.start, s.end, s.lines) == (lambda o: (o.start, o.end, o.lines))(old_by_id[s.id])
        assert cue.needs_look == (not synced)
    assert out.status == ("translated" if new_source == SRC else "draft")


def test_summary_and_render_cues() -> None:
    assert summarise(SRC, None, "fr").state == "missing"
    track = draft_track(SRC, "es", engine=UpperEngine())
    s = summarise(SRC, track)
    assert (s.state, s.cues, s.translated, s.machine_made, s.needs_look) == ("draft", 3, 3, 3, 0)
    assert s.errors == 3
    half = edit_cue(new_track(SRC, "fr"), "c2", ["Ils ont menti."], "ana")
    assert [c.lines for c in as_cues(half)] == [("Ils ont menti.",)]
