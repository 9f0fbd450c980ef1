"""The review plan is remembered across requests (`review.plan_cache`) under a digest of all its
inputs: after a cached view, any edit, registry change, consent change, cue or translation track
change or transcript rewrite gives the plan built from scratch, and the gate still refuses a
plan hash that is no longer the current one."""

from __future__ import annotations

import dataclasses

import pytest

from clips_metadata.errors import ConflictError
from tests.review.seed import add_candidate, add_interview

TEXTS = ["They told us lies at night.", "Then Karim saw what they did in the square.",
         "I want others to know this.", "Do not go."]


@pytest.fixture(autouse=True)
def fresh_cache():
    from review.plan_cache import PLANS

    PLANS.clear()
    yield PLANS
    PLANS.clear()


@pytest.fixture
def planner(store, workspace):
    from review.plans import Planner

    return Planner.for_workspace(store, workspace)


@pytest.fixture
def cid(store, users):
    from fractions import Fraction

    from review.tracks import store_first_tracks

    _, tid, sents = add_interview(store, pseudonym="Omar", texts=TEXTS, labels={}, fps=25.0)
    cid = add_candidate(store, tid, sents, [0, 1, 2], themes=["witnessed_brutality"])
    # its first cue track, as ingest's propose step stores it: the first view can then be kept
    store_first_tracks(store, [store.get_candidate(cid)], [w for x in sents for w in x.words], Fraction(25))
    return cid


def fresh(store, planner, candidate_id):
    """The plan built now from the store, with no cache (what the gate must agree with)."""
    from pipeline.publication import plan_hash
    from review.plans import plan_for, review_target

    return plan_hash(plan_for(store, candidate_id, review_target(store, candidate_id), key=planner.key))


def viewed(planner, candidate_id):
    """A page view: the plan reviewers watch, through the cache (kept there when it was a miss)."""
    from review.plan_cache import PLANS
    from review.plans import Planner

    out = Planner(planner.store, planner.key).review_plan(candidate_id)
    assert len(PLANS) > 0
    return out


def test_a_second_view_is_a_hit_and_equals_the_plan_built_from_scratch(store, planner, cid, fresh_cache):
    first = viewed(planner, cid)
    second = viewed(planner, cid)
    assert first.plan is not None and first.hash == fresh(store, planner, cid)
    assert second is first  # the same remembered answer
    assert fresh_cache.hits == 1


def test_a_view_that_stores_a_derived_track_is_not_kept(store, planner, fresh_cache):
    """The build may store the version's first cue track: its inputs changed, so it is built again."""
    from review.plans import Planner

    _, tid, sents = add_interview(store, pseudonym="Omar", texts=TEXTS, labels={}, fps=25.0)
    cid = add_candidate(store, tid, sents, [0, 1], themes=["witnessed_brutality"])
    first = Planner(store, planner.key).review_plan(cid)
    assert len(fresh_cache) == 0
    second = Planner(store, planner.key).review_plan(cid)
    assert len(fresh_cache) == 1 and second.hash == first.hash == fresh(store, planner, cid)


def test_an_edit_after_a_cached_view_gives_the_new_plan(store, users, planner, cid):
    from review.service import ReviewService

    before = viewed(planner, cid)
    ReviewService(users, planner).edit(cid, 1, {"redactions": [{"term": "square"}]}, actor="eddie",
                                       role="editor")
    after = viewed(planner, cid)
    assert after.plan.version == 2 and after.hash != before.hash
    assert after.hash == fresh(store, planner, cid)


@pytest.mark.parametrize("change", ["identifying_words", "real_names", "consent", "pseudonym_words"])
def test_a_registry_or_consent_change_after_a_cached_view_gives_the_new_plan(store, planner, cid, change):
    person = store.get_interviewee("Omar")
    before = viewed(planner, cid)
    if change == "identifying_words":
        store.update_interviewee("Omar", identifying_words=("square",))
    elif change == "real_names":  # a real name spoken in the clip is now bleeped
        store.update_interviewee("Omar", real_names=(*person.real_names, "Karim"))
    elif change == "consent":
        store.update_interviewee("Omar", consent=dataclasses.replace(person.consent, face=False))
    else:
        store.update_interviewee("Omar", identifying_words=("lies",))
    after = viewed(planner, cid)
    assert after.hash != before.hash
    assert after.hash == fresh(store, planner, cid)


def test_a_consent_that_no_longer_allows_a_plan_is_seen_at_once(store, planner, cid):
    person = store.get_interviewee("Omar")
    assert viewed(planner, cid).plan is not None
    store.update_interviewee("Omar", consent=dataclasses.replace(person.consent, platforms=()))
    after = viewed(planner, cid)
    assert after.plan is None and after.hash == "" and "platform" in after.problem


def test_the_gate_refuses_a_stale_hash_after_a_cached_view(store, users, planner, cid):
    from review.rules import Action
    from review.service import ReviewService

    svc = ReviewService(users, planner)
    shown = viewed(planner, cid)
    store.update_interviewee("Omar", identifying_words=("square",))
    with pytest.raises(ConflictError, match="publication plan"):
        ReviewService(users, type(planner)(store, planner.key)).act(
            cid, Action.APPROVE, actor="rita", role="reviewer", plan_hash=shown.hash)
    # the current plan's hash is accepted and recorded
    current = viewed(planner, cid)
    svc2 = ReviewService(users, type(planner)(store, planner.key))
    d = svc2.act(cid, Action.APPROVE, actor="rita", role="reviewer", plan_hash=current.hash)
    assert d.records_approval
    assert svc.rs.review_state(cid).approvals[0].reviewer == "rita"


def test_a_rewritten_transcript_changes_the_key(store, planner, cid):
    """Diarization rewrites a transcript's body in place: the words (and so the bleeps) change."""
    import sqlalchemy as sa

    from clips_metadata.serialize import transcript_from_json, transcript_to_json
    from clips_metadata.tables import TranscriptRow

    store.update_interviewee("Omar", identifying_words=("Karim",))
    before = viewed(planner, cid)
    assert before.plan.bleeps  # "Karim" is spoken inside the clip
    tid = store.get_candidate(cid).transcript_id
    with store.transaction() as s:
        t = transcript_from_json(s.get(TranscriptRow, tid).body)
        segs = tuple(dataclasses.replace(seg, words=tuple(
            dataclasses.replace(w, text="Someone") if "Karim" in w.text else w for w in seg.words))
            for seg in t.segments)
        s.execute(sa.update(TranscriptRow).where(TranscriptRow.id == tid)
                  .values(body=transcript_to_json(dataclasses.replace(t, segments=segs))))
    after = viewed(planner, cid)
    assert after.hash != before.hash and not after.plan.bleeps
    assert after.hash == fresh(store, planner, cid)


def test_a_checked_translation_track_changes_the_key(store, users, planner, cid):
    from review import translating as tr

    users.add_user("tina", "translator", "x")
    users.add_user("tom", "translator", "x")
    tr.reads(store, "tina", ["fr"])
    tr.reads(store, "tom", ["fr"])
    before = viewed(planner, cid)
    tr.start_track(store, cid, "fr", user="tina")
    for cue in tr.clip_tracks(store, cid).source.cues:
        tr.edit_cue(store, cid, "fr", cue.id, "Ils nous ont menti.", user="tina")
    tr.mark_translated(store, cid, "fr", user="tina")
    draft = viewed(planner, cid)
    assert draft.hash == before.hash  # an unchecked track is in no plan
    tr.check_track(store, cid, "fr", user="tom")
    after = viewed(planner, cid)
    assert "fr" in {t.language for t in after.plan.tracks} and after.hash != before.hash
    assert after.hash == fresh(store, planner, cid)


def test_the_cache_is_bounded_and_keeps_the_most_recent():
    from clips_metadata.digest_cache import DigestLRU

    lru = DigestLRU(3)
    for k in "abcd":
        lru.put(k, k.upper())
    assert len(lru) == 3 and lru.get("a") is None
    assert lru.get("b") == "B"
    lru.put("e", "E")  # "c" is now the least recently used
    assert lru.get("c") is None and lru.get("b") == "B"


def test_a_weighed_cache_keeps_its_budget_and_always_the_newest():
    from clips_metadata.digest_cache import DigestLRU

    lru = DigestLRU(100, budget=10)
    for k, n in (("a", 3), ("b", 3), ("c", 3)):
        lru.put(k, "x" * n)
    assert len(lru) == 3
    lru.put("d", "x" * 4)  # 13 > 10: the least recently used goes first
    assert lru.get("a") is None and lru.get("b") is not None
    lru.put("b", "x")  # replacing an entry counts its new weight only: 1 + 3 + 4
    lru.put("e", "xx")  # 10: all kept
    assert [lru.get(k) is not None for k in "bcde"] == [True, True, True, True]
    lru.put("huge", "x" * 50)  # over the budget alone: kept, everything else goes
    assert len(lru) == 1 and lru.get("huge") is not None


def test_a_plan_whose_inputs_changed_while_it_was_built_is_not_kept():
    from clips_metadata.digest_cache import DigestLRU
    from review.plan_cache import remembered_plan

    lru = DigestLRU(8)
    assert remembered_plan("k", lambda: "built", lambda: False, lru) == "built"
    assert lru.get("k") is None
    assert remembered_plan("k", lambda: "built", lambda: True, lru) == "built"
    assert lru.get("k") == "built"


@pytest.mark.postgres
def test_the_raw_reads_and_the_cache_on_postgres(postgres_db_url, tmp_path):
    """The JSON columns read as text (plan key, transcript panel) on PostgreSQL's json type."""
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace
    from review.plans import Planner

    store = Store.open(postgres_db_url)
    try:
        planner = Planner.for_workspace(store, Workspace(tmp_path / "ws").ensure())
        _, tid, sents = add_interview(store, pseudonym="Omar", texts=TEXTS,
                                      labels={1: ("witnessed_brutality",)}, fps=25.0)
        cid = add_candidate(store, tid, sents, [0, 1, 2], themes=["witnessed_brutality"])
        planner.review_plan(cid)  # stores the derived cue track
        first = Planner(store, planner.key).review_plan(cid)
        assert Planner(store, planner.key).review_plan(cid) is first
        store.update_interviewee("Omar", identifying_words=("square",))
        after = Planner(store, planner.key).review_plan(cid)
        assert after.hash != first.hash and after.hash == fresh(store, planner, cid)
        ctx = ReviewStore(store).candidate_page(cid).context
        assert [s.text for s in ctx.sentences] == TEXTS
        assert ctx.sentences[1].labels == ("witnessed_brutality",) and ctx.sentences[1].why
        assert [w[2] for w in ctx.sentences[0].words] == TEXTS[0].split()
    finally:
        store.close()


def test_a_build_may_write_without_the_first_track_or_with_translation_tracks():
    from review.plan_cache import StoredInputs, build_may_write

    en = (("en", False, "{}"),)
    assert not build_may_write(StoredInputs("{}", "d", en, ()), "en")
    assert build_may_write(StoredInputs("{}", "d", (), ()), "en")
    assert build_may_write(StoredInputs("{}", "d", en, ()), "ar")
    assert build_may_write(StoredInputs("{}", "d", en, (("fr", 1, "draft", None, "{}", "{}"),)), "en")
