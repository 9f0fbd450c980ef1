"""Takedown lists: every publication and export of the person, safe CSV, no real names."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import ProtectedNameError
from pipeline.timeline.records import ExportEntry, Publication
from pipeline.timeline.withdrawal import (
    new_publication,
    open_publications,
    open_takedowns,
    safe_cell,
    takedown_list,
    takedown_stamp,
    utc_iso,
    write_takedown,
)

EXPORTS = (
    ExportEntry(1, 10, 2, "Witness K", "out/candidate-10-v2-square-en", "clip.mp4", "1" * 64, "2026-11-01"),
    ExportEntry(2, 11, 1, "Witness K", "out/candidate-11-v1-square-en", "clip.mp4", "2" * 64, "2026-11-02"),
    ExportEntry(3, 20, 1, "Witness M", "out/candidate-20-v1-square-en", "clip.mp4", "3" * 64, "2026-11-03"),
)
PUBLICATIONS = (
    Publication(1, 10, 2, "youtube", "https://youtu.be/abc", "2026-11-05T10:00:00Z", "1" * 64),
    Publication(1, 10, 2, "x", "=HYPERLINK(\"http://evil\")", "2026-11-04T10:00:00Z", "1" * 64),
    Publication(2, 11, 1, "tiktok", "https://tiktok.com/@k/1", "2026-11-06T10:00:00Z", "2" * 64,
                taken_down_at="2026-11-07T00:00:00Z"),
    Publication(3, 20, 1, "youtube", "https://youtu.be/other", "2026-11-05T10:00:00Z", "3" * 64),
    # an export id the log lost, tied to the person's file by its sha256
    Publication(99, 11, 1, "telegram", "https://t.me/c/5", "2026-11-08T10:00:00Z", "2" * 64),
)


def test_takedown_list_names_each_publication_and_export_of_the_person() -> None:
    rows = takedown_list(PUBLICATIONS, EXPORTS, "Witness K")
    pubs = [r for r in rows if r.kind == "publication"]
    assert [(r.platform, r.status) for r in pubs] == [
        ("x", "open"), ("youtube", "open"), ("tiktok", "taken down"), ("telegram", "open")
    ]
    assert {r.export_id for r in rows if r.kind == "export"} == {1, 2}
    assert all(r.interviewee == "Witness K" for r in rows)
    assert "https://youtu.be/other" not in {r.url for r in rows}
    assert takedown_list(PUBLICATIONS, EXPORTS, "Nobody") == ()


def test_open_publications_excludes_the_taken_down() -> None:
    assert [p.platform for p in open_publications(PUBLICATIONS)] == ["x", "youtube", "youtube", "telegram"]


def test_writers_are_formula_safe_and_complete(tmp_path: Path) -> None:
    rows = takedown_list(PUBLICATIONS, EXPORTS, "Witness K")
    csv_path, json_path = write_takedown(rows, tmp_path / "reports", "20261203T053000Z", "Witness K",
                                         reason="consent withdrawn", protected_terms=("Yusuf Darwish",))
    assert csv_path.name == "takedown-20261203T053000Z.csv"
    assert json_path.name == "takedown-20261203T053000Z.json"
    with csv_path.open(newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == len(rows)
    assert table[0]["url"] == "'=HYPERLINK(\"http://evil\")"
    doc = json.loads(json_path.read_text())
    assert doc["open"] == sum(1 for r in rows if r.status == "open") and doc["reason"] == "consent withdrawn"
    assert doc["items"][0]["url"].startswith("=")  # JSON is data, not a spreadsheet: kept verbatim
    assert not list((tmp_path / "reports").glob(".*"))  # no temp files left


def test_a_real_name_anywhere_refuses_the_whole_list(tmp_path: Path) -> None:
    rows = takedown_list(PUBLICATIONS, EXPORTS, "Witness K")
    with pytest.raises(ProtectedNameError):
        write_takedown(rows, tmp_path, "s1", "Witness K", reason="Yúsuf Darwish asked",
                       protected_terms=("Yusuf Darwish",))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        write_takedown(rows, tmp_path, "../x", "Witness K")


@given(st.text(max_size=30))
def test_no_cell_starts_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell.endswith(text)


NOW = datetime(2026, 12, 3, 5, 30, tzinfo=UTC)


def test_new_publication_is_checked_and_tied_to_the_file() -> None:
    pub = new_publication(EXPORTS[0], " YouTube ", "https://youtu.be/abc", NOW, "2026-12-01")
    assert (pub.platform, pub.published_at, pub.file_sha256) == ("youtube", "2026-12-01T00:00:00Z", "1" * 64)
    assert new_publication(EXPORTS[0], "x", "https://x.com/a/1", NOW).published_at == "2026-12-03T05:30:00Z"
    for platform, url, at in [
        ("", "https://a.b/c", None),
        ("yt", "javascript:alert(1)", None),
        ("yt", "https://a.b/c d", None),
        ("yt", "https://a.b/c", "yesterday"),
        ("yt", "https://a.b/c", "2027-01-01"),
    ]:
        with pytest.raises(ValueError):
            new_publication(EXPORTS[0], platform, url, NOW, at)


def test_times_are_utc() -> None:
    east = datetime(2026, 12, 3, 8, 30, tzinfo=timezone(timedelta(hours=3)))
    assert utc_iso(east, NOW) == "2026-12-03T05:30:00Z" == utc_iso("2026-12-03T08:30:00+03:00", NOW)
    assert takedown_stamp(east) == "20261203T053000Z"


def test_open_takedowns_lists_what_is_still_online_for_the_withdrawn() -> None:
    rows = open_takedowns(PUBLICATIONS, EXPORTS, ["Witness K"])
    assert [(r.platform, r.url) for r in rows] == [
        ("x", '=HYPERLINK("http://evil")'), ("youtube", "https://youtu.be/abc"), ("telegram", "https://t.me/c/5")
    ]
    closed = [replace(p, taken_down_at="2026-12-03T06:00:00Z") for p in PUBLICATIONS]
    assert open_takedowns(closed, EXPORTS, ["Witness K", "Witness M"]) == ()
