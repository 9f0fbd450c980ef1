"""`counterclips export`: through the review gate to a real render, or a one-line refusal."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from clips_metadata.stored_records import Consent
from flows.cli import main
from flows.services.exporting import editor_redactions, protection_for
from pipeline.atomic import file_sha256
from tests.conftest import shared_media_file

TALKING_HEAD = "vid_en_talkinghead_3.mp4"
TEXT = "Leaving was the hardest thing I ever did."


def _seed(workspace, consent: Consent, approve: bool = True) -> int:
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from review.plans import Planner
    from review.service import ReviewService
    from tests.review.seed import add_candidate, add_interview

    src = shared_media_file(TALKING_HEAD)
    store = Store.for_workspace(workspace)
    try:
        _, tid, sents = add_interview(store, pseudonym="Amal", texts=[TEXT],
                                      labels={0: ("disillusionment_exit",)}, sha256=file_sha256(src),
                                      path=str(src), duration=5.0, consent=consent)
        cid = add_candidate(store, tid, sents, [0], themes=("disillusionment_exit",))
        if approve:
            rs = ReviewStore(store)
            rs.add_user("rita", "reviewer", "not-a-real-hash")
            ReviewService(rs, Planner.for_workspace(store, workspace)).act(
                cid, "approve", actor="rita", role="reviewer")
        return cid
    finally:
        store.close()


CONSENT = Consent(face=True, voice=False, name=False, languages=("*",), platforms=("youtube",),
                  expires=date(2099, 1, 1))


@pytest.mark.slow
def test_export_renders_through_the_gate_and_prints_paths(workspace, capsys):
    cid = _seed(workspace, CONSENT)
    code = main(["export", str(cid), "--workspace", str(workspace.root), "--platform", "youtube",
                 "--preset", "ultrafast", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    paths = [Path(line) for line in out.splitlines()]
    assert paths[0].suffix == ".mp4" and paths[-1].name == "manifest.json"
    assert all(p.is_file() and workspace.exports in p.parents for p in paths)
    manifest = json.loads(paths[-1].read_text())
    assert manifest["identity_protection"]["voice_altered"] is True  # no voice consent
    assert manifest["identity_protection"]["face_blurred"] is False  # face consent given
    assert [e["action"] for e in manifest["audit"]] == ["approve"]
    assert manifest["authorisation"]["approvers"] == ["rita"]
    assert manifest["render"]["options"]["preset"] == "ultrafast"
    # The registry's real name (no name consent) was required, and checked, as a keyed digest only.
    assert len(manifest["authorisation"]["redactions"]) == 64 and "Real Name" not in paths[-1].read_text()
    srt = next(p for p in paths if p.suffix == ".srt").read_text()
    assert "hardest" in srt

    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store

    store = Store.for_workspace(workspace)
    try:
        (record,) = ReviewStore(store).exports(cid)
        assert record.output_sha256 == manifest["output"]["sha256"]
    finally:
        store.close()


def test_export_refused_by_the_gate_in_one_line(workspace, capsys):
    cid = _seed(workspace, CONSENT, approve=False)
    assert main(["export", str(cid), "--workspace", str(workspace.root), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("counterclips: error:") and "not approved" in err
    assert not any(workspace.exports.iterdir())


def test_export_refused_when_consent_does_not_cover_the_platform(workspace, capsys):
    cid = _seed(workspace, CONSENT)
    assert main(["export", str(cid), "--workspace", str(workspace.root), "--platform", "tiktok",
                 "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "platform 'tiktok'" in err
    assert not any(workspace.exports.iterdir())


def test_protection_follows_consent_and_only_adds():
    c = Consent(face=False, voice=True, name=True)
    p = protection_for(c, ("Karim Haddad",), ("Raqqa",), {})
    assert (p.blur_faces, p.alter_voice, p.redact_terms, p.shows_name) == (True, False, ("Raqqa",), True)
    p = protection_for(c, ("Karim Haddad",), (), {"alter_voice": True, "redact_names": True})
    assert p.alter_voice and p.redact_terms == ("Karim Haddad",) and not p.shows_name


def test_editor_redactions_lenient():
    terms, spans = editor_redactions(({"term": "Mosul"}, {"start": 1.0, "end": 1.5}, {"text": " "}))
    assert terms == ("Mosul",) and spans == ((1.0, 1.5),)


@pytest.mark.slow
def test_export_writes_no_subtitles_in_a_language_the_consent_does_not_cover(workspace, capsys):
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from review.plans import Planner
    from review.service import ReviewService

    consent = Consent(face=True, voice=True, name=False, languages=("en",), platforms=("*",),
                      expires=date(2099, 1, 1))
    cid = _seed(workspace, consent, approve=False)
    store = Store.for_workspace(workspace)
    try:
        rs = ReviewStore(store)
        rs.add_user("rita", "reviewer", "not-a-real-hash")
        rs.add_user("ed", "editor", "not-a-real-hash")
        svc = ReviewService(rs, Planner.for_workspace(store, workspace))
        version = store.get_candidate(cid).version
        svc.edit(cid, version, {"translations": {"ar": "كان الرحيل أصعب شيء فعلته في حياتي."}},
                 actor="ed", role="editor")
        svc.act(cid, "approve", actor="rita", role="reviewer")
    finally:
        store.close()
    assert main(["export", str(cid), "--workspace", str(workspace.root), "--preset", "ultrafast",
                 "--no-progress"]) == 0
    paths = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(p.name.split(".")[-2] for p in paths if p.suffix in (".srt", ".vtt")) == ["en", "en"]
    manifest = json.loads(paths[-1].read_text())
    assert list(manifest["subtitles"]) == ["en"] and manifest["authorisation"]["languages"] == ["en"]
    # Burning Arabic is refused outright: the consent does not cover it.
    assert main(["export", str(cid), "--workspace", str(workspace.root), "--lang", "ar",
                 "--no-progress"]) == 1
    assert "language 'ar'" in capsys.readouterr().err
