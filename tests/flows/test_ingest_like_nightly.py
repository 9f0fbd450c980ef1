"""`counterclips ingest FILE` leaves the interview exactly as the nightly run would: the same
interview, transcript, sentences, flags, candidates and steps, and the review proxy too."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from clips_metadata.workspace import Workspace

pytestmark = pytest.mark.slow

PSEUDONYM = "Witness K"


@pytest.fixture(scope="module")
def demo_clip(tmp_path_factory) -> Path:
    """The demo interview's first 30 s: enough speech for candidates."""
    import imageio_ffmpeg

    from flows.demo import DEMO_MEDIA

    out = tmp_path_factory.mktemp("media") / "clip.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(DEMO_MEDIA),
                    "-t", "30", "-c", "copy", str(out)], check=True)
    return out


def _snapshot(ws: Workspace, store: Any) -> dict[str, Any]:
    (iv,) = store.list_interviews()
    tr = store.latest_transcript(iv.id)
    return {
        "interview": (iv.sha256, iv.pseudonym, iv.language, iv.recorded, iv.status, round(iv.duration, 3)),
        "steps": sorted(s for s in ("probe", "transcribe", "diarize", "flag", "propose")
                        if store.step_detail(iv.id, s) is not None),
        "transcript": (tr.language, tr.backend, tr.model),
        "sentences": [(s.start, s.end, s.text) for s in store.get_sentences(tr.id)],
        "translations": list(store.get_sentence_translations(tr.id)),
        "flags": [tuple(f.labels) for f in store.get_flags(tr.id)],
        "warnings": len(store.get_warnings(tr.id)),
        "candidates": [(c.start, c.end, tuple(c.themes), tuple(c.risks), c.status, c.content_hash)
                       for c in store.list_candidates(interview_id=iv.id)],
        "proxy": (ws.proxies / f"{iv.sha256}.mp4").is_file(),
    }


@pytest.mark.parametrize("idle", [False, True], ids=["after-whisper", "idle-helper"])
def test_cli_ingest_equals_the_nightly_run_proxy_included(tmp_path, monkeypatch, demo_clip, idle):
    """Also with the nightly's diarization begun in the idle-time helper process (issue 16,
    phase 6): the same turns, so the same sentences and candidates."""
    from dataclasses import replace

    from prefect.testing.utilities import prefect_test_harness

    from clips_metadata.store import Store
    from flows.cli import main
    from flows.demo import register_interviewee
    from flows.nightly import NightlyOptions, run_nightly
    from flows.nightly_worker import RESOURCES, WorkOptions

    monkeypatch.delenv("COUNTERCLIPS_DB_URL", raising=False)
    by_cli = Workspace(tmp_path / "cli").ensure()
    store = Store.for_workspace(by_cli)
    register_interviewee(store)
    store.close()
    assert main(["ingest", str(demo_clip), "--interviewee", PSEUDONYM, "--language", "en",
                 "--recorded", "2026-01-15", "--workspace", str(by_cli.root)]) == 0

    by_night = Workspace(tmp_path / "night").ensure()
    register_interviewee(RESOURCES.store(by_night.db_url))
    (by_night.inbox / "clip.mp4").write_bytes(demo_clip.read_bytes())
    (by_night.inbox / "clip.mp4.yaml").write_text(
        f"interviewee: {PSEUDONYM}\nlanguage: en\nrecorded: 2026-01-15\n", encoding="utf-8")
    import pipeline.media

    decoded = []
    real_load_audio = pipeline.media.load_audio

    def counting_load_audio(path, *args, **kwargs):
        decoded.append(Path(path).name)
        return real_load_audio(path, *args, **kwargs)

    monkeypatch.setattr(pipeline.media, "load_audio", counting_load_audio)
    with prefect_test_harness(server_startup_timeout=120):
        report = run_nightly(by_night, NightlyOptions(settle_seconds=0.0, render_exports=False,
                                                      work=replace(WorkOptions(), diarize_idle=idle)))
    assert not report.failures
    assert decoded == ["clip.mp4"]  # one decode for transcription, waveform and diarization

    cli_store = Store.for_workspace(by_cli)
    try:
        cli = _snapshot(by_cli, cli_store)
        night = _snapshot(by_night, RESOURCES.store(by_night.db_url))
    finally:
        cli_store.close()
        RESOURCES.close()
    assert cli["candidates"] and cli["proxy"]
    assert cli == night


def test_a_step_inside_another_counts_as_itself_meanwhile():
    """The run's stage table gives a file's diarization (run inside its transcription task) to
    `diarize`, not `transcribe`."""
    from flows.nightly_worker import ACTIVE, running

    with running("transcribe"):
        assert ACTIVE["transcribe"] == 1
        with running("diarize"):
            assert (ACTIVE["transcribe"], ACTIVE["diarize"]) == (0, 1)
        assert (ACTIVE["transcribe"], ACTIVE["diarize"]) == (1, 0)
    assert ACTIVE["transcribe"] == 0


def test_the_run_report_gives_diarization_inside_a_transcribe_task_its_own_stage():
    from collections import Counter

    from flows.nightly import add_step_seconds
    from flows.nightly_worker import DIARIZE_SECONDS, StepResult

    stages: Counter[str] = Counter()
    add_step_seconds(stages, StepResult("ab", "a.mp4", "transcribe", 1, True, 10.0, {DIARIZE_SECONDS: 2.5}))
    add_step_seconds(stages, StepResult("ab", "a.mp4", "diarize", 1, True, 0.5, {}))
    add_step_seconds(stages, StepResult("cd", "b.mp4", "transcribe", 2, True, 4.0, {}))
    assert stages == {"transcribe": 11.5, "diarize": 3.0}
