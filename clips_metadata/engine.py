"""The database handle: engine set-up for SQLite and PostgreSQL, Alembic migrations and
transactions. Repositories (`*_repo.py`) run their statements through `Database.transaction()`
and `Database.read()`; nothing else here knows a table."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from clips_metadata.errors import DuplicateError, StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """How the store connects.

    busy_timeout_ms: SQLite only; how long a writer waits for another writer's lock (30 s:
        the nightly run and the review app write concurrently).
    pool_size: PostgreSQL connections a process keeps open for reuse (40: one per thread of the
        review app's pool, as on SQLite; a process keeps only as many as it used at once). A
        smaller pool closed each connection beyond it on return, so a busy review server opened
        about one new connection (a new server backend, 30 ms and more) per reviewer round.
        With 10 more while busy (a read inside a write takes a second connection), a process
        opens at most 50, so a review server with W workers may hold up to 50 x W at its
        busiest: PostgreSQL's max_connections (100 by default) should allow that.
    migrate: run Alembic to head on open (True); False only for tools that inspect old schemas.
    echo: log SQL (False).
    """

    busy_timeout_ms: int = 30_000
    pool_size: int = 40
    migrate: bool = True
    echo: bool = False


DEFAULT_OPTIONS = StoreOptions()
SQLITE_POOL = 40  # anyio's default thread limit, which runs the app's sync routes


def create_engine(url: str, options: StoreOptions) -> Engine:
    """An engine for `url`, tuned for concurrent writers on SQLite (WAL, BEGIN IMMEDIATE)."""
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        db = u.database or ""
        memory = db in ("", ":memory:")
        if not memory:
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"connect_args": {"timeout": options.busy_timeout_ms / 1000}}
        if memory:
            kwargs["poolclass"] = sa.StaticPool
            kwargs["connect_args"]["check_same_thread"] = False
        else:
            # SQLite connections are cheap: one for each of the review app's 40 worker threads,
            # so a busy page waits for the database lock, never for a pooled connection.
            kwargs.update(pool_size=SQLITE_POOL, max_overflow=10)
        engine = sa.create_engine(u, echo=options.echo, **kwargs)
        _tune_sqlite(engine, options, wal=not memory)
        return engine
    engine = sa.create_engine(u, echo=options.echo, pool_size=options.pool_size, max_overflow=10)
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE = 10.0  # seconds a pooled PostgreSQL connection may rest before it is tested


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use only when it has rested `PING_AFTER_IDLE` seconds
    (a server restart or a dropped link shows there); a dead one is replaced at once. SQLAlchemy's
    pool_pre_ping tested every checkout: a busy review server checks out about 20 connections a
    reviewer round, and those pings cost ~15 ms of CPU a round (issue 19). A connection that
    dies while in use still fails its request, and SQLAlchemy then renews the whole pool."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["cc_rested_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        rested = record.info.get("cc_rested_from")
        if rested is None or time.monotonic() - rested < PING_AFTER_IDLE:
            return  # new, or used a moment ago
        try:
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT 1")
            dbapi_conn.rollback()  # end the ping's own transaction
        except Exception as exc:  # noqa: BLE001 - any failure: the pool opens a new connection
            raise sa.exc.DisconnectionError(f"pooled connection failed its test: {exc}") from exc


def _tune_sqlite(engine: Engine, options: StoreOptions, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves: pysqlite's implicit BEGIN is deferred and only starts
        # at the first write, which makes read-then-write transactions fail with "database is
        # locked" instead of waiting. Writers use BEGIN IMMEDIATE (see _begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(options.busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        cur.close()

    @event.listens_for(engine, "checkout")
    def _checkout(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        record.info["cc_write"] = False

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("cc_write") else "BEGIN")


def safe_url(url: str) -> str:
    """`url` with its password hidden, for error messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"


class Database:
    """Handle on one database. Cheap to share across threads; close() when done."""

    def __init__(self, engine: Engine, options: StoreOptions = StoreOptions()) -> None:
        self._engine = engine
        self.options = options
        self._writing = threading.local()  # this thread's open write transactions on this database
        self._shared = threading.local()  # this thread's shared read transaction (`shared_reads`)
        # SQLite has one writer at a time. Writers of this process queue here in turn; left to
        # SQLite's busy handler they would poll with sleeps that grow to 100 ms, and a newcomer
        # could take the lock before an older sleeper (issue 19: 50 reviewers on 2 workers,
        # a write's wait for the lock p95 256-264 ms without this queue, 37-38 ms with it).
        self._writer = threading.Lock() if engine.dialect.name == "sqlite" else None
        # PostgreSQL reads at READ COMMITTED, where every statement sees its own snapshot anyway:
        # a read transaction's BEGIN and COMMIT were two round trips that bought nothing
        # (issue 19: about 12 read transactions a reviewer round).
        self._autocommit_reads = engine.dialect.name == "postgresql"

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    def open(cls, url: str, options: StoreOptions = StoreOptions()) -> Self:
        """Connect to `url` (SQLite file or `postgresql+psycopg://...`) and migrate to head."""
        try:
            engine = create_engine(url, options)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use database URL {safe_url(url)}: {exc}") from exc
        db = cls(engine, options)
        if options.migrate:
            try:
                db.migrate()
            except OperationalError as exc:
                engine.dispose()
                raise StoreError(f"cannot open database {safe_url(url)}: {exc.orig}") from exc
            except BaseException:
                engine.dispose()
                raise
        return db

    @classmethod
    def for_workspace(cls, workspace: Any, options: StoreOptions = StoreOptions()) -> Self:
        """Open the database of a `clips_metadata.workspace.Workspace` (its `db_url`)."""
        return cls.open(workspace.db_url, options)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    # ---------------------------------------------------------------- migrations

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self._engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self, revision: str = "head") -> None:
        """Upgrade to `revision`. Safe when several processes open a fresh database at once."""
        from alembic import command
        from alembic.util import CommandError

        if revision == "head" and self.current_revision() == self.head_revision():
            return
        cfg = self._alembic_config()
        with self._engine.connect() as conn:
            # SQLite: BEGIN IMMEDIATE serialises migrators (DDL is transactional there).
            # PostgreSQL: a transaction-scoped advisory lock does the same.
            conn.info["cc_write"] = True
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7262011)")
                cfg.attributes["connection"] = conn
                try:
                    command.upgrade(cfg, revision)
                except CommandError as exc:
                    # Typically a database written by a newer counterclips than this one.
                    raise StoreError(
                        f"cannot migrate the database to {revision} (this program knows up to "
                        f"{self.head_revision()}): {exc}"
                    ) from exc

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        """A session in one transaction, committed on success and rolled back on error.
        On SQLite `write=True` takes the write lock up front (BEGIN IMMEDIATE), so do not call
        other store methods inside it: each opens its own transaction and would wait for this
        one's lock (up to busy_timeout) before failing."""
        if not write and getattr(self._shared, "on", False) and not getattr(self._writing, "depth", 0):
            yield from self._shared_read()
            return
        if write:
            self._end_shared_read()  # a read after this write must see it
        with self._own_transaction(write) as session:
            yield session

    @contextmanager
    def _own_transaction(self, write: bool) -> Iterator[Session]:
        if write and getattr(self._writing, "depth", 0):
            # A second writer in the same thread would wait for the first one's lock until the
            # busy timeout, stalling every other writer meanwhile: fail at once instead.
            raise RuntimeError("a write transaction was opened inside another one in the same thread")
        queue = self._writer if write else None
        if queue is not None and not queue.acquire(timeout=self.options.busy_timeout_ms / 1000):
            raise sa.exc.TimeoutError("the database is busy with other writes (nothing was saved)")
        self._writing.depth = getattr(self._writing, "depth", 0) + (1 if write else 0)
        try:
            with self._engine.connect() as conn:
                conn.info["cc_write"] = write
                if not write and self._autocommit_reads:
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                    yield session
        finally:
            self._writing.depth -= 1 if write else 0
            if queue is not None:
                queue.release()

    @contextmanager
    def shared_reads(self) -> Iterator[None]:
        """Within the block, this thread's reads share one read transaction: one consistent view
        for a page and one BEGIN instead of one per read. A write ends it, and the next read opens
        a new one that sees the write; reads inside a write keep their own transaction as before."""
        if getattr(self._shared, "on", False):
            yield
            return
        self._shared.on = True
        try:
            yield
        finally:
            self._shared.on = False
            self._end_shared_read()

    def _shared_read(self) -> Iterator[Session]:
        if getattr(self._shared, "cm", None) is None:
            cm = self._own_transaction(write=False)
            self._shared.session = cm.__enter__()
            self._shared.cm = cm
        try:
            yield self._shared.session
        except BaseException:
            self._end_shared_read(failed=True)  # a failed statement spoils the transaction
            raise

    def _end_shared_read(self, failed: bool = False) -> None:
        cm = getattr(self._shared, "cm", None)
        if cm is None:
            return
        self._shared.cm = self._shared.session = None
        if failed:
            cm.__exit__(RuntimeError, RuntimeError("shared read ended by an error"), None)
        else:
            cm.__exit__(None, None, None)

    def add_unique(self, row: T, duplicate: str) -> T:
        """Insert `row` in its own transaction and return it (keys filled in); DuplicateError
        with the message `duplicate` when a unique key is already taken."""
        try:
            with self.transaction() as s:
                s.add(row)
                s.flush()
                return row
        except IntegrityError as exc:
            raise DuplicateError(duplicate) from exc

    def read(self) -> AbstractContextManager[Session]:
        """A read-only transaction that takes no write lock: one snapshot on SQLite; on PostgreSQL
        (READ COMMITTED, autocommit) each statement sees what was committed when it ran."""
        return self.transaction(write=False)


def plain_rows(s: Session, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """The rows of a statement built once, run on the session's connection: rows named by column
    (a converter reads `row.name` as it reads an entity's attribute), without ORM entities, the
    identity map or the ORM's execution path (issue 19: the review pages' hot reads)."""
    return list(s.connection().execute(stmt, params or {}).all())


class Repository:
    """One concern's reads and writes over a Database (the Store is one): every `*_repo.py` class
    builds on this and uses only `self.db.transaction()`, `read()` and `add_unique()`."""

    def __init__(self, db: Database) -> None:
        self.db = db
