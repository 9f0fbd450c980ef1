"""A real `kill -9` of a child process running `counterclips ingest` (real models, real media),
then re-runs: the store stays consistent and the re-run completes without duplicates."""

from __future__ import annotations

import json
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, TEST_DATA

pytestmark = pytest.mark.slow

DEMO = REPO / "flows" / "data" / "demo" / "demo_interview.mp4"


def _media() -> Path:
    # The bundled demo interview has themes and risks (so candidates exist); JFK is the fallback.
    for p in (DEMO, TEST_DATA / "en_jfk_inaugural.flac"):
        if p.is_file():
            return p
    pytest.skip("no real media for the kill test")


def _start(ws: Path, media: Path, **env: str) -> subprocess.Popen[str]:
    full = {**os.environ, "COUNTERCLIPS_HOME": str(ws), **env}
    full.pop("COUNTERCLIPS_DB_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.flows.pausing_ingest", "ingest", str(media), "--interviewee",
         "Witness K", "--workspace", str(ws)],
        cwd=REPO, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(proc: subprocess.Popen[str], marker: str, timeout: float = 240.0) -> None:
    """Read the child's stderr until a line contains `marker`."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        if not sel.select(timeout=1.0):
            if proc.poll() is not None:
                break
            continue
        line = proc.stderr.readline()  # type: ignore[union-attr]
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return
    proc.kill()
    pytest.fail(f"child never printed {marker!r}; stderr: {''.join(seen)[-2000:]}")


def _kill9(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def _state(db: Path) -> dict[str, object]:
    con = sqlite3.connect(db)
    try:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        return {
            "integrity": q("PRAGMA integrity_check")[0][0],
            "interviews": q("SELECT count(*) FROM interviews")[0][0],
            "transcripts": q("SELECT count(*) FROM transcripts")[0][0],
            "sentences": q("SELECT count(*) FROM sentences")[0][0],
            "flags": q("SELECT count(*) FROM sentence_flags")[0][0],
            "candidates": q("SELECT count(*) FROM candidates")[0][0],
            "versions": q("SELECT count(*) FROM candidate_versions")[0][0],
            "steps": sorted(r[0] for r in q("SELECT step FROM ingest_steps")),
        }
    finally:
        con.close()


def test_kill_9_mid_ingest_then_rerun_completes_without_duplicates(tmp_path):
    media = _media()
    ws = tmp_path / "ws"
    db = ws / "counterclips.sqlite3"
    add = subprocess.run(
        [sys.executable, "-m", "flows.cli", "interviewee", "add", "Witness K", "--workspace", str(ws)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert add.returncode == 0, add.stderr

    # 1. Killed while transcribing: nothing but the probe is stored.
    proc = _start(ws, media)
    _wait_for(proc, "[transcribe]")
    time.sleep(1.0)
    _kill9(proc)
    s = _state(db)
    assert s["integrity"] == "ok" and s["interviews"] == 1 and s["steps"] == ["probe"]
    assert s["transcripts"] == s["sentences"] == s["candidates"] == 0

    # 2. Killed right after the transcript committed (tests/flows/pausing_ingest.py pauses there).
    proc = _start(ws, media, COUNTERCLIPS_INGEST_PAUSE_AFTER="transcribe")
    _wait_for(proc, "paused after transcribe")
    _kill9(proc)
    s = _state(db)
    assert s["integrity"] == "ok" and s["steps"] == ["probe", "transcribe"]
    assert s["interviews"] == 1 and s["transcripts"] == 1 and s["sentences"] > 0
    assert s["flags"] == s["candidates"] == 0

    # 3. The re-run resumes at flagging and completes.
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "ingest", str(media), "--interviewee", "Witness K", "--json",
         "--workspace", str(ws)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "COUNTERCLIPS_HOME": str(ws)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["steps_run"] == ["diarize", "flag", "propose"] and not result["created"]
    s = _state(db)
    assert s["integrity"] == "ok" and s["steps"] == ["diarize", "flag", "probe", "propose", "transcribe"]
    assert s["interviews"] == 1 and s["transcripts"] == 1 and s["flags"] == s["sentences"]
    assert s["candidates"] == s["versions"] == len(result["candidates"])
    if media == DEMO:
        assert s["candidates"] >= 2

    # 4. Once more: nothing new, and no partial files were left in the workspace.
    again = subprocess.run(
        [sys.executable, "-m", "flows.cli", "ingest", str(media), "--interviewee", "Witness K", "--json",
         "--workspace", str(ws)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COUNTERCLIPS_HOME": str(ws)},
    )  # fmt: skip
    assert again.returncode == 0 and json.loads(again.stdout)["steps_run"] == []
    assert _state(db) == s
    leftovers = [p.name for p in (ws / "transcripts").iterdir()]
    assert len(leftovers) == 1 and leftovers[0].endswith(".json")
    json.loads((ws / "transcripts" / leftovers[0]).read_text())
