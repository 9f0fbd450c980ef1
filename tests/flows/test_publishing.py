"""Fast tests of issue 18's wiring: narrowing consent, the raw-source grant, recuts with cuts,
the distribution log's checks and the gate's refusal of withdrawn consent (no rendering)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.flows.timeline_seed import DEMO, PSEUDONYM, seed_demo

AUTH = {"platform": "any", "languages": ["en"], "shows_face": True, "uses_real_voice": False,
        "shows_name": False}


def _fake_export(store, cid: int, folder: Path, auth=AUTH) -> int:
    from clips_metadata.review_store import ReviewStore

    cand = store.get_candidate(cid)
    folder.mkdir(parents=True, exist_ok=True)
    video = folder / f"candidate-{cid}.mp4"
    video.write_bytes(b"not really a video " + bytes([cid]))
    from pipeline.atomic import file_sha256

    return ReviewStore(store).record_export(
        cid, cand.version, cand.content_hash, profile="master", language="en", paths=[str(video)],
        output_sha256=file_sha256(video), manifest_path=str(folder / "manifest.json"),
        authorisation=auth).id


def test_narrowing_consent_voids_what_it_no_longer_covers(workspace, capsys, tmp_path):
    from clips_metadata.publications_repo import PublicationsRepo
    from clips_metadata.store import Store
    from flows.cli import main
    from flows.services.publishing import open_takedowns, record_publication
    from review.gate import ExportRequest, GateRefused
    from review.keys import load_or_create_key
    from review.service import ReviewService

    store = Store.for_workspace(workspace)
    try:
        ids, _ = seed_demo(store, tmp_path, approve=2)
        c1, c2 = ids[:2]
        e1 = _fake_export(store, c1, tmp_path / "e1")
        e2 = _fake_export(store, c2, tmp_path / "e2", {**AUTH, "platform": "youtube"})
        record_publication(store, c1, "tiktok", "https://t.example.org/1", actor="t")
        record_publication(store, c2, "youtube", "https://y.example.org/2", actor="t")

        # Nothing narrowed: nothing voided, no list.
        ws = str(workspace.root)
        assert main(["interviewee", "set", PSEUDONYM, "--notes", "n", "--workspace", ws]) == 0
        assert "takedown" not in capsys.readouterr().out
        # Only YouTube from now on: the export for "any" platform is no longer covered.
        assert main(["interviewee", "set", PSEUDONYM, "--consent-platform", "youtube", "--reason", "moved",
                     "--workspace", str(workspace.root)]) == 0
        out = capsys.readouterr().out
        assert "takedown list:" in out and "platforms other than youtube" in out
        repo = PublicationsRepo(store)
        assert set(repo.voided_exports()) == {e1}
        assert [r.url for r in open_takedowns(store)] == ["https://t.example.org/1"]
        # Approvals stand: a platform is no part of what reviewers approved.
        assert store.get_candidate(c1).status == "approved"

        # No more face: approvals of clips that showed it are voided; the gate refuses.
        assert main(["interviewee", "set", PSEUDONYM, "--consent-face", "no",
                     "--workspace", str(workspace.root)]) == 0
        assert set(repo.voided_exports()) == {e1, e2}
        assert store.get_candidate(c1).status == "changes_requested"
        key = load_or_create_key(workspace, "export")
        with pytest.raises(GateRefused, match="not approved|no approval"):
            ReviewService.over(store).authorise(c1, ExportRequest(platform="youtube"), key=key)
        events = [e.action for e in ReviewService.over(store).rs.history(c1)]
        assert events[-1] == "consent_narrow"
        assert len(list(workspace.reports.glob("takedown-*.json"))) == 2
    finally:
        store.close()


def test_gate_refuses_a_withdrawn_interviewee_first():
    from datetime import UTC, datetime

    from review.gate import CandidateView, ConsentView, ExportRequest, GateRefused, authorise_export
    from review.rules import ApprovalFact

    cand = CandidateView(1, 1, "h", "approved")
    consent = ConsentView("Witness K", face=True, languages=("*",), platforms=("*",), withdrawn="2026-12-03")
    with pytest.raises(GateRefused, match="Witness K withdrew consent on 2026-12-03"):
        authorise_export(cand, (ApprovalFact("rita", 1, "h"),), consent, ExportRequest(), key=b"k",
                         now=datetime(2026, 12, 3, tzinfo=UTC))


def test_raw_source_grant_is_for_admins_only():
    from pipeline.authorisation import ExportAuthorisation
    from review.gate import GateRefused, authorise_raw_source
    from review.rules import may_hand_out_raw

    assert may_hand_out_raw("admin") and not may_hand_out_raw("reviewer") and not may_hand_out_raw("editor")
    auth = ExportAuthorisation(3, 2, "vh", ("rita",), "2026-12-03T06:00:00+00:00", plan_hash="ph")
    with pytest.raises(GateRefused, match="editor may not hand out raw"):
        authorise_raw_source(auth, "s" * 64, actor="eddie", role="editor", key=b"k")
    grant = authorise_raw_source(auth, "s" * 64, actor="ada", role="admin", key=b"k")
    assert (grant.candidate_id, grant.version, grant.plan_hash, grant.granted_by) == (3, 2, "ph", "ada")
    assert len(grant.signature) == 64


def test_raw_source_named_after_a_person_is_linked_under_its_sha256(tmp_path):
    from flows.services.timelines import _neutral_source
    from tests.pipeline.timeline.helpers import make_clip

    named = tmp_path / "Yusuf Darwish interview.mp4"
    named.write_bytes(b"source bytes")
    clip = make_clip(tmp_path)
    from dataclasses import replace

    from pipeline.timeline.records import MediaRef

    clip = replace(clip, source=MediaRef(str(named), "a" * 64))
    moved = _neutral_source(clip, tmp_path / "out", ("Yusuf Darwish",))
    assert Path(moved.source.path).name == "a" * 64 + ".mp4"
    assert Path(moved.source.path).read_bytes() == b"source bytes"
    plain = replace(clip, source=MediaRef(str(tmp_path / "interview.mp4"), "a" * 64))
    assert _neutral_source(plain, tmp_path / "out", ("Yusuf Darwish",)) == plain


def _two_range_otio(path: Path, source: Path, sha: str, ranges) -> None:
    import opentimelineio as otio

    rate = 25.0
    timeline = otio.schema.Timeline(name="recut")
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for a, b in ranges:
        ref = otio.schema.ExternalReference(target_url=source.absolute().as_uri())
        ref.metadata["counterclips"] = {"sha256": sha}
        track.append(otio.schema.Clip(name="c1v1", media_reference=ref, source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(round(a * rate), rate),
            otio.opentime.RationalTime(round((b - a) * rate), rate))))
    timeline.tracks.append(track)
    otio.adapters.write_to_file(timeline, str(path))


def test_recut_with_cuts_is_stored_and_its_render_refused(workspace, capsys, tmp_path):
    from clips_metadata.store import Store
    from flows.cli import main
    from pipeline.atomic import file_sha256
    from review.service import ReviewService

    store = Store.for_workspace(workspace)
    try:
        ids, pw = seed_demo(store, tmp_path, approve=1)
        c1 = ids[0]
        sha = file_sha256(DEMO)
        edited = tmp_path / "cuts.otio"
        _two_range_otio(edited, DEMO, sha, [(0.2, 1.0), (1.4, 2.0)])
        assert main(["import-timeline", str(edited), "--candidate", str(c1), "--as", "eddie",
                     "--password-file", str(pw), "--workspace", str(workspace.root)]) == 0
        out = capsys.readouterr().out
        assert "cuts 1.00-1.40" in out and "proposed" in out
        cand = store.get_candidate(c1)
        assert cand.render_options["cuts"] == [[1.0, 1.4]] and (cand.start, cand.end) == (0.2, 2.0)
        assert cand.updated_by == "eddie"
        ReviewService.over(store, workspace).act(c1, "approve", actor="rita", role="reviewer")
        assert main(["export", str(c1), "--no-progress", "--workspace", str(workspace.root)]) == 1
        err = capsys.readouterr().err
        assert "has cuts inside the clip" in err and len(err.strip().splitlines()) == 1

        # Other media is refused with its line; the file's name is not repeated.
        other = tmp_path / "other.mp4"
        other.write_bytes(b"x")
        _two_range_otio(tmp_path / "other.otio", other, "b" * 64, [(0.0, 1.0)])
        assert main(["import-timeline", str(tmp_path / "other.otio"), "--candidate", str(c1),
                     "--workspace", str(workspace.root)]) == 1
        err = capsys.readouterr().err
        assert "other.otio: line" in err and "other media" in err
    finally:
        store.close()


def test_publication_checks_the_exported_file(workspace, tmp_path):
    from clips_metadata.store import Store
    from flows.services.publishing import PublishError, list_publications, mark_taken_down, record_publication

    store = Store.for_workspace(workspace)
    try:
        ids, _ = seed_demo(store, tmp_path, approve=2)
        with pytest.raises(PublishError, match="no recorded export"):
            record_publication(store, ids[0], "youtube", "https://y.example.org/1", actor="t")
        _fake_export(store, ids[0], tmp_path / "e1")
        with pytest.raises(PublishError, match="in the future"):
            record_publication(store, ids[0], "youtube", "https://y.example.org/1", actor="t",
                               at="2999-01-01")
        (tmp_path / "e1" / "manifest.json").write_text(json.dumps({"output": {"sha256": "f" * 64}}))
        with pytest.raises(PublishError, match="manifest names another file"):
            record_publication(store, ids[0], "youtube", "https://y.example.org/1", actor="t")
        (tmp_path / "e1" / "manifest.json").unlink()
        (tmp_path / "e1" / f"candidate-{ids[0]}.mp4").write_bytes(b"changed")
        with pytest.raises(PublishError, match="changed since it was exported"):
            record_publication(store, ids[0], "youtube", "https://y.example.org/1", actor="t")
        assert list_publications(store) == ()
        with pytest.raises(PublishError, match="no open publication"):
            mark_taken_down(store, actor="t", candidate_id=ids[0])
    finally:
        store.close()


def test_candidate_page_shows_publications(workspace, tmp_path):
    import re

    from fastapi.testclient import TestClient

    from clips_metadata.store import Store
    from flows.services.publishing import record_publication
    from review.app import create_app
    from tests.review.conftest import PASSWORD

    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    store = Store.for_workspace(workspace)
    try:
        ids, _ = seed_demo(store, tmp_path, approve=1)
        _fake_export(store, ids[0], tmp_path / "e1")
        record_publication(store, ids[0], "youtube", "https://y.example.org/watch?v=<b>1", actor="t")
        app = create_app(workspace, store=store, session_key=b"t" * 32)
        with TestClient(app, follow_redirects=False) as client:
            t = token.search(client.get("/login").text).group(1)
            r = client.post("/login", data={"username": "rita", "password": PASSWORD, "csrf_token": t,
                                            "next": "/"})
            assert r.status_code == 303
            page = client.get(f"/candidates/{ids[0]}").text
            assert 'id="publications-h"' in page and "youtube" in page
            assert "https://y.example.org/watch?v=&lt;b&gt;1" in page and "<b>1" not in page
            other = client.get(f"/candidates/{ids[1]}/publications").text
            assert "No publication recorded" in other
    finally:
        store.close()


def _consents():
    from datetime import date

    from hypothesis import strategies as st

    from clips_metadata.stored_records import Consent

    codes = st.lists(st.sampled_from(["*", "en", "fr", "ar", "youtube", "x"]), max_size=3).map(tuple)
    expiry = st.one_of(st.none(), st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
    return st.builds(Consent, face=st.booleans(), voice=st.booleans(), name=st.booleans(), languages=codes,
                     platforms=codes, expires=expiry)


def _scopes():
    from hypothesis import strategies as st

    return st.fixed_dictionaries({
        "shows_face": st.booleans(), "uses_real_voice": st.booleans(), "shows_name": st.booleans(),
        "platform": st.sampled_from(["any", "youtube", "x", "tiktok"]),
        "languages": st.lists(st.sampled_from(["en", "fr", "ar", "de"]), max_size=2)})


def test_nothing_narrowed_means_no_covered_export_becomes_uncovered():
    """`narrowed_aspects` and the export check agree: when a consent change narrows nothing, every
    export the old consent covered is still covered (so withdrawal wiring never misses one)."""
    from datetime import date

    from hypothesis import given, settings

    from flows.services.publishing import _export_uncovered, narrowed_aspects

    today = date(2026, 12, 3)

    @settings(max_examples=300, deadline=None)
    @given(_consents(), _consents(), _scopes())
    def check(old, new, scope):
        assert narrowed_aspects(old, old, today) == ()
        if not narrowed_aspects(old, new, today) and not _export_uncovered(scope, old, today):
            assert not _export_uncovered(scope, new, today)

    check()
