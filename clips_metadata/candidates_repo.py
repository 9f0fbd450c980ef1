"""Candidates and their immutable versions.

Candidate changes are optimistic: `UPDATE ... WHERE version = expected` in SQL, so of two
writers holding the same version exactly one wins and the other gets `ConflictError`; every
change writes a new `candidate_versions` row. `write_candidate_version` does it inside a
caller's transaction (the review repository adds its audit entry in the same one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from clips_metadata import tables as m
from clips_metadata.cue_tracks_repo import tracks_in, write_tracks
from clips_metadata.engine import Repository
from clips_metadata.errors import ConflictError, NotFoundError, StoreError
from clips_metadata.lookups import (
    candidate_row,
    interview_row,
    mark_step,
    set_labels,
    transcript_row,
    version_row,
)
from clips_metadata.read_memo import remembered
from clips_metadata.rows import (
    candidate_filters,
    candidate_record,
    jsonable,
    question_card_json,
    utc_now,
    version_record,
)
from clips_metadata.stored_records import Candidate, CandidateVersion, hash_fields
from pipeline.authorisation import version_hash

CREDIBILITY = "credibility"

# Fields of a candidate version that `update_candidate` accepts in `changes`.
CONTENT_FIELDS = (
    "start",
    "end",
    "sentence_indices",
    "subtitles",
    "translations",
    "redactions",
    "render_options",
)
META_FIELDS = ("themes", "risks", "rank", "reasons")
_STATUS_RE = re.compile(r"^[a-z_]{1,30}$")


def check_status(status: Any) -> None:
    """Raise StoreError unless `status` looks like a candidate status."""
    if not isinstance(status, str) or not _STATUS_RE.match(status):
        raise StoreError(f"invalid candidate status {status!r}")


def conflict(candidate_id: int, expected: int, current: int | None) -> ConflictError:
    """The error for a write based on a version that is no longer current."""
    now = f"; it is now at version {current}" if current is not None else ""
    return ConflictError(
        f"candidate {candidate_id} changed since version {expected}{now}: someone else saved first; "
        "reload and apply your change again"
    )


def candidate_query() -> sa.Select[Any]:
    """Candidate rows joined to their current version, interview and interviewee."""
    return (
        sa.select(
            m.CandidateRow,
            m.CandidateVersionRow,
            m.InterviewRow.sha256,
            m.InterviewRow.language,
            m.IntervieweeRow.pseudonym,
        )
        .join(
            m.CandidateVersionRow,
            sa.and_(
                m.CandidateVersionRow.candidate_id == m.CandidateRow.id,
                m.CandidateVersionRow.version == m.CandidateRow.version,
            ),
        )
        .join(m.InterviewRow, m.InterviewRow.id == m.CandidateRow.interview_id)
        .join(m.IntervieweeRow, m.IntervieweeRow.id == m.InterviewRow.interviewee_id)
    )


# built once: every page view and approval reads its candidate through it
_BY_IDS = candidate_query().where(m.CandidateRow.id.in_(sa.bindparam("ids", expanding=True)))


def candidates_by_ids(s: Session, ids: Sequence[int]) -> list[Candidate]:
    """The candidates with these ids, in this order (unknown ids left out), in session `s`."""
    if not ids:
        return []
    rows = s.execute(_BY_IDS, {"ids": list(ids)})
    by_id = {r[0].id: candidate_record(*r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


class CandidateRepo(Repository):
    """Candidates of one database."""

    def add_candidates(
        self, transcript_id: int, proposals: Sequence[Any], *, by: str = "pipeline"
    ) -> tuple[Candidate, ...]:
        """Store proposals (`pipeline.candidates.CandidateProposal`) as version-1 candidates with
        status "proposed", and mark "propose" done, in one transaction. Subtitle text comes from
        the stored sentences (original language) and their translations (English)."""
        with self.db.transaction() as s:
            tr = transcript_row(s, transcript_id)
            interview = interview_row(s, tr.interview_id)
            sents = {
                r.idx: r
                for r in s.scalars(
                    sa.select(m.SentenceRow).where(m.SentenceRow.transcript_id == transcript_id)
                )
            }
            has_warning = (
                s.scalar(sa.select(sa.func.count()).where(m.WarningRow.transcript_id == transcript_id)) or 0
            ) > 0
            ids = []
            now = utc_now()
            for p in proposals:
                idx = tuple(int(i) for i in p.sentence_indices)
                missing = [i for i in idx if i not in sents]
                if missing:
                    raise StoreError(f"proposal names sentences {missing} not in transcript {transcript_id}")
                subtitles = {tr.language: " ".join(sents[i].text.strip() for i in idx)}
                en = " ".join(sents[i].translation.strip() for i in idx if sents[i].translation.strip())
                translations = {"en": en} if en and tr.language != "en" else {}
                risks = tuple(p.risks)
                if has_warning and CREDIBILITY not in risks:
                    risks = (*risks, CREDIBILITY)  # every clip of a warned interview carries it
                row = m.CandidateRow(
                    interview_id=interview.id,
                    transcript_id=transcript_id,
                    status="proposed",
                    version=1,
                    start=float(p.start),
                    end=float(p.end),
                    rank=float(p.rank),
                    themes=list(p.themes),
                    risks=list(risks),
                    content_hash="",
                    updated_by=by,
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
                s.flush()
                # An interviewer question the clip needs is part of the version (issue 16).
                question = getattr(p, "question", None)
                options = {"question_card": question_card_json(question)} if question is not None else {}
                content = hash_fields(interview.sha256, row.start, row.end, subtitles, translations, (),
                                      options)
                row.content_hash = version_hash(content)
                s.add(
                    m.CandidateVersionRow(
                        candidate_id=row.id,
                        version=1,
                        start=row.start,
                        end=row.end,
                        sentence_indices=list(idx),
                        subtitles=subtitles,
                        translations=translations,
                        redactions=[],
                        render_options=options,
                        themes=list(p.themes),
                        risks=list(risks),
                        rank=row.rank,
                        reasons=list(p.reasons),
                        content_hash=row.content_hash,
                        created_by=by,
                        note="proposed by the candidate builder",
                        created_at=now,
                    )
                )
                set_labels(s, row.id, p.themes, risks)
                ids.append(row.id)
            mark_step(s, interview.id, "propose", {"transcript_id": transcript_id, "candidates": len(ids)})
            interview.status = "ready"
            interview.error = ""
            s.flush()
            return tuple(candidates_by_ids(s, ids))

    @remembered
    def get_candidate(self, candidate_id: int) -> Candidate:
        with self.db.read() as s:
            found = candidates_by_ids(s, [candidate_id])
            if not found:
                raise NotFoundError(f"no candidate with id {candidate_id}")
            return found[0]

    def list_candidates(
        self,
        *,
        status: str | None = None,
        interview_id: int | None = None,
        theme: str | None = None,
        risk: str | None = None,
        language: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[Candidate, ...]:
        """Candidates, best rank first (then oldest), filtered by the given fields."""
        where = candidate_filters(
            status=status, interview_id=interview_id, theme=theme, risk=risk, language=language
        )
        with self.db.read() as s:
            q = candidate_query().where(*where)
            q = q.order_by(m.CandidateRow.rank.desc(), m.CandidateRow.id).offset(offset)
            if limit is not None:
                q = q.limit(limit)
            return tuple(candidate_record(*row) for row in s.execute(q))

    def count_candidates(self, **filters: str | int | None) -> int:
        """How many candidates `list_candidates` would list with the same filters."""
        where = candidate_filters(**filters)  # type: ignore[arg-type]
        with self.db.read() as s:
            return int(s.scalar(sa.select(sa.func.count(m.CandidateRow.id)).where(*where)) or 0)

    def candidate_versions(self, candidate_id: int) -> tuple[CandidateVersion, ...]:
        """Every version, oldest first."""
        with self.db.read() as s:
            rows = list(
                s.scalars(
                    sa.select(m.CandidateVersionRow)
                    .where(m.CandidateVersionRow.candidate_id == candidate_id)
                    .order_by(m.CandidateVersionRow.version)
                )
            )
            if not rows:
                raise NotFoundError(f"no candidate with id {candidate_id}")
            return tuple(version_record(r) for r in rows)

    def get_candidate_version(self, candidate_id: int, version: int) -> CandidateVersion:
        with self.db.read() as s:
            row = version_row(s, candidate_id, version)
            return version_record(row)

    def update_candidate(
        self,
        candidate_id: int,
        expected_version: int,
        changes: Mapping[str, Any],
        by: str,
        note: str = "",
    ) -> Candidate:
        """Write version `expected_version + 1` with `changes` applied and return the candidate
        (see `write_candidate_version`, which does it inside a caller's transaction)."""
        with self.db.transaction() as s:
            write_candidate_version(s, candidate_id, expected_version, changes, by, note)
            return candidates_by_ids(s, [candidate_id])[0]

    def set_candidate_status(
        self,
        candidate_id: int,
        status: str,
        *,
        expected_version: int,
        by: str,
        expected_status: str | None = None,
    ) -> Candidate:
        """Change only the status (no new version: the content is unchanged). Compare-and-set on
        the version and, when given, on the current status, so a state-machine transition
        decided on stale data fails with ConflictError instead of overwriting."""
        check_status(status)
        with self.db.transaction() as s:
            q = sa.update(m.CandidateRow).where(
                m.CandidateRow.id == candidate_id, m.CandidateRow.version == expected_version
            )
            if expected_status is not None:
                q = q.where(m.CandidateRow.status == expected_status)
            res = s.execute(
                q.values(status=status, updated_by=by, updated_at=utc_now()).execution_options(
                    synchronize_session=False
                )
            )
            if res.rowcount != 1:
                cur = candidate_row(s, candidate_id)
                if cur.version != expected_version:
                    raise conflict(candidate_id, expected_version, cur.version)
                raise ConflictError(
                    f"candidate {candidate_id} is {cur.status!r}, not {expected_status!r}: "
                    "someone else changed it; reload and try again"
                )
            s.expire_all()
            return candidates_by_ids(s, [candidate_id])[0]


def write_candidate_version(
    s: Session, candidate_id: int, expected_version: int, changes: Mapping[str, Any], by: str, note: str = ""
) -> m.CandidateRow:
    """Inside the caller's transaction, write version `expected_version + 1` of the candidate
    with `changes` applied; returns its (refreshed) row. The review store adds its audit entry in
    the same transaction, so a version never exists without it.

    `changes` may hold content fields (start, end, sentence_indices, subtitles, translations,
    redactions, render_options), labels (themes, risks, rank, reasons) and `status`.
    A content change that alters the version hash sets status back to "proposed" unless
    `status` is given: an approval is bound to the exact version it saw.
    Raises ConflictError when `expected_version` is no longer current (someone else wrote
    first), NotFoundError for an unknown id, StoreError for unknown fields or bad times.
    """
    unknown = set(changes) - set(CONTENT_FIELDS) - set(META_FIELDS) - {"status", "cue_tracks"}
    if unknown:
        raise StoreError(f"cannot change candidate fields: {', '.join(sorted(unknown))}")
    if "status" in changes:
        check_status(changes["status"])
    cur = candidate_row(s, candidate_id)
    if cur.version != expected_version:
        raise conflict(candidate_id, expected_version, cur.version)
    prev = version_row(s, candidate_id, expected_version)
    sha = s.scalar(sa.select(m.InterviewRow.sha256).where(m.InterviewRow.id == cur.interview_id))
    v = {f: getattr(prev, f) for f in (*CONTENT_FIELDS, *META_FIELDS)}
    v.update({k: jsonable(val) for k, val in changes.items() if k not in ("status", "cue_tracks")})
    start, end = float(v["start"]), float(v["end"])
    if not (0 <= start < end):
        raise StoreError(f"candidate times must satisfy 0 <= start < end (got {start}, {end})")
    moved = (start, end) != (prev.start, prev.end)
    tracks = _version_tracks(s, candidate_id, expected_version, changes, moved)
    content = hash_fields(
        sha, start, end, v["subtitles"], v["translations"], v["redactions"], v["render_options"], tracks
    )
    new_hash = version_hash(content)
    status = changes.get("status")
    if status is None:
        status = "proposed" if new_hash != cur.content_hash else cur.status
    now = utc_now()
    # The candidate row mirrors these columns of its newest version.
    mirrored = {
        "version": expected_version + 1,
        "start": start,
        "end": end,
        "rank": float(v["rank"]),
        "themes": list(v["themes"]),
        "risks": list(v["risks"]),
        "content_hash": new_hash,
    }
    # The optimistic lock proper: of two writers holding the same version, only one
    # UPDATE matches; PostgreSQL re-checks the WHERE after the first commits.
    res = s.execute(
        sa.update(m.CandidateRow)
        .where(m.CandidateRow.id == candidate_id, m.CandidateRow.version == expected_version)
        .values(status=status, updated_by=by, updated_at=now, **mirrored)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        raise conflict(candidate_id, expected_version, None)
    s.add(
        m.CandidateVersionRow(
            candidate_id=candidate_id,
            sentence_indices=[int(i) for i in v["sentence_indices"]],
            subtitles=dict(v["subtitles"]),
            translations=dict(v["translations"]),
            redactions=list(v["redactions"]),
            render_options=dict(v["render_options"]),
            reasons=list(v["reasons"]),
            created_by=by,
            note=note,
            created_at=now,
            **mirrored,
        )
    )
    if tracks:
        write_tracks(s, candidate_id, expected_version + 1, tracks, hashed=True)
    if "themes" in changes or "risks" in changes:
        s.execute(
            sa.delete(m.CandidateLabelRow).where(m.CandidateLabelRow.candidate_id == candidate_id)
        )
        set_labels(s, candidate_id, v["themes"], v["risks"])
    s.flush()
    s.expire_all()
    return s.get(m.CandidateRow, candidate_id)


def _version_tracks(s: Session, candidate_id: int, prev_version: int, changes: Mapping[str, Any],
                    cut_moved: bool) -> dict[str, dict[str, Any]]:
    """The new version's hashed cue tracks: the ones `changes["cue_tracks"]` gives (replacing
    those languages), else the previous version's, unless the cut moved (their cues would lie
    outside it; the page re-derives tracks with `retrim` and passes them)."""
    given = {str(k): dict(v) for k, v in (changes.get("cue_tracks") or {}).items()}
    carried = {} if cut_moved else tracks_in(s, candidate_id, prev_version, hashed_only=True)
    return {**carried, **given}
