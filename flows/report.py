"""Run reports: what one nightly run did, as JSON (for tools) and HTML (for people).

Each run writes `reports/<run id>.json` and `.html`, then replaces `reports/latest.json` and
`latest.html`; every write is atomic, so a killed run leaves the previous report intact.
The HTML is self-contained: inline CSS and an inline SVG bar chart, no JavaScript.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from clips_metadata.workspace import Workspace
from pipeline.atomic import write_json_atomic, write_text_atomic
from pipeline.errors import CounterclipsError
from pipeline.timeline.records import TakedownRow

REPORT_VERSION = 1
STAGE_ORDER = ("scan", "probe", "transcribe", "flag", "propose", "proxy", "export")
FILE_STATUSES = ("processed", "resumed", "skipped", "quarantined", "failed")


class ReportNotFound(CounterclipsError):
    """No run report exists in the workspace yet."""


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """One inbox file in one run.

    status: "processed" (every step ran now), "resumed" (a killed run's missing steps ran now),
        "skipped" (already done; nothing ran), "quarantined" (bad content; moved with its reason),
        "failed" (not the file's fault: disk, database; left in the inbox for the next run).
    duration: seconds of footage. steps: the ingest steps that ran in this run.
    """

    name: str
    sha256: str
    status: str
    duration: float = 0.0
    language: str = ""
    interview_id: int | None = None
    candidates: int = 0
    steps: tuple[str, ...] = ()
    stage: str = ""  # where it failed
    reason: str = ""
    worker: str = ""  # host:pid that transcribed it (tells Dask workers apart)


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """Rendering one approved candidate: status "exported", "refused" (the review gate said no,
    e.g. consent) or "failed". `seconds` is render time."""

    candidate_id: int
    status: str
    paths: tuple[str, ...] = ()
    reason: str = ""
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Failure:
    """Anything that went wrong and did not stop the run."""

    what: str  # file name, "candidate 12", ...
    stage: str
    reason: str


@dataclass(frozen=True, slots=True)
class RunReport:
    """Everything a producer or operator wants to know about one run. Times in seconds."""

    run_id: str
    started_at: str  # ISO 8601 UTC
    finished_at: str
    workspace: str
    task_runner: str
    files: tuple[FileOutcome, ...] = ()
    candidates_per_theme: Mapping[str, int] = field(default_factory=dict)
    risks_found: Mapping[str, int] = field(default_factory=dict)
    candidates_proposed: int = 0
    proxies_built: int = 0
    exports: tuple[ExportOutcome, ...] = ()
    failures: tuple[Failure, ...] = ()
    stage_seconds: Mapping[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    notes: tuple[str, ...] = ()
    # Publications still online whose interviewee withdrew or narrowed consent (issue 18): listed
    # in every report until each is marked taken down (`counterclips published ID --taken-down`).
    open_takedowns: tuple[TakedownRow, ...] = ()
    # Per clip and language (issue 17): missing, draft, translated, checked or exported
    # (`review.translating.LanguageRow.to_json()` dicts).
    languages: tuple[Mapping[str, Any], ...] = ()

    @property
    def files_processed(self) -> int:
        return sum(1 for f in self.files if f.status in ("processed", "resumed"))

    @property
    def hours_of_footage(self) -> float:
        """Hours of footage that were worked on in this run (skipped files excluded)."""
        return sum(f.duration for f in self.files if f.status in ("processed", "resumed")) / 3600.0

    @property
    def exports_made(self) -> int:
        return sum(1 for e in self.exports if e.status == "exported")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["report_version"] = REPORT_VERSION
        data["summary"] = {
            "files_seen": len(self.files),
            "files_processed": self.files_processed,
            "files_skipped": sum(1 for f in self.files if f.status == "skipped"),
            "files_quarantined": sum(1 for f in self.files if f.status == "quarantined"),
            "hours_of_footage": round(self.hours_of_footage, 4),
            "candidates_proposed": self.candidates_proposed,
            "proxies_built": self.proxies_built,
            "exports_made": self.exports_made,
            "failures": len(self.failures),
        }
        return data


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and unique: UTC time plus a random suffix (two runs may start in one second)."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


# ------------------------------------------------------------------------------------ HTML

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _template() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    # Autoescape: file names, reasons and notes come from the inbox and from errors.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined)
    env.filters["number"] = lambda v: f"{v:.1f}" if not float(v).is_integer() else f"{int(v)}"
    return env.get_template("run_report.html")


def bar_chart_svg(values: Mapping[str, float], title: str, unit: str = "", width: int = 560,
                  color: str = "#3e6ad4") -> str:
    """A horizontal bar chart as inline SVG (the report template's macro). Labels are escaped;
    empty input gives a note."""
    chart = _template().make_module().bar_chart
    return str(chart({k: float(v) for k, v in values.items()}, title, unit, width, color))


def _fmt_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {sec:02d} s"


def render_html(report: RunReport) -> str:
    """The report as one self-contained HTML page."""
    s = report.to_json()["summary"]
    cards = [("files processed", str(s["files_processed"])),
             ("hours of footage", f"{s['hours_of_footage']:.2f}"),
             ("candidates proposed", str(s["candidates_proposed"])),
             ("review proxies", str(s["proxies_built"])),
             ("exports made", str(s["exports_made"])),
             ("quarantined", str(s["files_quarantined"])),
             ("wall time", _fmt_seconds(report.wall_seconds))]
    themes = dict(sorted(report.candidates_per_theme.items(), key=lambda kv: (-kv[1], kv[0])))
    risks = sorted(report.risks_found.items(), key=lambda kv: (-kv[1], kv[0]))
    return _template().render(
        report=report, cards=cards,
        stages={k: round(v, 2) for k, v in report.stage_seconds.items()}, themes=themes,
        risks=[[k, str(v)] for k, v in risks],
        files=[[f.name, f.status, _fmt_seconds(f.duration) if f.duration else "", f.language,
                str(f.candidates), ", ".join(f.steps), f.reason] for f in report.files],
        exports=[[str(e.candidate_id), e.status, "\n".join(e.paths), e.reason] for e in report.exports],
        failures=[[f.what, f.stage, f.reason] for f in report.failures],
        takedowns=[[t.interviewee, f"{t.candidate_id} v{t.version}", t.platform, t.url, t.published_at,
                     t.file_name, t.file_sha256[:12]] for t in report.open_takedowns],
        languages=[[f"{r['candidate']} v{r['version']}", r["language"], r["state"],
                    f"{r['translated']}/{r['cues']}", str(r["machine_made"]), str(r["needs_look"])]
                   for r in report.languages],
    ) + "\n"


def neutral_id(name: str, sha256: str = "") -> str:
    """What a report calls a file: the source's neutral id when hashed, else a digest of its name
    (a file name can carry a real name; the operator finds the file by `counterclips` ids)."""
    import hashlib

    from pipeline.render.manifest import neutral_source_id

    return neutral_source_id(sha256) if sha256 else "inbox-" + hashlib.sha256(name.encode()).hexdigest()[:12]


def neutral_report(report: RunReport) -> RunReport:
    """The report with every file name the run saw replaced by its neutral id, in the file rows,
    failures, reasons and notes (what is written to reports/ leaves the machine with it)."""
    from dataclasses import replace

    names = {f.name: neutral_id(f.name, f.sha256) for f in report.files if f.name}
    # A failure names a file unless it names a candidate ("candidate 12").
    names.update({f.what: neutral_id(f.what) for f in report.failures
                  if f.what and f.what not in names and not f.what.startswith("candidate ")})
    ordered = sorted(names.items(), key=lambda kv: -len(kv[0]))

    def clean(text: str) -> str:
        for name, nid in ordered:
            text = text.replace(name, nid)
        return text

    return replace(
        report,
        files=tuple(replace(f, name=names.get(f.name, f.name), reason=clean(f.reason)) for f in report.files),
        exports=tuple(replace(e, reason=clean(e.reason)) for e in report.exports),
        failures=tuple(replace(f, what=clean(f.what), reason=clean(f.reason)) for f in report.failures),
        notes=tuple(clean(n) for n in report.notes),
    )


def write_report(workspace: Workspace, report: RunReport) -> tuple[Path, Path]:
    """Write `<run id>.json/.html` and refresh `latest.*`. Returns (json path, html path).
    File names become neutral ids (`neutral_report`)."""
    directory = workspace.reports
    directory.mkdir(parents=True, exist_ok=True)
    report = neutral_report(report)
    data = report.to_json()
    html = render_html(report)
    json_path = directory / f"{report.run_id}.json"
    html_path = directory / f"{report.run_id}.html"
    write_json_atomic(json_path, data)
    write_text_atomic(html_path, html)
    write_json_atomic(directory / "latest.json", data)
    write_text_atomic(directory / "latest.html", html)
    return json_path, html_path


def load_latest(workspace: Workspace) -> dict[str, Any]:
    """The newest report's JSON. Raises ReportNotFound when no run has finished yet."""
    path = workspace.reports / "latest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportNotFound(f"no run report in {workspace.reports} yet (run `counterclips run`)") from None
    except ValueError as exc:
        raise ReportNotFound(f"{path}: unreadable report ({exc})") from None


def summary_text(data: Mapping[str, Any]) -> str:
    """A terminal-sized summary of a report's JSON."""
    s = data.get("summary", {})
    lines = [
        f"run {data.get('run_id')}  ({data.get('started_at')} → {data.get('finished_at')}, "
        f"{_fmt_seconds(float(data.get('wall_seconds', 0.0)))}, runner {data.get('task_runner')})",
        f"  files: {s.get('files_processed', 0)} processed, {s.get('files_skipped', 0)} unchanged, "
        f"{s.get('files_quarantined', 0)} quarantined; footage {float(s.get('hours_of_footage', 0)):.2f} h",
        f"  candidates proposed: {s.get('candidates_proposed', 0)}; review proxies: "
        f"{s.get('proxies_built', 0)}; exports made: {s.get('exports_made', 0)}",
    ]
    themes = data.get("candidates_per_theme") or {}
    if themes:
        lines.append("  per theme: " + ", ".join(f"{k} {v}" for k, v in sorted(themes.items())))
    risks = data.get("risks_found") or {}
    if risks:
        lines.append("  risks found: " + ", ".join(f"{k} {v}" for k, v in sorted(risks.items())))
    stages = data.get("stage_seconds") or {}
    if stages:
        ordered = sorted(stages.items(), key=lambda kv: (STAGE_ORDER.index(kv[0]) if kv[0] in STAGE_ORDER
                                                         else len(STAGE_ORDER), kv[0]))
        lines.append("  time per stage: " + ", ".join(f"{k} {float(v):.1f} s" for k, v in ordered))
    takedowns = data.get("open_takedowns") or []
    if takedowns:
        lines.append(f"  OPEN TAKEDOWNS ({len(takedowns)}): consent withdrawn; mark each with "
                     "`counterclips published ID --taken-down`")
        for t in takedowns:
            lines.append(f"    {t.get('interviewee')}: candidate {t.get('candidate_id')} v{t.get('version')} "
                         f"on {t.get('platform')} {t.get('url')} ({t.get('published_at')})")
    langs = data.get("languages") or []
    if langs:
        counts: dict[str, int] = {}
        for r in langs:
            counts[str(r.get("state"))] = counts.get(str(r.get("state")), 0) + 1
        tally = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        lines.append(f"  subtitle languages (clip x language): {tally}")
    for f in data.get("failures") or []:
        lines.append(f"  FAILED {f.get('what')} at {f.get('stage')}: {f.get('reason')}")
    return "\n".join(lines)
