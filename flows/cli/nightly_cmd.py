"""`counterclips run | schedule | demo | report`: the nightly job, its schedule, the demo, reports.

Prefect, Dask and the models are imported inside the command functions: `counterclips --help`
must stay instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from flows.cli.usage import UsageError
from pipeline.errors import CounterclipsError

DEFAULT_CRON = "0 2 * * *"  # 02:00 every night, in the machine's local time zone


class ScheduleError(CounterclipsError):
    """The schedule cannot be served (bad cron expression or time zone)."""


def _add_runner_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", help="workspace directory (default: $COUNTERCLIPS_HOME or ~/counterclips)")
    p.add_argument("--task-runner", choices=("local", "dask"), default="local",
                   help="local: threads in this process (default); dask: an existing Dask cluster")
    p.add_argument("--dask-address", metavar="ADDR",
                   help="Dask scheduler address for --task-runner dask, e.g. tcp://10.0.0.5:8786")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run one nightly pass now (inbox → candidates, proxies, exports, report)")
    _add_runner_args(p)
    p.add_argument("--settle-seconds", type=float, default=60.0,
                   help="skip inbox files modified less than this long ago (default 60)")
    p.add_argument("--no-translate", action="store_true",
                   help="do not produce English translations of non-English footage")
    p.add_argument("--model", default="base", help="Whisper model name or path (default: base, packaged)")
    p.add_argument("--no-exports", action="store_true", help="do not render approved candidates")
    p.add_argument("--workers", type=int, metavar="N",
                   help="threads of the local task runner (default: from the cores, 3 on 2 cores)")
    p.add_argument("--transcribe-threads", type=int, metavar="N",
                   help="threads per transcription, recorded in each transcript (default 2; "
                        "transcriptions at once = cores / N)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("schedule", help="serve the nightly run on a cron schedule through Prefect")
    _add_runner_args(p)
    p.add_argument("--cron", default=DEFAULT_CRON,
                   help=f"cron expression in local time (default {DEFAULT_CRON!r}: 02:00 nightly)")
    p.add_argument("--timezone", help="IANA time zone of the cron expression (default: this machine's)")
    p.add_argument("--name", default="nightly", help="deployment name (default: nightly)")
    p.set_defaults(func=cmd_schedule)

    p = sub.add_parser("demo", help="create a workspace with the bundled sample interview and run one pass")
    p.add_argument("--workspace",
                   help="where to create it (default: $COUNTERCLIPS_HOME or ~/counterclips-demo)")
    p.add_argument("--task-runner", choices=("local", "dask"), default="local", help=argparse.SUPPRESS)
    p.add_argument("--dask-address", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("report", help="show the latest run report")
    p.add_argument("--workspace", help="workspace directory (default: $COUNTERCLIPS_HOME or ~/counterclips)")
    p.add_argument("--open", action="store_true", help="open the HTML report in a browser")
    p.add_argument("--json", action="store_true", help="print the report's JSON")
    p.set_defaults(func=cmd_report)


def _workspace(arg: str | None):  # noqa: ANN202 - Workspace, imported lazily with its package
    from clips_metadata.workspace import resolve_workspace

    return resolve_workspace(arg).ensure()


def _check_runner(args: argparse.Namespace) -> None:
    if args.task_runner == "dask" and not args.dask_address:
        raise CounterclipsError("--task-runner dask needs --dask-address (e.g. tcp://scheduler:8786)")


def _warn_remote_cluster_without_server(args: argparse.Namespace) -> None:
    """In local mode the flow's temporary Prefect server listens on 127.0.0.1 only."""
    import socket
    from urllib.parse import urlsplit

    if args.task_runner != "dask" or os.environ.get("PREFECT_API_URL"):
        return
    host = urlsplit(args.dask_address if "://" in args.dask_address else f"tcp://{args.dask_address}").hostname
    local = {"127.0.0.1", "localhost", "::1", socket.gethostname(), socket.getfqdn()}
    if host and host not in local:
        print(f"counterclips: warning: workers at {host} cannot reach this machine's temporary Prefect "
              "server; set PREFECT_API_URL to a Prefect server they can reach", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from flows import local_prefect

    _check_runner(args)
    ws = _workspace(args.workspace)
    local_prefect.prepare(ws)
    if not os.environ.get("PREFECT_API_URL"):
        # Prefect's temporary server, first: importing the flow and loading the models overlap
        # its start-up (the flow waits for it; stopped unused if a Prefect setting names a server)
        local_prefect.TEMPORARY_SERVER.start()
    _warn_remote_cluster_without_server(args)
    from flows.nightly import NightlyOptions, run_nightly
    from flows.nightly_worker import WorkOptions
    from flows.report import summary_text
    from pipeline.threads import run_counts

    for flag in ("workers", "transcribe_threads"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be at least 1")
    counts = run_counts(workers=args.workers, transcribe_threads=args.transcribe_threads)
    work = replace(WorkOptions(), translate=not args.no_translate, model=args.model,
                   cpu_threads=counts.transcribe_threads, heavy_slots=counts.heavy_slots)
    options = NightlyOptions(settle_seconds=args.settle_seconds, render_exports=not args.no_exports,
                             max_workers=counts.workers, work=work)
    report = run_nightly(ws, options, args.task_runner, args.dask_address)
    print(summary_text(report.to_json()))
    print(f"report: {ws.reports / (report.run_id + '.html')}")
    return 0


def local_timezone() -> str:
    """This machine's IANA time zone name (TZ, /etc/timezone, /etc/localtime), else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz:
        return tz
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        if name:
            return name
    except OSError:
        pass
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            return link.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def validate_schedule(cron: str, timezone: str) -> None:
    """Check the expression and zone the way Prefect will, but as a one-line error."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {timezone!r} (use an IANA name like Europe/Berlin)") from None
    try:
        CronSchedule(cron=cron, timezone=timezone)
    except ValidationError:
        raise ScheduleError(f"not a valid cron expression: {cron!r} (e.g. '0 2 * * *')") from None


def cmd_schedule(args: argparse.Namespace) -> int:
    from flows import local_prefect

    _check_runner(args)
    tz = args.timezone or local_timezone()
    ws = _workspace(args.workspace)
    local_prefect.prepare(ws)
    if os.environ.get("PREFECT_API_URL"):
        return _serve(args, ws, tz, os.environ["PREFECT_API_URL"])
    # Local mode: Prefect's temporary server has no scheduler, so run a real one for as long as
    # we serve. The URL goes into the environment before Prefect is imported (it reads it once).
    _warn_if_scheduler_broken()
    print(f"starting a local Prefect server (state in {ws.root / '.prefect'})...", flush=True)
    with local_prefect.local_server(ws) as url:
        os.environ["PREFECT_API_URL"] = url
        return _serve(args, ws, tz, f"the local Prefect server at {url} (stopped with this command)")


def _warn_if_scheduler_broken() -> None:
    """Prefect 3.8.8's scheduler service cannot create runs under SQLAlchemy >= 2.1 ("Can't
    evaluate bulk DML statement" in .prefect/server.log); measured here, fine with 2.0.x."""
    from importlib.metadata import version

    major, minor = (int(x) for x in version("sqlalchemy").split(".")[:2])
    if (major, minor) >= (2, 1):
        print(f"counterclips: warning: SQLAlchemy {version('sqlalchemy')} is installed; Prefect 3.8.8's "
              "scheduler needs SQLAlchemy < 2.1 to create scheduled runs (pip install 'sqlalchemy<2.1'), "
              "or set PREFECT_API_URL to a Prefect server that has it", file=sys.stderr, flush=True)


def _serve(args: argparse.Namespace, ws, tz: str, where: str) -> int:  # noqa: ANN001 - Workspace
    validate_schedule(args.cron, tz)
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.nightly import nightly_flow

    print(f"serving {args.name!r}: cron {args.cron!r} ({tz}) over {ws.root} via {where}; Ctrl-C stops",
          flush=True)
    # Module entrypoint: each scheduled run starts `flows.nightly:nightly_flow` from the installed
    # package, whatever the current directory. limit=1: a slow night never overlaps the next.
    nightly_flow.serve(
        name=args.name,
        schedules=[Cron(args.cron, timezone=tz)],
        parameters={"workspace": str(ws.root), "task_runner": args.task_runner,
                    "dask_address": args.dask_address},
        limit=1,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from clips_metadata.workspace import ENV_VAR, Workspace, resolve_workspace
    from flows import local_prefect
    from flows.demo import DEMO_WORKSPACE, instructions, run_demo

    if args.workspace or os.environ.get(ENV_VAR):
        ws = resolve_workspace(args.workspace).ensure()
    else:
        ws = Workspace(DEMO_WORKSPACE).ensure()
    _check_runner(args)
    local_prefect.prepare(ws, quiet=True, force_local_home=True)
    print(f"counterclips demo: workspace {ws.root}; transcribing and flagging the ~3 min sample "
          "(a minute or two on 2 cores)...", flush=True)
    result = run_demo(ws, task_runner=args.task_runner, dask_address=args.dask_address)
    from flows.report import load_latest, summary_text

    print(summary_text(load_latest(ws)))
    print(instructions(result))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from flows.report import load_latest, summary_text

    ws = _workspace(args.workspace)
    data = load_latest(ws)
    html = ws.reports / f"{data['run_id']}.html"
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(summary_text(data))
        print(f"report: {html}")
    if args.open:
        import webbrowser

        if not webbrowser.open(html.as_uri()):
            print(f"no browser available here; open {html} yourself")
    return 0
