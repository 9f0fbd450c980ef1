"""Accounts beyond creation: server-side sessions, failed password checks, disabling a user and
changing a password (revision 0003).

Ending access is one transaction: disabling a user or changing their password deletes their
sessions in the same commit, so no request can slip through between the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from clips_metadata.engine import Repository, plain_rows
from clips_metadata.errors import NotFoundError, StoreError
from clips_metadata.review_records import User
from clips_metadata.review_store import UserRow
from clips_metadata.rows import as_utc, utc_now
from clips_metadata.tables import LoginFailureRow, SessionRow


class LastAdmin(StoreError):
    """Disabling this account would leave no active admin."""


@dataclass(frozen=True, slots=True)
class StoredSession:
    id_hash: str
    user_name: str | None
    data: dict[str, Any]
    created_at: datetime
    last_seen: datetime
    expires_at: datetime
    user: User | None = None  # the session's account as read with it (load_session only)


def _session(r: SessionRow) -> StoredSession:
    return StoredSession(r.id_hash, r.user_name, dict(r.data or {}), as_utc(r.created_at),
                         as_utc(r.last_seen), as_utc(r.expires_at))


_SESSIONS, _USERS = SessionRow.__table__, UserRow.__table__
# A request's session and its account in one statement on plain columns: every request of the
# review app reads both, and ORM entities cost more than the query (issue 19).
_SESSION_WITH_USER = (
    sa.select(_SESSIONS.c.id_hash, _SESSIONS.c.user_name, _SESSIONS.c.data, _SESSIONS.c.created_at,
              _SESSIONS.c.last_seen, _SESSIONS.c.expires_at, _USERS.c.id, _USERS.c.name, _USERS.c.role,
              _USERS.c.active, _USERS.c.created_at.label("user_created_at"))
    .select_from(_SESSIONS.outerjoin(_USERS, _USERS.c.name == _SESSIONS.c.user_name))
    .where(_SESSIONS.c.id_hash == sa.bindparam("id_hash"))
)
_SAVE_SESSION = (
    sa.update(_SESSIONS)
    .where(_SESSIONS.c.id_hash == sa.bindparam("h"), _SESSIONS.c.expires_at > sa.bindparam("now"))
    .values(user_name=sa.bindparam("u"), data=sa.bindparam("d"), last_seen=sa.bindparam("now"))
)


class AccountsRepo(Repository):
    """Sessions, the login throttle's failures, and account state, over a Store."""

    # ------------------------------------------------------------------ sessions

    def load_session(self, id_hash: str, now: datetime | None = None) -> StoredSession | None:
        """The live session with this token hash, or None (unknown, ended or expired); its
        account (`user`), read in the same transaction, when it names one that exists."""
        now = now or utc_now()
        with self.db.read() as s:
            found = plain_rows(s, _SESSION_WITH_USER, {"id_hash": id_hash})
        r = found[0] if found else None
        if r is None or as_utc(r.expires_at) <= now:
            return None
        user = None if r.id is None else User(r.id, r.name, r.role, bool(r.active), as_utc(r.user_created_at))
        return StoredSession(r.id_hash, r.user_name, dict(r.data or {}), as_utc(r.created_at),
                             as_utc(r.last_seen), as_utc(r.expires_at), user)

    def create_session(self, id_hash: str, user_name: str | None, data: dict[str, Any],
                       lifetime: timedelta, now: datetime | None = None) -> None:
        """Store a new session; expired ones are swept in the same transaction."""
        now = now or utc_now()
        with self.db.transaction() as s:
            s.execute(sa.delete(SessionRow).where(SessionRow.expires_at <= now))
            s.add(SessionRow(id_hash=id_hash, user_name=user_name, data=data, created_at=now,
                             last_seen=now, expires_at=now + lifetime))

    def save_session(self, id_hash: str, user_name: str | None, data: dict[str, Any],
                     now: datetime | None = None) -> bool:
        """Update a live session's data; False when it has ended meanwhile (then nothing is
        written: an ended session is never revived)."""
        now = now or utc_now()
        with self.db.transaction() as s:
            n = s.execute(_SAVE_SESSION, {"h": id_hash, "now": now, "u": user_name, "d": data}).rowcount
        return bool(n)

    def touch_session(self, id_hash: str, now: datetime | None = None) -> None:
        with self.db.transaction() as s:
            s.execute(sa.update(SessionRow).where(SessionRow.id_hash == id_hash)
                      .values(last_seen=now or utc_now()))

    def end_session(self, id_hash: str) -> None:
        with self.db.transaction() as s:
            s.execute(sa.delete(SessionRow).where(SessionRow.id_hash == id_hash))

    def end_sessions_of(self, user_name: str) -> int:
        with self.db.transaction() as s:
            return int(s.execute(sa.delete(SessionRow).where(SessionRow.user_name == user_name)).rowcount)

    def sessions_of(self, user_name: str) -> tuple[StoredSession, ...]:
        with self.db.read() as s:
            rows = s.scalars(sa.select(SessionRow).where(SessionRow.user_name == user_name)
                             .order_by(SessionRow.created_at))
            return tuple(_session(r) for r in rows)

    # ------------------------------------------------------- failed password checks

    def recent_failures(self, user_name: str, window: timedelta, now: datetime | None = None) -> int:
        since = (now or utc_now()) - window
        with self.db.read() as s:
            return int(s.scalar(sa.select(sa.func.count()).select_from(LoginFailureRow)
                                .where(LoginFailureRow.user_name == user_name,
                                       LoginFailureRow.failed_at > since)) or 0)

    def record_failure(self, user_name: str, window: timedelta, now: datetime | None = None) -> None:
        """Count one failure; failures older than `window` (any name) are swept meanwhile, which
        bounds the table under name spraying."""
        now = now or utc_now()
        with self.db.transaction() as s:
            s.execute(sa.delete(LoginFailureRow).where(LoginFailureRow.failed_at <= now - window))
            s.add(LoginFailureRow(user_name=user_name[:100], failed_at=now))

    def clear_failures(self, user_name: str) -> None:
        with self.db.transaction() as s:
            s.execute(sa.delete(LoginFailureRow).where(LoginFailureRow.user_name == user_name))

    # ---------------------------------------------------------------- account state

    def set_active(self, user_name: str, active: bool) -> int:
        """Enable or disable an account. Disabling ends all its sessions (returns how many) and
        refuses to disable the last active admin."""
        with self.db.transaction() as s:
            row = s.scalar(sa.select(UserRow).where(UserRow.name == user_name))
            if row is None:
                raise NotFoundError(f"no user {user_name!r}")
            if not active and row.active and row.role == "admin":
                admins = s.scalar(sa.select(sa.func.count()).select_from(UserRow)
                                  .where(UserRow.role == "admin", UserRow.active.is_(True))) or 0
                if admins <= 1:
                    raise LastAdmin(f"{user_name} is the last active admin; add another admin first")
            row.active = active
            if active:
                return 0
            return int(s.execute(sa.delete(SessionRow).where(SessionRow.user_name == user_name)).rowcount)

    def change_password(self, user_name: str, password_hash: str) -> int:
        """Replace the password hash and end all the account's sessions (returns how many)."""
        with self.db.transaction() as s:
            n = s.execute(sa.update(UserRow).where(UserRow.name == user_name)
                          .values(password_hash=password_hash)).rowcount
            if not n:
                raise NotFoundError(f"no user {user_name!r}")
            return int(s.execute(sa.delete(SessionRow).where(SessionRow.user_name == user_name)).rowcount)
