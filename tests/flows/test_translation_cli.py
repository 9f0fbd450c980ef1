"""`counterclips track|memory|mt|languages`: XLIFF round trip through a file edited outside,
line-numbered errors with nothing stored, TMX in and out, Apertium drafts (real Debian package),
and the per-clip language report."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flows.cli import main
from tests.review.seed import add_candidate, add_interview

TEXTS = ("Leaving was the hardest thing I ever did.", "They promised us a just state.")


@pytest.fixture
def clip(workspace, tmp_path):
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from review.passwords import hash_password

    store = Store.for_workspace(workspace)
    try:
        _, tid, sents = add_interview(store, pseudonym="Amal", texts=list(TEXTS),
                                      labels={0: ("disillusionment_exit",)})
        cid = add_candidate(store, tid, sents, [0, 1], themes=("disillusionment_exit",))
        rs = ReviewStore(store)
        for name in ("tina", "omar"):
            rs.add_user(name, "translator", hash_password("pw-123456789"))
    finally:
        store.close()
    pw = tmp_path / "pw"
    pw.write_text("pw-123456789\n")
    return cid, str(workspace.root), str(pw)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_xliff_round_trip_edited_outside(clip, capsys, tmp_path):
    cid, ws, pw = clip
    for version in ("1.2", "2.0"):
        xlf = tmp_path / f"de-{version}.xlf"
        code, _, err = _run(capsys, "track", "export", str(cid), "--lang", "de", "--format", "xliff",
                            "--xliff-version", version, "--out", str(xlf), "--workspace", ws)
        assert code == 0, err
        text = xlf.read_text(encoding="utf-8")
        ids = re.findall(r'(?:trans-unit|unit) id="([^"]+)"', text)
        assert ids and all(i.startswith("w") for i in ids)
        # A translator's tool adds a <target> after each <source>.
        def target(m: re.Match[str]) -> str:
            return f"{m.group(0)}<target>Übersetzt: {' '.join(m.group(2).split()[:3])}</target>"

        edited = re.sub(r"(<source[^>]*>)([^<]*)(</source>)", target, text)
        xlf.write_text(edited, encoding="utf-8")
        code, out, err = _run(capsys, "track", "import", str(cid), "--lang", "de", str(xlf), "--as", "tina",
                              "--password-file", pw, "--workspace", ws)
        assert code == 0, err
        back = tmp_path / f"back-{version}.xlf"
        _run(capsys, "track", "export", str(cid), "--lang", "de", "--format", "xliff", "--xliff-version",
             version, "--out", str(back), "--workspace", ws)
        again = back.read_text(encoding="utf-8")
        assert re.findall(r'(?:trans-unit|unit) id="([^"]+)"', again) == ids
        assert re.findall(r"start=[\d.]+ end=[\d.]+", again) == re.findall(r"start=[\d.]+ end=[\d.]+", text)
        assert again.count("Übersetzt: ") == len(ids)


def test_malformed_file_gives_line_numbers_and_stores_nothing(clip, capsys, tmp_path):
    cid, ws, pw = clip
    xlf = tmp_path / "de.xlf"
    _run(capsys, "track", "export", str(cid), "--lang", "de", "--format", "xliff", "--out", str(xlf),
         "--workspace", ws)
    text = xlf.read_text(encoding="utf-8")
    first_id = re.search(r'trans-unit id="([^"]+)"', text).group(1)
    broken = text.replace(f'id="{first_id}"', 'id="w9999"')
    broken = re.sub(r"(<source[^>]*>)([^<]*)(</source>)",
                    lambda m: f"{m.group(0)}<target>{'x ' * 60}</target>", broken)
    xlf.write_text(broken, encoding="utf-8")
    code, out, err = _run(capsys, "track", "import", str(cid), "--lang", "de", str(xlf), "--as", "tina",
                          "--password-file", pw, "--workspace", ws)
    assert code != 0
    problems = [line for line in err.splitlines() if line.startswith("de.xlf: ")]
    assert len(problems) >= 2 and all(re.match(r"de\.xlf: line \d+: ", p) for p in problems), err
    assert "w9999" in err
    code, out, _ = _run(capsys, "languages", str(cid), "--json", "--workspace", ws)
    assert code == 0 and not [r for r in json.loads(out) if r["language"] == "de"]  # nothing stored


def test_xml_that_does_not_parse_names_its_line(clip, capsys, tmp_path):
    cid, ws, pw = clip
    xlf = tmp_path / "broken.xlf"
    xlf.write_text('<?xml version="1.0"?>\n<xliff version="1.2">\n<file>\n</xliff>\n', encoding="utf-8")
    code, _, err = _run(capsys, "track", "import", str(cid), "--lang", "de", str(xlf), "--as", "tina",
                        "--password-file", pw, "--workspace", ws)
    assert code == 1 and re.search(r"line \d+", err), err


def test_tmx_out_and_in_and_languages_report(clip, capsys, tmp_path):
    cid, ws, pw = clip
    _run(capsys, "track", "readers", "omar", "de", "--workspace", ws)
    srt = tmp_path / "de.srt"
    _run(capsys, "track", "export", str(cid), "--lang", "de", "--format", "srt", "--out", str(srt),
         "--workspace", ws)
    blocks = srt.read_text(encoding="utf-8").split("\n\n")
    srt.write_text("\n\n".join("\n".join([*b.splitlines()[:2], "Das war schwer."]) if b.strip() else b
                               for b in blocks), encoding="utf-8")
    code, _, err = _run(capsys, "track", "import", str(cid), "--lang", "de", str(srt), "--as", "tina",
                        "--password-file", pw, "--workspace", ws)
    assert code == 0, err
    assert _run(capsys, "track", "translated", str(cid), "--lang", "de", "--as", "tina",
                "--password-file", pw, "--workspace", ws)[0] == 0
    code, _, err = _run(capsys, "track", "check", str(cid), "--lang", "de", "--as", "tina",
                        "--password-file", pw, "--workspace", ws)
    assert code == 1 and "tina translated this track" in err
    code, out, err = _run(capsys, "track", "check", str(cid), "--lang", "de", "--as", "omar",
                          "--password-file", pw, "--workspace", ws)
    assert code == 0 and "checked" in out, err
    tmx = tmp_path / "mem.tmx"
    code, out, _ = _run(capsys, "memory", "export", str(tmx), "--workspace", ws)
    assert code == 0 and "Das war schwer." in tmx.read_text(encoding="utf-8")
    code, out, _ = _run(capsys, "memory", "import", str(tmx), "--workspace", ws)
    assert code == 0 and "0 new pair(s)" in out
    code, out, _ = _run(capsys, "languages", "--json", "--workspace", ws)
    rows = json.loads(out)
    assert {"candidate": cid, "language": "de", "state": "checked"}.items() <= next(
        r for r in rows if r["language"] == "de").items()
    code, out, _ = _run(capsys, "languages", "--workspace", ws)
    assert f"candidate {cid} v1 de: checked" in out


def _apertium_has(pair: str) -> bool:
    if shutil.which("apertium") is None:
        return False
    listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True).stdout.split()
    return pair in listed


@pytest.mark.slow
def test_apertium_drafts_eng_spa_machine_made_until_confirmed(clip, capsys):
    if not _apertium_has("eng-spa") and not _apertium_has("en-es"):
        pytest.skip("Debian packages apertium and apertium-eng-spa are not installed")
    cid, ws, pw = clip
    code, out, err = _run(capsys, "mt", "list", "--workspace", ws)
    assert code == 0 and "apertium:" in out and "en->es" in out, out
    code, out, err = _run(capsys, "track", "start", str(cid), "--lang", "es", "--engine", "apertium",
                          "--as", "tina", "--password-file", pw, "--workspace", ws)
    assert code == 0, err
    assert "2 machine-made until confirmed" in out
    code, out, _ = _run(capsys, "languages", str(cid), "--json", "--workspace", ws)
    (row,) = [r for r in json.loads(out) if r["language"] == "es"]
    assert row["state"] == "draft" and row["machine_made"] == 2
    code, _, err = _run(capsys, "track", "translated", str(cid), "--lang", "es", "--as", "tina",
                        "--password-file", pw, "--workspace", ws)
    assert code == 1 and "not confirmed by a person" in err  # machine text cannot pass as translated
    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace
    from review.translating import get_track

    store = Store.for_workspace(Workspace(Path(ws)))
    try:
        track = get_track(store, cid, "es")
        assert all(c.origin == "machine" and c.engine == "apertium" for c in track.cues)
        assert any(word in track.cues[0].text.lower() for word in ("dejar", "salir", "difícil", "cosa"))
    finally:
        store.close()
    code, out, _ = _run(capsys, "track", "confirm", str(cid), "--lang", "es", "--as", "tina",
                        "--password-file", pw, "--workspace", ws)
    assert code == 0 and "machine-made" not in out
    code, out, _ = _run(capsys, "languages", str(cid), "--json", "--workspace", ws)
    (row,) = [r for r in json.loads(out) if r["language"] == "es"]
    assert row["machine_made"] == 0


def test_nightly_report_lists_languages_per_clip():
    from flows.report import RunReport, render_html, summary_text

    rows = ({"candidate": 3, "version": 2, "language": "ar", "state": "checked", "cues": 4, "translated": 4,
             "machine_made": 0, "needs_look": 0},
            {"candidate": 3, "version": 2, "language": "fr", "state": "draft", "cues": 4, "translated": 1,
             "machine_made": 1, "needs_look": 0})
    report = RunReport(run_id="r", started_at="s", finished_at="f", workspace="/ws", task_runner="local",
                       languages=rows)
    html = render_html(report)
    assert 'id="languages"' in html and "3 v2" in html and "checked" in html and "draft" in html
    assert "1 checked, 1 draft" in summary_text(report.to_json())
