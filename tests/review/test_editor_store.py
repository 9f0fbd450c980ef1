"""Revision 0005: cue tracks per version (and in the version hash), timecoded comments, waveform
peaks, and the queue's per-person views."""

from __future__ import annotations

import pytest

from clips_metadata.errors import StoreError
from tests.review.seed import add_candidate, add_interview

TEXTS = ["They told us lies at night.", "I saw what they did to people.", "I want others to know."]


def _one(store) -> tuple[int, tuple]:
    _, tid, sents = add_interview(store, pseudonym="Omar", texts=TEXTS, labels={1: ("witnessed_brutality",)})
    return add_candidate(store, tid, sents, [0, 1, 2], themes=["witnessed_brutality"]), sents


def test_models_of_0005_match_the_migration(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import clips_metadata.review_store  # noqa: F401 - registers the tables others refer to
    from clips_metadata import tables

    ours = {"cue_tracks", "waveforms", "candidate_comments"}
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.Base.metadata)
    assert [d for d in diff if any(t in repr(d) for t in ours)] == []
    assert store.current_revision() == store.head_revision()


def test_tracks_are_stored_per_version_and_hashed(store, users):
    from clips_metadata.cue_tracks_repo import CueTracksRepo
    from clips_metadata.stored_records import hash_fields
    from pipeline.authorisation import version_hash
    from pipeline.cue_edits import edit_text
    from pipeline.cue_track_io import track_to_dict
    from review.service import ReviewService
    from review.tracks import current_tracks

    cid, sents = _one(store)
    cand = store.get_candidate(cid)
    words = [w for s in sents for w in s.words]
    repo = CueTracksRepo(store)
    first = current_tracks(store, cand, words, 25)["en"]  # derived on first view, not hashed
    assert repo.hashed(cid, 1) == {} and repo.tracks(cid, 1)["en"] == first
    assert all(cand.start - 0.04 <= c.start < c.end <= cand.end + 0.04 for c in first.cues)
    edited, _ = edit_text(first, first.cues[0].id, "They told us lies.")
    svc = ReviewService.over(store)
    svc.edit(cid, 1, {"cue_tracks": {"en": track_to_dict(edited)}}, actor="eddie", role="editor")
    v2 = store.get_candidate(cid)
    assert v2.content_hash != cand.content_hash  # same text fields, different cues: a new hash
    iv = store.get_interview(v2.interview_id)
    fields = hash_fields(iv.sha256, v2.start, v2.end, v2.subtitles, v2.translations, v2.redactions,
                         v2.render_options, repo.hashed(cid, 2))
    assert version_hash(fields) == v2.content_hash
    # an edit that does not move the cut carries the tracks; a trim without tracks drops them
    svc.edit(cid, 2, {"render_options": {"blur_faces": True}}, actor="eddie", role="editor")
    assert repo.tracks(cid, 3)["en"] == edited
    svc.edit(cid, 3, {"end": v2.end - 1.0}, actor="eddie", role="editor")
    assert repo.tracks(cid, 4) == {}


def test_comments_pin_to_times_and_carry_across_versions(store, users):
    from clips_metadata.comments_repo import CommentsRepo
    from review.service import ReviewService

    cid, _ = _one(store)
    repo = CommentsRepo(store)
    a = repo.add(cid, 1, "rita", "Cut the cough here", 2.5, 3.0)
    repo.add(cid, 1, "rita", "Please end on the sentence", 4.0, kind="change_request")
    with pytest.raises(StoreError):
        repo.add(cid, 1, "rita", "   ", 1.0)
    with pytest.raises(StoreError):
        repo.add(cid, 1, "rita", "x", float("nan"))
    ReviewService.over(store).edit(cid, 1, {"end": store.get_candidate(cid).end - 0.5}, actor="eddie",
                                   role="editor")
    thread = repo.thread(cid)
    assert [c.body for c in thread] == ["Cut the cough here", "Please end on the sentence"]
    repo.resolve(cid, a.id, "eddie")
    assert [c.open for c in repo.thread(cid)] == [False, True]


def test_queue_views_per_person(store, users):
    from clips_metadata.review_store import QueueFilter, ReviewStore
    from review.service import ReviewService

    cid, sents = _one(store)
    rs = ReviewStore(store)
    assert [i.id for i in rs.queue(QueueFilter(waiting_for="rita")).items] == [cid]
    ReviewService(rs).edit(cid, 1, {"end": store.get_candidate(cid).end - 0.5}, actor="rita", role="admin")
    assert rs.queue(QueueFilter(waiting_for="rita")).items == ()
    assert [i.id for i in rs.queue(QueueFilter(edited_by="rita")).items] == [cid]
    assert [i.id for i in rs.queue(QueueFilter(waiting_for="rolf")).items] == [cid]
    ReviewService(rs).act(cid, "approve", actor="rolf", role="reviewer")
    assert rs.queue(QueueFilter(waiting_for="rolf")).items == ()


def test_waveform_peaks_are_stored_once(store):
    from clips_metadata.waveforms_repo import WaveformsRepo
    from pipeline.waveform import Peaks

    repo = WaveformsRepo(store)
    assert repo.get("a" * 64) is None
    peaks = Peaks(50, bytes([0, 10, 250, 20]))
    repo.put("a" * 64, peaks)
    assert repo.get("a" * 64).data == peaks.data
