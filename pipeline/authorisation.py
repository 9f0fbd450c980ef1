"""Export authorisations: the only thing the renderer accepts as permission to write an export.

The review gate (review/gate.py) issues one for an exact candidate version; the renderer checks
its signature and that it names the version about to be rendered. The key lives in the
workspace's secrets folder, so a forged or edited authorisation fails verification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from pipeline.errors import AuthorisationError


def canonical_json(value: Any) -> bytes:
    """Stable bytes for hashing: sorted keys, no whitespace, floats rounded to milliseconds."""

    def norm(v: Any) -> Any:
        if isinstance(v, float):
            return round(v, 3)
        if isinstance(v, Mapping):
            return {str(k): norm(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [norm(x) for x in v]
        return v

    return json.dumps(norm(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def version_hash(fields: Mapping[str, Any]) -> str:
    """sha256 over everything that changes what an export shows or plays.

    Callers pass at least: source sha256, start and end (seconds), subtitle and translation texts
    per language, redactions, and render options that alter picture or sound.
    """
    return hashlib.sha256(canonical_json(fields)).hexdigest()


@dataclass(frozen=True, slots=True)
class ExportAuthorisation:
    """Permission to export one candidate version. `issued_at` is an ISO-8601 UTC string.

    The scope the gate checked against the interviewee's consent is signed with it, so the
    renderer can hold the export to it: `profile`, `platform` and the `languages` whose subtitles
    may leave ("" and () = not bound; the gate always binds them), and whether the face, the real
    voice and the real name may be shown (False: the export must blur, alter, redact), and a
    keyed digest of the words the registry requires hidden (real names unless shown, identifying
    words always): the renderer checks it against the terms it is asked to redact, and the
    manifest that carries the authorisation reveals no name.
    """

    candidate_id: int
    version: int
    version_hash: str
    approvers: tuple[str, ...]
    issued_at: str
    profile: str = ""
    platform: str = ""
    languages: tuple[str, ...] = ()
    shows_face: bool = False
    uses_real_voice: bool = False
    shows_name: bool = False
    redactions: str = ""  # redaction_digest of the terms the registry requires hidden ("" = none)
    plan_hash: str = ""  # pipeline.publication.plan_hash of the plan approved ("" = none)
    signature: str = ""

    def payload(self) -> bytes:
        body = asdict(self)
        body.pop("signature")
        return canonical_json(body)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportAuthorisation:
        try:
            return cls(
                candidate_id=int(data["candidate_id"]),
                version=int(data["version"]),
                version_hash=str(data["version_hash"]),
                approvers=tuple(str(a) for a in data["approvers"]),
                issued_at=str(data["issued_at"]),
                profile=str(data.get("profile", "")),
                platform=str(data.get("platform", "")),
                languages=tuple(str(x) for x in data.get("languages", ())),
                shows_face=bool(data.get("shows_face", False)),
                uses_real_voice=bool(data.get("uses_real_voice", False)),
                shows_name=bool(data.get("shows_name", False)),
                redactions=str(data.get("redactions", "")),
                plan_hash=str(data.get("plan_hash", "")),
                signature=str(data.get("signature", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AuthorisationError(f"malformed export authorisation: {exc}") from exc


def sign_authorisation(auth: ExportAuthorisation, key: bytes) -> ExportAuthorisation:
    """Return `auth` carrying an HMAC-SHA256 signature under `key`."""
    sig = hmac.new(key, auth.payload(), hashlib.sha256).hexdigest()
    return replace(auth, signature=sig)


def verify_authorisation(
    auth: ExportAuthorisation | None, key: bytes, expected_hash: str, candidate_id: int | None = None
) -> ExportAuthorisation:
    """Raise AuthorisationError unless `auth` is genuine and names exactly this version."""
    auth = _genuine(auth, key)
    if candidate_id is not None and auth.candidate_id != candidate_id:
        raise AuthorisationError(
            f"export authorisation is for candidate {auth.candidate_id}, not {candidate_id}"
        )
    if auth.version_hash != expected_hash:
        raise AuthorisationError(
            f"export authorisation is stale: it approves version {auth.version} "
            "but the candidate has changed since"
        )
    return auth


def _genuine(auth: ExportAuthorisation | None, key: bytes) -> ExportAuthorisation:
    if auth is None:
        raise AuthorisationError("no export authorisation: the candidate must be approved first")
    good = hmac.new(key, auth.payload(), hashlib.sha256).hexdigest()
    if not auth.signature or not hmac.compare_digest(good, auth.signature):
        raise AuthorisationError("export authorisation signature is invalid (forged or altered)")
    return auth


def verify_plan_authorisation(auth: ExportAuthorisation | None, key: bytes, plan_hash: str,
                              candidate_id: int, version: int) -> ExportAuthorisation:
    """Raise AuthorisationError unless `auth` is genuine and signs exactly this plan."""
    auth = _genuine(auth, key)
    if not auth.plan_hash:
        raise AuthorisationError("export authorisation names no publication plan")
    if auth.candidate_id != candidate_id:
        raise AuthorisationError(
            f"export authorisation is for candidate {auth.candidate_id}, not {candidate_id}")
    if auth.plan_hash != plan_hash or auth.version != version:
        raise AuthorisationError(
            f"export authorisation is stale: it approves another plan (version {auth.version}) "
            "than the one about to be rendered")
    return auth


def _term_set(terms: Iterable[str]) -> set[str]:
    from pipeline.terms import fold  # the one normaliser of registry terms

    return {f for f in (fold(t) for t in terms) if f}


def redaction_digest(terms: Iterable[str], key: bytes) -> str:
    """HMAC-SHA256 of a set of words to redact (case and order ignored); "" for none. Keyed,
    so that a digest in a manifest cannot be checked against guessed names."""
    words = sorted(_term_set(terms))
    return hmac.new(key, canonical_json(words), hashlib.sha256).hexdigest() if words else ""


def redaction_refusal(auth: ExportAuthorisation, key: bytes, required: Iterable[str],
                      redacted: Iterable[str]) -> str | None:
    """Why an export's redactions fall short of the authorisation, or None. `required` are the
    registry's terms the caller says it hides; `redacted` everything it will redact."""
    required = tuple(required)
    if redaction_digest(required, key) != auth.redactions:
        return "redaction terms differ from those the registry required when the export was authorised"
    missing = _term_set(required) - _term_set(redacted)
    if missing:
        return f"{len(missing)} required redaction term(s) would not be redacted"
    return None


def scope_refusal(auth: ExportAuthorisation, profile: str, platform: str, languages: tuple[str, ...],
                  blur_faces: bool, alter_voice: bool) -> str | None:
    """Why an export with these settings goes beyond what `auth` permits, or None.
    `languages` are those whose subtitles the export writes (burned or sidecar)."""
    if auth.profile and profile != auth.profile:
        return f"export authorisation is for the {auth.profile} profile, not {profile}"
    if auth.platform and platform != auth.platform:
        return f"export authorisation is for platform {auth.platform!r}, not {platform!r}"
    outside = sorted(set(languages) - set(auth.languages)) if auth.languages else []
    if outside:
        return f"export authorisation does not cover subtitles in {', '.join(outside)}"
    if not auth.shows_face and not blur_faces:
        return "export authorisation requires the face to be blurred"
    if not auth.uses_real_voice and not alter_voice:
        return "export authorisation requires the voice to be altered"
    return None
