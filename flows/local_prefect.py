"""Prefect settings for running with no Prefect server configured ("local mode").

Must run before `prefect` is imported: Prefect reads its settings from the environment then.
With no `PREFECT_API_URL`, Prefect starts a temporary local server for the run (6-8 s). We keep
its database inside the workspace (`.prefect/`) so nothing global is needed, and switch off its
telemetry so a machine with no network does not wait on a DNS lookup. A user's own Prefect
configuration (PREFECT_API_URL, PREFECT_HOME or a profiles file) always wins.
"""

from __future__ import annotations

import atexit
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


class TemporaryServer:
    """Prefect's temporary API server for this process, started the way Prefect starts its own on
    a flow's first call when no server is configured (`prefect.server.api.server.
    SubprocessASGIServer` in Prefect 3: the same uvicorn command, environment and 127.0.0.1
    binding, stopped when this process exits), without importing the server package into this
    process. That import only reaches the class that starts the subprocess, and costs 1.2-1.4
    CPU-s of the start-up that the flow itself never needs (a flow run imports none of
    `prefect.server.api`). `start` returns at once, so the caller works while the server loads.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lifeline = -1  # write end of the pipe the server watches (flows/parent_watch.py)
        self.port = 0
        self._ready = False
        self._at_exit = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    def start(self) -> None:
        """Launch the server (once; a no-op while it runs). Before `prefect` is imported (the
        CLI starts it first thing), the server reads its settings from the same environment and
        profiles this process will; after, the settings made here travel in its environment, as
        Prefect passes them."""
        if self.running:
            return
        from importlib.util import find_spec

        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
               "PREFECT__SERVER_FINAL": "1"}
        if "prefect.settings" in sys.modules:
            from prefect.settings import get_current_settings

            env.update(get_current_settings().to_environment_variables(exclude_unset=True))
        spec = find_spec("prefect")  # the package's folder, without importing it (1.2 CPU-s)
        if spec is None or not spec.submodule_search_locations:
            raise LocalServerError("Prefect is not installed")
        app_dir = Path(next(iter(spec.submodule_search_locations))).parent
        self.port, self._ready = _free_port(), False
        # The server outlives no parent: it watches a pipe that closes when this process dies,
        # even by SIGKILL, which skips the atexit hook below.
        self._close_lifeline()
        watch, self._lifeline = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("parent_watch.py")), str(watch), "-m",
                 "uvicorn", "--app-dir", str(app_dir), "--factory", "prefect.server.api.server:create_app",
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
                env=env, stdin=subprocess.DEVNULL, pass_fds=(watch,))
        finally:
            os.close(watch)
        if not self._at_exit:
            # Prefect's event and log workers drain at exit before atexit's hooks run.
            atexit.register(self.stop)
            self._at_exit = True

    def wait(self, timeout: float = 90.0) -> str:
        """Start if needed and wait until the server answers; its API URL. Raises
        LocalServerError when it exits or does not answer within `timeout` seconds."""
        self.start()
        deadline = time.monotonic() + timeout
        while not self._ready:
            assert self._proc is not None
            code = self._proc.poll()
            if code == 3:  # uvicorn: the port was taken meanwhile; Prefect retries on another
                self._proc = None
                self.start()
                continue
            if code is not None:
                self._proc = None
                self._close_lifeline()
                raise LocalServerError(f"Prefect's temporary server exited ({code}) while starting")
            if time.monotonic() > deadline:
                self.stop()
                raise LocalServerError(f"Prefect's temporary server did not answer within {timeout:.0f} s")
            self._ready = _healthy(self.api_url)
            if not self._ready:
                time.sleep(0.1)
        return self.api_url

    def stop(self, drain: bool = False) -> None:
        """Stop the server. `drain`: first let Prefect's event and log workers send what they hold
        (otherwise, stopped before them in a process that lives on, they retry a closed port for
        minutes); at exit they have drained already."""
        if self._proc is None:
            return
        if drain and self._ready:
            from prefect.events.worker import EventsWorker
            from prefect.logging.handlers import APILogWorker

            for service in (EventsWorker, APILogWorker):
                service.drain_all(timeout=60)
        proc, self._proc, self._ready = self._proc, None, False
        if proc.poll() is None:
            stop_process(proc, 5.0)
        self._close_lifeline()

    def _close_lifeline(self) -> None:
        if self._lifeline >= 0:
            os.close(self._lifeline)
            self._lifeline = -1


TEMPORARY_SERVER = TemporaryServer()
"""This process's temporary Prefect server (`flows.nightly` starts it for a one-shot run)."""
