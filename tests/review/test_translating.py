"""The translation workflow over the store: tracks per version and language, four-eyes checks,
translation memory across clips, track files with line-numbered errors, reconcile after a trim,
and the per-language publish refusal."""

from __future__ import annotations

import pytest

from pipeline.translation.errors import TrackFileError, TranslationError
from tests.review.seed import add_candidate, add_interview

TEXTS = ("Leaving was the hardest thing I ever did.", "They promised us a just state.",
         "Nobody could speak freely there.")
ARABIC = {0: "كان الرحيل أصعب شيء فعلته", 1: "وعدونا بدولة عادلة", 2: "لم يستطع أحد أن يتكلم بحرية"}


def seed(store, texts=TEXTS, pseudonym="Amal") -> int:
    _, tid, sents = add_interview(store, pseudonym=pseudonym, texts=list(texts),
                                  labels={0: ("disillusionment_exit",)})
    return add_candidate(store, tid, sents, list(range(len(texts))), themes=("disillusionment_exit",))


def users(store) -> None:
    from clips_metadata.review_store import ReviewStore
    from review.translating import reads

    rs = ReviewStore(store)
    rs.add_user("tina", "translator", "x")
    rs.add_user("omar", "translator", "x")
    rs.add_user("rita", "reviewer", "x")
    reads(store, "tina", ["ar", "fr", "es"])
    reads(store, "omar", ["ar"])
    reads(store, "rita", ["en", "fr"])


def translate_arabic(store, cid: int, *, check: bool = True) -> None:
    from review import translating as tr

    tr.start_track(store, cid, "ar", user="tina")
    ct = tr.clip_tracks(store, cid)
    for n, cue in enumerate(ct.source.cues):
        tr.edit_cue(store, cid, "ar", cue.id, ARABIC[n % 3], user="tina")
    tr.mark_translated(store, cid, "ar", user="tina")
    if check:
        tr.check_track(store, cid, "ar", user="omar")


def test_track_lifecycle_four_eyes_and_memory(store):
    from clips_metadata.translations_repo import TranslationsRepo
    from review import translating as tr

    users(store)
    cid = seed(store)
    tr.start_track(store, cid, "ar", user="tina")
    track = tr.get_track(store, cid, "ar")
    assert track is not None and track.status == "draft" and all(c.is_empty for c in track.cues)
    translate_arabic(store, cid, check=False)
    with pytest.raises(TranslationError, match="tina translated this track"):
        tr.check_track(store, cid, "ar", user="tina")
    with pytest.raises(TranslationError, match="does not read ar"):
        tr.check_track(store, cid, "ar", user="rita")
    tr.check_track(store, cid, "ar", user="omar")
    assert tr.get_track(store, cid, "ar").status == "checked"
    cues = tr.clip_tracks(store, cid).source.cues
    assert len(TranslationsRepo(store).memory_entries(target_language="ar")) == len(cues)


def test_memory_proposes_the_earlier_translation_in_a_new_clip(store):
    from review import translating as tr

    users(store)
    first = seed(store)
    translate_arabic(store, first)
    second = seed(store, texts=("Something new was said here.", TEXTS[1]), pseudonym="Bilal")
    source = tr.clip_tracks(store, second).source
    repeated = next(c for c in source.cues if "promised" in " ".join(c.lines))
    (best, *_) = tr.suggestions(store, second, "ar", repeated.id)
    assert best.score == 100.0 and best.entry.target_text == ARABIC[1]
    drafted = tr.start_track(store, second, "ar", user="tina")
    cue = drafted.cue(repeated.id)
    assert cue.text == ARABIC[1] and cue.origin == "memory" and cue.machine_made
    assert drafted.machine_made  # until a person confirms it


def test_xliff_round_trip_and_malformed_file(store, tmp_path):
    from review import translating as tr

    users(store)
    cid = seed(store)
    for version in ("1.2", "2.0"):
        text = tr.export_track_file(store, cid, "fr", "xliff", version)  # no fr track yet: the source
        source = tr.clip_tracks(store, cid).source
        for cue in source.cues:
            assert f'"{cue.id}"' in text
        edited = text
        for n, cue in enumerate(source.cues):
            src = "\n".join(cue.lines)
            target = f"<target>Phrase numéro {n} en français</target>"
            edited = edited.replace(f"{src}</source>", f"{src}</source>{target}", 1)
        path = tmp_path / f"fr-{version}.xlf"
        path.write_text(edited, encoding="utf-8")
        tr.import_track_file(store, cid, "fr", path, user="tina")
        track = tr.get_track(store, cid, "fr")
        assert [c.source_id for c in track.cues] == [c.id for c in source.cues]
        assert [(c.start, c.end) for c in track.cues] == [(c.start, c.end) for c in source.cues]
        wanted = [f"Phrase numéro {n} en français" for n in range(len(source.cues))]
        assert [c.text for c in track.cues] == wanted
    bad = tmp_path / "bad.xlf"
    bad.write_text(text.replace('id="w0"', 'id="w999"'), encoding="utf-8")
    before = tr.get_track(store, cid, "fr")
    with pytest.raises(TrackFileError) as err:
        tr.import_track_file(store, cid, "fr", bad, user="tina")
    assert all(p.line > 0 for p in err.value.problems if "w999" in str(p) or "unknown" in str(p))
    assert any(p.line > 0 for p in err.value.problems)
    assert tr.get_track(store, cid, "fr") == before  # nothing stored


def test_trim_marks_affected_cues_and_voids_the_check(store):
    from clips_metadata.review_store import ReviewStore
    from review import translating as tr

    users(store)
    cid = seed(store)
    translate_arabic(store, cid)
    cand = store.get_candidate(cid)
    last = tr.clip_tracks(store, cid).source.cues[-1]
    ReviewStore(store).edit_candidate(cid, cand.version, {"end": last.start + 0.6}, actor="rita",
                                      from_state="proposed", note="trim")
    track = tr.get_track(store, cid, "ar")
    assert track.status == "draft"
    assert any(c.needs_look for c in track.cues)
    assert not track.cues[0].needs_look  # untouched cues stay as they were


def test_publish_refusal_names_the_language(store):
    from review import translating as tr

    users(store)
    cid = seed(store)
    translate_arabic(store, cid)
    tr.start_track(store, cid, "fr", user="tina")
    ok, refused = tr.publishable_languages(store, cid)
    assert "ar" in ok and "en" in ok
    assert refused["fr"].startswith("fr: the track is draft")
    assert "\n" not in refused["fr"]
    rows = {(r.candidate_id, r.language): r.state for r in tr.language_rows(store, [cid])}
    assert rows[(cid, "ar")] == "checked" and rows[(cid, "fr")] == "draft"


def test_an_edit_through_the_review_service_reconciles_at_once(store):
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.translations_repo import TranslationsRepo
    from review import translating as tr
    from review.service import ReviewService

    users(store)
    cid = seed(store)
    translate_arabic(store, cid)
    cand = store.get_candidate(cid)
    last = tr.clip_tracks(store, cid).source.cues[-1]
    ReviewService(ReviewStore(store)).edit(cid, cand.version, {"end": last.start + 0.6}, actor="rita",
                                           role="reviewer")
    stored = TranslationsRepo(store).track(cid, cand.version + 1, "ar")  # written by the edit itself
    assert stored is not None and stored.track.status == "draft"
    assert any(c.needs_look for c in stored.track.cues)


def test_stored_tracks_come_back_unchanged(store):
    """Property: whatever a translator types (any script, markup, controls) is stored and read back
    as written."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from clips_metadata.translations_repo import TranslationsRepo
    from pipeline.translation.track import TranslatedCue, TranslationTrack

    cid = seed(store)
    repo = TranslationsRepo(store)
    line = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.lists(line, max_size=2), st.sampled_from(["human", "machine", "memory"]),
                              st.booleans()), min_size=1, max_size=4))
    def check(cues):
        track = TranslationTrack("ar", "en", tuple(
            TranslatedCue(f"w{n}", n * 1.0, n + 0.9, tuple(lines), origin, confirmed)
            for n, (lines, origin, confirmed) in enumerate(cues)))
        repo.save_track(cid, 1, track, {"language": "en"}, "tina")
        assert repo.track(cid, 1, "ar").track == track

    check()
