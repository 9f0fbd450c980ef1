"""`counterclips export ID --lang all`: approved English and checked Arabic go out, a draft French
track is refused in one line; the Arabic burn-in OCRs back (Tesseract's Arabic model) right to left."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from clips_metadata.stored_records import Consent
from flows.cli import main
from pipeline.atomic import file_sha256
from tests.conftest import shared_media_file

TALKING_HEAD = "vid_en_talkinghead_3.mp4"
TEXT = "Leaving was the hardest thing I ever did."
ARABIC = "كان الرحيل أصعب شيء فعلته"
CONSENT = Consent(face=True, voice=True, name=False, languages=("en", "ar", "fr"), platforms=("youtube",),
                  expires=date(2099, 1, 1))


def _seed(workspace) -> int:
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from review import translating as tr
    from review.plans import Planner
    from review.service import ReviewService
    from tests.review.seed import add_candidate, add_interview

    src = shared_media_file(TALKING_HEAD)
    store = Store.for_workspace(workspace)
    try:
        _, tid, sents = add_interview(store, pseudonym="Amal", texts=[TEXT],
                                      labels={0: ("disillusionment_exit",)}, sha256=file_sha256(src),
                                      path=str(src), duration=5.0, consent=CONSENT)
        cid = add_candidate(store, tid, sents, [0], themes=("disillusionment_exit",))
        rs = ReviewStore(store)
        for name, role in (("rita", "reviewer"), ("tina", "translator"), ("omar", "translator")):
            rs.add_user(name, role, "not-a-real-hash")
        tr.reads(store, "tina", ["ar", "fr"])
        tr.reads(store, "omar", ["ar"])
        tr.start_track(store, cid, "ar", user="tina")
        for cue in tr.clip_tracks(store, cid).source.cues:
            tr.edit_cue(store, cid, "ar", cue.id, ARABIC, user="tina")
        tr.mark_translated(store, cid, "ar", user="tina")
        tr.check_track(store, cid, "ar", user="omar")
        tr.start_track(store, cid, "fr", user="tina")  # still a draft
        # The checked Arabic cues are part of the plan the reviewer watches and approves.
        svc = ReviewService(rs, Planner.for_workspace(store, workspace))
        plan = svc.current_plan(cid)
        assert plan is not None and plan.plan is not None, plan
        svc.act(cid, "approve", actor="rita", role="reviewer", plan_hash=plan.hash)
        return cid
    finally:
        store.close()


def test_lang_all_refuses_a_draft_language_in_one_line(workspace, capsys, monkeypatch):
    """Fast: the renders are replaced; what is asked of them and the refusal are real."""
    import flows.services.exporting as exporting

    cid = _seed(workspace)
    asked: list[tuple[str, tuple[str, ...]]] = []

    def fake_export(store, ws, candidate_id, request, progress=None):
        prepared = exporting.prepare_export(store, ws, candidate_id, request)
        asked.append((prepared.plan.language, prepared.plan.languages))

        class Record:
            paths = (f"/out/{prepared.plan.language}.mp4",)

        return Record()

    monkeypatch.setattr(exporting, "export_candidate", fake_export)
    code = main(["export", str(cid), "--lang", "all", "--workspace", str(workspace.root),
                 "--platform", "youtube", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert [lang for lang, _ in asked] == ["ar", "en"]
    assert all(langs == ("ar", "en") for _, langs in asked)  # the draft French never enters a plan
    refusals = [line for line in err.splitlines() if line.strip()]
    assert refusals == [f"counterclips: candidate {cid} not exported in fr: the track is draft, not "
                        "checked by a second translator or a reviewer who reads fr"]


def _norm(word: str) -> str:
    """Arabic OCR folding: hamza and madda forms of alef to bare alef, alef maqsura to ya, and no
    punctuation (Tesseract's Arabic model confuses these, the words are the same)."""
    word = word.translate(str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي"}))
    return "".join(ch for ch in word if ch.isalpha())


def _ocr_words(png: Path) -> list[tuple[str, int]]:
    tsv = subprocess.run(["tesseract", str(png), "-", "-l", "ara", "--psm", "7", "tsv"], check=True,
                         capture_output=True, text=True).stdout
    out = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) == 12 and cols[11].strip():
            out.append((_norm(cols[11]), int(cols[6])))
    return out


def _run_languages(capsys, workspace, cid: int) -> tuple[int, list, str]:
    code = main(["languages", str(cid), "--json", "--workspace", str(workspace.root)])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.slow
def test_lang_all_renders_english_and_arabic_and_the_arabic_ocrs_back_rtl(workspace, capsys, tmp_path):
    if shutil.which("tesseract") is None or "ara" not in subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split():
        pytest.skip("tesseract with the Arabic model is not installed (bootstrap installs it)")
    cid = _seed(workspace)
    code = main(["export", str(cid), "--lang", "all", "--workspace", str(workspace.root),
                 "--platform", "youtube", "--preset", "ultrafast", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    paths = [Path(line) for line in out.splitlines()]
    folders = {p.parent.name for p in paths}
    assert any(f.endswith("-ar") for f in folders) and any(f.endswith("-en") for f in folders)
    assert not any(f.endswith("-fr") for f in folders)
    assert "not exported in fr:" in err and len([e for e in err.splitlines() if "fr:" in e]) == 1
    code, out, _ = _run_languages(capsys, workspace, cid)
    assert {r["language"]: r["state"] for r in out} == {"ar": "exported", "fr": "draft"}
    ar_dir = next(p.parent for p in paths if p.parent.name.endswith("-ar"))
    manifest = json.loads((ar_dir / "manifest.json").read_text())
    assert manifest["authorisation"]["languages"] == ["ar", "en"]
    srts = sorted(p.name for p in ar_dir.glob("*.srt"))
    assert any(".ar." in n or n.endswith("ar.srt") for n in srts) and not any("fr" in n for n in srts)
    assert ARABIC in next(p for p in ar_dir.glob("*.srt") if "ar" in p.name).read_text(encoding="utf-8")

    # OCR a frame in the middle of the cue: the subtitle band only, upscaled, and only the white
    # letters kept (black on white) so the picture behind does not read as text.
    video = next(ar_dir.glob("*.mp4"))
    png = tmp_path / "frame.png"
    from pipeline.render.run import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-ss", "1.3", "-i", str(video), "-frames:v", "1",
                    "-vf", "crop=iw:ih/5:0:ih*4/5,scale=iw*3:-1:flags=lanczos,format=gray,"
                    "lut=c0='if(gt(val,240),0,255)'", str(png)], check=True)
    found = _ocr_words(png)
    words = [w for w, _ in found]
    wanted = [_norm(w) for w in ARABIC.split()]
    overlap = len(set(wanted) & set(words)) / len(wanted)
    assert overlap >= 0.8, (words, wanted)
    # Right to left: the first word of the sentence sits to the right of the last one.
    left = {w: x for w, x in found}
    assert left[wanted[0]] > left[wanted[-1]], found
