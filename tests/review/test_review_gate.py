"""The export gate's refusals, and that only a genuine, current authorisation verifies."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from pipeline.authorisation import ExportAuthorisation, verify_authorisation
from pipeline.errors import AuthorisationError
from review.gate import CandidateView, ConsentView, ExportRequest, GateRefused, authorise_export
from review.keys import KeyFileError, load_or_create_key
from review.rules import ApprovalFact

KEY = b"k" * 32
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RISKS = ("justifies_violence", "credibility")
CONSENT = ConsentView(pseudonym="Samir", face=True, voice=True, name=False,
                      expires=date(2027, 1, 1), languages=("en", "ar"), platforms=("web", "youtube"))
REQUEST = ExportRequest(profile="master", language="en", platform="web", shows_face=True,
                        uses_real_voice=True, shows_name=False)


def cand(**kw) -> CandidateView:
    base = dict(candidate_id=7, version=2, version_hash="hash-v2", status="approved",
                risks=(), edited_by=("ed",))
    base.update(kw)
    return CandidateView(**base)


def ok(reviewer: str = "rev1", version: int = 2, h: str = "hash-v2", acks=()) -> ApprovalFact:
    return ApprovalFact(reviewer, version, h, tuple(acks))


def test_gate_issues_a_signed_authorisation_that_verifies():
    auth = authorise_export(cand(), [ok()], CONSENT, REQUEST, key=KEY, now=NOW)
    assert auth.approvers == ("rev1",) and auth.version == 2
    verify_authorisation(auth, KEY, "hash-v2", candidate_id=7)


def test_gate_refuses_an_unapproved_candidate():
    with pytest.raises(GateRefused, match="not approved"):
        authorise_export(cand(status="in_review"), [ok()], CONSENT, REQUEST, key=KEY, now=NOW)
    with pytest.raises(GateRefused, match="no approval"):
        authorise_export(cand(), [], CONSENT, REQUEST, key=KEY, now=NOW)


def test_gate_refuses_a_version_changed_after_approval():
    with pytest.raises(GateRefused, match="changed after its approval"):
        authorise_export(cand(version=3, version_hash="hash-v3"), [ok()], CONSENT, REQUEST, key=KEY, now=NOW)


def test_gate_refuses_a_single_approval_on_a_risky_clip():
    with pytest.raises(GateRefused, match="needs 2 approvals"):
        authorise_export(cand(risks=RISKS), [ok(acks=RISKS)], CONSENT, REQUEST, key=KEY, now=NOW)
    # the same reviewer twice is still one reviewer
    with pytest.raises(GateRefused, match="needs 2 approvals"):
        authorise_export(cand(risks=RISKS), [ok(acks=RISKS), ok(acks=RISKS)], CONSENT, REQUEST,
                         key=KEY, now=NOW)
    auth = authorise_export(cand(risks=RISKS), [ok(acks=RISKS), ok("rev2", acks=RISKS)],
                            CONSENT, REQUEST, key=KEY, now=NOW)
    assert auth.approvers == ("rev1", "rev2")


def test_gate_refuses_an_approval_without_every_risk_acknowledged():
    with pytest.raises(GateRefused, match="did not acknowledge"):
        authorise_export(cand(risks=RISKS), [ok(acks=RISKS), ok("rev2", acks=RISKS[:1])],
                         CONSENT, REQUEST, key=KEY, now=NOW)


def test_gate_refuses_self_approval_by_the_editor_of_the_version():
    with pytest.raises(GateRefused, match="ed approved a version they edited"):
        authorise_export(cand(), [ok("ed")], CONSENT, REQUEST, key=KEY, now=NOW)


@pytest.mark.parametrize(
    "consent,request_,reason",
    [
        (replace(CONSENT, face=False), REQUEST, "face"),
        (replace(CONSENT, voice=False), REQUEST, "real voice"),
        (CONSENT, replace(REQUEST, shows_name=True), "name"),
        (replace(CONSENT, expires=date(2026, 11, 22)), REQUEST, "expired on 2026-11-22"),
        (CONSENT, replace(REQUEST, language="fr"), "language 'fr'"),
        (CONSENT, replace(REQUEST, platform="tiktok"), "platform 'tiktok'"),
        (replace(CONSENT, languages=()), REQUEST, "language 'en'"),
        (replace(CONSENT, pseudonym="unassigned"), REQUEST, "not assigned"),
    ],
)
def test_gate_refuses_what_consent_does_not_cover_naming_the_reason(consent, request_, reason):
    with pytest.raises(GateRefused, match=reason):
        authorise_export(cand(), [ok()], consent, request_, key=KEY, now=NOW)


def test_consent_wildcards_and_blurred_faces_pass():
    consent = replace(CONSENT, face=False, voice=False, languages=("*",), platforms=("*",))
    req = replace(REQUEST, shows_face=False, uses_real_voice=False, language="fr", platform="tiktok")
    authorise_export(cand(), [ok()], consent, req, key=KEY, now=NOW)
    # expiry day itself is still covered
    authorise_export(cand(), [ok()], replace(CONSENT, expires=NOW.date()), REQUEST, key=KEY, now=NOW)


def test_forged_and_stale_authorisations_fail_verification():
    auth = authorise_export(cand(), [ok()], CONSENT, REQUEST, key=KEY, now=NOW)
    with pytest.raises(AuthorisationError, match="stale"):
        verify_authorisation(auth, KEY, "hash-v3")
    with pytest.raises(AuthorisationError, match="forged"):
        verify_authorisation(replace(auth, approvers=("mallory",)), KEY, "hash-v2")
    with pytest.raises(AuthorisationError, match="forged"):
        verify_authorisation(auth, b"x" * 32, "hash-v2")
    forged = ExportAuthorisation(7, 2, "hash-v2", ("rev1",), NOW.isoformat(), signature="0" * 64)
    with pytest.raises(AuthorisationError, match="forged"):
        verify_authorisation(forged, KEY, "hash-v2")
    with pytest.raises(AuthorisationError, match="no export authorisation"):
        verify_authorisation(None, KEY, "hash-v2")


def test_keys_are_created_once_private_and_reused(workspace):
    k1 = load_or_create_key(workspace, "export")
    path = workspace.secrets / "export.key"
    assert len(k1) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(workspace, "export") == k1
    assert load_or_create_key(workspace, "session") != k1
    assert not [p for p in workspace.secrets.iterdir() if p.name.endswith(".tmp")]
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        load_or_create_key(workspace, "export")
    with pytest.raises(KeyFileError):
        load_or_create_key(workspace, "../etc")


def test_authorisation_carries_the_scope_checked_against_consent():
    consent = replace(CONSENT, languages=("en", "ar"))
    auth = authorise_export(cand(languages=("en", "ar", "fr")), [ok()], consent, REQUEST, key=KEY, now=NOW)
    assert (auth.profile, auth.platform) == ("master", "web")
    assert auth.languages == ("ar", "en")  # fr has approved text but no consent: it stays in
    assert auth.shows_face and auth.uses_real_voice and not auth.shows_name
    verify_authorisation(auth, KEY, "hash-v2", candidate_id=7)
    # The scope is signed: widening it afterwards breaks the signature.
    with pytest.raises(AuthorisationError, match="forged"):
        verify_authorisation(replace(auth, languages=("ar", "en", "fr")), KEY, "hash-v2")
    with pytest.raises(AuthorisationError, match="forged"):
        verify_authorisation(replace(auth, shows_name=True), KEY, "hash-v2")


def test_authorisation_binds_the_registry_redactions_without_revealing_them():
    import json

    from pipeline.authorisation import redaction_digest

    consent = replace(CONSENT, real_names=("Yusuf Darwish",), identifying_words=("Raqqa bakery",))
    hidden = authorise_export(cand(), [ok()], consent, REQUEST, key=KEY, now=NOW)
    assert hidden.redactions == redaction_digest(("raqqa bakery", "YUSUF DARWISH"), KEY)
    assert "Yusuf" not in json.dumps(hidden.to_dict()) and "Raqqa" not in json.dumps(hidden.to_dict())
    shown = authorise_export(cand(), [ok()], replace(consent, name=True), replace(REQUEST, shows_name=True),
                             key=KEY, now=NOW)
    assert shown.redactions == redaction_digest(("Raqqa bakery",), KEY) != hidden.redactions
