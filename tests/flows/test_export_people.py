"""Must-show (issue 16), end to end through the export service (`export_candidate`): a talking
head with two faces, no face consent, is exported with both faces blurred in every sampled frame
(a face detector run on the output finds nothing); a manual blur region an editor added to the
version is blurred in the export and listed in the manifest's plan; the interviewer's question
card kept with the candidate is on the opening card, never in the subtitles."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from clips_metadata.stored_records import Consent
from pipeline.atomic import file_sha256
from pipeline.blur_boxes import ManualBlur, with_regions
from tests.pipeline.render_support import ffmpeg, frames_at

pytestmark = pytest.mark.slow
TEXT = "Leaving was the hardest thing I ever did and I would do it again."
BOX = ManualBlur(640, 420, 200, 200, start=1.5, end=2.5)  # source clock; a sharp pattern lies under it
CONSENT = Consent(face=False, voice=True, name=False, languages=("*",), platforms=("*",),
                  expires=date(2099, 1, 1))


def _source(tmp: Path) -> Path:
    from tests.pipeline.test_faces_detect import _two_faces

    two = _two_faces(tmp / "two.mp4")
    out = tmp / "two_patterned.mp4"
    subprocess.run(  # noqa: S603
        [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(two), "-f", "lavfi",
         "-i", "testsrc2=s=200x200:r=25", "-filter_complex", f"[0:v][1:v]overlay={BOX.x}:{BOX.y}:shortest=1",
         "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", "-c:a", "aac", str(out)],
        check=True)
    return out


def _seed(workspace, src: Path) -> int:
    from clips_metadata.review_store import ReviewStore
    from clips_metadata.store import Store
    from review.service import ReviewService
    from tests.review.seed import add_candidate, add_interview

    store = Store.for_workspace(workspace)
    try:
        _, tid, sents = add_interview(store, pseudonym="Amal", texts=[TEXT],
                                      labels={0: ("disillusionment_exit",)}, sha256=file_sha256(src),
                                      path=str(src), duration=4.0, consent=CONSENT, seconds_per_word=0.22)
        cid = add_candidate(store, tid, sents, [0], themes=("disillusionment_exit",))
        rs = ReviewStore(store)
        rs.add_user("eddie", "editor", "not-a-real-hash")
        rs.add_user("rita", "reviewer", "not-a-real-hash")
        from review.plans import Planner

        svc = ReviewService(rs, Planner.for_workspace(store, workspace))  # approval binds the plan
        cand = store.get_candidate(cid)
        options = with_regions(cand.render_options, [BOX])
        options["question_card"] = {"text": "How did you leave?", "start": 0.0, "end": 0.1,
                                    "speaker": "S1", "kind": "interviewer_question"}
        svc.edit(cid, cand.version, {"render_options": options}, actor="eddie", role="editor")
        svc.act(cid, "approve", actor="rita", role="reviewer")
        return cid
    finally:
        store.close()


def test_an_export_blurs_every_face_and_the_manual_region_and_lists_it(workspace, tmp_path):
    from clips_metadata.store import Store
    from flows.services.exporting import export_candidate
    from pipeline.render.faces import faces_on_frame, iter_frames
    from review.export_settings import ExportSettings

    src = _source(tmp_path)
    before = [len(faces_on_frame(f)) for _t, f in iter_frames(str(src), 0.5, 3.5, 0.5)]
    assert before and all(n == 2 for n in before), before  # the check below means something
    cid = _seed(workspace, src)
    store = Store.for_workspace(workspace)
    try:
        cand = store.get_candidate(cid)
        record = export_candidate(store, workspace, cid, ExportSettings(preset="ultrafast", actor="rita"))
    finally:
        store.close()
    video = next(Path(p) for p in record.paths if p.endswith(".mp4"))
    manifest = json.loads(Path(record.manifest_path).read_text())

    # Both faces blurred in every sampled frame: a detector finds nothing on the output.
    card = manifest["cards"]["title"]["duration"]
    duration = manifest["output"]["duration"]
    after = [(round(t, 2), len(faces_on_frame(f))) for t, f in iter_frames(str(video), card, duration, 0.2)]
    assert len(after) >= 10
    assert not [a for a in after if a[1]], f"a face is detectable in the export at {after}"
    assert manifest["identity_protection"]["face_blurred"] is True

    # The manual region: in the manifest's plan on the clip clock, and blurred only over its time.
    (box,) = manifest["identity_protection"]["blur_boxes"]
    assert (box["x"], box["y"], box["width"], box["height"]) == (BOX.x, BOX.y, BOX.width, BOX.height)
    assert box["start"] == pytest.approx(BOX.start - cand.start, abs=1e-3)
    assert box["end"] == pytest.approx(BOX.end - cand.start, abs=1e-3)

    def detail(rgb) -> float:
        patch = rgb[BOX.y + 10:BOX.y + BOX.height - 10, BOX.x + 10:BOX.x + BOX.width - 10]
        patch = patch.astype(np.float32).mean(axis=2)
        return float(np.abs(np.diff(patch, axis=0)).mean() + np.abs(np.diff(patch, axis=1)).mean())

    # File clock = title card + clip clock.
    inside = detail(frames_at(video, [card + (box["start"] + box["end"]) / 2])[0])
    outside = detail(frames_at(video, [card + box["end"] + 0.5])[0])
    assert inside < 0.3 * outside, (inside, outside)

    # The interviewer's question is on the opening card, marked as such; never a subtitle.
    lines = manifest["cards"]["title"]["lines"]
    assert "Interviewer's question:" in lines and "How did you leave?" in " ".join(lines)
    srt = next(Path(p) for p in record.paths if p.endswith(".srt")).read_text()
    assert "How did you leave" not in srt and "hardest" in srt
