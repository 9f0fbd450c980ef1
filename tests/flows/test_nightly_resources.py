"""The nightly worker's per-process models: loaded once, warmed while Prefect starts, and a slow
load of one kind never holds up a thread that needs another (fakes: this is locking logic)."""

from __future__ import annotations

import threading

from flows import nightly_worker as work


def test_warming_loads_each_model_once_and_a_slow_load_blocks_no_other_kind(monkeypatch, tmp_path):
    import flows.services.flagger_model as flagger_model
    import pipeline.speakers as speakers
    import pipeline.transcribe as transcribe

    loads: list[str] = []
    whisper_started, release = threading.Event(), threading.Event()

    def slow_whisper(_options):
        loads.append("whisper")
        whisper_started.set()
        assert release.wait(10)
        return "backend"

    monkeypatch.setattr(transcribe, "load_backend", slow_whisper)
    monkeypatch.setattr(speakers, "load_speaker_model", lambda: loads.append("speakers") or "speakers")
    monkeypatch.setattr(flagger_model, "load_flagger", lambda _ws: loads.append("flagger") or "flagger")
    res = work._Resources()
    warm = threading.Thread(target=res.warm, args=(work.WorkOptions(), str(tmp_path)))
    warm.start()
    assert whisper_started.wait(10)
    # Whisper is still loading: the speaker model is reachable meanwhile
    got: list[str] = []
    other = threading.Thread(target=lambda: got.append(res.speakers()))
    other.start()
    other.join(5)
    assert got == ["speakers"] and not release.is_set()
    release.set()
    warm.join(10)
    assert res.backend(work.WorkOptions()) == "backend" and res.flagger(str(tmp_path)) == "flagger"
    assert sorted(loads) == ["flagger", "speakers", "whisper"]


def test_a_failed_warm_up_is_left_for_the_step_to_report(monkeypatch, tmp_path):
    import pipeline.transcribe as transcribe
    from pipeline.errors import ModelError

    def broken(_options):
        raise ModelError("weights missing")

    monkeypatch.setattr(transcribe, "load_backend", broken)
    res = work._Resources()
    res.warm(work.WorkOptions(), str(tmp_path))  # no exception
    try:
        res.backend(work.WorkOptions())
    except ModelError as exc:
        assert "weights missing" in str(exc)
    else:
        raise AssertionError("the step must see the load error")
