"""Inbox scanning, sidecars, quarantine and the sweep of temp files (no Prefect, no models)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.inbox import (
    HASH_CACHE_NAME,
    InboxOptions,
    Sidecar,
    SidecarError,
    quarantine_file,
    quarantined,
    read_sidecar,
    scan_inbox,
    sweep_stale_temp,
)

NOW_OPTS = InboxOptions(settle_seconds=0.0)


def _put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_scan_hashes_reads_sidecars_and_skips_what_is_not_footage(workspace):
    a = _put(workspace.inbox / "a one.mp4", b"aaa")
    b = _put(workspace.inbox / "sub" / "b.WAV", b"bbb")
    (workspace.inbox / "a one.mp4.yaml").write_text(
        "interviewee: Witness K\nlanguage: ar\nrecorded: 2025-03-01\nplace: Mosul\n", encoding="utf-8")
    _put(workspace.inbox / "notes.txt", b"operator notes")
    _put(workspace.inbox / ".upload.mp4.part", b"half")
    scan = scan_inbox(workspace, NOW_OPTS)
    by_name = {i.name: i for i in scan.items}
    assert set(by_name) == {"a one.mp4", "b.WAV"}
    assert by_name["a one.mp4"].sha256 == hashlib.sha256(b"aaa").hexdigest()
    assert by_name["a one.mp4"].sidecar == Sidecar("Witness K", "ar", "2025-03-01", "Mosul")
    assert by_name["b.WAV"].sidecar is None and by_name["b.WAV"].path == b
    assert [p.name for p in scan.ignored] == ["notes.txt"]
    assert a.exists() and not scan.problems


def test_scan_reuses_cached_hash_until_the_file_changes(workspace, monkeypatch):
    f = _put(workspace.inbox / "x.mp4", b"first")
    first = scan_inbox(workspace, NOW_OPTS).items[0].sha256
    assert (workspace.root / HASH_CACHE_NAME).is_file()
    calls: list[Path] = []
    import flows.inbox as inbox

    real = inbox.file_sha256
    monkeypatch.setattr(inbox, "file_sha256", lambda p: calls.append(Path(p)) or real(p))
    assert scan_inbox(workspace, NOW_OPTS).items[0].sha256 == first
    assert calls == []  # unchanged: no re-hash
    f.write_bytes(b"second, longer")
    assert scan_inbox(workspace, NOW_OPTS).items[0].sha256 == hashlib.sha256(b"second, longer").hexdigest()
    assert calls == [f]


def test_files_still_being_written_wait_for_the_next_run(workspace):
    _put(workspace.inbox / "fresh.mp4", b"x")
    scan = scan_inbox(workspace, InboxOptions(settle_seconds=60.0))
    assert not scan.items and [p.name for p in scan.unsettled] == ["fresh.mp4"]
    later = scan_inbox(workspace, InboxOptions(settle_seconds=60.0), now=time.time() + 120)
    assert [i.name for i in later.items] == ["fresh.mp4"]


@pytest.mark.parametrize("text, message", [
    ("interviewee: [unclosed", "not valid YAML"),
    ("- a list\n- of things\n", "expected keys"),
    ("interviewee: K\nreal_name: Someone\n", "unknown keys real_name"),
])
def test_bad_sidecars_are_named_problems(workspace, text, message):
    media = _put(workspace.inbox / "m.mp4", b"m")
    (workspace.inbox / "m.mp4.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SidecarError, match=message):
        read_sidecar(workspace.inbox / "m.mp4.yaml")
    scan = scan_inbox(workspace, NOW_OPTS)
    assert not scan.items and scan.problems[0].path == media and message in scan.problems[0].reason


def test_empty_sidecar_means_no_fields(workspace):
    (workspace.inbox / "e.mp4.yaml").write_text("", encoding="utf-8")
    assert read_sidecar(workspace.inbox / "e.mp4.yaml") == Sidecar()


def test_quarantine_moves_file_and_sidecar_with_a_reason(workspace):
    media = _put(workspace.inbox / "bad clip.mp4", b"junk")
    (workspace.inbox / "bad clip.mp4.yaml").write_text("interviewee: K\n", encoding="utf-8")
    target = quarantine_file(workspace, media, "probe: not a media file", sha256="ab" * 32, run_id="r1")
    assert target == workspace.quarantine / "bad clip.mp4" and target.read_bytes() == b"junk"
    assert not media.exists() and not (workspace.inbox / "bad clip.mp4.yaml").exists()
    assert (workspace.quarantine / "bad clip.mp4.yaml").is_file()
    reason = (workspace.quarantine / "bad clip.mp4.reason.txt").read_text(encoding="utf-8")
    assert reason.startswith("reason: probe: not a media file\n") and "run: r1" in reason
    # The same name again does not overwrite the first one.
    again = quarantine_file(workspace, _put(workspace.inbox / "bad clip.mp4", b"junk2"), "again")
    assert again != target and again.read_bytes() == b"junk2" and target.read_bytes() == b"junk"
    assert sorted(r for _, r in quarantined(workspace)) == ["again", "probe: not a media file"]


def test_sweep_removes_leftovers_of_dead_writers_only(workspace):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = _put(workspace.reports / f".latest.{dead}-0.part.json", b"{")  # pipeline.atomic's scheme
    stale_proxy = _put(workspace.proxies / f".{'a' * 64}.{dead}.part.mp4", b"x")
    live = _put(workspace.reports / f".other.{os.getpid()}-3.part.json", b"{")
    old_anon = _put(workspace.transcripts / ".t.json.abcdefgh.tmp", b"{")
    os.utime(old_anon, (time.time() - 7200, time.time() - 7200))
    fresh_anon = _put(workspace.transcripts / ".u.json.ijklmnop.tmp", b"{")
    render_dir = workspace.exports / "candidate-1-v1-master" / ".render-xyz"
    render_dir.mkdir(parents=True)
    os.utime(render_dir, (time.time() - 7200, time.time() - 7200))
    keep = _put(workspace.inbox / ".upload.mp4.part", b"operator upload")
    removed = set(sweep_stale_temp(workspace))
    assert removed == {stale, stale_proxy, old_anon, render_dir}
    assert live.exists() and fresh_anon.exists() and keep.exists()
