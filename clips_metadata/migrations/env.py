"""Alembic environment. `Store.open` runs it programmatically with a live connection in
`config.attributes["connection"]`; a URL in `sqlalchemy.url` also works for the alembic CLI."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from clips_metadata.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    # render_as_batch: SQLite can only ALTER tables by copying them; batch mode does that.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("counterclips migrations run online only (Store.open(url))")
run_migrations_online()
