"""Run reports: counts, JSON, self-contained HTML with an inline SVG chart, `counterclips report`."""

from __future__ import annotations

import json

import pytest

from flows.cli import main
from flows.report import (
    ExportOutcome,
    Failure,
    FileOutcome,
    ReportNotFound,
    RunReport,
    bar_chart_svg,
    load_latest,
    render_html,
    summary_text,
    write_report,
)


def _report(run_id: str = "20260101T020000Z-abc123") -> RunReport:
    return RunReport(
        run_id=run_id, started_at="2026-01-01T02:00:00+00:00", finished_at="2026-01-01T02:10:00+00:00",
        workspace="/ws", task_runner="local",
        files=(
            FileOutcome("a.mp4", "a" * 64, "processed", duration=3600.0, language="en", candidates=4,
                        steps=("probe", "transcribe", "flag", "propose")),
            FileOutcome("b.mp4", "b" * 64, "resumed", duration=1800.0, language="ar", candidates=2,
                        steps=("flag", "propose")),
            FileOutcome("c.mp4", "c" * 64, "skipped", duration=900.0),
            FileOutcome("<bad>.mp4", "d" * 64, "quarantined", stage="probe", reason="not media"),
        ),
        candidates_per_theme={"witnessed_brutality": 3, "false_promises": 2, "<script>x": 1},
        risks_found={"pro_group_advocacy": 1},
        candidates_proposed=6, proxies_built=2,
        exports=(ExportOutcome(7, "exported", ("/ws/exports/x.mp4",)),
                 ExportOutcome(8, "refused", reason="consent")),
        failures=(Failure("<bad>.mp4", "probe", "not media"),),
        stage_seconds={"transcribe": 300.0, "flag": 20.0}, wall_seconds=600.0,
    )


def test_counts():
    r = _report()
    assert r.files_processed == 2  # processed + resumed; skipped and quarantined are not
    assert r.hours_of_footage == pytest.approx(1.5)
    assert r.exports_made == 1
    s = r.to_json()["summary"]
    assert s == {"files_seen": 4, "files_processed": 2, "files_skipped": 1, "files_quarantined": 1,
                 "hours_of_footage": 1.5, "candidates_proposed": 6, "proxies_built": 2, "exports_made": 1,
                 "failures": 1}


def test_html_is_self_contained_and_escaped():
    html = render_html(_report())
    assert "<svg" in html and "<script" not in html and "&lt;script&gt;x" in html
    assert "&lt;bad&gt;.mp4" in html and "not media" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched


def test_bar_chart_scales_bars_to_the_largest_value():
    svg = bar_chart_svg({"a": 10, "b": 5}, "t")
    assert svg.count("<rect") == 2 and 'width="0.0"' not in svg
    assert "nothing to show" in bar_chart_svg({}, "empty")


def test_write_and_load_latest(workspace):
    with pytest.raises(ReportNotFound):
        load_latest(workspace)
    write_report(workspace, _report("20260101T020000Z-aaaaaa"))
    json_path, html_path = write_report(workspace, _report("20260102T020000Z-bbbbbb"))
    assert json_path.is_file() and html_path.is_file()
    latest = load_latest(workspace)
    assert latest["run_id"] == "20260102T020000Z-bbbbbb"
    assert json.loads(json_path.read_text(encoding="utf-8")) == latest
    latest_html = (workspace.reports / "latest.html").read_text(encoding="utf-8")
    assert latest_html == html_path.read_text(encoding="utf-8")
    assert not [p for p in workspace.reports.iterdir() if p.name.startswith(".")]  # no temp files left
    text = summary_text(latest)
    # Written reports name files by neutral ids (issue 13): a file name can carry a real name.
    assert "2 processed, 1 unchanged, 1 quarantined" in text and f"FAILED source-{'d' * 12} at probe" in text


def test_report_command(workspace, capsys):
    assert main(["report", "--workspace", str(workspace.root)]) == 1  # none yet: one-line error
    assert "no run report" in capsys.readouterr().err
    write_report(workspace, _report())
    assert main(["report", "--workspace", str(workspace.root)]) == 0
    out = capsys.readouterr().out
    assert "candidates proposed: 6" in out and str(workspace.reports) in out
    assert main(["report", "--workspace", str(workspace.root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["exports_made"] == 1
