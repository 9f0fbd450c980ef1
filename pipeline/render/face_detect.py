"""Face detection on one frame: CenterFace (an anchor-free CNN, MIT) on onnxruntime.

Chosen by measurement in bench/faces.py over BlazeFace (MediaPipe short- and full-range) and the
old OpenCV Haar cascades: it is the only one that finds faces down to 24 px as well as rotated,
half-cropped and profile faces (see bench/RESULTS.md, "Faces").

A frame is given as RGB uint8 (H, W, 3) at the size detection should run at; boxes come back in
that frame's pixels. The caller picks the size (sampling decodes frames straight to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import ModelError

SURE = 0.5  # a detection at least this confident is a face
UNSURE = 0.2  # between UNSURE and SURE: maybe a face (the tracker fails safe on these)
NMS_IOU = 0.3


@dataclass(frozen=True, slots=True)
class Detection:
    """A face rectangle (x0, y0)-(x1, y1) in the detection frame's pixels, with its score."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def size(self) -> float:
        return max(self.x1 - self.x0, self.y1 - self.y0)

    def scaled(self, factor: float) -> Detection:
        return Detection(self.x0 * factor, self.y0 * factor, self.x1 * factor, self.y1 * factor,
                         self.score)


class FaceDetector(Protocol):
    """Anything that finds faces on an RGB uint8 frame (CenterFace; counting wrappers in tests)."""

    def detect(self, rgb: Any) -> tuple[Detection, ...]: ...


def _nms(dets: list[Detection], iou: float) -> list[Detection]:
    kept: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        if all(_iou(d, k) <= iou for k in kept):
            kept.append(d)
    return kept


def _iou(a: Detection, b: Detection) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    return inter / union if union > 0 else 0.0


class CenterFace:
    """CenterFace on onnxruntime. Loading takes ~0.2 s; reuse one instance per process."""

    def __init__(self, model: Path | None = None, threshold: float = UNSURE, threads: int = 0) -> None:
        import onnx
        import onnxruntime as ort
        from onnx.tools.update_model_dims import update_inputs_outputs_dims

        from pipeline.render.face_model import centerface_path

        path = model or centerface_path()
        try:
            static = onnx.load(str(path))
            # Weights listed as graph inputs (an old exporter's habit) block constant folding.
            weights = {i.name for i in static.graph.initializer}
            keep = [i for i in static.graph.input if i.name not in weights]
            del static.graph.input[:]
            static.graph.input.extend(keep)
            # The file fixes a 32x32 input; every dimension is made free so any size runs.
            dynamic = update_inputs_outputs_dims(
                static, {"input.1": ["B", 3, "H", "W"]},
                {"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"], "539": ["B", 2, "h", "w"],
                 "540": ["B", 10, "h", "w"]})
            opts = ort.SessionOptions()
            opts.log_severity_level = 3  # onnxruntime notes each unused batch-norm counter
            opts.intra_op_num_threads = threads
            self._session = ort.InferenceSession(dynamic.SerializeToString(), opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnx/onnxruntime raise their own hierarchy
            raise ModelError(f"cannot load the face model {path}: {exc}") from exc
        self.threshold = threshold

    def detect(self, rgb: Any) -> tuple[Detection, ...]:
        """Faces scoring at least `threshold` on an RGB uint8 frame, in its pixels."""
        import numpy as np

        h, w = rgb.shape[:2]
        # Padded (not resized) to multiples of 32, so boxes need no rescaling.
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, ph, pw), dtype=np.float32)
        blob[0, :, :h, :w] = np.transpose(rgb, (2, 0, 1))
        heat, scale, offset, _lms = self._session.run(None, {"input.1": blob})
        heat = heat[0, 0]
        rows, cols = np.nonzero(heat > self.threshold)
        dets = []
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            sh, sw = np.exp(scale[0, 0, r, c]) * 4, np.exp(scale[0, 1, r, c]) * 4
            cy, cx = (r + offset[0, 0, r, c] + 0.5) * 4, (c + offset[0, 1, r, c] + 0.5) * 4
            x0, y0 = max(0.0, cx - sw / 2), max(0.0, cy - sh / 2)
            dets.append(Detection(float(x0), float(y0), float(min(w, x0 + sw)), float(min(h, y0 + sh)),
                                  float(heat[r, c])))
        return tuple(d for d in _nms(dets, NMS_IOU) if d.x1 > d.x0 and d.y1 > d.y0)
