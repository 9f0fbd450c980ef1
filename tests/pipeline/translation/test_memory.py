from __future__ import annotations

from pipeline.translation.memory import MemoryEntry, TranslationMemory, approved_pairs
from pipeline.translation.track import draft_track, edit_cue, mark_checked, mark_translated, new_track
from tests.pipeline.translation.support import source


def test_exact_and_fuzzy_matches_with_percentages() -> None:
    memory = TranslationMemory(
        [
            MemoryEntry("en", "I left the group because they lied.", "ar", "تركت الجماعة لأنهم كذبوا."),
            MemoryEntry("en", "Nobody forced me to stay.", "ar", "لم يجبرني أحد على البقاء."),
            MemoryEntry(
                "en", "I left the group because they lied.", "fr", "J'ai quitté le groupe car ils mentaient."
            ),
        ]
    )
    exact = memory.lookup("en", "I left the group  because they LIED.", "ar-SA")
    assert exact[0].score == 100.0 and exact[0].exact
    assert exact[0].entry.target_text == "تركت الجماعة لأنهم كذبوا."
    fuzzy = memory.lookup("en", "I left the group because they lied to me.", "ar")
    assert len(fuzzy) == 1 and 80 <= fuzzy[0].score < 100
    assert memory.lookup("en", "Completely unrelated words here.", "ar") == ()
    assert memory.lookup("en", "I left the group because they lied.", "de") == ()
    assert memory.exact("en", "nobody forced me to stay.", "ar") is not None


def test_same_pair_is_stored_once_and_blank_pairs_not_at_all() -> None:
    memory = TranslationMemory()
    assert memory.add(MemoryEntry("en", "Yes.", "fr", "Oui."))
    assert not memory.add(MemoryEntry("en", " yes. ", "fr-FR", "oui."))
    assert not memory.add(MemoryEntry("en", "No.", "fr", "  "))
    assert len(memory) == 1 and TranslationMemory(memory.entries()).entries() == memory.entries()


def test_memory_proposes_the_earlier_translation_in_a_new_clip() -> None:
    clip1 = source("They promised us paradise.", "I saw the killing.")
    track = new_track(clip1, "fr")
    track = edit_cue(track, "c1", ["Ils nous ont promis le paradis."], "ana")
    track = edit_cue(track, "c2", ["J'ai vu les massacres."], "ana")
    track = mark_checked(clip1, mark_translated(clip1, track, "ana"), "bob", ["fr"])
    memory = TranslationMemory()
    pairs = approved_pairs(clip1, track, created_at="2026-12-03T05:00:00Z", origin="clip1/v1")
    assert [p.created_by for p in pairs] == ["bob", "bob"]
    for pair in pairs:
        memory.add(pair)
    clip2 = source("Hello.", "They promised us paradise.", "I saw the killings.")
    draft = draft_track(clip2, "fr", memory=memory)
    assert (
        draft.cue("c2").lines == ("Ils nous ont promis le paradis.",) and draft.cue("c2").origin == "memory"
    )
    assert draft.cue("c3").is_empty  # fuzzy matches are offered, not filled in
    offer = memory.lookup("en", "I saw the killings.", "fr")
    assert offer[0].entry.target_text == "J'ai vu les massacres." and 90 < offer[0].score < 100


def test_unchecked_tracks_give_no_memory() -> None:
    clip = source("Hello.")
    track = edit_cue(new_track(clip, "fr"), "c1", ["Bonjour."], "ana")
    assert approved_pairs(clip, track) == ()
