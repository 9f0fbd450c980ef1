"""The store against a real SQLite file and a real PostgreSQL server (marked `postgres`)."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from clips_metadata.errors import ConflictError, DuplicateError, NotFoundError, StoreError
from clips_metadata.store import Store
from clips_metadata.stored_records import UNASSIGNED, Consent, hash_fields
from pipeline.authorisation import version_hash
from tests.clips_metadata.helpers import Proposal, Warning_, flags, media, sentences, transcript

CORE_TABLES = {
    "interviewees", "interviews", "transcripts", "sentences", "sentence_flags", "credibility_warnings",
    "candidates", "candidate_versions", "candidate_labels", "ingest_steps",
}  # fmt: skip


def _ingested(store: Store, *, warn: bool = False, content: str = "a"):
    """An interview with transcript, flags and two candidates, as ingest would leave it."""
    if not any(p.pseudonym == "Abu" for p in store.list_interviewees()):
        store.add_interviewee("Abu", real_names=["John Smith"])
    iv, _ = store.register_interview(media(content=content), "Abu", recorded="2024-05", place="Rome")
    sents = sentences(6)
    tr = store.add_transcript(iv.id, transcript(sents), sents)
    warnings = [Warning_("intent_to_return", 5, sents[5].start, sents[5].end, sents[5].text)] if warn else []
    labels = {0: ("disillusionment",), 1: ("disillusionment", "violence_against_muslims")}
    store.save_flags(tr.id, flags(sents, labels), warnings)
    props = [
        Proposal(0.4, 18.0, (0, 1), ("disillusionment",), (), 0.9),
        Proposal(27.0, 45.0, (3, 4), ("family",), ("graphic_violence",), 0.4),
    ]
    return iv, tr, store.add_candidates(tr.id, props)


# --------------------------------------------------------------------------- migrations


def test_migrates_from_empty_to_head_and_schema_matches_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from clips_metadata.tables import Base

    store = Store.open(db_url)
    try:
        assert store.current_revision() == store.head_revision()
        with store.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert CORE_TABLES <= tables
            # The review tables (revision 0002) live in review_store's models; importing it makes
            # the metadata whole whatever other tests ran first, so the comparison covers every table.
            import clips_metadata.review_store  # noqa: F401

            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, Base.metadata)
        assert diff == []
        # Opening again is a no-op and keeps the data.
        store.add_interviewee("Abu")
    finally:
        store.close()
    again = Store.open(db_url)
    try:
        assert [p.pseudonym for p in again.list_interviewees()] == ["Abu"]
    finally:
        again.close()


def test_upgrade_is_stepwise_from_0001(db_url):
    store = Store.open(db_url, options=__import__("clips_metadata.store").store.StoreOptions(migrate=False))
    try:
        assert store.current_revision() is None
        store.migrate("0001")
        assert store.current_revision() == "0001"
        store.add_interviewee("Early")
        store.migrate()
        assert store.current_revision() == store.head_revision()
        assert store.get_interviewee("Early").pseudonym == "Early"
    finally:
        store.close()


def test_bad_url_is_a_named_error(tmp_path):
    with pytest.raises(StoreError):
        Store.open("nosuchdialect://x")
    with pytest.raises(StoreError):
        Store.open("postgresql+psycopg://nobody@/nodb?host=/nonexistent-socket-dir&connect_timeout=2")


def test_sqlite_uses_wal_and_busy_timeout(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.close()


# ------------------------------------------------------------------------- interviewees


def test_interviewee_registry_with_consent(store):
    consent = Consent(face=True, voice=False, name=True, languages=("en", "ar"), platforms=("youtube",),
                      expires=date(2027, 1, 31))  # fmt: skip
    p = store.add_interviewee(
        "Abu Layla",
        real_names=["Jamal K.", " "],
        identifying_words=["Raqqa bakery"],
        is_public=True,
        consent=consent,
    )
    assert p.real_names == ("Jamal K.",)
    assert p.consent == consent and p.is_public
    assert p.consent.allows_language("AR") and not p.consent.allows_language("fr")
    assert not p.consent.expired(date(2027, 1, 31)) and p.consent.expired(date(2027, 2, 1))
    with pytest.raises(DuplicateError):
        store.add_interviewee("Abu Layla")
    with pytest.raises(NotFoundError):
        store.get_interviewee("nobody")
    changed = store.update_interviewee("Abu Layla", consent=Consent(face=False, languages=("*",)))
    assert not changed.consent.face and changed.consent.allows_language("fr")
    assert store.get_interviewee("Abu Layla").consent == changed.consent
    u = store.unassigned_interviewee()
    assert u.is_unassigned and u.consent == Consent()
    assert store.unassigned_interviewee().id == u.id
    assert [x.pseudonym for x in store.list_interviewees()] == ["Abu Layla", UNASSIGNED]


# --------------------------------------------------------------------------- interviews


def test_same_file_twice_creates_nothing_and_changed_file_is_new(store):
    store.add_interviewee("Abu")
    first, created = store.register_interview(media("a.mp4", "v1"), "Abu", language="ar")
    assert created and first.status == "ingesting" and first.pseudonym == "Abu"
    assert store.ingest_state(first.id).done == ("probe",)
    again, created = store.register_interview(media("copy-of-a.mp4", "v1"), "Abu")
    assert not created and again.id == first.id
    changed, created = store.register_interview(media("a.mp4", "v2"), "Abu")
    assert created and changed.id != first.id and changed.replaces_id == first.id
    assert len(store.list_interviews()) == 2
    with pytest.raises(NotFoundError):
        store.register_interview(media("b.mp4", "v3"), "nobody")
    orphan, _ = store.register_interview(media("c.mp4", "v4"), None)
    assert orphan.pseudonym == UNASSIGNED
    assert store.assign_interview(orphan.id, "Abu").pseudonym == "Abu"


def test_transcripts_are_versioned_and_round_trip(store):
    store.add_interviewee("Abu")
    iv, _ = store.register_interview(media(), "Abu")
    sents = sentences(3, language="ar")
    t = transcript(sents, language="ar")
    one = store.add_transcript(
        iv.id, t, sents, translations=["One.", "Two.", "Three."], body_path="/t/1.json"
    )
    two = store.add_transcript(iv.id, t, sents)
    assert (one.version, two.version) == (1, 2)
    assert store.latest_transcript(iv.id).id == two.id
    assert store.load_transcript(one.id) == t
    assert store.get_sentences(one.id) == sents
    assert store.get_sentence_translations(one.id) == ("One.", "Two.", "Three.")
    assert store.get_interview(iv.id).language == "ar"
    assert store.ingest_state(iv.id).next_step == "diarize"
    with pytest.raises(StoreError):
        store.add_transcript(iv.id, t, sents, translations=["only one"])


def test_flags_and_warnings_round_trip(store):
    iv, tr, _ = _ingested(store, warn=True)
    stored = store.get_flags(tr.id)
    assert [f.labels for f in stored[:2]] == [
        ("disillusionment",),
        ("disillusionment", "violence_against_muslims"),
    ]
    assert stored[0].scores == {"disillusionment": 0.8}
    (w,) = store.interview_warnings(iv.id)
    assert (w.risk, w.sentence_index) == ("intent_to_return", 5)
    state = store.ingest_state(iv.id)
    assert not state.complete and state.next_step == "diarize"  # this test stores no speakers
    assert store.get_interview(iv.id).status == "ready"
    with pytest.raises(StoreError):
        store.save_flags(tr.id, [])  # one flag per sentence or nothing


# --------------------------------------------------------------------------- candidates


def test_candidates_stored_with_subtitles_hash_and_credibility(store):
    iv, tr, (a, b) = _ingested(store, warn=True)
    assert a.status == "proposed" and a.version == 1 and a.interview_id == iv.id
    assert a.subtitles == {"en": "Sentence number 0. Sentence number 1."}
    assert a.risks == ("credibility",) and b.risks == ("graphic_violence", "credibility")
    expected = version_hash(hash_fields(iv.sha256, a.start, a.end, a.subtitles, {}, (), {}))
    assert a.content_hash == expected
    listed = store.list_candidates()
    assert [c.id for c in listed] == [a.id, b.id]  # best rank first
    assert [c.id for c in store.list_candidates(theme="family")] == [b.id]
    assert [c.id for c in store.list_candidates(risk="credibility")] == [a.id, b.id]
    assert store.count_candidates(risk="graphic_violence") == 1
    assert store.list_candidates(language="fr") == ()
    assert [c.id for c in store.list_candidates(limit=1, offset=1)] == [b.id]
    js = a.to_json()
    assert {"id", "interview", "start", "end", "themes", "risks", "rank", "status"} <= set(js)


def test_every_change_is_a_new_version_and_stale_writes_conflict(store):
    _, _, (a, b) = _ingested(store)
    approved = store.set_candidate_status(a.id, "approved", expected_version=1, by="rev1")
    assert approved.status == "approved" and approved.version == 1
    v2 = store.update_candidate(a.id, 1, {"end": 17.5, "subtitles": {"en": "Edited."}}, by="ed", note="trim")
    assert v2.version == 2 and v2.end == 17.5 and v2.subtitles == {"en": "Edited."}
    assert v2.status == "proposed"  # an approval does not survive a content change
    assert v2.content_hash != a.content_hash
    with pytest.raises(ConflictError):
        store.update_candidate(a.id, 1, {"end": 16.0}, by="other")
    with pytest.raises(ConflictError):
        store.set_candidate_status(a.id, "approved", expected_version=1, by="rev1")
    with pytest.raises(ConflictError):
        store.set_candidate_status(
            a.id, "approved", expected_version=2, by="rev1", expected_status="in_review"
        )
    v3 = store.update_candidate(a.id, 2, {"themes": ["family"], "rank": 0.1}, by="ed")
    assert v3.content_hash == v2.content_hash and v3.status == "proposed"  # labels only: same hash
    assert [c.id for c in store.list_candidates(theme="family")] == [b.id, a.id]
    history = store.candidate_versions(a.id)
    assert [h.version for h in history] == [1, 2, 3]
    assert history[0].end == a.end and history[0].subtitles == a.subtitles  # nothing overwritten
    assert (history[1].created_by, history[1].note) == ("ed", "trim")
    assert store.get_candidate_version(a.id, 2).end == 17.5
    with pytest.raises(StoreError):
        store.update_candidate(a.id, 3, {"colour": "red"}, by="ed")
    with pytest.raises(StoreError):
        store.update_candidate(a.id, 3, {"start": 20.0, "end": 10.0}, by="ed")
    with pytest.raises(NotFoundError):
        store.update_candidate(9999, 1, {"end": 1.0}, by="ed")
    assert store.get_candidate(a.id).version == 3


def test_racing_writers_get_exactly_one_winner(db_url):
    setup = Store.open(db_url)
    _, _, (a, _) = _ingested(setup)
    setup.close()
    stores = [Store.open(db_url) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def write(i: int) -> None:
        barrier.wait()
        try:
            stores[i].update_candidate(a.id, 1, {"end": 10.0 + i}, by=f"writer{i}")
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sorted(outcomes) == ["conflict"] * 5 + ["won"]
        assert [v.version for v in stores[0].candidate_versions(a.id)] == [1, 2]
    finally:
        for s in stores:
            s.close()


def _race_worker(url: str, candidate_id: int, i: int, barrier, results) -> None:
    store = Store.open(url)
    barrier.wait()
    try:
        store.update_candidate(candidate_id, 1, {"end": 12.0 + i}, by=f"proc{i}")
        results.put("won")
    except ConflictError:
        results.put("conflict")
    finally:
        store.close()


def test_two_processes_racing_get_one_winner(db_url):
    setup = Store.open(db_url)
    _, _, (a, _) = _ingested(setup)
    setup.close()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_race_worker, args=(db_url, a.id, i, barrier, results)) for i in range(2)]
    for p in procs:
        p.start()
    got = sorted(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert got == ["conflict", "won"]


def test_failed_write_leaves_nothing_behind(store):
    store.add_interviewee("Abu")
    iv, _ = store.register_interview(media(), "Abu")
    sents = sentences(3)
    tr = store.add_transcript(iv.id, transcript(sents), sents)
    store.save_flags(tr.id, flags(sents, {0: ("disillusionment",)}))
    good = Proposal(0.4, 18.0, (0, 1), ("disillusionment",), (), 0.9)
    bad = Proposal(20.0, 40.0, (7,), ("family",), (), 0.5)
    with pytest.raises(StoreError):
        store.add_candidates(tr.id, [good, bad])
    assert store.list_candidates() == ()
    assert "propose" not in store.ingest_state(iv.id).done
    # A crash inside a caller's own transaction rolls back too.
    with pytest.raises(RuntimeError), store.transaction() as s:
        from clips_metadata.tables import IntervieweeRow

        s.add(
            IntervieweeRow(
                pseudonym="half", real_names=[], identifying_words=[], is_public=False, consent_face=False,
                consent_voice=False, consent_name=False, consent_languages=[], consent_platforms=[],
                consent_expires=None, notes="", created_at=datetime.now(UTC),
            )
        )  # fmt: skip
        s.flush()
        raise RuntimeError("crash mid-write")
    assert "half" not in [p.pseudonym for p in store.list_interviewees()]


_CHILD = """
import sys, time
from clips_metadata.store import Store
store = Store.open(sys.argv[1])
iv = store.find_interview(sys.argv[2])
with store.transaction() as s:
    from clips_metadata.store import m
    cur = s.get(m.CandidateRow, int(sys.argv[3]))
    cur.end = 999.0
    s.add(m.IngestStepRow(interview_id=iv.id, step="half-written", detail={}, finished_at=cur.updated_at))
    s.flush()
    print("written", flush=True)
    time.sleep(120)
"""


def test_kill_9_inside_an_open_write_transaction_leaves_the_store_consistent(db_url):
    import os
    import signal
    import subprocess
    import sys

    store = Store.open(db_url)
    iv, _, (a, _) = _ingested(store)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, db_url, iv.sha256, str(a.id)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "written"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    try:
        assert store.get_candidate(a.id).end == a.end
        assert "half-written" not in store.ingest_state(iv.id).done
        # The dead writer's lock is gone: a new write goes through.
        assert store.update_candidate(a.id, 1, {"end": 17.0}, by="after-crash").version == 2
    finally:
        store.close()


def test_translated_interview_candidates_carry_english_text_in_their_hash(store):
    store.add_interviewee("Abu")
    iv, _ = store.register_interview(media(content="arabic"), "Abu")
    sents = sentences(3, language="ar")
    tr = store.add_transcript(iv.id, transcript(sents, "ar"), sents, translations=["One.", "", "Three."])
    store.save_flags(tr.id, flags(sents, {0: ("false_promises",)}))
    (c,) = store.add_candidates(tr.id, [Proposal(0.4, 27.0, (0, 1, 2), ("false_promises",), (), 0.7)])
    assert c.language == "ar" and c.translations == {"en": "One. Three."}
    assert c.content_hash == version_hash(
        hash_fields(iv.sha256, c.start, c.end, c.subtitles, c.translations, (), {})
    )
    edited = store.update_candidate(c.id, 1, {"translations": {"en": "One, two. Three."}}, by="ed")
    assert edited.content_hash != c.content_hash and edited.status == "proposed"
    assert store.list_candidates(language="ar")[0].id == c.id


def test_a_database_from_a_newer_program_is_a_named_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    Store.open(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(StoreError, match="this program knows up to"):
        Store.open(url)


def test_several_processes_opening_a_fresh_database_migrate_it_once(db_url):
    import subprocess
    import sys

    code = "import sys; from clips_metadata.store import Store; Store.open(sys.argv[1]).close(); print('ok')"
    argv = [sys.executable, "-c", code, db_url]
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    store = Store.open(db_url)
    try:
        assert store.current_revision() == store.head_revision()
    finally:
        store.close()
