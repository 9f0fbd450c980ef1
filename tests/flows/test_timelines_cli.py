"""Issue 18 through the real CLI on the bundled demo interview (real ffmpeg renders):
timelines for editing suites, recuts coming back through review, the distribution log, and
withdrawal of consent with its takedown list and report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.flows.timeline_seed import PSEUDONYM, seed_demo

pytestmark = pytest.mark.slow

FAST = ["--preset", "ultrafast", "--no-progress"]


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    from flows.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_timelines_load_back_with_their_adapters(workspace, capsys, tmp_path):
    import opentimelineio as otio

    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store

    ws = str(workspace.root)
    store = Store.for_workspace(workspace)
    try:
        ids, pw = seed_demo(store, tmp_path)
        c1, c2, c3 = ids[:3]
        from review.service import ReviewService

        svc = ReviewService.over(store, workspace)
        first = store.get_candidate(c1)
        span = {"start": round(first.start + 0.4, 3), "end": round(first.start + 0.7, 3)}
        svc.edit(c1, first.version, {"redactions": [span]}, actor="eddie", role="editor")
        svc.act(c1, "approve", actor="rita", role="reviewer")

        # OTIO of one clip: renders the redacted export first, then points at it.
        code, out, err = _run(capsys, "export", str(c1), "--format", "otio", "--workspace", ws, *FAST)
        assert code == 0, err
        paths = [Path(p) for p in out.split()]
        otio_path = next(p for p in paths if p.suffix == ".otio")
        assert any(p.name.endswith(".en.srt") for p in paths)
        cand = store.get_candidate(c1)
        record = ReviewStore(store).exports(c1)[-1]
        video = next(Path(p) for p in record.paths if p.endswith(".mp4"))
        timeline = otio.adapters.read_from_file(str(otio_path))
        vclip = next(iter(timeline.video_tracks()[0].find_clips()))
        assert Path(vclip.media_reference.target_url.removeprefix("file://")) == video
        meta = vclip.metadata["counterclips"]
        assert meta["media_sha256"] == record.output_sha256
        assert meta["source_sha256"] == cand.source_sha256
        assert (meta["source_in_s"], meta["source_out_s"]) == (round(cand.start, 3), round(cand.end, 3))
        rng = vclip.source_range
        frame = 1 / rng.start_time.rate
        assert abs(rng.start_time.to_seconds() + meta["to_source_s"] - cand.start) <= frame
        assert abs(rng.end_time_exclusive().to_seconds() + meta["to_source_s"] - cand.end) <= frame
        assert any(m.name.startswith("theme: false promises") for m in vclip.markers)
        assert meta["redaction"]["applied_in_media"] is True and meta["raw_source"] is False
        bleeps = meta["redaction"]["bleeps"]
        assert len(bleeps) == 1 and bleeps[0][0] <= span["start"] and bleeps[0][1] >= span["end"]
        assert any(m.name.startswith("bleep ") for m in vclip.markers)
        manifest = json.loads((otio_path.parent / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["raw_source"] is False and manifest["clips"][0]["export"] == record.id

        # FCP 7 XML parses with its adapter.
        code, out, err = _run(capsys, "export", str(c1), "--format", "fcp7", "--workspace", ws, *FAST)
        assert code == 0, err
        xml = next(Path(p) for p in out.split() if p.endswith(".xml"))
        fcp = otio.adapters.read_from_file(str(xml), "fcp_xml")
        assert len(list(fcp.find_clips())) >= 1

        # EDL of a three-clip selection: three events, three distinct reels.
        code, out, err = _run(capsys, "export", str(c1), str(c2), str(c3), "--format", "edl", "--workspace",
                              ws, *FAST)
        assert code == 0, err
        edl = next(Path(p) for p in out.split() if p.endswith(".edl"))
        text = edl.read_text(encoding="utf-8")
        events = [m.group(2) for m in re.finditer(r"^(\d{3,})\s+(\S+)\s+V\s+C\s", text, re.M)]
        assert len(events) == 3 and len(set(events)) == 3, text
        rate = vclip.source_range.start_time.rate
        parsed = otio.adapters.read_from_file(str(edl), "cmx_3600", rate=rate)
        assert len(list(parsed.find_clips())) == 3

        # FCPXML: a real format name from the clip's size and rate (no ffprobe needed).
        code, out, err = _run(capsys, "export", str(c1), "--format", "fcpxml", "--workspace", ws, *FAST)
        assert code == 0, err
        fcpxml = next(Path(p) for p in out.split() if p.endswith(".fcpxml"))
        import defusedxml.ElementTree as safe_et

        root = safe_et.parse(str(fcpxml)).getroot()
        assert root.find(".//format") is not None

        # Raw source: refused for a reviewer; an admin's grant is signed and recorded.
        code, _, err = _run(capsys, "export", str(c1), "--format", "otio", "--raw-source", "--as", "rita",
                            "--password-file", str(pw), "--workspace", ws, *FAST)
        assert code == 1 and "may not hand out raw source" in err and len(err.strip().splitlines()) == 1
        code, out, err = _run(capsys, "export", str(c1), "--format", "otio", "--raw-source", "--as", "ada",
                              "--password-file", str(pw), "--workspace", ws, *FAST)
        assert code == 0, err
        raw_otio = next(Path(p) for p in out.split() if p.endswith(".otio"))
        raw = otio.adapters.read_from_file(str(raw_otio))
        rclip = next(iter(raw.video_tracks()[0].find_clips()))
        assert rclip.metadata["counterclips"]["raw_source"] is True
        assert rclip.metadata["counterclips"]["media_sha256"] == cand.source_sha256
        manifest = json.loads((raw_otio.parent / "manifest.json").read_text(encoding="utf-8"))
        grant = manifest["raw_source_grants"][0]
        assert grant["granted_by"] == "ada" and grant["signature"] and manifest["raw_source"] is True

        # An unapproved candidate is refused by the gate, in one line.
        code, _, err = _run(capsys, "export", str(ids[3]), "--format", "otio", "--workspace", ws, *FAST)
        assert code == 1 and "not approved" in err and len(err.strip().splitlines()) == 1
        for path in (otio_path, xml, edl, fcpxml, raw_otio):
            assert b"Real Name" not in path.read_bytes()

        # An EDL comes back too: the three-clip selection is refused for one candidate (other
        # media, with its line); a shortened one-clip EDL makes a new version to review.
        code, _, err = _run(capsys, "import-timeline", str(edl), "--candidate", str(c1), "--workspace", ws)
        assert code == 1 and re.search(r"\.edl: line \d+ \(event 2\): other media", err), err
        code, out, err = _run(capsys, "export", str(c1), "--format", "edl", "--workspace", ws, *FAST)
        assert code == 0, err
        one = otio.adapters.read_from_file(next(p for p in out.split() if p.endswith(".edl")), "cmx_3600",
                                           rate=rate)
        clip = next(iter(one.find_clips()))
        r = clip.source_range
        clip.source_range = otio.opentime.TimeRange(
            r.start_time + otio.opentime.RationalTime(5, r.start_time.rate),
            r.duration - otio.opentime.RationalTime(5, r.duration.rate))
        recut = tmp_path / "recut.edl"
        otio.adapters.write_to_file(one, str(recut), "cmx_3600", rate=rate, style="avid")
        code, out, err = _run(capsys, "import-timeline", str(recut), "--candidate", str(c1),
                              "--workspace", ws)
        assert code == 0, err
        after = store.get_candidate(c1)
        assert after.status == "proposed" and after.start == pytest.approx(cand.start + 5 / rate, abs=0.05)
        assert after.end == pytest.approx(cand.end, abs=0.05)
    finally:
        store.close()


def test_recut_publication_withdrawal_and_takedown(workspace, capsys, tmp_path):
    import opentimelineio as otio

    from clips_metadata.store import Store
    from flows.report import RunReport, render_html
    from flows.services.publishing import open_takedowns
    from review.service import ReviewService

    ws = str(workspace.root)
    store = Store.for_workspace(workspace)
    try:
        ids, pw = seed_demo(store, tmp_path, approve=2)
        c1, c2 = ids[:2]
        before = store.get_candidate(c1)

        # Recut: shorten the OTIO by one second at the end and import it.
        code, out, err = _run(capsys, "export", str(c1), "--format", "otio", "--workspace", ws, *FAST)
        assert code == 0, err
        otio_path = next(Path(p) for p in out.split() if p.endswith(".otio"))
        timeline = otio.adapters.read_from_file(str(otio_path))
        for clip in timeline.find_clips():
            r = clip.source_range
            shorter = otio.opentime.RationalTime(r.duration.value - round(r.duration.rate), r.duration.rate)
            clip.source_range = otio.opentime.TimeRange(r.start_time, shorter)
        edited = tmp_path / "edited.otio"
        otio.adapters.write_to_file(timeline, str(edited))
        code, out, err = _run(capsys, "import-timeline", str(edited), "--candidate", str(c1), "--as", "eddie",
                              "--password-file", str(pw), "--workspace", ws)
        assert code == 0, err
        after = store.get_candidate(c1)
        assert after.version == before.version + 1 and after.status == "proposed"
        assert after.start == pytest.approx(before.start, abs=0.05)
        assert after.end == pytest.approx(before.end - 1.0, abs=0.05)
        assert "proposed" in out

        # ... and its export is refused until approved again.
        code, _, err = _run(capsys, "export", str(c1), "--workspace", ws, *FAST)
        assert code == 1 and "proposed, not approved" in err
        code, _, err = _run(capsys, "export", str(c1), "--format", "edl", "--workspace", ws, *FAST)
        assert code == 1 and "not approved" in err
        ReviewService.over(store, workspace).act(c1, "approve", actor="rita", role="reviewer")
        code, out, err = _run(capsys, "export", str(c1), "--workspace", ws, *FAST)
        assert code == 0, err

        # A range outside the source: a clear, line-numbered, one-line refusal.
        for clip in timeline.find_clips():
            r = clip.source_range
            far = otio.opentime.RationalTime(10_000 * r.start_time.rate, r.start_time.rate)
            clip.source_range = otio.opentime.TimeRange(far, r.duration)
        otio.adapters.write_to_file(timeline, str(tmp_path / "bad.otio"))
        code, _, err = _run(capsys, "import-timeline", str(tmp_path / "bad.otio"), "--candidate", str(c1),
                            "--workspace", ws)
        assert code == 1 and re.search(r"bad\.otio: line \d+", err) and len(err.strip().splitlines()) == 1

        # Distribution log: two publications, tied to the exported files.
        code, _, err = _run(capsys, "export", str(c2), "--workspace", ws, *FAST)
        assert code == 0, err
        assert _run(capsys, "published", str(c1), "--platform", "YouTube", "--url",
                    "https://video.example.org/watch?v=1", "--at", "2026-12-01", "--workspace", ws)[0] == 0
        assert _run(capsys, "published", str(c2), "--platform", "x", "--url", "https://x.example.org/s/2",
                    "--workspace", ws)[0] == 0
        code, out, _ = _run(capsys, "published", "--list", "--json", "--workspace", ws)
        listed = json.loads(out)
        assert [(p["candidate"], p["platform"]) for p in listed] == [(c1, "youtube"), (c2, "x")]
        assert all(len(p["file_sha256"]) == 64 and p["taken_down_at"] is None for p in listed)
        code, _, err = _run(capsys, "published", str(c1), "--platform", "x", "--url", "javascript:alert(1)",
                            "--workspace", ws)
        assert code == 1 and "not an http(s) URL" in err

        # Withdrawal: takedown list, exports refused, report shows the open takedowns.
        code, out, err = _run(capsys, "interviewee", "withdraw", PSEUDONYM, "--reason",
                              "Real Name called: he is in danger", "--as", "ada", "--password-file", str(pw),
                              "--workspace", ws)
        assert code == 0, err
        csv_path = Path(next(line.split(": ", 1)[1] for line in out.splitlines() if line.endswith(".csv")))
        json_path = csv_path.with_suffix(".json")
        assert csv_path.parent == workspace.reports and csv_path.name.startswith("takedown-")
        doc = json.loads(json_path.read_text(encoding="utf-8"))
        pubs = [i for i in doc["items"] if i["kind"] == "publication"]
        assert {i["url"] for i in pubs} == {p["url"] for p in listed}
        assert all(i["status"] == "open" and len(i["file_sha256"]) == 64 for i in pubs)
        folders = {i["folder"] for i in doc["items"] if i["kind"] == "export"}
        assert str(otio_path.parent) in folders  # the timeline folder goes on the list too
        assert "video.example.org" in csv_path.read_text(encoding="utf-8")
        for path in (csv_path, json_path):
            assert b"Real Name" not in path.read_bytes()
        assert doc["interviewee"] == PSEUDONYM and PSEUDONYM in doc["reason"]
        for cid in (c1, c2):
            code, _, err = _run(capsys, "export", str(cid), "--workspace", ws, *FAST)
            assert code == 1 and "withdrew consent" in err, err
            code, _, err = _run(capsys, "export", str(cid), "--format", "otio", "--workspace", ws, *FAST)
            assert code == 1 and "withdrew consent" in err, err
        history = _run(capsys, "review", "history", str(c1), "--workspace", ws)[1]
        assert "consent_withdraw" in history and "Real Name" not in history
        assert "ada\tconsent_withdraw\tapproved->changes_requested" in history

        rows = open_takedowns(store)
        assert sorted(r.candidate_id for r in rows) == [c1, c2]
        html = render_html(RunReport(run_id="r", started_at="", finished_at="", workspace=ws, task_runner="t",
                                     open_takedowns=rows))
        assert "Open takedowns (2)" in html and "https://x.example.org/s/2" in html
        from flows.nightly import _open_takedowns
        from flows.nightly_worker import RESOURCES
        from flows.report import write_report

        try:  # what the nightly run puts in its report, and `counterclips report` prints
            nightly_rows = _open_takedowns(workspace.db_url, [])
        finally:
            RESOURCES.close()
        assert nightly_rows == rows
        write_report(workspace, RunReport(run_id="r", started_at="", finished_at="", workspace=ws,
                                          task_runner="t", open_takedowns=nightly_rows))
        code, out, _ = _run(capsys, "report", "--workspace", ws)
        assert code == 0 and "OPEN TAKEDOWNS (2)" in out and "https://video.example.org/watch?v=1" in out

        # Marking them taken down closes them.
        assert _run(capsys, "published", str(c1), "--taken-down", "--workspace", ws)[0] == 0
        assert len(open_takedowns(store)) == 1
        pid = next(p["id"] for p in listed if p["candidate"] == c2)
        assert _run(capsys, "published", "--publication", str(pid), "--taken-down", "--workspace", ws)[0] == 0
        assert open_takedowns(store) == ()
        html = render_html(RunReport(run_id="r", started_at="", finished_at="", workspace=ws, task_runner="t",
                                     open_takedowns=open_takedowns(store)))
        assert "Open takedowns" not in html
        code, _, err = _run(capsys, "published", str(c1), "--taken-down", "--workspace", ws)
        assert code == 1 and "no open publication" in err
    finally:
        store.close()
