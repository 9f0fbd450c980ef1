"""Issue 13: run reports name files by neutral ids, never by their (possibly identifying) names."""

from __future__ import annotations

from flows.report import Failure, FileOutcome, RunReport, write_report
from pipeline.render.manifest import scan_for_terms
from pipeline.terms import variants_of


def test_written_report_carries_no_file_name(workspace):
    sha = "ab" * 32
    report = RunReport(
        run_id="r1", started_at="", finished_at="", workspace="ws", task_runner="local",
        files=(FileOutcome("interview_Yusuf_Darwish.mp4", sha, "processed"),
               FileOutcome("Yusuf Darwish (bad).mp4", "", "quarantined",
                           reason="Yusuf Darwish (bad).mp4 is not media")),
        failures=(Failure("Yusuf Darwish (bad).mp4", "probe", "cannot read Yusuf Darwish (bad).mp4"),
                  Failure("candidate 3", "export", "refused")),
        notes=("ignored interview_Yusuf_Darwish.mp4: re-run",))
    json_path, html_path = write_report(workspace, report)
    terms = [v for t in ("Yusuf", "Darwish") for v in variants_of(t)]
    assert scan_for_terms([workspace.reports], terms) == []
    text = json_path.read_text()
    assert f"source-{sha[:12]}" in text and "candidate 3" in text and "inbox-" in text
