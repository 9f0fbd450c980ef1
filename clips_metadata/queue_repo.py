"""The review queue: candidates filtered and ordered in SQL (best rank first), one page at a
time by keyset pagination, and the values its filter menus offer.

A page is "the `per_page` rows after (or before) this (rank, id)": with the indexes on
(rank, id) and (status, rank, id) the database reads only the rows it shows, where OFFSET would
read and discard every row before the page. Totals and menu values are cached briefly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

from clips_metadata.engine import Database, Repository
from clips_metadata.errors import StoreError
from clips_metadata.review_records import QueueFilter, QueueItem, QueuePage
from clips_metadata.rows import candidate_filters
from clips_metadata.stored_records import CANDIDATE_STATUSES
from clips_metadata.tables import (
    ApprovalRow,
    CandidateLabelRow,
    CandidateRow,
    IntervieweeRow,
    InterviewRow,
    ReviewEventRow,
)

NO_FILTER = QueueFilter()
T = TypeVar("T")
log = logging.getLogger(__name__)


def cursor_of(item: QueueItem) -> str:
    """The keyset cursor naming `item`'s place in the queue order."""
    return f"{item.rank!r}_{item.id}"


def parse_cursor(cursor: str) -> tuple[float, int]:
    """(rank, id) from a cursor made by `cursor_of`; StoreError if it is not one."""
    try:
        rank, ident = cursor.rsplit("_", 1)
        return float(rank), int(ident)
    except ValueError:
        raise StoreError(f"invalid queue position {cursor[:40]!r}") from None


class _TtlCache:
    """A small per-process cache of values that may lag the database by `ttl` seconds.

    With `refresh_after`, a value older than that (but younger than `ttl`) is still served while
    one background thread loads it again, so a request rarely waits for a load (issue 19: the
    queue's counts at 100,000 candidates took 14-40 ms inside a request every `ttl`); a value
    `ttl` old or older is loaded in the request, as without it."""

    def __init__(self, ttl: float, size: int = 256, refresh_after: float | None = None) -> None:
        self.ttl, self.size, self.refresh_after = ttl, size, refresh_after
        self._values: dict[object, tuple[float, object]] = {}
        self._refreshing: set[object] = set()
        self._lock = threading.Lock()

    def get(self, key: object, load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
            renew = (hit is not None and self.refresh_after is not None and self.refresh_after <= now - hit[0]
                     < self.ttl and key not in self._refreshing)
            if renew:
                self._refreshing.add(key)
        if renew:
            threading.Thread(target=self._renew, args=(key, load), name="queue-count", daemon=True).start()
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]  # type: ignore[return-value]
        value = load()
        self._put(key, now, value)
        return value

    def _put(self, key: object, at: float, value: object) -> None:
        with self._lock:
            if len(self._values) >= self.size:
                self._values.clear()
            old = self._values.get(key)
            if old is None or old[0] <= at:  # never replace a newer value by an older load
                self._values[key] = (at, value)

    def _renew(self, key: object, load: Callable[[], object]) -> None:
        at = time.monotonic()  # the value is as old as the load's start
        try:
            self._put(key, at, load())
        except Exception as exc:  # noqa: BLE001 - a failed refresh leaves the value to expire and reload
            # Seen by operators, but by its type only: the message could quote a filter's search
            # text, and a search can be a protected name.
            log.warning("background refresh of a queue count failed (%s)", type(exc).__name__)
        finally:
            with self._lock:
                self._refreshing.discard(key)


class QueueRepo(Repository):
    """The review queue of one database."""

    FACETS_TTL = 30.0  # seconds; the menus need not show a label added a moment ago
    COUNT_TTL = 5.0  # seconds; "N candidates" above the queue may lag a decision by this much
    COUNT_REFRESH = 2.5  # seconds; an older count is served while one thread counts again
    COMMON_SHARE = 0.05  # a filter value this common is probed row by row (`_common_values`)

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._facets = _TtlCache(self.FACETS_TTL, size=1)
        self._counts = _TtlCache(self.COUNT_TTL, refresh_after=self.COUNT_REFRESH)
        self._shares = _TtlCache(self.FACETS_TTL, size=256)

    def queue(self, flt: QueueFilter = NO_FILTER, *, after: str = "", before: str = "",
              per_page: int = 50, counted: bool = True) -> QueuePage:
        """The `per_page` candidates matching `flt` after cursor `after` (or before cursor
        `before`; neither: the first page), best rank first, ties by newest id. `counted=False`
        leaves `total` None: counting a person's "waiting for me" view scans every candidate
        (~0.1 s at 100,000), which "approve and next" does not need."""
        per_page = max(1, min(per_page, 200))
        backwards = bool(before) and not after
        i, p = InterviewRow, IntervieweeRow
        sub = self._page(flt, after, before, per_page).subquery()
        stmt = (sa.select(sub.c.id, sub.c.interview_id, p.pseudonym, i.language, sub.c.status,
                          sub.c.version, sub.c.start, sub.c.end, sub.c.rank, sub.c.themes, sub.c.risks)
                .join(i, i.id == sub.c.interview_id).join(p, p.id == i.interviewee_id)
                .order_by(sub.c.rank.desc(), sub.c.id.desc()))
        with self.db.read() as s:
            rows = s.execute(stmt).all()
        items = [QueueItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                           tuple(r[9] or ()), tuple(r[10] or ())) for r in rows]
        more = len(items) > per_page
        if more:
            items = items[1:] if backwards else items[:-1]
        has_next = more if not backwards else True
        has_prev = more if backwards else bool(after)
        return QueuePage(
            items=tuple(items), total=self.count(flt) if counted else None, per_page=per_page,
            next_after=cursor_of(items[-1]) if items and has_next else "",
            prev_before=cursor_of(items[0]) if items and has_prev else "",
        )

    def queue_ids(self, flt: QueueFilter = NO_FILTER, *, per_page: int = 50) -> tuple[int, ...]:
        """The ids of `queue(flt, per_page=per_page)`'s first page, in its order, without its
        rows or count ("approve and next" needs only where the reviewer goes next)."""
        per_page = max(1, min(per_page, 200))
        i = InterviewRow
        sub = self._page(flt, "", "", per_page).subquery()
        stmt = (sa.select(sub.c.id).join(i, i.id == sub.c.interview_id)
                .join(IntervieweeRow, IntervieweeRow.id == i.interviewee_id)
                .order_by(sub.c.rank.desc(), sub.c.id.desc()))
        with self.db.read() as s:
            ids = [int(x) for x in s.scalars(stmt)]
        return tuple(ids[:per_page])

    def _page(self, flt: QueueFilter, after: str, before: str, per_page: int) -> sa.Select[Any]:
        """The candidates of one queue page (and one more, which tells whether there is a page
        beyond it), best rank first, or from `before` backwards."""
        if flt.status and flt.status not in CANDIDATE_STATUSES:
            raise StoreError(f"unknown status {flt.status!r}")
        c = CandidateRow
        # The queue's filter leaves a field blank ("") where the store's filter takes None.
        where = candidate_filters(status=flt.status or None, interview_id=flt.interview,
                                  theme=flt.theme or None, risk=flt.risk or None,
                                  language=flt.language or None, probe=self._common_values(flt))
        where = [*where, *_person_filters(flt)]
        key = sa.tuple_(c.rank, c.id)
        backwards = bool(before) and not after
        if after:
            where.append(key < sa.tuple_(*parse_cursor(after)))
        elif before:
            where.append(key > sa.tuple_(*parse_cursor(before)))
        order = (c.rank.asc(), c.id.asc()) if backwards else (c.rank.desc(), c.id.desc())
        return (sa.select(c.id, c.interview_id, c.status, c.version, c.start, c.end, c.rank, c.themes,
                          c.risks).where(*where).order_by(*order).limit(per_page + 1))

    def _common_values(self, flt: QueueFilter) -> tuple[str, ...]:
        """The filters of `flt` whose value is common (COMMON_SHARE of the interviews for a
        language, of the candidates for a theme or risk): a page tests those row by row while it
        walks the rank index; a rare one is gathered first (a walk would scan the whole index).
        Shares are cached like the facets."""
        c, iv, lab = CandidateRow, InterviewRow, CandidateLabelRow
        asked = {"language": flt.language, "theme": flt.theme, "risk": flt.risk}

        def share(kind: str, value: str) -> bool:
            def load() -> bool:
                with self.db.read() as s:
                    if kind == "language":
                        total = s.scalar(sa.select(sa.func.count(iv.id)))
                        same = s.scalar(sa.select(sa.func.count(iv.id)).where(iv.language == value))
                    else:
                        total = s.scalar(sa.select(sa.func.count(c.id)))
                        same = s.scalar(sa.select(sa.func.count(lab.candidate_id))
                                        .where(lab.kind == kind, lab.label == value))
                return bool(total) and int(same or 0) >= self.COMMON_SHARE * int(total or 0)

            return self._shares.get((kind, value), load)

        return tuple(kind for kind, value in asked.items() if value and share(kind, value))

    def count(self, flt: QueueFilter = NO_FILTER) -> int:
        """How many candidates match `flt` (cached for COUNT_TTL seconds)."""
        def load() -> int:
            where = candidate_filters(status=flt.status or None, interview_id=flt.interview,
                                      theme=flt.theme or None, risk=flt.risk or None,
                                      language=flt.language or None)
            where = [*where, *_person_filters(flt)]
            with self.db.read() as s:
                return int(s.scalar(sa.select(sa.func.count(CandidateRow.id)).where(*where)) or 0)

        return self._counts.get(flt, load)

    def facets(self) -> dict[str, tuple[str, ...]]:
        """Values the queue's filter menus offer (cached briefly: three DISTINCT scans)."""
        return self._facets.get("facets", self._load_facets)

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


def _person_filters(flt: QueueFilter) -> list[Any]:
    """The queue's per-person views ("waiting for me", "my edits") as WHERE clauses."""
    c, ev = CandidateRow, ReviewEventRow
    out: list[Any] = []
    if flt.waiting_for:
        edited = sa.select(ev.candidate_id).where(ev.actor == flt.waiting_for, ev.action == "edit")
        approved = sa.select(ApprovalRow.candidate_id).where(
            ApprovalRow.reviewer == flt.waiting_for, ApprovalRow.candidate_id == c.id,
            ApprovalRow.version == c.version)
        out += [c.status.in_(("proposed", "in_review")), c.id.not_in(edited), ~approved.exists()]
    if flt.edited_by:
        out.append(c.id.in_(sa.select(ev.candidate_id).where(ev.actor == flt.edited_by, ev.action == "edit")))
    return out
