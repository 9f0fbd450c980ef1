"""One Prefect task per file for its transcribe, diarize, flag and propose steps
(`flows.nightly_worker.run_ingest`, issue 19: fewer task runs, fewer hand-overs): the steps run in
order through the same `run_step`, the heavy slot is held from transcription through flagging and
let go for proposing, and a failure names its step (fakes; the real run is in
test_nightly_flow.py and test_ingest_like_nightly.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flows import nightly_worker as work


def _job(tmp_path: Path) -> work.FileJob:
    return work.FileJob(str(tmp_path), "sqlite://", str(tmp_path / "a.wav"), "a-sha", 1, None,
                        work.WorkOptions(heavy_slots=1))


@pytest.fixture
def steps(monkeypatch):
    """The four steps as fakes behind the real `_run_step` and `_timed`; each records whether
    another thread could take the heavy slot while it ran."""
    ran: list[tuple[str, bool]] = []
    failing: dict[str, BaseException] = {}
    monkeypatch.setattr(work, "RESOURCES", work._Resources())
    monkeypatch.setattr(work.RESOURCES, "store", lambda db_url: "store")
    monkeypatch.setattr(work, "needs", lambda store, interview_id, step: True)
    monkeypatch.setattr(work, "release_free_memory", lambda: None)

    def fake(name):
        def run(store, interview_id, job):
            sem = work.RESOURCES.heavy(job.options.heavy_slots)
            free = sem.acquire(blocking=False)
            if free:
                sem.release()
            ran.append((name, free))
            if name in failing:
                raise failing[name]
            return {"step": name}
        return run

    for name, (_run, heavy) in list(work._AFTER_PROBE.items()):
        monkeypatch.setitem(work._AFTER_PROBE, name, (fake(name), heavy))
    return ran, failing


def _ingest(job: work.FileJob) -> tuple[work.StepResult, ...]:
    """`run_ingest` on a thread with a deadline, so a slot taken twice fails instead of hanging."""
    out: list[object] = []

    def go() -> None:
        try:
            out.append(work.run_ingest(work.StepResult("a-sha", "a.wav", "probe", 3, True), job))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out.append(exc)

    thread = threading.Thread(target=go)
    thread.start()
    thread.join(20)
    assert out, "run_ingest hung (a heavy slot taken twice?)"
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]  # type: ignore[return-value]


def test_the_four_steps_run_in_order_holding_the_slot_until_proposing(steps, tmp_path):
    ran, _ = steps
    job = _job(tmp_path)
    results = _ingest(job)
    assert [r.step for r in results] == ["transcribe", "diarize", "flag", "propose"]
    assert all(r.ran and r.interview_id == 3 for r in results)
    # no other file's heavy step could start between this file's transcription and its flags
    assert ran == [("transcribe", False), ("diarize", False), ("flag", False), ("propose", True)]
    assert work.RESOURCES.heavy(1).acquire(blocking=False)  # let go at the end


def test_a_failure_names_its_step_and_lets_the_slot_go(steps, tmp_path):
    ran, failing = steps
    failing["diarize"] = OSError("disk gone")
    with pytest.raises(OSError) as caught:
        _ingest(_job(tmp_path))
    assert getattr(caught.value, work.FAILED_STEP) == "diarize"
    assert [name for name, _ in ran] == ["transcribe", "diarize"]
    assert work.RESOURCES.heavy(1).acquire(blocking=False)


def test_a_file_that_fails_a_step_keeps_its_own_reason(steps, tmp_path):
    _, failing = steps
    failing["flag"] = work.StepFailed("a.wav", "flag", "no sentences")
    with pytest.raises(work.StepFailed) as caught:
        _ingest(_job(tmp_path))
    assert caught.value.step == "flag" and caught.value.reason == "no sentences"
