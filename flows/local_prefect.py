"""Prefect settings for running with no Prefect server configured ("local mode").

Must run before `prefect` is imported: Prefect reads its settings from the environment then.
With no `PREFECT_API_URL`, Prefect starts a temporary local server for the run (6-8 s). We keep
its database inside the workspace (`.prefect/`) so nothing global is needed, and switch off its
telemetry so a machine with no network does not wait on a DNS lookup. A user's own Prefect
configuration (PREFECT_API_URL, PREFECT_HOME or a profiles file) always wins.
"""

from __future__ import annotations

import os
from pathlib import Path

from clips_metadata.workspace import Workspace


def has_user_config() -> bool:
    if os.environ.get("PREFECT_API_URL") or os.environ.get("PREFECT_HOME"):
        return True
    return (Path.home() / ".prefect" / "profiles.toml").is_file()


def prepare(ws: Workspace, quiet: bool = False, force_local_home: bool = False) -> None:
    """Set Prefect's environment defaults for a command that runs flows over `ws`.

    quiet: log warnings only (the demo prints its own summary; task chatter would bury it).
    force_local_home: keep Prefect's state in the workspace even when a profiles file exists
        (the demo must not depend on or change a user's Prefect setup); PREFECT_API_URL still wins.
    """
    if not os.environ.get("PREFECT_API_URL") and (force_local_home or not has_user_config()):
        home = ws.root / ".prefect"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(home)
        # A profiles file of our own, so ~/.prefect/profiles.toml is not read for this workspace.
        os.environ.setdefault("PREFECT_PROFILES_PATH", str(home / "profiles.toml"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # A shared 2-core machine can take longer than Prefect's 20 s to start the temporary server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
