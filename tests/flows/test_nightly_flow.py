"""The nightly flow over real media under Prefect: every file processed, bad ones quarantined,
the second run a no-op, `kill -9` resumed, and the per-file work on a two-worker Dask cluster.

Media: the first 50 s of the bundled demo interview (synthetic speech, CC0; it yields
candidates), JFK's inaugural excerpt from tests/data, a German sentence, a corrupt file and a
silent one made here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_DATA
from tests.fixtures_pg import postgres_db_url, postgres_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow

PSEUDONYM = "Witness K"


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    """One Prefect test server for the module; subprocesses and Dask workers use its URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(scope="module")
def demo_clip(tmp_path_factory) -> Path:
    """The demo interview's first 50 s (false promises, brutality): enough for candidates."""
    import imageio_ffmpeg

    from flows.demo import DEMO_MEDIA

    out = tmp_path_factory.mktemp("media") / "clip.mp4"
    # Stream-copied, as editors deliver cuts: an edit list, pre-roll and a ragged end that the
    # renderer must cut frame-accurately all the same.
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(DEMO_MEDIA),
                    "-t", "50", "-c", "copy", str(out)], check=True)
    return out


def _silent_wav(path: Path, seconds: float = 3.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * int(16000 * seconds))
    return path


def _add_clip(ws, clip: Path, name: str = "interview one.mp4") -> Path:
    target = ws.inbox / name
    target.write_bytes(clip.read_bytes())
    (ws.inbox / f"{name}.yaml").write_text(f"interviewee: {PSEUDONYM}\nlanguage: en\nrecorded: 2026-01-15\n",
                                           encoding="utf-8")
    return target


def _store(ws):
    from flows.nightly_worker import RESOURCES

    return RESOURCES.store(ws.db_url)


def _register(ws) -> None:
    from flows.demo import register_interviewee

    register_interviewee(_store(ws))


def _hidden_leftovers(ws) -> list[Path]:
    keep = {".prefect", ".inbox-sha256.json"}
    return [p for p in ws.root.rglob(".*") if p.name not in keep and ".prefect" not in p.parts
            and not p.name.startswith(".counterclips")]


def test_flow_processes_quarantines_reports_and_second_run_is_noop(workspace, prefect_api, demo_clip,
                                                                   monkeypatch):
    from flows import nightly_worker as tasks
    from flows.nightly import NightlyOptions, run_nightly
    from flows.report import load_latest

    ws = workspace
    _register(ws)
    clip = _add_clip(ws, demo_clip)
    (ws.inbox / "jfk.flac").write_bytes((TEST_DATA / "en_jfk_inaugural.flac").read_bytes())
    (ws.inbox / "corrupt.mp4").write_bytes(os.urandom(40_000))
    _silent_wav(ws.inbox / "silent.wav")
    (ws.inbox / "bad sidecar.wav").write_bytes((TEST_DATA / "fr_read_sentence_picovoice.wav").read_bytes())
    (ws.inbox / "bad sidecar.wav.yaml").write_text("interviewee: [oops", encoding="utf-8")
    (ws.inbox / "notes.txt").write_text("not footage", encoding="utf-8")

    # A disk hiccup on the first probe of one file: its task retries and the file goes through.
    from flows.services import ingesting as ingest

    real_probe, hiccups = ingest.probe_step, []

    def flaky_probe(store, path, *a, **k):
        if str(path).endswith("jfk.flac") and not hiccups:
            hiccups.append(path)
            raise OSError(5, "Input/output error")
        return real_probe(store, path, *a, **k)

    monkeypatch.setattr(ingest, "probe_step", flaky_probe)
    report = run_nightly(ws, NightlyOptions(settle_seconds=0.0, retry_delay_seconds=0.0))
    monkeypatch.setattr(ingest, "probe_step", real_probe)
    assert len(hiccups) == 1

    by = {f.name: f for f in report.files}
    assert set(by) == {"interview one.mp4", "jfk.flac", "corrupt.mp4", "silent.wav", "bad sidecar.wav"}
    assert by["interview one.mp4"].status == "processed" and by["interview one.mp4"].candidates >= 1
    assert by["jfk.flac"].status == "processed" and by["jfk.flac"].language == "en"
    for bad in ("corrupt.mp4", "silent.wav", "bad sidecar.wav"):
        assert by[bad].status == "quarantined" and by[bad].reason
        assert (ws.quarantine / bad).is_file() and (ws.quarantine / f"{bad}.reason.txt").is_file()
        assert not (ws.inbox / bad).exists()
    assert by["bad sidecar.wav"].stage == "scan" and (ws.quarantine / "bad sidecar.wav.yaml").is_file()
    assert by["silent.wav"].stage == "transcribe" and "silen" in by["silent.wav"].reason.lower()
    assert by["corrupt.mp4"].stage == "probe"
    from flows.report import neutral_id

    # Notes name files by neutral ids (issue 13): a file name can carry a real name.
    assert (ws.inbox / "notes.txt").exists() and any(neutral_id("notes.txt") in n for n in report.notes)

    # The report counts what the store holds.
    store = _store(ws)
    cands = store.list_candidates()
    assert report.candidates_proposed == len(cands) == by["interview one.mp4"].candidates
    assert sum(report.candidates_per_theme.values()) == sum(len(c.themes) for c in cands)
    assert report.files_processed == 2 and len(report.failures) == 3
    clip_iv = store.find_interview(by["interview one.mp4"].sha256)
    jfk_iv = store.find_interview(by["jfk.flac"].sha256)
    assert clip_iv.pseudonym == PSEUDONYM and jfk_iv.pseudonym == "unassigned"
    assert report.hours_of_footage == pytest.approx((clip_iv.duration + jfk_iv.duration) / 3600, rel=1e-6)
    assert report.proxies_built == 1 and (ws.proxies / f"{clip_iv.sha256}.mp4").is_file()
    assert report.stage_seconds["transcribe"] > 0
    latest = load_latest(ws)
    assert latest["run_id"] == report.run_id and latest["summary"]["files_quarantined"] == 3
    assert "<svg" in (ws.reports / f"{report.run_id}.html").read_text(encoding="utf-8")
    assert clip.exists()  # processed footage stays where the operator put it

    # Second run over unchanged footage: no model, no ffmpeg, nothing new.
    def refuse(*_a, **_k):
        raise AssertionError("the second run must not load a model or make a proxy")

    monkeypatch.setattr(tasks.RESOURCES, "backend", refuse)
    monkeypatch.setattr(tasks.RESOURCES, "flagger", refuse)
    monkeypatch.setattr("review.proxy_files.make_proxy", refuse)
    # A sidecar added later assigns the "unassigned" footage; nothing is re-processed for it.
    (ws.inbox / "jfk.flac.yaml").write_text(f"interviewee: {PSEUDONYM}\n", encoding="utf-8")
    again = run_nightly(ws, NightlyOptions(settle_seconds=0.0))
    assert {f.name: f.status for f in again.files} == {"interview one.mp4": "skipped", "jfk.flac": "skipped"}
    assert store.get_interview(jfk_iv.id).pseudonym == PSEUDONYM
    assert again.candidates_proposed == 0 and again.proxies_built == 0 and not again.failures
    assert again.stage_seconds.get("transcribe", 0.0) == 0.0
    assert len(store.list_candidates()) == len(cands)
    assert len(store.list_transcripts(clip_iv.id)) == 1
    assert _hidden_leftovers(ws) == []

    # An approved candidate is rendered by the next run, once.
    cid = _approve(store, cands[0].id, ws)
    third = run_nightly(ws, NightlyOptions(settle_seconds=0.0))
    assert third.exports_made == 1 and third.exports[0].candidate_id == cid and not third.failures
    assert any(p.endswith(".mp4") and Path(p).is_file() for p in third.exports[0].paths)
    assert run_nightly(ws, NightlyOptions(settle_seconds=0.0)).exports == ()


def _approve(store, candidate_id: int, ws) -> int:
    """Reviewers approve, acknowledging every risk, until the candidate is approved (two for a
    risky clip: four eyes)."""
    from clips_metadata.review_store import ReviewStore
    from review.plans import Planner
    from review.service import ReviewService

    rs = ReviewStore(store)
    svc = ReviewService(rs, Planner.for_workspace(store, ws))
    risks = tuple(store.get_candidate(candidate_id).risks)
    for name in ("rev-one", "rev-two"):
        if store.get_candidate(candidate_id).status == "approved":
            break  # a candidate without risks needs one approval
        rs.add_user(name, "reviewer", "not-a-login-hash")
        svc.act(candidate_id, "approve", actor=name, role="reviewer", acknowledged_risks=risks)
    assert store.get_candidate(candidate_id).status == "approved"
    return candidate_id


def _wait_for(predicate, proc: subprocess.Popen, what: str, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended (code {proc.returncode}) before {what}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"timed out waiting for {what}")


def _run_and_kill(ws, prefect_api: str, ready, what: str) -> None:
    """Start `counterclips run` in a child process and SIGKILL it as soon as `ready()` holds."""
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "COUNTERCLIPS_HOME": str(ws.root),
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--workspace", str(ws.root),
                             "--settle-seconds", "0"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for(ready, proc, what)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_is_completed_by_the_next_run(workspace, prefect_api, demo_clip):
    """Killed twice at two points (between a transcript file and its database commit; in the
    middle of the proxy encode), then one run completes everything, once."""
    from flows.nightly import NightlyOptions, run_nightly

    ws = workspace
    _register(ws)
    _add_clip(ws, demo_clip)
    _run_and_kill(ws, prefect_api, lambda: any(ws.transcripts.glob("*.json")), "the transcript file")
    _run_and_kill(ws, prefect_api, lambda: any(ws.proxies.glob(".*.part.mp4")), "the proxy encode")
    assert any(ws.proxies.glob(".*.part.mp4"))  # a partial proxy was left behind

    report = run_nightly(ws, NightlyOptions(settle_seconds=0.0))
    (clip,) = report.files
    assert clip.status == "skipped"  # the second killed run had finished ingesting
    assert any("interrupted run" in n for n in report.notes)
    store = _store(ws)
    (interview,) = store.list_interviews()
    assert store.ingest_state(interview.id).complete
    assert len(store.list_transcripts(interview.id)) == 1
    cands = store.list_candidates()
    assert cands and len({(c.start, c.end) for c in cands}) == len(cands)  # no duplicates
    assert report.proxies_built == 1 and (ws.proxies / f"{interview.sha256}.mp4").is_file()
    assert _hidden_leftovers(ws) == []
    expected = f"{interview.sha256[:16]}-interview{interview.id}.json"
    assert [p.name for p in ws.transcripts.iterdir()] == [expected]
    assert run_nightly(ws, NightlyOptions(settle_seconds=0.0)).proxies_built == 0


@pytest.mark.postgres
def test_dask_cluster_with_postgres(workspace, prefect_api, postgres_db_url, monkeypatch):  # noqa: F811
    from distributed import LocalCluster

    from flows.nightly import NightlyOptions, run_nightly

    monkeypatch.setenv("COUNTERCLIPS_DB_URL", postgres_db_url)
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)  # inherited by the worker processes
    ws = workspace
    assert ws.db_url == postgres_db_url
    (ws.inbox / "jfk.flac").write_bytes((TEST_DATA / "en_jfk_inaugural.flac").read_bytes())
    (ws.inbox / "de.wav").write_bytes((TEST_DATA / "de_read_sentence_picovoice.wav").read_bytes())
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        report = run_nightly(ws, NightlyOptions(settle_seconds=0.0, build_proxies=False),
                             "dask", cluster.scheduler_address)
    assert report.task_runner == "dask"
    by = {f.name: f for f in report.files}
    assert {n: f.status for n, f in by.items()} == {"jfk.flac": "processed", "de.wav": "processed"}
    assert not report.failures
    here = f":{os.getpid()}"
    assert all(f.worker and not f.worker.endswith(here) for f in by.values())  # ran on the workers
    assert by["de.wav"].language == "de"
    from clips_metadata.store import Store

    store = Store.open(postgres_db_url)
    try:
        assert store.dialect == "postgresql"
        interviews = store.list_interviews()
        assert len(interviews) == 2 and all(store.ingest_state(i.id).complete for i in interviews)
    finally:
        store.close()
