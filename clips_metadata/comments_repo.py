"""Comments pinned to a time or range of a candidate (table `candidate_comments`, rev. 0005).

A thread belongs to the candidate, not a version, so it carries across versions; each comment
remembers the version it was written on. A change request is a comment of kind
"change_request" (the review app also moves the candidate's status).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from clips_metadata.engine import Repository, plain_rows
from clips_metadata.errors import NotFoundError, StoreError
from clips_metadata.rows import utc_now
from clips_metadata.tables import CommentRow

KINDS = ("comment", "change_request")
MAX_BODY = 4000


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    candidate_id: int
    version: int
    author: str
    kind: str
    start: float
    end: float | None
    body: str
    resolved_by: str
    resolved_at: datetime | None
    created_at: datetime

    @property
    def open(self) -> bool:
        return self.resolved_at is None


def _comment(r: CommentRow) -> Comment:
    return Comment(r.id, r.candidate_id, r.version, r.author, r.kind, r.start, r.end, r.body,
                   r.resolved_by, r.resolved_at, r.created_at)


# built once: every candidate page reads it
_THREAD = (sa.select(CommentRow).where(CommentRow.candidate_id == sa.bindparam("cid"))
           .order_by(CommentRow.start, CommentRow.id))


class CommentsRepo(Repository):
    def add(self, candidate_id: int, version: int, author: str, body: str, start: float,
            end: float | None = None, kind: str = "comment") -> Comment:
        """Raises StoreError for an empty body, a bad time or an unknown kind."""
        body = body.strip()
        if not body or len(body) > MAX_BODY:
            raise StoreError(f"a comment needs 1 to {MAX_BODY} characters")
        if kind not in KINDS:
            raise StoreError(f"unknown comment kind {kind!r}")
        bad_end = end is not None and (not math.isfinite(end) or end < start)
        if not math.isfinite(start) or start < 0 or bad_end:
            raise StoreError("a comment's time must be a number ≥ 0 (and its end not before its start)")
        with self.db.transaction() as s:
            row = CommentRow(candidate_id=candidate_id, version=version, author=author, kind=kind,
                             start=float(start), end=None if end is None else float(end), body=body,
                             resolved_by="", resolved_at=None, created_at=utc_now())
            s.add(row)
            s.flush()
            return _comment(row)

    def thread(self, candidate_id: int) -> tuple[Comment, ...]:
        """Every comment of the candidate, by time then age."""
        with self.db.read() as s:
            return tuple(_comment(r) for r in plain_rows(s, _THREAD, {"cid": candidate_id}))

    def resolve(self, candidate_id: int, comment_id: int, by: str) -> Comment:
        with self.db.transaction() as s:
            row = s.get(CommentRow, comment_id)
            if row is None or row.candidate_id != candidate_id:
                raise NotFoundError(f"no comment {comment_id} on candidate {candidate_id}")
            if row.resolved_at is None:
                row.resolved_by, row.resolved_at = by, utc_now()
            s.flush()
            return _comment(row)
