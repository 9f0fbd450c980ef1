"""The workspace and its store, as every command that reads or writes the store opens them."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by commands that use it
    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace


@contextmanager
def open_store(args: argparse.Namespace) -> Iterator[tuple[Workspace, Store]]:
    """The workspace named by `--workspace` (or the default), made if missing, and its migrated
    store, closed when the block ends."""
    from clips_metadata.store import Store
    from clips_metadata.workspace import resolve_workspace

    ws = resolve_workspace(args.workspace).ensure()
    with Store.for_workspace(ws) as store:
        yield ws, store
