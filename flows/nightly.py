"""The nightly flow: inbox → transcripts, flags and candidates → review proxies → exports → report.

Prefect wraps the stages; it does not decide what is done. The store does (a file whose sha256
has every ingest step is skipped; a file killed halfway resumes at its first missing step), so
Prefect's result cache is off (`NO_CACHE`, nothing persisted) and a second run over unchanged
footage runs no model and no ffmpeg.

Tasks that touch the disk or the network retry, but only on transient errors (OSError, a lost
database connection); a file whose content is bad (corrupt, no speech) fails once, is moved to
`quarantine/` with its reason, and the other files carry on.

Local runs use a thread pool in this process, so the Whisper model and the flagger load once and
are shared; `heavy_slots` (1) keeps one CPU-heavy stage at a time on a 2-core machine. With
`task_runner="dask"` the per-file tasks run on an existing Dask cluster (each worker process
loads its own model once); the store must then be a database every worker reaches
(`COUNTERCLIPS_DB_URL=postgresql+psycopg://...`) and the workspace a path every worker sees.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from clips_metadata.workspace import Workspace
from flows import nightly_worker as work
from flows.inbox import InboxOptions, InboxScan, quarantine_file, scan_inbox, sweep_stale_temp
from flows.report import ExportOutcome, Failure, FileOutcome, RunReport, neutral_id, new_run_id, write_report
from pipeline import labels
from pipeline.errors import CounterclipsError
from pipeline.labels import CREDIBILITY
from pipeline.threads import run_counts

TASK_RUNNERS = ("local", "dask")


class NightlyError(CounterclipsError):
    """The nightly run cannot start (bad task runner settings, unreachable cluster)."""


@dataclass(frozen=True, slots=True)
class NightlyOptions:
    """One run's settings; every default is what the nightly deployment uses.

    settle_seconds: ignore inbox files modified less than this long ago (uploads in progress).
    work: model, translation and CPU limits for the per-file steps (`flows.nightly_worker.WorkOptions`).
    max_workers: threads of the local task runner (`pipeline.threads.run_counts`: the heavy
        slots plus two, 3 on 2 cores), so probing and the ffmpeg proxy encodes overlap with the
        transcriptions `heavy_slots` allows.
    build_proxies: make the review proxy of every interview that has candidates and none yet.
    proxy_niceness: the proxy encodes' lower CPU priority (19, the lowest): they fill the time
        the transcriptions leave idle instead of taking a core from them, whose threads wait for
        each other at every step (see bench/RESULTS.md, nightly runs).
    render_exports: render every approved candidate whose current version is not exported yet.
    render_previews: render the plan preview of every candidate in review that has none yet
        (`review.previews.preview`; idempotent by plan hash).
    export_profiles: profiles rendered for each approved candidate.
    retries / retry_delay_seconds: for tasks that touch the disk or the network, on transient
        errors only.
    """

    settle_seconds: float = 60.0
    work: work.WorkOptions = work.WorkOptions()
    max_workers: int = field(default_factory=lambda: run_counts().workers)
    build_proxies: bool = True
    proxy_niceness: int = 19
    render_exports: bool = True
    render_previews: bool = True
    export_profiles: tuple[str, ...] = ("master",)
    retries: int = 2
    retry_delay_seconds: float = 5.0


def _retry_on_transient(_task: Any, _run: Any, state: Any) -> bool:
    """Prefect asks this before each retry: only the disk or the network deserve another go."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception:  # noqa: BLE001 - an unreadable state is not worth a retry
        return False
    return work.is_transient(exc if isinstance(exc, BaseException) else None)


_IO = {"retries": 2, "retry_delay_seconds": 5, "retry_condition_fn": _retry_on_transient,
       "cache_policy": NO_CACHE, "persist_result": False}
_CPU = {"cache_policy": NO_CACHE, "persist_result": False}


# --------------------------------------------------------------------------------- tasks
# I/O tasks: scanning, probing, proxies, exports, quarantine and the report touch the disk or
# the database and retry on transient errors. Transcription, flagging and proposing are
# computation over stored data: a retry would redo minutes of work for the same answer.


@task(name="scan-inbox", **_IO)
def scan_task(root: str, settle_seconds: float) -> InboxScan:
    begun = work.HEAD_START.scan(root, settle_seconds)  # made while the server started
    if begun is not None:
        return begun
    return scan_inbox(Workspace(Path(root)), InboxOptions(settle_seconds=settle_seconds))


@task(name="sweep-temp-files", **_IO)
def sweep_task(root: str) -> list[str]:
    return [str(p.relative_to(root)) for p in sweep_stale_temp(Workspace(Path(root)))]


@task(name="plan", **_IO)
def plan_task(jobs: list[work.FileJob]) -> dict[str, int]:
    return work.already_done(jobs)


@task(name="probe", **_IO)
def probe_task(job: work.FileJob) -> work.StepResult:
    return work.run_probe(job)


@task(name="ingest", **_CPU)
def ingest_task(prev: work.StepResult, job: work.FileJob) -> tuple[work.StepResult, ...]:
    """A probed file's transcribe, diarize, flag and propose steps, one task per file (each step
    stores its result: resuming needs no Prefect state; `work.run_ingest`)."""
    return work.run_ingest(prev, job)


@task(name="quarantine", **_IO)
def quarantine_task(root: str, db_url: str, path: str, reason: str, sha256: str, run_id: str,
                    interview_id: int | None) -> str:
    if interview_id is not None:
        work.RESOURCES.store(db_url).set_interview_status(interview_id, "failed", reason[:500])
    return str(quarantine_file(Workspace(Path(root)), Path(path), reason, sha256, run_id))


def _make_proxy(root: str, db_url: str, interview_id: int, niceness: int) -> tuple[str, float]:
    """Make one interview's review proxy; its path ("" when none was needed) and seconds."""
    from flows.services.ingesting import make_review_proxy

    t0 = time.perf_counter()
    store = work.RESOURCES.store(db_url)
    with work.running("proxy"):
        path = make_review_proxy(store, Workspace(Path(root)), store.get_interview(interview_id), niceness)
    return str(path or ""), time.perf_counter() - t0


@task(name="review-proxy", **_IO)
def proxy_task(root: str, db_url: str, interview_id: int, niceness: int) -> tuple[str, float]:
    return _make_proxy(root, db_url, interview_id, niceness)


@task(name="file-review-proxy", **_IO)
def file_proxy_task(steps: tuple[work.StepResult, ...], root: str, db_url: str,
                    niceness: int) -> tuple[str, float]:
    """The proxy of a file whose candidates were just proposed (none when it has none), run as
    soon as its ingest task ends so the encode overlaps the next file's transcription."""
    if not steps or steps[-1].interview_id is None:
        return "", 0.0
    return _make_proxy(root, db_url, steps[-1].interview_id, niceness)


@task(name="preview", **_IO)
def preview_task(root: str, db_url: str, candidate_id: int) -> float:
    from review.previews import preview

    t0 = time.perf_counter()
    with work.running("preview"):
        preview(work.RESOURCES.store(db_url), Workspace(Path(root)), candidate_id)
    return time.perf_counter() - t0


@task(name="export", **_IO)
def export_task(root: str, db_url: str, candidate_id: int, profiles: tuple[str, ...]) -> ExportOutcome:
    return work.run_export(Workspace(Path(root)), db_url, candidate_id, profiles)


@task(name="run-report", **_IO)
def report_task(root: str, report: RunReport) -> tuple[str, str]:
    json_path, html_path = write_report(Workspace(Path(root)), report)
    return str(json_path), str(html_path)


# ---------------------------------------------------------------------------------- flow


def _io(t: Any, options: NightlyOptions) -> Any:
    """An I/O task with this run's retry settings (transient errors only, see `_retry_on_transient`)."""
    return t.with_options(retries=options.retries, retry_delay_seconds=options.retry_delay_seconds)


def _failure_of(futures: Sequence[Any]) -> BaseException | None:
    """The first real failure along one file's chain (later tasks only report the upstream)."""
    for fut in futures:
        state = fut.state
        if state.is_completed():
            continue
        try:
            exc = state.result(raise_on_failure=False)
        except Exception as err:  # noqa: BLE001 - a state that cannot even give its error
            return err
        if isinstance(exc, BaseException) and "upstream" not in type(exc).__name__.lower():
            return exc
    return None


def _status_of(results: Sequence[work.StepResult]) -> str:
    ran = [r.step for r in results if r.ran]
    if not ran:
        return "skipped"
    return "processed" if len(ran) == len(work.STEPS) else "resumed"


@flow(name="counterclips-nightly", persist_result=False)
def nightly_flow(workspace: str | None = None, task_runner: str = "local", dask_address: str | None = None,
                 settle_seconds: float = 60.0, translate: bool = True, model: str = "base",
                 build_proxies: bool = True, render_exports: bool = True) -> dict[str, Any]:
    """The scheduled deployment's entry point: one pass over a workspace, as a sub-flow on the
    chosen task runner. Returns the run report's JSON (also written to reports/)."""
    from clips_metadata.workspace import resolve_workspace

    ws = resolve_workspace(workspace).ensure()
    options = NightlyOptions(settle_seconds=settle_seconds, build_proxies=build_proxies,
                             render_exports=render_exports,
                             work=replace(work.WorkOptions(), translate=translate, model=model))
    return run_nightly(ws, options, task_runner, dask_address).to_json()


def run_pass(ws: Workspace, options: NightlyOptions, task_runner_name: str = "local") -> RunReport:
    """The flow's body (must run inside a flow run: it submits tasks)."""
    logger = get_run_logger()
    run_id = new_run_id()
    started = datetime.now(UTC)
    t_start = time.perf_counter()
    root, db_url = str(ws.root), ws.db_url
    stage_seconds: Counter[str] = Counter()
    failures: list[Failure] = []
    notes: list[str] = []
    outcomes: list[FileOutcome] = []

    t0 = time.perf_counter()
    # Leftovers of a run killed mid-write (temp files, render folders) go before anything else.
    for p in _io(sweep_task, options)(root):
        notes.append(f"removed {p}: left by an interrupted run")
    scan: InboxScan = _io(scan_task, options)(root, options.settle_seconds)
    stage_seconds["scan"] += time.perf_counter() - t0
    for p in scan.ignored:
        notes.append(f"ignored {neutral_id(p.name)}: not a footage file type")
    for p in scan.unsettled:
        notes.append(f"left {neutral_id(p.name)} for the next run: modified in the last "
                     f"{options.settle_seconds:.0f} s")

    # Bad sidecars: the file cannot be registered to anyone safely, so it waits in quarantine.
    for prob in scan.problems:
        _io(quarantine_task, options)(root, db_url, str(prob.path), prob.reason, "", run_id, None)
        outcomes.append(FileOutcome(name=prob.path.name, sha256="", status="quarantined",
                                    stage="scan", reason=prob.reason))
        failures.append(Failure(prob.path.name, "scan", prob.reason))

    # File by file, three tasks each (probe, ingest, proxy): the thread pool takes tasks in
    # submission order, so file 1's proxy encode (an ffmpeg subprocess) runs while file 2
    # transcribes in the heavy slot. A Dask cluster sees the whole graph all the same.
    jobs = [work.FileJob.of(ws, item, options.work) for item in scan.items]
    done = _io(plan_task, options)(jobs)
    for job in [j for j in jobs if j.sha256 in done]:
        outcomes.append(_file_outcome(job, db_url, "skipped", done[job.sha256], (), 0))
    jobs = [j for j in jobs if j.sha256 not in done]
    if task_runner_name == "local":
        work.DECODE_AHEAD.plan(jobs)  # each file's audio decodes while the one before it ends
    probe, file_proxy = _io(probe_task, options), _io(file_proxy_task, options)
    probes, ingests, file_proxies = [], [], []
    for job in jobs:
        probes.append(probe.submit(job))
        ingests.append(ingest_task.submit(probes[-1], job))
        if options.build_proxies:
            file_proxies.append(file_proxy.submit(ingests[-1], root, db_url, options.proxy_niceness))
    # Wait on every future, not just the last of each chain: a Dask future learns its final
    # state only from its own wait(); asking the API instead could see a stale "Running".
    for fut in (*probes, *ingests, *file_proxies):
        fut.wait()
    work.DECODE_AHEAD.clear()
    proxies_built = 0
    for fut in file_proxies:
        if fut.state.is_completed():
            made, seconds = fut.result()
            stage_seconds["proxy"] += seconds
            proxies_built += bool(made)
        # a failed encode is retried (and reported) by the sweep below

    new_candidates: list[int] = []
    touched_interviews: list[int] = []
    for job, chain in zip(jobs, zip(probes, ingests, strict=True), strict=True):
        exc = _failure_of(chain)
        if exc is None:
            results = [chain[0].result(), *chain[1].result()]
            for r in results:
                add_step_seconds(stage_seconds, r)
            interview_id = results[0].interview_id
            cands = list(results[-1].detail.get("candidates", ()))
            new_candidates.extend(cands)
            status = _status_of(results)
            if status != "skipped" and interview_id is not None:
                touched_interviews.append(interview_id)
            outcomes.append(_file_outcome(job, db_url, status, interview_id, results, len(cands)))
            continue
        # Which interview (if probing got that far) and which stage failed.
        interview_id = _interview_id(chain)
        if isinstance(exc, work.StepFailed):
            reason = exc.reason
            stage = exc.step
            qpath = _io(quarantine_task, options)(root, db_url, job.path, f"{stage}: {reason}", job.sha256,
                                                  run_id, interview_id)
            # Neutral ids in log lines: a file name or a reason can carry a real name.
            logger.warning("quarantined %s at %s", neutral_id(job.name, job.sha256), stage)
            outcomes.append(FileOutcome(name=job.name, sha256=job.sha256, status="quarantined",
                                        interview_id=interview_id, stage=stage, reason=reason))
            failures.append(Failure(job.name, stage, f"{reason} (moved to {Path(qpath).name} in quarantine)"))
        else:
            # Not the file's fault (disk, database, a bug): leave it in the inbox for next time.
            reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            stage = "probe" if not chain[0].state.is_completed() else getattr(exc, work.FAILED_STEP, "?")
            logger.error("%s failed at %s (left in inbox)", neutral_id(job.name, job.sha256), stage)
            outcomes.append(FileOutcome(name=job.name, sha256=job.sha256, status="failed",
                                        interview_id=interview_id, stage=stage, reason=reason))
            failures.append(Failure(job.name, stage, reason + " (left in the inbox; the next run retries)"))

    if options.build_proxies:
        proxies_built += _build_proxies(ws, db_url, options, stage_seconds, failures, notes)
    if options.render_previews:
        _render_previews(ws, db_url, options, stage_seconds, failures)
    exports: list[ExportOutcome] = []
    if options.render_exports:
        exports = _render_exports(ws, db_url, options, stage_seconds, failures)

    themes, risks = _tallies(db_url, new_candidates, touched_interviews)
    takedowns = _open_takedowns(db_url, failures)
    languages = _languages(db_url, failures)
    report = RunReport(
        run_id=run_id, started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"), workspace=root,
        task_runner=task_runner_name, files=tuple(outcomes), candidates_per_theme=themes,
        risks_found=risks, candidates_proposed=len(new_candidates), proxies_built=proxies_built,
        exports=tuple(exports), failures=tuple(failures),
        stage_seconds={k: round(v, 3) for k, v in stage_seconds.items()},
        wall_seconds=round(time.perf_counter() - t_start, 3), notes=tuple(notes), open_takedowns=takedowns,
        languages=languages)
    json_path, _ = _io(report_task, options)(root, report)
    logger.info("run report: %s", json_path)
    return report


def _interview_id(chain: Sequence[Any]) -> int | None:
    first = chain[0]
    if first.state.is_completed():
        return first.result().interview_id
    return None


def _file_outcome(job: work.FileJob, db_url: str, status: str, interview_id: int | None,
                  results: Sequence[work.StepResult], candidates: int) -> FileOutcome:
    duration, language = 0.0, ""
    if interview_id is not None:
        interview = work.RESOURCES.store(db_url).get_interview(interview_id)
        duration, language = float(interview.duration), interview.language
    return FileOutcome(name=job.name, sha256=job.sha256, status=status, duration=duration,
                       language=language, interview_id=interview_id, candidates=candidates,
                       steps=tuple(r.step for r in results if r.ran),
                       worker=next((r.worker for r in results if r.step == "transcribe" and r.ran), ""))


def add_step_seconds(stage_seconds: Counter[str], result: work.StepResult) -> None:
    """Count a step's time in its stage; the diarization a transcribe task did after Whisper
    (`work.DIARIZE_SECONDS` in its detail) counts as diarization."""
    diarizing = float(result.detail.get(work.DIARIZE_SECONDS, 0.0))
    stage_seconds[result.step] += result.seconds - diarizing
    stage_seconds["diarize"] += diarizing


def _build_proxies(ws: Workspace, db_url: str, options: NightlyOptions, stage_seconds: Counter[str],
                   failures: list[Failure], notes: list[str]) -> int:
    """A review proxy for every interview that has candidates and no proxy yet."""
    from flows.services.ingesting import needs_proxy

    store = work.RESOURCES.store(db_url)
    todo: dict[str, int] = {}
    for c in store.list_candidates():
        if c.source_sha256 in todo:
            continue
        interview = store.get_interview(c.interview_id)
        if not Path(interview.source_path).is_file():
            notes.append(f"no proxy for interview {interview.id}: its source file is gone")
        elif needs_proxy(store, ws, interview):
            todo[c.source_sha256] = interview.id
    proxy = _io(proxy_task, options)
    futures = {sha: proxy.submit(str(ws.root), db_url, iid, options.proxy_niceness)
               for sha, iid in todo.items()}
    built = 0
    for sha, fut in futures.items():
        fut.wait()
        if fut.state.is_completed():
            _, seconds = fut.result()
            stage_seconds["proxy"] += seconds
            built += 1
        else:
            exc = fut.state.result(raise_on_failure=False)
            failures.append(Failure(Path(store.get_interview(todo[sha]).source_path).name, "proxy", str(exc)))
    return built


def _render_previews(ws: Workspace, db_url: str, options: NightlyOptions, stage_seconds: Counter[str],
                     failures: list[Failure]) -> None:
    """The plan preview of every candidate reviewers still have to decide on (neutral ids only in
    failures: a reason never quotes a file name or a registry term)."""
    from review.previews import previews_due

    store = work.RESOURCES.store(db_url)
    todo = [cid for cid in previews_due(store) if store.get_candidate(cid).status != "approved"]
    task_ = _io(preview_task, options)
    futures = [(cid, task_.submit(str(ws.root), db_url, cid)) for cid in todo]
    for cid, fut in futures:
        fut.wait()
        if fut.state.is_completed():
            stage_seconds["preview"] += fut.result()
        else:
            failures.append(Failure(f"candidate {cid}", "preview", "the preview could not be rendered"))


def _render_exports(ws: Workspace, db_url: str, options: NightlyOptions, stage_seconds: Counter[str],
                    failures: list[Failure]) -> list[ExportOutcome]:
    profiles = options.export_profiles
    todo = work.exports_due(db_url, profiles)
    export = _io(export_task, options)
    futures = [(cid, export.submit(str(ws.root), db_url, cid, profiles)) for cid in todo]
    out: list[ExportOutcome] = []
    for cid, fut in futures:
        fut.wait()
        if fut.state.is_completed():
            outcome: ExportOutcome = fut.result()
        else:
            exc = fut.state.result(raise_on_failure=False)
            outcome = ExportOutcome(cid, "failed", reason=str(exc))
        if outcome.status == "failed":
            failures.append(Failure(f"candidate {cid}", "export", outcome.reason))
        stage_seconds["export"] += outcome.seconds
        out.append(outcome)
    return out


def _open_takedowns(db_url: str, failures: list[Failure]) -> tuple[Any, ...]:
    """Publications to take down after a consent withdrawal (the report lists them until closed)."""
    from flows.services.publishing import open_takedowns

    try:
        return open_takedowns(work.RESOURCES.store(db_url))
    except Exception as exc:  # the report must still be written; the failure is in it
        failures.append(Failure("open takedowns", "report", f"{type(exc).__name__}: {exc}"))
        return ()


def _languages(db_url: str, failures: list[Failure]) -> tuple[dict[str, Any], ...]:
    """Per clip and language: missing, draft, translated, checked or exported (issue 17)."""
    from review.translating import language_rows

    try:
        return tuple(r.to_json() for r in language_rows(work.RESOURCES.store(db_url)))
    except Exception as exc:  # the report must still be written; the failure is in it
        failures.append(Failure("subtitle languages", "report", f"{type(exc).__name__}: {exc}"))
        return ()


def _tallies(db_url: str, candidate_ids: Sequence[int],
             interview_ids: Sequence[int]) -> tuple[dict[str, int], dict[str, int]]:
    """New candidates per theme, and sentences per risk in the interviews worked on."""
    store = work.RESOURCES.store(db_url)
    themes: Counter[str] = Counter()
    for cid in candidate_ids:
        themes.update(store.get_candidate(cid).themes)
    risks: Counter[str] = Counter()
    risk_ids = frozenset(labels.risk_ids())
    for iid in interview_ids:
        info = store.latest_transcript(iid)
        if info is None:
            continue
        for flags in store.get_flags(info.id):
            risks.update(label for label in flags.labels if label in risk_ids)
        # A credibility warning is a risk a reviewer must acknowledge for the whole interview.
        risks[CREDIBILITY] += len(store.get_warnings(info.id))
    return dict(themes), {k: v for k, v in risks.items() if v}


# ------------------------------------------------------------------------- entry points


def build_task_runner(kind: str = "local", address: str | None = None, max_workers: int | None = None) -> Any:
    """The Prefect task runner for `kind` ("local": threads here; "dask": an existing cluster)."""
    if kind == "local":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=max_workers or run_counts().workers)
    if kind == "dask":
        if not address:
            raise NightlyError("--task-runner dask needs --dask-address (a scheduler, e.g. tcp://host:8786)")
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    raise NightlyError(f"unknown task runner {kind!r} (choose {' or '.join(TASK_RUNNERS)})")


def run_nightly(ws: Workspace, options: NightlyOptions = NightlyOptions(), task_runner: str = "local",
                dask_address: str | None = None) -> RunReport:
    """Run one pass now as a Prefect flow run and return its report."""

    # A flow made per call: the task runner is fixed when a flow is defined, and the deployment's
    # `nightly_flow` picks it from its parameters at run time.
    @flow(name="counterclips-nightly-pass", persist_result=False, validate_parameters=False,
          task_runner=build_task_runner(task_runner, dask_address, options.max_workers))
    def _one_pass() -> RunReport:
        return run_pass(ws, options, task_runner)

    from flows.local_prefect import TEMPORARY_SERVER

    starting = not _api_configured()
    if starting:
        TEMPORARY_SERVER.start()  # first (if the CLI did not): the rest below overlaps its start-up
    elif TEMPORARY_SERVER.running and TEMPORARY_SERVER.api_url != _api_url():
        TEMPORARY_SERVER.stop()  # started by the CLI, but a Prefect setting names a server
    local_files = task_runner == "local" and _has_files(ws.inbox)
    if local_files:
        # Prefect's temporary server takes seconds to start; load the models meanwhile on the
        # other core (the local runner's tasks run in this process and reuse them).
        threading.Thread(target=work.RESOURCES.warm, args=(options.work, str(ws.root)),
                         name="warm-models", daemon=True).start()
    if local_files and starting:
        # ... and begin the first file's work too: the server start leaves a core idle once the
        # models are in (bench/RESULTS.md, nightly phase 5). Its tasks take the results.
        work.HEAD_START.begin(str(ws.root), options.work, options.settle_seconds)
    try:
        with _prefect_api(), one_shot_without_heartbeats():
            report = _one_pass()
    except BaseException:
        work.HEAD_START.finish(wait=False)
        raise
    work.HEAD_START.finish()
    return report


@contextmanager
def one_shot_without_heartbeats() -> Iterator[None]:
    """Run a one-shot pass without Prefect's flow-run heartbeats, unless the operator set their
    frequency. Prefect 3.8 beats every 180 s from a thread that sleeps in 1 s steps, and the flow
    joins that thread at its end: every pass ended up to 1 s late doing nothing (bench/RESULTS.md,
    quiet-machine runs of phase 7). The beats let a server mark a silent run as crashed; a
    one-shot pass runs in this process, and a pass that dies is resumed by the next from its
    stored steps, so they buy nothing here."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if any(name in os.environ for name in HEARTBEAT_SETTINGS):
        yield
        return
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


HEARTBEAT_SETTINGS = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


def _has_files(inbox: Path) -> bool:
    """Whether the inbox holds any file (in any folder; os.walk skips unreadable ones)."""
    return any(files for _root, _dirs, files in os.walk(inbox))


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value() or "")


def _api_configured() -> bool:
    return bool(_api_url())


@contextmanager
def _prefect_api() -> Iterator[None]:
    """With no Prefect server configured, start Prefect's temporary one here, as Prefect itself
    would on the flow's first call (one per process, stopped at exit: `flows.local_prefect.
    TEMPORARY_SERVER`, which spares this process the server package's import), for two reasons.
    The models load and the first file's work begins meanwhile (see `run_nightly`), and the
    start counts as the "start-up" step, so its cost is measured. Dask workers would otherwise
    each start their own (slow, and the flow would never see their task states): its URL reaches
    them in the settings Prefect ships with each task. It listens on 127.0.0.1, so this serves a
    cluster on this machine; a multi-machine cluster needs PREFECT_API_URL set to a real Prefect
    server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.local_prefect import TEMPORARY_SERVER

    if _api_configured():
        yield
        return
    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90"))
    with work.running("start-up"):
        url = TEMPORARY_SERVER.wait(timeout)
    with temporary_settings({PREFECT_API_URL: url}):
        yield
