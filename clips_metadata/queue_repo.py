"""The review queue: candidates filtered and ordered in SQL, one page at a time, and the values
its filter menus offer."""

from __future__ import annotations

import time

import sqlalchemy as sa

from clips_metadata.engine import Database
from clips_metadata.errors import StoreError
from clips_metadata.review_records import QueueFilter, QueueItem, QueuePage
from clips_metadata.rows import candidate_filters
from clips_metadata.stored_records import CANDIDATE_STATUSES
from clips_metadata.tables import CandidateLabelRow, CandidateRow, IntervieweeRow, InterviewRow

NO_FILTER = QueueFilter()


class QueueRepo:
    """The review queue of one database."""

    FACETS_TTL = 30.0  # seconds; the menus need not show a label added a moment ago

    def __init__(self, db: Database) -> None:
        self.db = db
        self._facets: tuple[float, dict[str, tuple[str, ...]]] | None = None

    def queue(self, flt: QueueFilter = NO_FILTER, page: int = 1, per_page: int = 50) -> QueuePage:
        """Candidates filtered in SQL, best rank first, one page at a time."""
        if flt.status and flt.status not in CANDIDATE_STATUSES:
            raise StoreError(f"unknown status {flt.status!r}")
        per_page = max(1, min(per_page, 200))
        page = max(1, page)
        c, i, p = CandidateRow, InterviewRow, IntervieweeRow
        # The queue's filter leaves a field blank ("") where the store's filter takes None.
        where = candidate_filters(status=flt.status or None, interview_id=flt.interview,
                                  theme=flt.theme or None, risk=flt.risk or None,
                                  language=flt.language or None)
        order = (c.rank.desc(), c.id.desc())
        # page the candidates alone first, then join the few rows shown to their interview
        sub = (sa.select(c.id, c.interview_id, c.status, c.version, c.start, c.end, c.rank, c.themes,
                         c.risks).where(*where).order_by(*order)
               .limit(per_page).offset((page - 1) * per_page).subquery())
        stmt = (sa.select(sub.c.id, sub.c.interview_id, p.pseudonym, i.language, sub.c.status,
                          sub.c.version, sub.c.start, sub.c.end, sub.c.rank, sub.c.themes, sub.c.risks)
                .join(i, i.id == sub.c.interview_id).join(p, p.id == i.interviewee_id)
                .order_by(sub.c.rank.desc(), sub.c.id.desc()))
        with self.db.read() as s:
            total = int(s.scalar(sa.select(sa.func.count(c.id)).where(*where)) or 0)
            rows = s.execute(stmt).all()
        items = tuple(QueueItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                                tuple(r[9] or ()), tuple(r[10] or ())) for r in rows)
        return QueuePage(items, total, page, per_page)

    def facets(self) -> dict[str, tuple[str, ...]]:
        """Values the queue's filter menus offer (cached briefly: three DISTINCT scans)."""
        cached = self._facets
        if cached is not None and time.monotonic() - cached[0] < self.FACETS_TTL:
            return cached[1]
        value = self._load_facets()
        self._facets = (time.monotonic(), value)
        return value

    def _load_facets(self) -> dict[str, tuple[str, ...]]:
        lab = CandidateLabelRow
        with self.db.read() as s:
            def labels(kind: str) -> tuple[str, ...]:
                return tuple(s.scalars(sa.select(lab.label).distinct().where(lab.kind == kind)
                                       .order_by(lab.label)))

            themes, risks = labels("theme"), labels("risk")
            langs = tuple(s.scalars(sa.select(InterviewRow.language).distinct()
                                    .order_by(InterviewRow.language)))
        return {"status": CANDIDATE_STATUSES, "theme": themes, "risk": risks, "language": langs}
