"""The nightly run's head start: while Prefect's temporary server starts, the first file to do is
scanned, probed and transcribed by the tasks' own functions, and the tasks take those results
instead of working again (fakes for the hand-over logic; a real one-shot run against a run with a
server already up for the results, marked slow)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flows import inbox
from flows import nightly_worker as work
from flows.inbox import InboxItem, InboxScan
from pipeline.errors import MediaError


def _scan(tmp_path: Path, names: tuple[str, ...]) -> InboxScan:
    return InboxScan(items=tuple(InboxItem(tmp_path / n, f"{n}-sha", 1, 0.0) for n in names))


@pytest.fixture
def fake_steps(monkeypatch, tmp_path):
    """scan_inbox, already_done, the probe and the decode ahead, recording what ran on which
    thread; the probe waits for `gate`."""
    ran: list[tuple[str, str, str]] = []
    gate = threading.Event()
    gate.set()

    def probe(job):
        assert gate.wait(10)
        ran.append(("probe", job.sha256, threading.current_thread().name))
        if job.name == "bad.wav":
            raise work.StepFailed(job.name, "probe", "not media")
        return work.StepResult(job.sha256, job.name, "probe", 7, True, 0.1)

    def step(name, prev, job):
        ran.append((name, job.sha256, threading.current_thread().name))
        return work.StepResult(job.sha256, job.name, name, prev.interview_id, True, 0.2)

    class Ahead:
        def begin(self, job, store):
            ran.append(("decode", job.sha256, threading.current_thread().name))

    monkeypatch.setattr(inbox, "scan_inbox", lambda ws, options: _scan(tmp_path, ("a.wav", "b.wav")))
    monkeypatch.setattr(work, "already_done", lambda jobs: {})
    monkeypatch.setattr(work, "_run_probe", probe)
    monkeypatch.setattr(work, "_run_step", step)
    monkeypatch.setattr(work, "DECODE_AHEAD", Ahead())
    monkeypatch.setattr(work.RESOURCES, "store", lambda db_url: "store")
    return ran, gate


def _job(tmp_path: Path, name: str, diarize: bool = True) -> work.FileJob:
    return work.FileJob(str(tmp_path), "sqlite://", str(tmp_path / name), f"{name}-sha", 1, None,
                        work.WorkOptions(diarize=diarize))


def _scanned(tmp_path) -> work._HeadStart:
    """A head start begun on the workspace at `tmp_path` that has scanned its inbox."""
    head = work._HeadStart()
    head.begin(str(tmp_path), work.WorkOptions(), 0.0)
    head.scan(str(tmp_path), 0.0)
    return head


def test_the_tasks_take_the_first_files_scan_and_probe_once_and_its_decode_begins(fake_steps, tmp_path):
    ran, _gate = fake_steps
    head = work._HeadStart()
    head.begin(str(tmp_path), work.WorkOptions(), 0.0)
    scan = head.scan(str(tmp_path), 0.0)
    assert [i.name for i in scan.items] == ["a.wav", "b.wav"]
    assert head.scan(str(tmp_path), 0.0) is None  # taken once: a second scan is the task's own
    probe = head.take("a.wav-sha", "probe")
    assert (probe.step, probe.interview_id, probe.ran) == ("probe", 7, True)
    assert head.take("a.wav-sha", "probe") is None  # only once
    assert head.take("b.wav-sha", "probe") is None  # only the first file
    assert head.take("a.wav-sha", "transcribe") is None  # Whisper runs in the task
    head.finish()
    assert [(s, sha) for s, sha, _t in ran] == [("probe", "a.wav-sha"), ("decode", "a.wav-sha")]
    assert {t for *_x, t in ran} == {"head-start"}


def test_a_task_waits_for_a_step_still_running(fake_steps, tmp_path):
    ran, gate = fake_steps
    gate.clear()
    head = _scanned(tmp_path)
    got: list[work.StepResult | None] = []
    waiter = threading.Thread(target=lambda: got.append(head.take("a.wav-sha", "probe")))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not got  # the probe is still running: the task waits
    gate.set()
    waiter.join(10)
    assert got and got[0].step == "probe"
    head.finish()
    assert [s for s, *_x in ran].count("probe") == 1


def test_a_failure_is_raised_in_the_task_and_nothing_more_is_begun(fake_steps, monkeypatch, tmp_path):
    ran, _gate = fake_steps
    monkeypatch.setattr(inbox, "scan_inbox", lambda ws, options: _scan(tmp_path, ("bad.wav", "b.wav")))
    head = _scanned(tmp_path)
    with pytest.raises(work.StepFailed, match="not media"):
        head.take("bad.wav-sha", "probe")
    head.finish()
    assert [s for s, *_x in ran] == ["probe"]


def test_a_scan_that_failed_is_made_again_by_the_task(monkeypatch, tmp_path):
    def broken(ws, options):
        raise MediaError("unreadable inbox")

    monkeypatch.setattr(inbox, "scan_inbox", broken)
    head = work._HeadStart()
    head.begin(str(tmp_path), work.WorkOptions(), 0.0)
    assert head.scan(str(tmp_path), 0.0) is None
    head.finish()


def test_run_probe_uses_the_head_start_when_it_ran_the_probe(fake_steps, monkeypatch, tmp_path):
    ran, _gate = fake_steps
    monkeypatch.setattr(work, "HEAD_START", work._HeadStart())
    work.HEAD_START.begin(str(tmp_path), work.WorkOptions(), 0.0)
    work.HEAD_START.scan(str(tmp_path), 0.0)
    job = _job(tmp_path, "a.wav")
    probe = work.run_probe(job)
    transcribed = work.run_step("transcribe", probe, job)
    work.HEAD_START.finish()
    assert probe.interview_id == 7 and transcribed.step == "transcribe"
    assert [(s, t) for s, _sha, t in ran] == [("probe", "head-start"), ("decode", "head-start"),
                                              ("transcribe", "MainThread")]  # nothing ran twice


def test_an_abandoned_head_start_begins_no_decode(fake_steps, tmp_path):
    ran, gate = fake_steps
    gate.clear()
    head = _scanned(tmp_path)
    head.finish(wait=False)  # the run failed: nothing waits for it
    gate.set()
    head._thread.join(10)  # type: ignore[union-attr]
    assert [s for s, *_x in ran] == ["probe"]


# ------------------------------------------------------------------------------- real run


@pytest.mark.slow
def test_a_one_shot_run_gives_what_a_run_with_a_server_up_gives(tmp_path, monkeypatch):
    """A one-shot run (it starts Prefect's temporary server; the head start probes and decodes the
    first file meanwhile) and a run with a server already up, over the same files in two
    workspaces: the same transcripts, speakers and candidates, every file "processed"."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from clips_metadata.workspace import Workspace
    from flows.demo import DEMO_MEDIA, register_interviewee
    from flows.local_prefect import TEMPORARY_SERVER
    from flows.nightly import NightlyOptions, run_nightly
    from tests.conftest import TEST_DATA

    home = tmp_path / "prefect"
    home.mkdir()
    env = {"PREFECT_HOME": str(home), "PREFECT_PROFILES_PATH": str(home / "profiles.toml"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("COUNTERCLIPS_DB_URL", raising=False)
    taken: list[tuple[str, str]] = []
    real_take = work._HeadStart.take

    def take(self, sha256, step):
        got = real_take(self, sha256, step)
        if got is not None:
            taken.append((got.name, step))
        return got

    monkeypatch.setattr(work._HeadStart, "take", take)
    import subprocess

    import imageio_ffmpeg

    clip = tmp_path / "clip.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(DEMO_MEDIA),
                    "-t", "40", "-c", "copy", str(clip)], check=True)

    def run(name: str, kept: bool) -> dict[str, object]:
        ws = Workspace(tmp_path / name).ensure()
        (ws.inbox / "a interview.mp4").write_bytes(clip.read_bytes())
        sidecar = "interviewee: Witness K\nlanguage: en\n"
        (ws.inbox / "a interview.mp4.yaml").write_text(sidecar, encoding="utf-8")
        (ws.inbox / "b jfk.flac").write_bytes((TEST_DATA / "en_jfk_inaugural.flac").read_bytes())
        store = work.RESOURCES.store(ws.db_url)
        register_interviewee(store)
        TEMPORARY_SERVER.stop(drain=True)
        settings = {PREFECT_API_URL: TEMPORARY_SERVER.wait(120)} if kept else {PREFECT_API_URL: None}
        options = NightlyOptions(settle_seconds=0.0, render_exports=False, render_previews=False,
                                 build_proxies=False)
        with temporary_settings(settings):
            report = run_nightly(ws, options)
        assert not report.failures, report.failures
        assert [f.status for f in report.files] == ["processed", "processed"]
        out: dict[str, object] = {}
        for f in report.files:
            info = store.latest_transcript(f.interview_id)
            transcript = store.load_transcript(info.id)
            out[f.name] = (
                [(w.text, w.start, w.end, w.speaker) for w in transcript.words],
                [(c.start, c.end, c.themes) for c in store.list_candidates(interview_id=f.interview_id)],
                f.steps,
            )
        return out

    try:
        one_shot = run("one-shot", kept=False)
        assert taken == [("a interview.mp4", "probe")]
        kept = run("kept", kept=True)
    finally:
        TEMPORARY_SERVER.stop(drain=True)
    assert taken == [("a interview.mp4", "probe")]  # none the second time
    assert one_shot == kept
    assert one_shot["a interview.mp4"][1]  # it has candidates: the comparison covers them


@pytest.mark.slow
def test_a_one_shot_run_killed_during_its_start_resumes(tmp_path):
    """`counterclips run` with no server: SIGKILLed as soon as the first transcript file is
    written, then a second one-shot run completes the file once: one transcript, its steps all
    stored, no duplicate candidates."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import imageio_ffmpeg
    import psutil

    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace
    from flows.demo import DEMO_MEDIA, register_interviewee
    from flows.report import load_latest

    ws = Workspace(tmp_path / "ws").ensure()
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(DEMO_MEDIA),
                    "-t", "40", "-c", "copy", str(ws.inbox / "clip.mp4")], check=True)
    (ws.inbox / "clip.mp4.yaml").write_text("interviewee: Witness K\nlanguage: en\n", encoding="utf-8")
    store = Store.for_workspace(ws)
    register_interviewee(store)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"COUNTERCLIPS_HOME": str(ws.root), "PREFECT_LOGGING_LEVEL": "WARNING",
                "PREFECT_HOME": str(tmp_path / "prefect"),
                "PREFECT_PROFILES_PATH": str(tmp_path / "profiles.toml"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    env.pop("COUNTERCLIPS_DB_URL", None)
    argv = [sys.executable, "-m", "flows.cli", "run", "--workspace", str(ws.root), "--settle-seconds", "0",
            "--no-exports"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 240
        while not any(ws.transcripts.glob("*.json")):
            assert proc.poll() is None, "the run ended before writing its transcript"
            assert time.monotonic() < deadline, "no transcript file within 240 s"
            time.sleep(0.02)
        children = psutil.Process(proc.pid).children(recursive=True)  # the temporary server
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        for child in children:  # killed with -9, the run could not stop its server
            if child.is_running():
                child.kill()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = load_latest(ws)
    assert not report["failures"], report["failures"]
    (interview,) = store.list_interviews()
    assert store.ingest_state(interview.id).complete
    assert len(store.list_transcripts(interview.id)) == 1
    cands = store.list_candidates()
    assert cands and len({(c.start, c.end) for c in cands}) == len(cands)
    store.close()


# ------------------------------------------------------------------------- decode ahead


class _FakeStore:
    def __init__(self, transcribed: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.transcribed = transcribed

    def find_interview(self, sha256):
        return type("Interview", (), {"id": sha256})() if sha256 in self.transcribed else None

    def latest_transcript(self, interview_id):
        return object() if interview_id in self.transcribed else None


@pytest.fixture
def fake_decode(monkeypatch):
    import pipeline.media as media

    decoded: list[str] = []

    def load_audio(path):
        decoded.append(Path(path).name)
        if Path(path).name == "bad.wav":
            raise MediaError(f"{path}: not media")
        return f"samples of {Path(path).name}"

    monkeypatch.setattr(media, "load_audio", load_audio)
    return decoded


def test_the_next_files_audio_is_decoded_once_while_this_one_ends(fake_decode, tmp_path):
    jobs = [_job(tmp_path, n, diarize=False) for n in ("a.wav", "b.wav", "c.wav")]
    ahead = work._DecodeAhead()
    ahead.plan(jobs)
    ahead.after(jobs[0], _FakeStore())
    assert ahead.take(jobs[1].path) == ("samples of b.wav", None)
    assert ahead.take(jobs[1].path) is None  # taken once
    ahead.after(jobs[2], _FakeStore())  # the last file: nothing after it
    assert fake_decode == ["b.wav"]


def test_its_speech_features_are_made_ahead_too_unless_that_fails(fake_decode, monkeypatch, tmp_path):
    import pipeline.speakers as speakers

    monkeypatch.setattr(work.RESOURCES, "speakers", lambda: "model")
    monkeypatch.setattr(speakers, "speech_features", lambda audio, rate, model: f"features of {audio}")
    jobs = [_job(tmp_path, n) for n in ("a.wav", "b.wav", "c.wav")]
    ahead = work._DecodeAhead()
    ahead.plan(jobs)
    ahead.after(jobs[0], _FakeStore())
    assert ahead.take(jobs[1].path) == ("samples of b.wav", "features of samples of b.wav")

    def broken(audio, rate, model):
        raise RuntimeError("no speaker model")

    monkeypatch.setattr(speakers, "speech_features", broken)
    ahead.after(jobs[1], _FakeStore())
    assert ahead.take(jobs[2].path) == ("samples of c.wav", None)  # diarization makes them itself


def test_a_decode_error_is_raised_where_the_audio_is_taken(fake_decode, tmp_path):
    jobs = [_job(tmp_path, n, diarize=False) for n in ("a.wav", "bad.wav")]
    ahead = work._DecodeAhead()
    ahead.plan(jobs)
    ahead.after(jobs[0], _FakeStore())
    with pytest.raises(MediaError, match="not media"):
        ahead.take(jobs[1].path)


def test_no_decode_for_a_transcribed_or_unplanned_file_and_a_stale_one_is_dropped(fake_decode, tmp_path):
    jobs = [_job(tmp_path, n, diarize=False) for n in ("a.wav", "b.wav", "c.wav", "d.wav")]
    ahead = work._DecodeAhead()
    ahead.plan(jobs)
    ahead.after(jobs[0], _FakeStore({"b.wav-sha"}))  # b resumed: its transcript is stored
    ahead.after(_job(tmp_path, "other.wav", diarize=False), _FakeStore())  # not in this run's plan
    assert fake_decode == []
    ahead.after(jobs[1], _FakeStore())  # decodes c; c's file then fails before transcribing
    ahead._decoded[jobs[2].path].result(10)
    ahead.after(jobs[3], _FakeStore())  # d (decoded by its own step) ends: c's samples are dropped
    assert ahead.take(jobs[2].path) is None
    ahead.clear()
    assert fake_decode == ["c.wav"]


def test_a_decode_the_head_start_began_survives_the_runs_plan(fake_decode, tmp_path):
    jobs = [_job(tmp_path, n, diarize=False) for n in ("a.wav", "b.wav")]
    ahead = work._DecodeAhead()
    ahead.begin(jobs[0], _FakeStore())  # before the flow exists
    ahead.plan(jobs)
    assert ahead.take(jobs[0].path) == ("samples of a.wav", None)
    ahead.begin(jobs[1], _FakeStore())
    ahead.plan(jobs[:1])  # not in this run: dropped
    assert ahead.take(jobs[1].path) is None
