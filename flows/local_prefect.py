"""Prefect settings for running with no Prefect server configured ("local mode").

Must run before `prefect` is imported: Prefect reads its settings from the environment then.
With no `PREFECT_API_URL`, Prefect starts a temporary local server for the run (6-8 s). We keep
its database inside the workspace (`.prefect/`) so nothing global is needed, and switch off its
telemetry so a machine with no network does not wait on a DNS lookup. A user's own Prefect
configuration (PREFECT_API_URL, PREFECT_HOME or a profiles file) always wins.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clips_metadata.workspace import Workspace
from pipeline.errors import CounterclipsError


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
    if not os.environ.get("PREFECT_API_URL") and (running := running_server(ws)):
        # `counterclips schedule` is serving this workspace: a one-shot run uses its server
        # instead of paying a temporary one's start-up (several seconds, more on a busy machine).
        os.environ["PREFECT_API_URL"] = running
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


def _url_file(ws: Workspace) -> Path:
    return ws.root / ".prefect" / "server.url"


def running_server(ws: Workspace) -> str | None:
    """The API URL of the local server `local_server` keeps for `ws`, when it answers."""
    try:
        url = _url_file(ws).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not url.startswith("http://127.0.0.1:") or not _healthy(url):
        return None
    return url


class LocalServerError(CounterclipsError):
    """The local Prefect server for scheduling did not start."""


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:  # noqa: S310 - our own loopback URL
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def local_server(ws: Workspace, timeout: float = 120.0) -> Iterator[str]:
    """A Prefect server on 127.0.0.1 with its scheduler, state in `ws/.prefect`; yields its API URL.

    Prefect's temporary server runs no scheduler ("Cannot schedule flows on an ephemeral server"),
    so a schedule in local mode needs a real one. It lives exactly as long as this context, and
    its log goes to `.prefect/server.log`.
    """
    home = ws.root / ".prefect"
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    with open(home / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
             "--no-ui", "--analytics-off", "--scheduler", "--no-background"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if proc.poll() is not None:
                raise LocalServerError(
                    f"the local Prefect server exited ({proc.returncode}); see {home / 'server.log'}")
            if time.monotonic() > deadline:
                raise LocalServerError(f"the local Prefect server did not answer within {timeout:.0f} s")
            time.sleep(0.3)
        _url_file(ws).write_text(url + "\n", encoding="utf-8")  # `running_server` finds it here
        yield url
    finally:
        _url_file(ws).unlink(missing_ok=True)
        stop_process(proc, 20.0)


def stop_process(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Ask a child server to stop; kill it when it has not within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
