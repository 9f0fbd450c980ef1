"""Labeled frames for the face-detection benchmark, built from the talking-head videos.

`python bench/faces_data.py` writes bench/faces_labels.json: one item per 1280x720 test image, with
the recipe that rebuilds the image from ../shared/media (deterministic) and its face boxes.

Labels: each source frame's face box comes from CenterFace at the frame's native size (the
largest input the model takes here), checked by eye on a sample (bench/RESULTS.md says which);
every variant's boxes then follow from the geometry of the variant (scale, paste, rotate, crop,
flip, squeeze), not from a detector. A third of the source frames (the last time of each video)
are the sealed split: they are built and labeled with the rest but only scored once.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
if not MEDIA.is_dir():
    MEDIA = Path("/work/shared/media")
LABELS = Path(__file__).with_name("faces_labels.json")
W, H = 1280, 720
TALKING = ("vid_en_talkinghead_1.mp4", "vid_en_talkinghead_2.mp4", "vid_en_talkinghead_3.mp4",
           "vid_en_talkinghead_5.mp4", "vid_en_talkinghead_katiehill.mp4")
TIMES = (0.5, 2.0, 4.0)  # 4.0 s frames are sealed
SEALED_TIME = 4.0
NEGATIVE_SOURCES = (("vid_zh-en_autocut_test001.mp4", 1.0), ("vid_zh-en_autocut_test001.mp4", 8.0),
                    ("vid_en_manifesto_audiobook.mp4", 5.0), ("vid_en_manifesto_audiobook.mp4", 60.0))
SMALL_SIZES = (24, 28, 32, 40, 48, 64, 96)


def frame_at(name: str, t: float) -> Any:
    """RGB frame (numpy) shown at `t` seconds."""
    import av

    with av.open(str(MEDIA / name)) as c:
        for frame in c.decode(video=0):
            if frame.time is not None and frame.time + 1e-3 >= t:
                return frame.to_ndarray(format="rgb24")
    raise ValueError(f"{name} has no frame at {t}")


def background(seed: int) -> Any:
    """A 1280x720 canvas: flat grey for even seeds, smooth random texture for odd ones."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    if seed % 2 == 0:
        return Image.new("RGB", (W, H), (118, 118, 118))
    small = (rng.random((9, 16, 3)) * 200 + 25).astype("uint8")
    return Image.fromarray(small).resize((W, H), Image.BILINEAR)


def _fit(img: Any, box: list[float], max_w: int = W, max_h: int = H) -> tuple[Any, list[float]]:
    k = min(max_w / img.width, max_h / img.height)
    return _scale(img, box, k)


def _scale(img: Any, box: list[float], k: float, kx: float | None = None) -> tuple[Any, list[float]]:
    from PIL import Image

    kx = k if kx is None else kx
    out = img.resize((max(1, round(img.width * kx)), max(1, round(img.height * k))), Image.LANCZOS)
    return out, [box[0] * kx, box[1] * k, box[2] * kx, box[3] * k]


def _rotate(img: Any, box: list[float], angle: float) -> tuple[Any, list[float]]:
    out = img.rotate(angle, expand=True, fillcolor=(118, 118, 118))
    cx, cy, ncx, ncy = img.width / 2, img.height / 2, out.width / 2, out.height / 2
    a = math.radians(angle)
    pts = []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        dx, dy = x - cx, y - cy  # PIL turns counter-clockwise on screen (y down)
        pts.append((ncx + dx * math.cos(a) + dy * math.sin(a), ncy - dx * math.sin(a) + dy * math.cos(a)))
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    # The bounding box of a turned face box is larger than the face: shrink it back by the turn.
    shrink = 0.5 * (1 - abs(math.cos(2 * a))) * 0.25
    bw, bh = max(xs) - min(xs), max(ys) - min(ys)
    return out, [min(xs) + bw * shrink, min(ys) + bh * shrink, max(xs) - bw * shrink, max(ys) - bh * shrink]


def build(item: dict[str, Any]) -> Any:
    """The item's 1280x720 RGB image (numpy), rebuilt from its recipe."""
    import numpy as np
    from PIL import Image, ImageFilter

    canvas = background(item["seed"])
    for layer in item["layers"]:
        img = Image.fromarray(frame_at(layer["source"], layer["time"]))
        if layer.get("crop"):
            img = img.crop(tuple(layer["crop"]))
        if layer.get("flip"):
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        if layer.get("angle"):
            img = img.rotate(layer["angle"], expand=True, fillcolor=(118, 118, 118))
        img = img.resize((layer["w"], layer["h"]), Image.LANCZOS)
        if layer.get("blur_face"):
            x0, y0, x1, y1 = (round(v) for v in layer["blur_face"])
            patch = img.crop((x0, y0, x1, y1))
            r = max(1, min(x1 - x0, y1 - y0) // 4)
            img.paste(patch.filter(ImageFilter.BoxBlur(r)).filter(ImageFilter.BoxBlur(r)), (x0, y0))
        canvas.paste(img, (layer["x"], layer["y"]))
    return np.asarray(canvas)


def _layer(source: str, t: float, img: Any, box: list[float], x: int, y: int,
           **extra: Any) -> tuple[dict[str, Any], list[float]]:
    layer = {"source": source, "time": t, "w": img.width, "h": img.height, "x": x, "y": y, **extra}
    return layer, [box[0] + x, box[1] + y, box[2] + x, box[3] + y]


def make_items(source_boxes: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Every variant of every source frame, with labels (pure geometry from `source_boxes`)."""
    import random

    from PIL import Image

    rng = random.Random(16)
    items: list[dict[str, Any]] = []
    seed = 0

    def add(kind: str, key: str, layers: list[dict[str, Any]], boxes: list[list[float]]) -> None:
        nonlocal seed
        seed += 1
        split = "sealed" if f"@{SEALED_TIME}" in key else "dev"
        items.append({"id": f"{kind}:{key}:{seed}", "kind": kind, "split": split, "seed": seed,
                      "layers": layers, "boxes": [[round(v, 1) for v in b] for b in boxes]})

    for key, box in source_boxes.items():
        name, t = key.split("@")[0], float(key.split("@")[1])
        src = Image.fromarray(frame_at(name, t))
        bh = box[3] - box[1]
        # Frontal talking head, full height, centred (pillarboxed as a square video is in 16:9).
        img, b = _fit(src, box)
        layer, lb = _layer(name, t, img, b, (W - img.width) // 2, 0)
        add("frontal", key, [layer], [lb])
        # Mirrored.
        img, b = _fit(src, [src.width - box[2], box[1], src.width - box[0], box[3]])
        layer, lb = _layer(name, t, img, b, (W - img.width) // 2, 0, flip=True)
        add("mirrored", key, [layer], [lb])
        # Profile-like: squeezed to 60% width (a face turned away is narrower).
        img, b = _scale(src, box, H / src.height, 0.6 * H / src.height)
        layer, lb = _layer(name, t, img, b, rng.randrange(0, W - img.width), 0)
        add("profile_like", key, [layer], [lb])
        # Half face: cut through the middle of the face, the cut at the picture's left edge.
        cx = round((box[0] + box[2]) / 2)
        crop = [cx, 0, src.width, src.height]
        img, b = _fit(src.crop(tuple(crop)), [0, box[1], box[2] - cx, box[3]])
        layer, lb = _layer(name, t, img, b, 0, 0, crop=crop)
        add("half", key, [layer], [lb])
        # Rotations.
        for angle in (30, -30, 90):
            rot, rb = _rotate(src, box, angle)
            img, b = _fit(rot, rb)
            layer, lb = _layer(name, t, img, b, (W - img.width) // 2, (H - img.height) // 2, angle=angle)
            add(f"rotated{angle:+d}", key, [layer], [lb])
        # Small faces, pasted at a random place.
        for size in SMALL_SIZES:
            img, b = _scale(src, box, size / bh)
            x, y = rng.randrange(0, W - img.width), rng.randrange(0, H - img.height)
            layer, lb = _layer(name, t, img, b, x, y)
            add(f"small{size}", key, [layer], [lb])
        # Two faces: this one large at the left, another video's frame small at the right.
        others = [k for k in source_boxes if k.split("@")[0] != name and k.split("@")[1] == key.split("@")[1]]
        other = others[rng.randrange(len(others))]
        oname, ot = other.split("@")[0], float(other.split("@")[1])
        osrc, obox = Image.fromarray(frame_at(oname, ot)), source_boxes[other]
        img, b = _fit(src, box, W // 2, H)
        first, lb1 = _layer(name, t, img, b, 0, 0)
        size = rng.choice((28, 40, 64, 120))
        img2, b2 = _scale(osrc, obox, size / (obox[3] - obox[1]))
        second, lb2 = _layer(oname, ot, img2, b2, rng.randrange(W // 2, W - img2.width),
                             rng.randrange(0, H - img2.height))
        add("two_faces", key, [first, second], [lb1, lb2])
        # Negative: the same frame with the face box-blurred as the render does.
        img, b = _fit(src, box)
        pad = [b[0] - 0.35 * (b[2] - b[0]), b[1] - 0.35 * (b[3] - b[1]),
               b[2] + 0.35 * (b[2] - b[0]), b[3] + 0.6 * (b[3] - b[1])]
        pad = [max(0, pad[0]), max(0, pad[1]), min(img.width, pad[2]), min(img.height, pad[3])]
        layer, _ = _layer(name, t, img, b, (W - img.width) // 2, 0, blur_face=pad)
        add("blurred_face", key, [layer], [])
    for name, t in NEGATIVE_SOURCES:
        src = Image.fromarray(frame_at(name, t))
        img, _b = _fit(src, [0, 0, 0, 0])
        layer, _ = _layer(name, t, img, [0, 0, 0, 0], (W - img.width) // 2, (H - img.height) // 2)
        add("no_face", f"{name}@{t}", [layer], [])
    for _ in range(4):
        add("blank", "canvas", [], [])
    return items


def source_boxes() -> dict[str, list[float]]:
    """The one face of each talking-head frame, by CenterFace at the frame's native size."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pipeline.render.face_detect import CenterFace

    cf = CenterFace(threshold=0.5)
    out = {}
    for name in TALKING:
        for t in TIMES:
            dets = cf.detect(frame_at(name, t))
            if len(dets) != 1:
                raise SystemExit(f"{name}@{t}: {len(dets)} faces at native size, label by hand")
            d = dets[0]
            out[f"{name}@{t}"] = [round(d.x0, 1), round(d.y0, 1), round(d.x1, 1), round(d.y1, 1)]
    return out


def main() -> None:
    boxes = source_boxes()
    items = make_items(boxes)
    LABELS.write_text(json.dumps({"canvas": [W, H], "source_boxes": boxes, "items": items}, indent=1) + "\n")
    print(f"{len(items)} items ({sum(i['split'] == 'sealed' for i in items)} sealed) -> {LABELS}")


if __name__ == "__main__":
    main()
