"""Helpers shared by the render tests: small real sources, signed authorisations, frame grabs, OCR."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from pipeline.atomic import file_sha256
from pipeline.authorisation import ExportAuthorisation, sign_authorisation
from pipeline.publication import (
    ConsentSnapshot,
    PublicationPlan,
    RegistrySnapshot,
    Target,
    VersionData,
    build_plan,
    plan_hash,
)
from pipeline.records import Word
from pipeline.render.cards import CardText
from pipeline.render.profiles import RenderOptions
from pipeline.render.render_export import ExportResult, render_export, stem_of
from pipeline.render.subs import SubtitleTrack

KEY = b"render-test-key-0123456789abcdef"
HASH = "ab" * 32
TALKING_HEAD = "vid_en_talkinghead_3.mp4"  # 590x590, 25 fps, 5.0 s, AAC 44.1 kHz stereo
FAST = RenderOptions(preset="ultrafast", crf=28)  # tests check content, not compression


@dataclass(frozen=True, slots=True)
class Req:
    """What a render test varies; `plan_of` turns it into the PublicationPlan the renderer takes.
    `redact_terms` become the interviewee's real names (replaced by `pseudonym`)."""

    source: str
    out_dir: str
    source_sha256: str
    start: float = 0.5
    end: float = 3.5
    profile: str = "master"
    language: str = ""
    platform: str = "any"
    subtitles: tuple[SubtitleTrack, ...] = ()
    words: tuple[Word, ...] = ()
    redact_terms: tuple[str, ...] = ()
    pseudonym: str = "Witness K"
    extra_bleeps: tuple[tuple[float, float], ...] = ()
    blur_faces: bool = False
    alter_voice: bool = False
    title_card: CardText | None = None
    end_card: CardText | None = None
    options: RenderOptions = FAST
    candidate_id: int = 1
    version: int = 1
    fps: float = 25.0

    @property
    def stem(self) -> str:
        return stem_of(plan_of(self))


def plan_of(req: Req) -> PublicationPlan:
    version = VersionData(req.candidate_id, req.version, req.source_sha256, req.fps, req.start, req.end,
                          req.subtitles, req.words, extra_bleeps=req.extra_bleeps, options=req.options,
                          title_card=req.title_card, end_card=req.end_card)
    consent = ConsentSnapshot(face=not req.blur_faces, voice=not req.alter_voice,
                              languages=("*",), platforms=("*",))
    person = RegistrySnapshot(7, req.pseudonym, req.redact_terms, (), consent)
    return build_plan(version, person, Target(req.profile, req.language, req.platform), key=KEY)


def authorisation(candidate_id: int = 1, version: int = 1, version_hash: str = HASH,
                  key: bytes = KEY, plan: PublicationPlan | None = None, **scope: Any) -> ExportAuthorisation:
    """Signed for `plan` (when given); by default any profile, platform and language, face and
    voice allowed (tests of what a render contains choose protection on the request)."""
    scope = {"shows_face": True, "uses_real_voice": True, **scope}
    if plan is not None:
        scope = {"plan_hash": plan_hash(plan), **scope}
        candidate_id, version = plan.candidate_id, plan.version
    auth = ExportAuthorisation(candidate_id, version, version_hash, ("rita", "sam"),
                               "2026-11-23T08:00:00+00:00", **scope)
    return sign_authorisation(auth, key)


PROVENANCE = {
    "approvals": ({"reviewer": "rita", "version": 1}, {"reviewer": "sam", "version": 1}),
    "audit": ({"who": "rita", "action": "approve", "at": "2026-11-23T07:59:00+00:00"},),
    "transcript": {"backend": "faster-whisper", "model": "base", "version": 1},
}


def export(req: Req, progress: Any = None, **scope: Any) -> ExportResult:
    """Plan `req`, sign that plan, and render it."""
    plan = plan_of(req)
    return render_export(plan, authorisation(plan=plan, **scope), KEY, req.source, req.out_dir, progress,
                         provenance=PROVENANCE)


def request(source: Path, out_dir: Path, **changes: Any) -> Req:
    base = Req(source=str(source), out_dir=str(out_dir), source_sha256=file_sha256(source))
    return replace(base, **changes)


def ffmpeg() -> str:
    from pipeline.render.run import ffmpeg_exe

    return ffmpeg_exe()


def make_wide_source(talking_head: Path, out: Path) -> Path:
    """A 640x360 16:9 copy of the talking head (speaker left of centre), 5 s, with its audio."""
    if not out.exists():
        subprocess.run(  # noqa: S603
            [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(talking_head),
             "-vf", "scale=-2:360,pad=640:360:60:0:color=0x203040", "-c:v", "libx264",
             "-preset", "ultrafast", "-c:a", "aac", str(out)],
            check=True,
        )
    return out


def frames_at(path: Path, times: list[float]) -> list[Any]:
    """RGB numpy frames shown at (or just after) each time in seconds."""
    import av

    wanted = sorted(times)
    out: list[Any] = []
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            while wanted and frame.time is not None and frame.time + 1e-3 >= wanted[0]:
                out.append(frame.to_ndarray(format="rgb24"))
                wanted.pop(0)
            if not wanted:
                break
    return out


def ocr(rgb: Any, lang: str = "eng", bottom: float = 0.3) -> str:
    """Tesseract's reading of the subtitle band (the lower `bottom` share of a frame).

    Subtitles are pure white with a black outline: keeping only near-white, unsaturated pixels
    as black on white removes the picture behind them.
    """
    import io

    import numpy as np
    from PIL import Image

    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed")
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True)  # noqa: S603, S607
    if lang not in langs.stdout.split():
        pytest.skip(f"tesseract has no {lang!r} model (Debian: tesseract-ocr-{lang})")
    h = rgb.shape[0]
    crop = rgb[int(h * (1 - bottom)):, :, :].astype(np.int16)
    white = (crop.min(axis=2) >= 200) & ((crop.max(axis=2) - crop.min(axis=2)) < 40)
    binary = np.where(white, 0, 255).astype(np.uint8)
    img = Image.fromarray(binary)
    png = io.BytesIO()
    img.resize((img.width * 3, img.height * 3), Image.BICUBIC).save(png, format="PNG")
    done = subprocess.run(["tesseract", "stdin", "stdout", "-l", lang, "--psm", "6"],  # noqa: S603, S607
                          input=png.getvalue(), capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace")
