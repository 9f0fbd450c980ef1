"""After the export: the distribution log (where each exported file was published), takedowns,
and withdrawal or narrowing of an interviewee's consent.

- `record_publication`: ties a publication to the exact exported file by its sha256 (checked
  against the manifest and, when present, the file itself).
- `mark_taken_down`: closes publications (nothing is deleted).
- `withdraw_consent` / `narrow_consent`: void every approval and export authorisation the new
  consent no longer covers (audited, by pseudonym), block exports (the gate refuses a withdrawn
  person), and write the takedown list `takedown-<stamp>.csv|.json` in the workspace's reports.
- `open_takedowns`: the publications still online whose export a withdrawal voided (the nightly
  report lists them until each is marked taken down).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from clips_metadata.publications_repo import PublicationsRepo, StoredPublication
from clips_metadata.review_store import ReviewStore
from clips_metadata.store import Store
from clips_metadata.stored_records import ANY, Consent
from clips_metadata.workspace import Workspace
from pipeline.errors import CounterclipsError
from pipeline.timeline.records import TakedownRow


class PublishError(CounterclipsError):
    """A publication cannot be recorded or closed as asked (one-line reason)."""


@dataclass(frozen=True, slots=True)
class WithdrawalResult:
    """What a withdrawal or narrowing did: what it voided and the takedown list it wrote."""

    withdrawal_id: int
    pseudonym: str
    narrowed: tuple[str, ...]
    candidates: tuple[int, ...]
    approvals_voided: int
    exports_voided: tuple[int, ...]
    rows: tuple[TakedownRow, ...]
    csv_path: Path
    json_path: Path

    @property
    def open_publications(self) -> int:
        return sum(1 for r in self.rows if r.kind == "publication" and r.status == "open")


def redact_for_log(text: str, person: Any) -> str:
    """`text` with the person's real names (as the pseudonym) and identifying words replaced:
    what an audit note, a marker or a takedown reason may carry."""
    from pipeline.terms import IdentifyingWord, TermMatcher, redaction_terms

    words = [IdentifyingWord.parse(w) for w in person.identifying_words if w.strip()]
    matcher = TermMatcher(redaction_terms(person.real_names, words, person.pseudonym))
    out, last = [], 0
    for m in matcher.find(text):
        out.extend((text[last:m.start], m.term.replacement))
        last = m.end
    out.append(text[last:])
    return " ".join("".join(out).split())


# ---- the distribution log ----------------------------------------------------------------------


def record_publication(store: Store, candidate_id: int, platform: str, url: str, *, actor: str,
                       at: str | None = None, export_id: int | None = None,
                       now: datetime | None = None) -> StoredPublication:
    """Record that the candidate's export (`export_id`, else its newest export) was published on
    `platform` at `url` (at `at`, an ISO date or time; default now). Raises PublishError."""
    from pipeline.atomic import file_sha256
    from pipeline.timeline.withdrawal import new_publication

    repo = PublicationsRepo(store)
    store.get_candidate(candidate_id)  # NotFoundError for an unknown id
    exports = [e for e in repo.export_entries() if e.candidate_id == candidate_id]
    if export_id is not None:
        exports = [e for e in exports if e.export_id == export_id]
        if not exports:
            raise PublishError(f"export {export_id} is not an export of candidate {candidate_id}")
    if not exports:
        raise PublishError(f"candidate {candidate_id} has no recorded export: export it first")
    entry = exports[-1]
    record = next(r for r in ReviewStore(store).exports(candidate_id) if r.id == entry.export_id)
    try:
        manifest = json.loads(Path(record.manifest_path).read_text(encoding="utf-8"))
        listed = str(manifest.get("output", {}).get("sha256", ""))
    except (OSError, ValueError):
        listed = ""  # the manifest may have gone with the folder; the store keeps the hash
    if listed and listed != entry.file_sha256:
        raise PublishError(f"export {entry.export_id}: its manifest names another file than the one recorded")
    video = Path(entry.folder) / entry.file_name
    if video.is_file() and file_sha256(video) != entry.file_sha256:
        raise PublishError(f"export {entry.export_id}: {entry.file_name} changed since it was exported")
    try:
        pub = new_publication(entry, platform, url, now or datetime.now(UTC), at)
    except ValueError as exc:
        raise PublishError(str(exc)) from exc
    return repo.record(pub, actor)


def list_publications(store: Store, *, open_only: bool = False) -> tuple[StoredPublication, ...]:
    return PublicationsRepo(store).publications(open_only=open_only)


def mark_taken_down(store: Store, *, actor: str, candidate_id: int | None = None,
                    publication_id: int | None = None, platform: str | None = None,
                    at: str | None = None, now: datetime | None = None) -> tuple[StoredPublication, ...]:
    """Mark the open publications of a candidate (optionally on one platform), or one publication
    by id, as taken down; returns those closed. Raises PublishError when none is open."""
    from pipeline.timeline.withdrawal import utc_iso

    repo = PublicationsRepo(store)
    if publication_id is not None:
        found = repo.publications(ids=[publication_id])
        if not found:
            raise PublishError(f"no publication {publication_id}")
    elif candidate_id is not None:
        found = repo.publications(candidate_id)
    else:
        raise PublishError("name a candidate or a publication")
    if platform:
        found = tuple(p for p in found if p.publication.platform == platform.strip().lower())
    open_ = [p for p in found if not p.publication.taken_down_at]
    if not open_:
        what = f"publication {publication_id}" if publication_id is not None else f"candidate {candidate_id}"
        raise PublishError(f"{what} has no open publication to mark taken down")
    moment = now or datetime.now(UTC)
    try:
        stamp = utc_iso(at, moment)
    except ValueError as exc:
        raise PublishError(str(exc)) from exc
    repo.mark_taken_down([p.id for p in open_], stamp, actor)
    return repo.publications(ids=[p.id for p in open_])


def open_takedowns(store: Store) -> tuple[TakedownRow, ...]:
    """Publications not yet taken down whose export's authorisation a withdrawal voided."""
    from pipeline.timeline.withdrawal import takedown_list

    repo = PublicationsRepo(store)
    voided = repo.voided_exports()
    if not voided:
        return ()
    exports = repo.export_entries(export_ids=voided)
    pubs = [p.publication for p in repo.publications(open_only=True) if p.publication.export_id in voided]
    rows: list[TakedownRow] = []
    for pseudonym in sorted({e.interviewee for e in exports}):
        rows.extend(r for r in takedown_list(pubs, exports, pseudonym)
                    if r.kind == "publication" and r.status == "open")
    return tuple(rows)


# ---- withdrawal and narrowing ------------------------------------------------------------------


def timeline_rows(workspace: Workspace, pseudonym: str, candidate_ids: set[int]) -> tuple[TakedownRow, ...]:
    """Timeline folders (under exports/timelines) holding any of `candidate_ids`: they point at
    the affected exports, or hold a raw source, so they go on the takedown list too."""
    from pipeline.atomic import file_sha256

    rows = []
    for manifest in sorted((workspace.exports / "timelines").glob("*/manifest.json")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        clips = [c for c in data.get("clips", ()) if c.get("candidate") in candidate_ids]
        files = data.get("files") or [{}]
        timeline = manifest.parent / str(files[0].get("file", ""))
        for clip in clips:
            rows.append(TakedownRow(
                kind="export", interviewee=pseudonym, candidate_id=int(clip["candidate"]),
                version=int(clip.get("version", 0)), export_id=int(clip.get("export", 0)), platform="",
                url="", published_at="", folder=str(manifest.parent), file_name=timeline.name,
                file_sha256=file_sha256(timeline) if timeline.is_file() else "", status="open"))
    return tuple(rows)


def _allows(allowed: Sequence[str], value: str) -> bool:
    return ANY in allowed or value.lower() in {a.lower() for a in allowed}


def narrowed_aspects(old: Consent, new: Consent, today: date) -> tuple[str, ...]:
    """What `new` no longer allows that `old` did (face, voice, name, a language or platform, or
    everything once expired)."""
    out = [what for what in ("face", "voice", "name") if getattr(old, what) and not getattr(new, what)]
    for kind, before, after in (("language", old.languages, new.languages),
                                ("platform", old.platforms, new.platforms)):
        if ANY in before and ANY not in after:
            out.append(f"{kind}s other than {', '.join(after) or 'none'}")
        else:
            out.extend(f"{kind} {v}" for v in before if v != ANY and not _allows(after, v))
    if new.expires is not None and new.expires < today and not (old.expires and old.expires < today):
        out.append("expired")
    return tuple(out)


def _export_uncovered(scope: Mapping[str, Any], new: Consent, today: date) -> bool:
    if new.expires is not None and new.expires < today:
        return True
    if (scope.get("shows_face") and not new.face) or (scope.get("uses_real_voice") and not new.voice):
        return True
    if scope.get("shows_name") and not new.name:
        return True
    platform = str(scope.get("platform") or "any")
    if not _allows(new.platforms, platform):
        return True
    return any(not _allows(new.languages, lang) for lang in scope.get("languages") or ())


def _approval_uncovered(cand: Any, old: Consent, new: Consent, today: date) -> bool:
    opts = cand.render_options or {}
    if new.expires is not None and new.expires < today:
        return True
    if old.face and not new.face and not opts.get("blur_faces"):
        return True
    if old.voice and not new.voice and not opts.get("alter_voice"):
        return True
    if old.name and not new.name and not opts.get("redact_names"):
        return True
    languages = {k for k, v in {**cand.subtitles, **cand.translations}.items() if str(v).strip()}
    return any(_allows(old.languages, lang) and not _allows(new.languages, lang) for lang in languages)


def withdraw_consent(store: Store, workspace: Workspace, pseudonym: str, *, reason: str = "",
                     actor: str, now: datetime | None = None) -> WithdrawalResult:
    """The interviewee withdraws consent: their consent becomes nothing, every approval and
    export authorisation of their clips is voided, the gate refuses their exports from now on,
    and the takedown list of every publication and export folder is written."""
    person = store.get_interviewee(pseudonym)
    if PublicationsRepo(store).withdrawn(person.id) is not None:
        raise PublishError(f"{pseudonym} has already withdrawn consent")
    store.update_interviewee(pseudonym, consent=Consent())
    return _void(store, workspace, person, kind="withdraw", narrowed=("all consent",), reason=reason,
                 actor=actor, now=now, every=True, new=Consent())


def narrow_consent(store: Store, workspace: Workspace, before: Any, after: Any, *, reason: str = "",
                   actor: str, now: datetime | None = None) -> WithdrawalResult | None:
    """After `interviewee set`: when the new consent (`after`, the stored record) allows less than
    `before`, void what it no longer covers and write the takedown list; None when nothing narrowed."""
    moment = now or datetime.now(UTC)
    narrowed = narrowed_aspects(before.consent, after.consent, moment.date())
    if not narrowed:
        return None
    return _void(store, workspace, after, kind="narrow", narrowed=narrowed, reason=reason, actor=actor,
                 now=moment, every=False, new=after.consent, old=before.consent)


def _void(store: Store, workspace: Workspace, person: Any, *, kind: str, narrowed: Sequence[str], reason: str,
          actor: str, now: datetime | None, every: bool, new: Consent,
          old: Consent | None = None) -> WithdrawalResult:
    from flows.services.timelines import protected_terms
    from pipeline.timeline.withdrawal import takedown_list, takedown_stamp, write_takedown

    moment = now or datetime.now(UTC)
    today = moment.date()
    repo = PublicationsRepo(store)
    reason = redact_for_log(reason.strip(), person)[:500]
    mine = [c for c in store.list_candidates() if c.pseudonym == person.pseudonym]
    if every:
        candidates = [c.id for c in mine]
        export_ids = [e.export_id for e in repo.export_entries(person.id)]
    else:
        assert old is not None
        candidates = [c.id for c in mine if _approval_uncovered(c, old, new, today)]
        export_ids = [eid for eid, scope in repo.export_scopes(person.id).items()
                      if _export_uncovered(scope, new, today)]
    withdrawal, approvals, _ = repo.record_withdrawal(
        person.id, person.pseudonym, kind=kind, narrowed=narrowed, reason=reason, actor=actor,
        candidate_ids=candidates, export_ids=export_ids)
    exports = repo.export_entries(export_ids=export_ids)
    pubs = [p.publication for p in repo.publications(interviewee_id=person.id)
            if p.publication.export_id in set(export_ids)]
    rows = (*takedown_list(pubs, exports, person.pseudonym),
            *timeline_rows(workspace, person.pseudonym, set(candidates) | {e.candidate_id for e in exports}))
    stamp = f"{takedown_stamp(moment)}-w{withdrawal.id}"  # two withdrawals in one second keep both
    csv_path, json_path = write_takedown(rows, workspace.reports, stamp, person.pseudonym, reason,
                                         protected_terms(person))
    repo.set_takedown_files(withdrawal.id, [csv_path.name, json_path.name])
    return WithdrawalResult(withdrawal.id, person.pseudonym, tuple(narrowed), tuple(candidates),
                            len(approvals), tuple(export_ids), rows, csv_path, json_path)
