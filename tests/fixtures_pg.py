"""A throwaway PostgreSQL server for tests marked `postgres`.

`postgres_url` (session): the URL of a PostgreSQL 15 cluster created by initdb in a temporary
directory, listening only on a unix socket inside that directory (no TCP port to collide with
other test runs), stopped and deleted at the end of the session. When the environment sets
COUNTERCLIPS_TEST_PG_URL (e.g. CI with a service container), that server is used instead.
The tests skip with a clear reason when neither is available.

`postgres_db_url` (function): a fresh, empty database on that server, dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ENV_URL = "COUNTERCLIPS_TEST_PG_URL"
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class PgUnavailable(RuntimeError):
    """This machine cannot start a throwaway PostgreSQL server (no binaries or no user)."""


def _pg_bin() -> Path | None:
    for d in sorted(glob.glob(PG_BIN_GLOB), reverse=True):
        if (Path(d) / "initdb").is_file() and (Path(d) / "pg_ctl").is_file():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb refuses to run as root; drop to the postgres system user when we are root.
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PgUnavailable("PostgreSQL needs runuser to drop root privileges for initdb")
    return [runuser, "-u", "postgres", "--", *argv]


def _run(argv: list[str], what: str) -> None:
    res = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{what} failed ({res.returncode}): {res.stderr.strip() or res.stdout.strip()}")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a PostgreSQL cluster in a temporary directory (unix socket only) and yield its URL;
    stop and delete it afterwards. Raises PgUnavailable when this machine cannot run one."""
    bindir = _pg_bin()
    if bindir is None:
        raise PgUnavailable(f"no PostgreSQL server binaries (initdb, pg_ctl) under {PG_BIN_GLOB} "
                            f"and {ENV_URL} unset")
    if os.geteuid() == 0:
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise PgUnavailable("running as root but no 'postgres' system user to run initdb as") from None
    root = Path(tempfile.mkdtemp(prefix="cc-pg-"))
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    if os.geteuid() == 0:
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    started = False
    try:
        _run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--locale=C",
                ]
            ),
            "initdb",
        )
        opts = f"-k {sock} -c listen_addresses='' -c fsync=off -c max_connections=100"
        _run(
            _as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            "pg_ctl start",
        )
        started = True
        yield f"postgresql+psycopg://postgres@/postgres?host={sock}"
    finally:
        if started:
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get(ENV_URL)
    if url:
        yield url
        return
    try:
        with throwaway_postgres() as started:
            yield started
    except PgUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    import sqlalchemy as sa

    name = f"cc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
