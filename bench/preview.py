"""Preview benchmark (issue 13): how long a reviewer waits for the preview of a 60 s clip.

One run, in this order: a bare ffmpeg encode of the same 60 s segment at the export's settings
(x264 veryfast CRF 20, the source's 720p frame), a bare encode at the preview's settings (360p,
ultrafast, CRF 30), then `render_preview` of a publication plan with what an interviewee without
consent gets: burned subtitles with a redacted name, bleeps, face blur (detection included),
voice alteration and two-pass loudness. Target: preview <= 30 s wall on 2 cores.

Usage: .venv/bin/python bench/preview.py [--no-write]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.render import TALKING_HEAD, cpu_seconds, cues, make_source  # noqa: E402
from bench.results import publish  # noqa: E402
from pipeline.atomic import file_sha256  # noqa: E402
from pipeline.publication import (  # noqa: E402
    ConsentSnapshot,
    RegistrySnapshot,
    Target,
    VersionData,
    build_plan,
)
from pipeline.records import Cue, Word  # noqa: E402
from pipeline.render.profiles import RenderOptions  # noqa: E402
from pipeline.render.render_export import PreviewOptions, render_preview  # noqa: E402
from pipeline.render.run import ffmpeg_exe, run_ffmpeg  # noqa: E402
from pipeline.render.subs import SubtitleTrack  # noqa: E402
from pipeline.terms import IdentifyingWord  # noqa: E402

SECTION = "## Preview of a publication plan (issue 13, `bench/preview.py`)"
DURATION = 60.0


def bare(src: Path, out: Path, preset: str, crf: int, height: int | None) -> tuple[float, float]:
    scale = ["-vf", f"scale=-2:{height}"] if height else []
    argv = [ffmpeg_exe(), "-hide_banner", "-y", "-t", f"{DURATION:.3f}", "-i", str(src), *scale,
            "-vcodec", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-acodec", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart", str(out)]
    t, c = time.perf_counter(), cpu_seconds()
    run_ffmpeg(argv)
    return time.perf_counter() - t, cpu_seconds() - c


def plan_for(src: Path):  # noqa: ANN201 - a PublicationPlan
    base = cues(DURATION)
    # Every fourth cue names the cousin; the words say it at the cue's start.
    texts = tuple(Cue(c.start, c.end, ("My cousin Yusuf Darwish paid", c.lines[1])) if i % 4 == 0 else c
                  for i, c in enumerate(base))
    words = tuple(w for i, c in enumerate(base) if i % 4 == 0
                  for w in (Word(c.start + 0.4, c.start + 0.8, "Yusuf", 0.9),
                            Word(c.start + 0.8, c.start + 1.3, "Darwish", 0.9)))
    version = VersionData(1, 1, file_sha256(src), 25.0, 0.0, DURATION, (SubtitleTrack("en", texts),), words,
                          options=RenderOptions())
    person = RegistrySnapshot(1, "Witness K", ("Karim Haddad",),
                              (IdentifyingWord.parse("Yusuf Darwish=his cousin"),),
                              ConsentSnapshot(languages=("en",), platforms=("*",)))
    return build_plan(version, person, Target("master", "en"), key=b"bench")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not TALKING_HEAD.exists():
        print(f"skipped: {TALKING_HEAD} is missing")
        return 0
    with tempfile.TemporaryDirectory(prefix="counterclips-bench-") as tmp:
        work = Path(tmp)
        src = make_source(work / "src.mp4", 1280, 720, DURATION)
        bare_export = bare(src, work / "bare-export.mp4", "veryfast", 20, None)
        bare_preview = bare(src, work / "bare-preview.mp4", "ultrafast", 30, 360)
        plan = plan_for(src)
        from pipeline.render import faces

        detect = faces.detect_faces
        spent = {"faces": 0.0}

        def timed_detect(*a: object, **k: object) -> object:
            c = cpu_seconds()
            try:
                return detect(*a, **k)  # type: ignore[arg-type]
            finally:
                spent["faces"] += cpu_seconds() - c

        faces.detect_faces = timed_detect  # type: ignore[assignment]
        t, c = time.perf_counter(), cpu_seconds()
        result = render_preview(plan, src, work / "preview.mp4", options=PreviewOptions())
        preview = (time.perf_counter() - t, cpu_seconds() - c)
        # Issue 19: the same preview with the review proxy's pictures (the nightly run makes the
        # proxy anyway; its encode is not counted here). Faces are found on the source again.
        from pipeline.render.proxy_encode import make_proxy

        proxy = make_proxy(src, work / "proxy.mp4").path
        spent["faces_proxy_run"], before = 0.0, spent["faces"]
        t, c = time.perf_counter(), cpu_seconds()
        render_preview(plan, src, work / "preview-proxy.mp4", options=PreviewOptions(), proxy=proxy)
        from_proxy = (time.perf_counter() - t, cpu_seconds() - c)
        spent["faces_proxy_run"] = spent["faces"] - before
        faces.detect_faces = detect
    load = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,  # noqa: S603, S607
                            text=True).stdout.strip()
    text = "\n".join([
        f"60 s of 720p talking head; the plan blurs the face, alters the voice, bleeps "
        f"{len(plan.bleeps)} spans and burns {len(plan.tracks[0].cues)} cues with a redacted name. "
        f"Preview {result.width}x{result.height}, x264 ultrafast CRF 30, loudness two-pass as in the export.",
        "",
        "| measure | wall time | CPU time | wall ratio to bare export encode | target |",
        "|---|---|---|---|---|",
        f"| bare encode, export settings (720p veryfast CRF 20) | {bare_export[0]:.1f} s | "
        f"{bare_export[1]:.1f} s | 1.00 | |",
        f"| bare encode, preview settings (360p ultrafast CRF 30) | {bare_preview[0]:.1f} s | "
        f"{bare_preview[1]:.1f} s | {bare_preview[0] / bare_export[0]:.2f} | |",
        f"| `render_preview` of the plan (faces, blur, voice, bleeps, loudness, subtitles) | "
        f"**{preview[0]:.1f} s** | {preview[1]:.1f} s | {preview[0] / bare_export[0]:.2f} | <= 30 s wall |",
        f"| of which face detection (CenterFace, sampled as the export samples, in this process) | | "
        f"{spent['faces']:.1f} s | | |",
        f"| preview wall time / clip duration (issue 19) | {preview[0] / 60.0:.2f}x | | | <= 0.3x |",
        f"| `render_preview` from the review proxy's pictures (issue 19) | **{from_proxy[0]:.1f} s** | "
        f"{from_proxy[1]:.1f} s | {from_proxy[0] / bare_export[0]:.2f} | |",
        f"| of which face detection (on the source, as above) | | {spent['faces_proxy_run']:.1f} s | | |",
        f"| preview from the proxy, wall time / clip duration | {from_proxy[0] / 60.0:.2f}x | | | <= 0.3x |",
        "",
        f"CPU time / 2 = {preview[1] / 2:.1f} s is what the preview would take on 2 idle cores if its "
        "work spread over both; face detection is most of it.",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {commit}, one run each, on 2 cores: "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) "
        "at the end.",
    ])
    publish(SECTION, text, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
