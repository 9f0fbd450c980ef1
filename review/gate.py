"""The export gate: the only issuer of `ExportAuthorisation`s. Pure apart from the key it is given.

Usage (the renderer's `counterclips export`)::

    from review.gate import ExportRequest, GateRefused
    from review.keys import load_or_create_key
    from review.service import ReviewService

    key = load_or_create_key(workspace, "export")
    request = ExportRequest(profile="vertical", language="en", platform="instagram",
                            shows_face=False, uses_real_voice=False, shows_name=False)
    auth = ReviewService.over(store).authorise(candidate_id, request, key=key)  # or GateRefused
    render_export(..., authorisation=auth, key=key)   # verify_authorisation(auth, key, hash)
    ReviewStore(store).record_export(...); ReviewStore(store).audit_for_manifest(candidate_id)

Lower level, without a store: `authorise_export(candidate: CandidateView, approvals:
Sequence[ApprovalFact], consent: ConsentView | None, request: ExportRequest, *, key, now=None)`.
The expected hash for `verify_authorisation` is the candidate's `content_hash`.

`GateRefused` is a CounterclipsError whose one-line message names the reason (the CLI prints
it). The authorisation binds the candidate id, version and version hash (any later edit changes
the hash and `pipeline.authorisation.verify_authorisation` then refuses it as stale) and the
scope checked against the consent: profile, platform, subtitle languages, face, voice and name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from clips_metadata.stored_records import ANY, UNASSIGNED
from pipeline.authorisation import ExportAuthorisation, canonical_json, redaction_digest, sign_authorisation
from pipeline.errors import CounterclipsError
from review.rules import (
    RAW_FOOTAGE_ROLES,
    ApprovalFact,
    ReviewFacts,
    State,
    current_approvals,
    may_hand_out_raw,
    required_approvals,
)


class GateRefused(CounterclipsError):
    """The export gate refused: the message names the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CandidateView:
    """The candidate as the gate sees it, at its current version."""

    candidate_id: int
    version: int
    version_hash: str
    status: str
    risks: tuple[str, ...] = ()  # includes "credibility" when the interview has a warning
    edited_by: tuple[str, ...] = ()  # people whose edits are part of this version
    languages: tuple[str, ...] = ()  # languages with approved subtitle text
    interviewee_id: int | None = None


@dataclass(frozen=True, slots=True)
class ConsentView:
    """The interviewee's consent scope, as in the registry (`clips_metadata.stored_records.Consent`):
    an empty language/platform list allows nothing (fail closed); the entry "*" allows all."""

    pseudonym: str
    face: bool = False
    voice: bool = False
    name: bool = False
    expires: date | None = None  # consent is valid through this day (UTC)
    languages: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    real_names: tuple[str, ...] = ()  # hidden unless `name` and the export shows the name
    identifying_words: tuple[str, ...] = ()  # always hidden
    withdrawn: str = ""  # ISO date the interviewee withdrew consent ("" = not withdrawn)


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What the export would show or play. A blurred face or altered voice is not shown/used."""

    profile: str = "master"
    language: str = "en"
    platform: str = "any"
    shows_face: bool = False
    uses_real_voice: bool = False
    shows_name: bool = False
    plan_hash: str = ""  # pipeline.publication.plan_hash of the plan to render (signed as given)


def _allows(allowed: tuple[str, ...], value: str) -> bool:
    return ANY in allowed or value.lower() in {a.lower() for a in allowed}


def consent_refusal(consent: ConsentView, request: ExportRequest, today: date) -> str | None:
    """The first reason the consent does not cover the request, or None."""
    who = consent.pseudonym
    if who == UNASSIGNED:
        return "the interview is not assigned to a registered interviewee"
    if consent.expires is not None and today > consent.expires:
        return f"consent of {who} expired on {consent.expires.isoformat()}"
    if request.shows_face and not consent.face:
        return f"{who} has not consented to showing their face (blur it)"
    if request.uses_real_voice and not consent.voice:
        return f"{who} has not consented to the use of their real voice (alter it)"
    if request.shows_name and not consent.name:
        return f"{who} has not consented to showing their name"
    if not _allows(consent.languages, request.language):
        return f"consent of {who} does not cover language {request.language!r}"
    if not _allows(consent.platforms, request.platform):
        return f"consent of {who} does not cover platform {request.platform!r}"
    return None


def registry_redactions(real_names: Sequence[str], identifying_words: Sequence[str],
                        shows_name: bool) -> tuple[str, ...]:
    """The registry's words an export must hide: identifying words (stored as "X=Y" specs, see
    `pipeline.terms.IdentifyingWord`) always, real names unless the export shows the name. The
    gate signs these; the export redacts them through `pipeline.terms`."""
    from pipeline.terms import IdentifyingWord, TermError, fold

    words: list[str] = []
    for spec in identifying_words:
        try:
            words.append(IdentifyingWord.parse(spec).term)
        except TermError:
            continue  # an empty spec hides nothing; plan_for refuses a malformed one
    names = () if shows_name else tuple(real_names)
    return tuple(t for t in (*words, *names) if fold(t))


def authorise_export(
    candidate: CandidateView,
    approvals: Sequence[ApprovalFact],
    consent: ConsentView | None,
    request: ExportRequest,
    *,
    key: bytes,
    now: datetime | None = None,
) -> ExportAuthorisation:
    """Issue a signed authorisation for exactly this version, or raise GateRefused naming why."""
    now = now or datetime.now(UTC)
    cid = candidate.candidate_id
    if not key:
        raise GateRefused("no signing key for export authorisations")
    if consent is not None and consent.withdrawn:
        raise GateRefused(f"{consent.pseudonym} withdrew consent on {consent.withdrawn}: "
                          "their clips may not be exported")
    if candidate.status != State.APPROVED:
        raise GateRefused(f"candidate {cid} is {candidate.status.replace('_', ' ')}, not approved")
    facts = ReviewFacts(
        state=State.APPROVED,
        version=candidate.version,
        version_hash=candidate.version_hash,
        risks=candidate.risks,
        edited_by=candidate.edited_by,
        approvals=tuple(approvals),
    )
    on_version = [a for a in approvals if a.version_hash == candidate.version_hash
                  and a.version == candidate.version]
    if not on_version:
        if approvals:
            raise GateRefused(
                f"candidate {cid} changed after its approval: version {candidate.version} is not approved"
            )
        raise GateRefused(f"candidate {cid} has no approval")
    selfish = sorted({a.reviewer for a in on_version if a.reviewer in candidate.edited_by})
    valid = current_approvals(facts)
    needed = required_approvals(candidate.risks)
    if len(valid) < needed:
        if selfish:
            raise GateRefused(f"{', '.join(selfish)} approved a version they edited themselves")
        unacked = [a.reviewer for a in on_version if not set(candidate.risks) <= set(a.acknowledged_risks)]
        if unacked:
            raise GateRefused(f"approval by {', '.join(sorted(set(unacked)))} did not acknowledge every risk")
        raise GateRefused(
            f"candidate {cid} carries risks ({', '.join(candidate.risks)}) and needs {needed} "
            f"approvals by different reviewers; it has {len(valid)}"
        )
    if candidate.languages and request.language not in candidate.languages:
        raise GateRefused(f"candidate {cid} has no subtitle text in language {request.language!r}")
    if consent is None:
        raise GateRefused(f"candidate {cid} has no interviewee consent on record")
    reason = consent_refusal(consent, request, now.astimezone(UTC).date())
    if reason:
        raise GateRefused(reason)
    # Sidecars go out in every approved language the consent covers, never in one it does not.
    languages = tuple(sorted({request.language, *(lang for lang in candidate.languages
                                                  if _allows(consent.languages, lang))}))
    auth = ExportAuthorisation(
        candidate_id=cid,
        version=candidate.version,
        version_hash=candidate.version_hash,
        approvers=tuple(sorted(a.reviewer for a in valid)),
        issued_at=now.astimezone(UTC).isoformat(timespec="seconds"),
        profile=request.profile,
        platform=request.platform,
        languages=languages,
        shows_face=request.shows_face,
        uses_real_voice=request.uses_real_voice,
        shows_name=request.shows_name,
        redactions=redaction_digest(registry_redactions(consent.real_names, consent.identifying_words,
                                                        request.shows_name), key),
        plan_hash=request.plan_hash,
    )
    return sign_authorisation(auth, key)


@dataclass(frozen=True, slots=True)
class RawSourceGrant:
    """The gate's separate, signed permission to hand out a candidate version's raw source (e.g.
    as a timeline's media): bound to the export authorisation it extends and to the source hash."""

    candidate_id: int
    version: int
    version_hash: str
    plan_hash: str
    source_sha256: str
    granted_by: str
    role: str
    issued_at: str
    signature: str = ""

    def payload(self) -> bytes:
        return canonical_json({k: getattr(self, k) for k in self.__slots__ if k != "signature"})

    def to_dict(self) -> dict[str, str | int]:
        return {k: getattr(self, k) for k in self.__slots__}


def authorise_raw_source(auth: ExportAuthorisation, source_sha256: str, *, actor: str, role: str,
                         key: bytes, now: datetime | None = None) -> RawSourceGrant:
    """Sign a raw-source grant for the version `auth` authorises, or raise GateRefused when the
    person's role may not hand out raw footage (`review.rules.RAW_FOOTAGE_ROLES`)."""
    import hashlib
    import hmac

    if not key:
        raise GateRefused("no signing key for raw-source grants")
    if not may_hand_out_raw(role):
        allowed = ", ".join(sorted(r.value for r in RAW_FOOTAGE_ROLES))
        raise GateRefused(f"a {role} may not hand out raw source footage (only: {allowed})")
    now = now or datetime.now(UTC)
    grant = RawSourceGrant(auth.candidate_id, auth.version, auth.version_hash, auth.plan_hash, source_sha256,
                           actor, str(role), now.astimezone(UTC).isoformat(timespec="seconds"))
    sig = hmac.new(key, grant.payload(), hashlib.sha256).hexdigest()
    return RawSourceGrant(**{**{k: getattr(grant, k) for k in grant.__slots__}, "signature": sig})
