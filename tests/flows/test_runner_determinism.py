"""Issue 19: one inbox gives one set of transcripts and candidates on every runner.

The same files go through `--task-runner local` (threads in this process, SQLite) and through
a real Dask cluster (a scheduler and two worker processes on this machine, PostgreSQL). Dask
starts its workers with OPENBLAS/OMP_NUM_THREADS=1, which changed Whisper's text before
transcription pinned its thread counts (`pipeline.threads`); now text, timings, the recorded
thread count and every candidate must match.

Media: the demo interview's first 50 s (yields candidates), JFK's inaugural excerpt and a
German sentence (translated) from tests/data, plus two longer real English recordings from
../shared/media when present.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_DATA
from tests.fixtures_pg import postgres_db_url, postgres_url  # noqa: F401 - fixtures

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SHARED = Path(__file__).resolve().parents[3] / "shared" / "media"
EXTRA = ("en_apollo11_radio_multispk.mp3", "en_2spk_phonecall_pyannote.wav")


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


def _inbox(tmp: Path) -> list[Path]:
    import imageio_ffmpeg

    from flows.demo import DEMO_MEDIA

    clip = tmp / "demo.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(DEMO_MEDIA),
                    "-t", "50", "-c", "copy", str(clip)], check=True)
    files = [clip, TEST_DATA / "en_jfk_inaugural.flac", TEST_DATA / "de_read_sentence_picovoice.wav"]
    return files + [SHARED / n for n in EXTRA if (SHARED / n).is_file()]


def _outcome(db_url: str) -> dict[str, tuple]:
    """Per source sha256: the stored transcript (text, times, language, threads) and its candidates."""
    from clips_metadata.store import Store

    store = Store.open(db_url)
    try:
        out: dict[str, tuple] = {}
        for iv in store.list_interviews():
            info = store.latest_transcript(iv.id)
            assert info is not None, f"{iv.source_path} has no transcript"
            t = store.load_transcript(info.id)
            segments = tuple((s.start, s.end, s.text) for s in t.segments)
            translated = tuple(s.text for s in t.translation.segments) if t.translation else ()
            cands = tuple(sorted((c.start, c.end, c.sentence_indices, c.themes, c.risks, round(c.rank, 6))
                                 for c in store.list_candidates(interview_id=iv.id)))
            out[iv.sha256] = (t.language, t.threads, segments, translated, cands)
        return out
    finally:
        store.close()


def _workspace(root: Path, files: list[Path]):  # noqa: ANN202 - Workspace
    from clips_metadata.workspace import Workspace

    ws = Workspace(root).ensure()
    for f in files:
        shutil.copyfile(f, ws.inbox / f.name)
    return ws


def test_local_and_dask_give_identical_transcripts_and_candidates(tmp_path, prefect_api, postgres_db_url,  # noqa: F811
                                                                   monkeypatch):
    from distributed import LocalCluster

    from flows import nightly_worker
    from flows.nightly import NightlyOptions, run_nightly

    files = _inbox(tmp_path)
    options = NightlyOptions(settle_seconds=0.0, build_proxies=False, render_exports=False)
    monkeypatch.delenv("COUNTERCLIPS_DB_URL", raising=False)
    local_ws = _workspace(tmp_path / "local", files)
    local = run_nightly(local_ws, options, "local")
    assert not local.failures, local.failures

    monkeypatch.setenv("COUNTERCLIPS_DB_URL", postgres_db_url)
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)  # inherited by the worker processes
    dask_ws = _workspace(tmp_path / "dask", files)
    assert dask_ws.db_url == postgres_db_url
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_nightly(dask_ws, options, "dask", cluster.scheduler_address)
    assert not remote.failures, remote.failures
    assert {f.name for f in remote.files} == {f.name for f in local.files}
    assert all(f.worker and f.worker.split(":")[-1] != str(__import__("os").getpid()) for f in remote.files)

    a, b = _outcome(local_ws.db_url), _outcome(postgres_db_url)
    assert set(a) == set(b) and len(a) == len(files)
    for sha in a:
        assert a[sha][:4] == b[sha][:4], f"transcript of {sha[:12]} differs between runners"
        assert a[sha][4] == b[sha][4], f"candidates of {sha[:12]} differ between runners"
    assert {v[1] for v in a.values()} == {nightly_worker.WorkOptions().cpu_threads}  # recorded
    assert sum(len(v[4]) for v in a.values()) > 0  # candidates were compared, not just nothing
