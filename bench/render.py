"""Render benchmark (issue 6): one run, ratios recorded in bench/RESULTS.md.

1. A 60 s 720p clip (a real talking head from ../shared/media, scaled and looped) rendered through
   `render_export` with burned subtitles and loudness normalisation (analysis pass included), vs
   a bare ffmpeg encode of the same segment with the same codec settings (target <= 1.2x).
2. The same subtitles composited with moviepy TextClips and encoded with the same settings
   (target: ours >= 5x faster).
3. Peak memory of a 1080p export (master with subtitles and loudness; vertical with face blur):
   the ffmpeg children's max RSS (getrusage RUSAGE_CHILDREN in a fresh process) and the Python
   process's own (target < 600 MB).

Usage: .venv/bin/python bench/render.py [--skip-moviepy] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.authorisation import ExportAuthorisation, sign_authorisation  # noqa: E402
from pipeline.records import Cue  # noqa: E402
from pipeline.render.export import RenderRequest, render_export  # noqa: E402
from pipeline.render.profiles import RenderOptions  # noqa: E402
from pipeline.render.run import ffmpeg_exe, run_ffmpeg  # noqa: E402
from pipeline.render.subs import FONTS_DIR, SubtitleTrack  # noqa: E402

SHARED = REPO.parent / "shared" / "media"
TALKING_HEAD = SHARED / "vid_en_talkinghead_3.mp4"
RESULTS = REPO / "bench" / "RESULTS.md"
SECTION = "## Render (issue 6, `bench/render.py`)"
KEY = b"bench-key"
HASH = "be" * 32
DURATION = 60.0
OPTIONS = RenderOptions()  # production settings: x264 medium CRF 20, AAC 160k


def make_source(out: Path, width: int, height: int, seconds: float) -> Path:
    """The talking head scaled into a width x height frame and looped to `seconds`."""
    if out.exists():
        return out
    run_ffmpeg([
        ffmpeg_exe(), "-hide_banner", "-y", "-stream_loop", "-1", "-i", str(TALKING_HEAD), "-t", f"{seconds}",
        "-vf", f"scale=-2:{height},pad={width}:{height}:(ow-iw)/2:0:color=0x203040,fps=25",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-c:a", "aac", "-b:a", "192k", str(out),
    ])
    return out


def cues(seconds: float) -> tuple[Cue, ...]:
    texts = ["When I left the group I lost every friend", "I had, but I found my own voice again",
             "They promised us honour and gave us", "nothing but fear and the deaths of others"]
    out, t, i = [], 0.5, 0
    while t + 2.3 < seconds:
        out.append(Cue(round(t, 2), round(t + 2.3, 2), (texts[i % 4], texts[(i + 1) % 4])))
        t += 2.5
        i += 1
    return tuple(out)


def auth() -> ExportAuthorisation:
    return sign_authorisation(ExportAuthorisation(1, 1, HASH, ("bench",), "2026-01-01T00:00:00+00:00"), KEY)


def request(src: Path, out: Path, profile: str = "master", blur: bool = False, seconds: float = DURATION,
            options: RenderOptions = OPTIONS) -> RenderRequest:
    return RenderRequest(
        candidate_id=1, version=1, version_hash=HASH, source=str(src), source_sha256="", start=0.0,
        end=seconds, out_dir=str(out), profile=profile, language="en",
        subtitles=(SubtitleTrack("en", cues(seconds)),), blur_faces=blur, alter_voice=False,
        options=options,
    )


def bare_encode(src: Path, out: Path, seconds: float = DURATION) -> float:
    o = OPTIONS
    argv = [ffmpeg_exe(), "-hide_banner", "-y", "-ss", "0.000", "-t", f"{seconds:.3f}", "-i", str(src),
            "-vcodec", o.video_codec, "-preset", o.preset, "-crf", str(o.crf), "-pix_fmt", o.pix_fmt,
            "-profile:v", "high", "-g", "50", "-acodec", o.audio_codec, "-b:a", o.audio_bitrate,
            "-ar", str(o.sample_rate), "-ac", "2", "-movflags", "+faststart", "-f", "mp4", str(out)]
    t = time.perf_counter()
    run_ffmpeg(argv)
    return time.perf_counter() - t


def moviepy_encode(src: Path, out: Path, seconds: float = DURATION) -> float:
    from moviepy import CompositeVideoClip, TextClip, VideoFileClip

    o = OPTIONS
    t = time.perf_counter()
    video = VideoFileClip(str(src)).subclipped(0, seconds)
    size = round(video.h * 0.055)
    clips = [video]
    for c in cues(seconds):
        clips.append(
            TextClip(font=str(FONTS_DIR / "NotoSans-Bold.ttf"), text="\n".join(c.lines), font_size=size,
                     color="white", stroke_color="black", stroke_width=max(1, round(video.h * 0.004)),
                     method="label", text_align="center", margin=(0, size // 2))
            .with_start(c.start).with_duration(c.end - c.start)
            .with_position(("center", video.h - round(video.h * 0.06) - size * 3))
        )
    comp = CompositeVideoClip(clips, size=video.size)
    comp.write_videofile(
        str(out), codec=o.video_codec, audio_codec=o.audio_codec, audio_bitrate=o.audio_bitrate,
        preset=o.preset, fps=25, ffmpeg_params=["-crf", str(o.crf), "-pix_fmt", o.pix_fmt,
                                                "-movflags", "+faststart"],
        logger=None,
    )
    comp.close()
    video.close()
    return time.perf_counter() - t


MEMORY_SCRIPT = """
import json, resource, sys
sys.path.insert(0, sys.argv[4])
from pathlib import Path
from bench.render import auth, request, KEY
req = request(Path(sys.argv[1]), Path(sys.argv[2]), profile=sys.argv[3], blur=sys.argv[3] == "vertical",
              seconds=float(sys.argv[5]))
from pipeline.render.export import render_export
render_export(req, auth(), KEY)
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"ffmpeg_max_rss_mb": round(kids, 1), "python_max_rss_mb": round(me, 1)}))
"""


def peak_memory(src: Path, out: Path, profile: str, seconds: float) -> dict[str, float]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", MEMORY_SCRIPT, str(src), str(out), profile, str(REPO), str(seconds)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_results(text: str) -> None:
    body = RESULTS.read_text()
    pattern = re.compile(re.escape(SECTION) + r"\n.*?(?=\n## |\Z)", re.S)
    new = f"{SECTION}\n\n{text.strip()}\n"
    body = pattern.sub(lambda _m: new, body) if pattern.search(body) else body.rstrip() + "\n\n" + new
    RESULTS.write_text(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not TALKING_HEAD.exists():
        print(f"skipped: {TALKING_HEAD} is missing")
        return 0
    with tempfile.TemporaryDirectory(prefix="counterclips-bench-") as tmp:
        work = Path(tmp)
        src720 = make_source(work / "src720.mp4", 1280, 720, DURATION)
        src1080 = make_source(work / "src1080.mp4", 1920, 1080, 30.0)

        bare = bare_encode(src720, work / "bare.mp4")
        t = time.perf_counter()
        result = render_export(request(src720, work / "ours"), auth(), KEY)
        ours = time.perf_counter() - t
        assert (result.width, result.height) == (1280, 720)
        mp = None if args.skip_moviepy else moviepy_encode(src720, work / "moviepy.mp4")
        mem_master = peak_memory(src1080, work / "mem-master", "master", 30.0)
        mem_vertical = peak_memory(src1080, work / "mem-vertical", "vertical", 30.0)

    ratio = ours / bare
    lines = [
        "60 s of 720p (a real talking head scaled and looped), x264 `medium` CRF 20 + AAC 160k, same",
        "settings for every contender; 2 shared CPU cores (other work was running: compare ratios).",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| bare ffmpeg encode of the segment | {bare:.1f} s | |",
        f"| `render_export`: burned subtitles + EBU R128 loudness (analysis pass, probe, sha256 included) "
        f"| {ours:.1f} s = **{ratio:.2f}x** bare | <= 1.2x |",
    ]
    if mp is not None:
        lines.append(f"| moviepy `TextClip` compositing of the same subtitles | {mp:.1f} s: ours is "
                     f"**{mp / ours:.1f}x faster** | >= 5x |")
    else:
        lines.append("| moviepy `TextClip` compositing | not run (--skip-moviepy) | >= 5x |")
    lines += [
        f"| peak memory, 1080p source, master export (30 s) | ffmpeg "
        f"{mem_master['ffmpeg_max_rss_mb']:.0f} MB, python {mem_master['python_max_rss_mb']:.0f} MB "
        "| < 600 MB |",
        f"| peak memory, 1080p source, vertical 1080x1920 with face blur (30 s) | ffmpeg "
        f"{mem_vertical['ffmpeg_max_rss_mb']:.0f} MB, python {mem_vertical['python_max_rss_mb']:.0f} MB "
        "| < 600 MB |",
        "",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Memory is the max RSS of the largest "
        "ffmpeg child (getrusage RUSAGE_CHILDREN in a fresh process) and of the Python process itself.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_results(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
