"""Loudness normalisation to EBU R128: an audio-only analysis pass measures the cut (with bleeps
and voice change applied, exactly as it will sound) with ffmpeg's `ebur128` meter, then the render
graph applies a constant gain to the target, followed by a true-peak-safe limiter only when the
peaks need one. Targets: -14 LUFS for social profiles, -23 LUFS for broadcast. (ebur128 costs a
quarter of loudnorm's analysis, which resamples to 192 kHz; tests verify with loudnorm.)

Units: integrated loudness in LUFS, true peak in dBTP, loudness range in LU.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.errors import RenderError

if TYPE_CHECKING:
    from pipeline.render.profiles import RenderOptions


@dataclass(frozen=True, slots=True)
class Loudness:
    """Figures from loudnorm's analysis pass (LUFS, dBTP, LU)."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float

    @property
    def usable(self) -> bool:
        """False for silence (-inf, or at EBU R128's -70 LUFS absolute gate)."""
        finite = all(math.isfinite(x) for x in (self.input_i, self.input_tp, self.input_lra,
                                                 self.input_thresh, self.target_offset))
        return finite and self.input_i > SILENCE_LUFS

    def as_dict(self) -> dict[str, float]:
        return {
            "input_i": self.input_i, "input_tp": self.input_tp, "input_lra": self.input_lra,
            "input_thresh": self.input_thresh, "target_offset": self.target_offset,
        }


def parse_loudnorm_json(stderr_lines: Sequence[str]) -> Loudness:
    """The figures loudnorm prints (print_format=json) at the end of an analysis run."""
    text = "\n".join(stderr_lines)
    start, end = text.rfind("{"), text.rfind("}")
    if start < 0 or end < start:
        raise RenderError("loudness analysis printed no figures")
    try:
        data = json.loads(text[start:end + 1])
        return Loudness(
            input_i=float(data["input_i"]), input_tp=float(data["input_tp"]),
            input_lra=float(data["input_lra"]), input_thresh=float(data["input_thresh"]),
            target_offset=float(data["target_offset"]),
        )
    except (ValueError, KeyError) as exc:
        raise RenderError(f"loudness analysis figures unreadable: {exc}") from exc


def ebur128_filter_args() -> dict[str, str]:
    """Options of ffmpeg's `ebur128` meter for an analysis pass: true peak, summary only."""
    return {"peak": "true", "framelog": "quiet"}


SILENCE_LUFS = -69.5  # ebur128 reports -70 LUFS when everything is below the absolute gate
_SUMMARY = re.compile(
    r"Integrated loudness:\s*I:\s*(?P<i>-?[\d.]+|-inf) LUFS\s*Threshold:\s*(?P<thr>-?[\d.]+|-inf) LUFS"
    r".*?LRA:\s*(?P<lra>-?[\d.]+) LU.*?True peak:\s*Peak:\s*(?P<tp>-?[\d.]+|-inf) dBFS",
    re.S,
)


def parse_ebur128_summary(stderr_lines: Sequence[str]) -> Loudness:
    """The summary ebur128 prints at the end of a run (integrated loudness, range, true peak)."""
    text = "\n".join(stderr_lines)
    found = list(_SUMMARY.finditer(text))
    if not found:
        raise RenderError("loudness analysis printed no ebur128 summary")
    m = found[-1]
    return Loudness(input_i=float(m["i"]), input_tp=float(m["tp"]), input_lra=float(m["lra"]),
                    input_thresh=float(m["thr"]), target_offset=0.0)


def loudnorm_filter_args(options: RenderOptions, measured: Loudness | None) -> dict[str, str]:
    """Options of ffmpeg's `loudnorm`: analysis mode (JSON report) without figures, linear
    normalisation with the figures of an analysis pass."""
    args = {"I": f"{options.loudness_target:g}", "TP": f"{options.true_peak:g}",
            "LRA": f"{options.loudness_range:g}"}
    if measured is None:
        args["print_format"] = "json"
    elif measured.usable:
        args.update(
            measured_I=f"{measured.input_i:.2f}", measured_TP=f"{measured.input_tp:.2f}",
            measured_LRA=f"{measured.input_lra:.2f}", measured_thresh=f"{measured.input_thresh:.2f}",
            offset=f"{measured.target_offset:.2f}", linear="true",
        )
    return args


def normalisation(options: RenderOptions, measured: Loudness | None) -> tuple[str, float]:
    """("linear", gain dB) when a plain gain reaches the target within the true-peak ceiling,
    ("limit", gain dB) when the peaks need a limiter after the gain, ("dynamic", 0) without
    figures (single-pass loudnorm) and ("none", 0) for silence."""
    if measured is None:
        return "dynamic", 0.0
    if not measured.usable:
        return "none", 0.0  # silence: nothing to normalise, and no gain to amplify hiss with
    gain = options.loudness_target - measured.input_i
    if measured.input_tp + gain <= options.true_peak - 0.1:
        return "linear", gain
    return "limit", gain


def limiter_filter_args(options: RenderOptions) -> dict[str, str]:
    """ffmpeg `alimiter` options: a sample-peak ceiling half a dB under the true-peak target
    (inter-sample peaks), fast attack, no automatic level, delay compensated."""
    ceiling = 10 ** ((options.true_peak - 0.5) / 20)
    return {"limit": f"{ceiling:.4f}", "attack": "5", "release": "50", "level": "false",
            "latency": "true"}


def measure_loudness(path: str, start: float | None = None, duration: float | None = None) -> Loudness:
    """Integrated loudness, true peak and range of a file's audio (or of a stretch of it)."""
    from pipeline.render.run import ffmpeg_exe, run_ffmpeg

    argv = [ffmpeg_exe(), "-hide_banner", "-loglevel", "info"]
    if start is not None:
        argv += ["-ss", f"{start:.3f}"]
    if duration is not None:
        argv += ["-t", f"{duration:.3f}"]
    argv += ["-i", path, "-vn", "-af", "loudnorm=I=-23:TP=-1:LRA=11:print_format=json", "-f", "null", "-"]
    return parse_loudnorm_json(run_ffmpeg(argv))
