"""A child started through flows/parent_watch.py stops when its parent dies, SIGKILL included:
a one-shot `counterclips run` killed with `kill -9` must not leave Prefect's server running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

WATCH = Path(__file__).resolve().parents[2] / "flows" / "parent_watch.py"
REPO = WATCH.parents[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (our own child not yet reaped) counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[-1][:1] != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


def test_the_child_runs_while_the_parent_holds_the_pipe_and_stops_when_it_closes(tmp_path):
    watch, lifeline = os.pipe()
    proc = subprocess.Popen([sys.executable, str(WATCH), str(watch), "-m", "http.server", "0",
                             "--bind", "127.0.0.1", "--directory", str(tmp_path)],
                            pass_fds=(watch,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(watch)
    try:
        time.sleep(1.0)
        assert proc.poll() is None, "the watched module should run while its parent lives"
        os.close(lifeline)  # what the kernel does when the parent dies
        assert proc.wait(timeout=30) is not None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_arguments_get_a_usage_line():
    out = subprocess.run([sys.executable, str(WATCH), "3"], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "usage" in out.stderr


@pytest.mark.slow
def test_prefects_temporary_server_stops_when_a_one_shot_run_is_killed_hard(tmp_path):
    parent = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from flows.local_prefect import TEMPORARY_SERVER
        TEMPORARY_SERVER.wait(120)
        print(TEMPORARY_SERVER.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    log = tmp_path / "parent.log"
    with open(log, "wb") as err:
        # only the first line is read: an orphaned server would hold the pipe open for good
        proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, stderr=err,
                                env=env, cwd=tmp_path)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        proc.stdout.close()
        code = proc.wait(timeout=180)
    assert code == -signal.SIGKILL and line.strip(), log.read_text()[-2000:]
    server = int(line)
    try:
        assert _gone_within(server, 60), "Prefect's temporary server outlived its killed parent"
    finally:
        if _alive(server):
            os.kill(server, signal.SIGKILL)
