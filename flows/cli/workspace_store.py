"""The workspace and its store, as every command that reads or writes the store opens them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by commands that use it
    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace


def open_store(args: argparse.Namespace) -> tuple[Workspace, Store]:
    """The workspace named by `--workspace` (or the default), made if missing, and its migrated
    store. The caller closes the store."""
    from clips_metadata.store import Store
    from clips_metadata.workspace import resolve_workspace

    ws = resolve_workspace(args.workspace).ensure()
    return ws, Store.for_workspace(ws)
