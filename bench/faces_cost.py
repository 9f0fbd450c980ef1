"""Where the face protection of a render costs CPU (issue 16 target 3), on `bench/faces.py --render`'s
60 s 720p clip. Process CPU seconds (with children), the load average printed beside them.

    python bench/faces_cost.py detection [--work DIR] [--workers N]
    python bench/faces_cost.py graph [--work DIR] [--reps N] [--encode]
    python bench/faces_cost.py variants [--work DIR] [--workers N] [--reps N] [--clip FILE]
    python bench/faces_cost.py floor [--work DIR] [--reps N]

`detection`: `detect_faces` on the clip, its CPU split into decoding, colour conversion and
scaling, the change check, and onnxruntime per pass (480 / 960 px, whole frame or changed areas),
with why each whole-frame run happened.
`graph`: the blur part of the render's filter graph alone (faces from the workspace cache, decoded
video to `-f null`, no encoding): the graph without blur, with the face patches shrunk by area
averaging (the phase-3 graph) and by nearest neighbour (phase 4), alternating, `--reps` rounds;
with `--encode`, the whole render (x264 and audio) in those three variants.
`variants`: `detect_faces` + `blur_regions` on the clip in turn, `--reps` rounds: this code, the
phase-5 path (whole-frame runs on the whole frame, one swscale context shared by every size), and
sampling settings that trade protection for CPU (measured for the record, not used: each samples
less often or less finely than issue 16 asks); CPU-s, wall s and whole-frame blur windows.
`floor` (phase 7): decoding the clip with PyAV as detection does (reference frames only) against
every frame and against the ffmpeg command line (one thread, and the render's own threads), i.e.
what one shared decode could save at most, and one decode shared through a pipe (PyAV decodes,
ffmpeg reads the raw frames); and onnxruntime per inference with CenterFace's unused
landmark head pruned, and 8 frames as one batch against 8 single runs, alternating.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def detection(clip: Path, workers: int) -> None:
    """Wraps the steps of `pipeline.render.faces` with CPU clocks (threads: CPU is per process,
    so run with --workers 1 for a clean split)."""
    import pipeline.render.faces as F

    spent: dict[str, float] = collections.defaultdict(float)
    count: collections.Counter[str] = collections.Counter()

    def clocked(name: str, fn: Any) -> Any:
        def run(*a: Any, **k: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.process_time() - t
                count[name] += 1
        return run

    detector = F.default_detector()
    session = detector._session

    class Session:
        def run(self, outputs: Any, feeds: dict[str, Any]) -> Any:
            shape = feeds["input.1"].shape
            t = time.process_time()
            try:
                return session.run(outputs, feeds)
            finally:
                where = "whole frame" if current["whole"] else "changed areas"
                key = f"onnxruntime {current['width']} px {where}"
                spent[key] += time.process_time() - t
                count[key] += 1
                spent["input pixels (M)"] += shape[2] * shape[3] / 1e6

    current: dict[str, Any] = {"width": 0, "whole": False}
    why: collections.Counter[str] = collections.Counter()
    detect_in = F._detect_in

    def detect_in_marked(det: Any, rgb: Any, k: float, areas: Any) -> Any:
        # A whole-frame run skips flat blocks (phase 6): its areas come from textured_boxes.
        current["whole"] = areas is None or current.pop("textured", False)
        return detect_in(det, rgb, k, areas)

    textured = clocked("flat-block check (textured_boxes)", F.textured_boxes)

    def textured_marked(*a: Any, **k: Any) -> Any:
        current["textured"] = True
        return textured(*a, **k)

    run_pass = F._Pass.run

    def pass_run(self: Any, det: Any, frame: Any, thumb: Any, t: float, options: Any, full: bool) -> Any:
        current["width"] = self.width
        had_ref = self.ref is not None
        wholes = sum(v for k, v in count.items() if "whole frame" in k)
        out = run_pass(self, det, frame, thumb, t, options, full)
        if sum(v for k, v in count.items() if "whole frame" in k) > wholes:
            why[f"{self.width} px whole: " + ("cadence, first or last" if full or not had_ref
                                              else "changed areas >= crop_share")] += 1
        return out

    detector._session = Session()
    F._detect_in = detect_in_marked
    F.textured_boxes = textured_marked
    F._Pass.run = pass_run
    F._scaled_rgb = clocked("RGB conversion + scaling", F._scaled_rgb)
    F._thumbnail = clocked("change-check thumbnail", F._thumbnail)
    F.changed_boxes = clocked("change check (changed_boxes)", F.changed_boxes)
    iter_frames = F.iter_frames

    def frames(*a: Any, **k: Any) -> Any:
        it = iter_frames(*a, **k)
        while True:
            t = time.process_time()
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                spent["decoding (NONREF)"] += time.process_time() - t
            count["decoding (NONREF)"] += 1
            yield item

    F.iter_frames = frames
    load = _load()
    t0, w0 = time.process_time(), time.perf_counter()
    samples = F.detect_faces(str(clip), 0.0, 60.0, options=F.SamplingOptions(workers=workers))
    total, wall = time.process_time() - t0, time.perf_counter() - w0
    F.blur_regions(samples, 0.0, 60.0, 1280, 720)
    print(f"load before {load}, after {_load()}; workers {workers}; samples {len(samples)} "
          f"(fine {sum(s.fine for s in samples)}); total {total:.2f} CPU-s, {wall:.2f} s wall")
    ort = sum(v for k, v in spent.items() if k.startswith("onnxruntime"))
    for name in sorted(spent):
        unit = "" if name.startswith("input") else " CPU-s"
        print(f"  {name:44s} {spent[name]:7.2f}{unit}  n={count[name] or ''}")
    print(f"  {'onnxruntime, all':44s} {ort:7.2f} CPU-s")
    steps = sum(v for k, v in spent.items() if not k.startswith(("onnx", "input")))
    print(f"  {'rest (blob, boxes, merging, tracking)':44s} {total - ort - steps:7.2f} CPU-s")
    for name, n in sorted(why.items()):
        print(f"  why {name}: {n}")


def _render_graph(work: Path) -> list[str]:
    """The blurred master render's ffmpeg argv, faces from the cache in `work/faces`."""
    from dataclasses import replace

    import pipeline.render.run as run
    from pipeline.render.profiles import RenderOptions
    from pipeline.render.render_export import render_export
    from tests.pipeline.render_support import KEY, PROVENANCE, authorisation, plan_of, request

    seen: list[list[str]] = []
    real = run.run_ffmpeg

    def spy(argv: Any, *a: Any, **k: Any) -> Any:
        seen.append(list(argv))
        return real(argv, *a, **k)

    run.run_ffmpeg = spy
    req = replace(request(work / "faces_60s_720p.mp4", work / "graph_out", start=0.0, end=60.0,
                          blur_faces=True), options=RenderOptions())
    plan = plan_of(req)
    render_export(plan, authorisation(plan=plan), KEY, req.source, req.out_dir, None, provenance=PROVENANCE,
                  face_cache=work / "faces")
    run.run_ffmpeg = real
    return next(a for a in seen if "-filter_complex" in a and "overlay" in a[a.index("-filter_complex") + 1])


def graph(work: Path, reps: int, encode: bool) -> None:
    argv = _render_graph(work)
    i = argv.index("-filter_complex")
    video, audio = argv[i + 1].split(";[0:a]", 1)
    last = re.findall(r"\[(s\d+)\]$", video)[0]
    variants = {
        "no blur": re.sub(r"\[(s\d+)\]split=\d+.*\[(s\d+)\]setsar", r"[\1]setsar", video),
        "patches shrunk by area (phase 3)": video.replace("flags=neighbor", "flags=area"),
        "patches shrunk by nearest neighbour (phase 4)": video.replace("flags=area", "flags=neighbor"),
    }
    got: dict[str, list[float]] = collections.defaultdict(list)
    walls: dict[str, list[float]] = collections.defaultdict(list)
    load = _load()
    for _ in range(reps):
        for name, g in variants.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            if encode:  # the whole render: audio and x264 as production runs them
                cmd = [*argv[:i], "-filter_complex", f"{g};[0:a]{audio}", *argv[i + 2:-1],
                       str(work / "graph_ab.mp4")]
            else:
                cmd = [*argv[:i], "-an", "-filter_complex", g, "-map", f"[{last}]", "-f", "null", "-"]
            w = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            walls[name].append(round(time.perf_counter() - w, 2))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            got[name].append(round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2))
    what = "the whole render (x264, audio)" if encode else "decode + blur graph to -f null"
    print(f"load before {load}, after {_load()}; {what}, CPU-s and wall s per run:")
    for name, v in got.items():
        print(f"  {name:48s} CPU min {min(v):5.2f} median {sorted(v)[len(v) // 2]:5.2f} {v}; "
              f"wall min {min(walls[name]):5.2f} {walls[name]}")


def _phase5(F: Any) -> tuple[Any, Any]:
    """The phase-5 path's two differences, as replacements for `textured_boxes` and `Scaler.array`."""
    def whole(*_a: Any, **_k: Any) -> None:
        return None

    def shared(_self: Any, frame: Any, width: int, height: int, format: str,
               interpolation: Any = None) -> Any:
        return frame.to_ndarray(width=width, height=height, format=format, interpolation=interpolation)

    return whole, shared


def variants(clip: Path, workers: int, reps: int) -> None:
    from dataclasses import replace

    import pipeline.render.faces as F

    base = F.SamplingOptions(workers=workers)
    real = (F.textured_boxes, F.Scaler.array)
    runs: dict[str, tuple[tuple[Any, Any], Any]] = {
        "this code": (real, base),
        "phase-5 path": (_phase5(F), base),
        "change level 16 (phases 3-7)": (real, replace(base, change_level=16)),
        "trade: whole-frame refresh every 8 s": (real, replace(base, max_carry=8.0)),
        "trade: fine pass every 4 s": (real, replace(base, fine_every=4.0)),
        "trade: fast pass 400 px (small faces < 64 px)": (real, replace(base, fast_width=400,
                                                                         small_face=64 / 720)),
        "trade: all three": (real, replace(base, max_carry=8.0, fine_every=4.0, fast_width=400,
                                           small_face=64 / 720)),
    }
    with av_open(clip) as c:
        end = float(c.duration or 0) / 1e6
        size = c.streams.video[0].width, c.streams.video[0].height
    F.default_detector()
    got: dict[str, list[tuple[float, float, int]]] = collections.defaultdict(list)
    load = _load()
    for _ in range(reps):
        for name, ((textured, array), options) in runs.items():
            F.textured_boxes, F.Scaler.array = textured, array
            t, w = time.process_time(), time.perf_counter()
            samples = F.detect_faces(str(clip), 0.0, end, options=options)
            regions = F.blur_regions(samples, 0.0, end, *size, small_face=options.small_face)
            got[name].append((round(time.process_time() - t, 2), round(time.perf_counter() - w, 2),
                              sum(r.full_frame for r in regions)))
    F.textured_boxes, F.Scaler.array = real
    print(f"load before {load}, after {_load()}; {clip.name}, {end:.0f} s, workers {workers}, {reps} rounds")
    for name, v in got.items():
        cpu = sorted(x[0] for x in v)
        print(f"  {name:48s} CPU-s min {cpu[0]:5.2f} median {cpu[len(cpu) // 2]:5.2f} {[x[0] for x in v]}; "
              f"wall {[x[1] for x in v]}; whole-frame windows {[x[2] for x in v]}")


def _pyav_decode(clip: Path, skip: str) -> tuple[float, int]:
    """CPU-s and frames for decoding the whole clip on one thread, `skip` as PyAV's skip_frame."""
    import av

    t, n = time.process_time(), 0
    with av.open(str(clip)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "NONE"
        stream.codec_context.skip_frame = skip
        for _ in c.decode(stream):
            n += 1
    return time.process_time() - t, n


def _cli_decode(clip: Path, threads: str) -> float:
    from pipeline.render.run import ffmpeg_exe

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-threads", threads, "-i", str(clip),  # noqa: S603
                    "-an", "-f", "null", "-"], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _piped_decode(clip: Path) -> tuple[float, float]:
    """One decode shared through a pipe: PyAV decodes every frame and writes it raw (yuv420p) to
    an ffmpeg reading it as its input. CPU-s of this process's decoding and writing, and of ffmpeg."""
    import av

    from pipeline.render.run import ffmpeg_exe

    before, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time()
    with av.open(str(clip)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "NONE"
        size = f"{stream.codec_context.width}x{stream.codec_context.height}"
        reader = subprocess.Popen([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "rawvideo",  # noqa: S603
                                   "-pix_fmt", "yuv420p", "-s", size, "-i", "-", "-f", "null", "-"],
                                  stdin=subprocess.PIPE)
        assert reader.stdin is not None
        for frame in c.decode(stream):
            reader.stdin.write(frame.to_ndarray(format="yuv420p").data)
    reader.stdin.close()
    reader.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() - t, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _pruned_session(detector: Any) -> Any:
    """The detector's graph without its landmark head (output 540, never read), one thread."""
    import onnx
    import onnxruntime as ort

    model = onnx.ModelProto()
    model.ParseFromString(detector._session._model_bytes)  # onnxruntime keeps the bytes it loaded
    keep = [o for o in model.graph.output if o.name != "540"]
    del model.graph.output[:]
    model.graph.output.extend(keep)
    nodes = [n for n in model.graph.node if "540" not in n.output]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    opts = ort.SessionOptions()
    opts.log_severity_level, opts.intra_op_num_threads = 3, 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def floor(clip: Path, reps: int) -> None:
    import numpy as np

    import pipeline.render.faces as F

    load = _load()
    got: dict[str, list[float]] = collections.defaultdict(list)
    frames: dict[str, int] = {}
    for _ in range(reps):
        for skip in ("NONREF", "DEFAULT"):
            cpu, frames[skip] = _pyav_decode(clip, skip)
            got[f"PyAV decode, skip_frame {skip}"].append(cpu)
        got["ffmpeg decode to null, -threads 1"].append(_cli_decode(clip, "1"))
        got["ffmpeg decode to null, -threads 0 (the render's)"].append(_cli_decode(clip, "0"))
        mine, reader = _piped_decode(clip)
        got["shared through a pipe: PyAV decode + write"].append(mine)
        got["shared through a pipe: ffmpeg reading raw frames"].append(reader)
        got["shared through a pipe: both"].append(mine + reader)
    print(f"load before {load}, after {_load()}; decoding {clip.name} "
          f"(NONREF: {frames['NONREF']} frames, DEFAULT: {frames['DEFAULT']}), CPU-s per run:")
    for name, v in got.items():
        print(f"  {name:52s} min {min(v):5.2f} {[round(x, 2) for x in v]}")

    detector = F.default_detector()
    full, pruned = detector._session, _pruned_session(detector)
    rng = np.random.default_rng(0)
    load, got = _load(), collections.defaultdict(list)
    for h, w, n in ((544, 960, 6), (288, 480, 24)):
        blob = (rng.random((8, 3, h, w), dtype=np.float32) * 255).astype(np.float32)
        same = all(np.array_equal(a, b) for a, b in zip(full.run(None, {"input.1": blob[:1]})[:3],
                                                        pruned.run(None, {"input.1": blob[:1]}), strict=True))
        print(f"  {w}x{h}: pruned outputs equal to the full graph's: {same}")
        for _ in range(reps):
            for name, session in ((f"{w}x{h} full graph", full), (f"{w}x{h} landmark head pruned", pruned)):
                t = time.process_time()
                for i in range(n):
                    session.run(None, {"input.1": blob[i % 8:i % 8 + 1]})
                got[name].append((time.process_time() - t) / n * 1000)
            t = time.process_time()
            for i in range(8):
                full.run(None, {"input.1": blob[i:i + 1]})
            got[f"{w}x{h} 8 single runs"].append((time.process_time() - t) * 1000)
            t = time.process_time()
            full.run(None, {"input.1": blob})
            got[f"{w}x{h} one batch of 8"].append((time.process_time() - t) * 1000)
    print(f"load before {load}, after {_load()}; onnxruntime, one thread, ms of CPU "
          f"(per inference; batch rows: for all 8 frames):")
    for name, v in got.items():
        print(f"  {name:52s} min {min(v):7.2f} {[round(x, 1) for x in v]}")


def av_open(path: Path) -> Any:
    import av

    return av.open(str(path))


def main() -> None:
    from faces import make_clip

    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("detection", "graph", "variants", "floor"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/faces_bench"))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--encode", action="store_true", help="graph: time the whole render, not -f null")
    ap.add_argument("--clip", type=Path, help="variants: another 1280x720 clip than the 60 s one")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    clip = make_clip(args.work / "faces_60s_720p.mp4")
    if args.mode == "detection":
        detection(clip, args.workers)
    elif args.mode == "variants":
        variants(args.clip or clip, args.workers, args.reps)
    elif args.mode == "floor":
        floor(clip, args.reps)
    else:
        graph(args.work, args.reps, args.encode)


if __name__ == "__main__":
    main()
