"""Fitted label heads on disk: the ones shipped inside the package (so no first use fits them)
and the ones `flagger learn` installs into a workspace. Each file is verified by SHA-256 and
used only when its fit key (taxonomy + exemplars + encoder + options) matches the current one.

Refit the shipped heads after changing the taxonomy or the packaged exemplars with
`python -m pipeline.themes.heads`; a test fails while they are stale.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.atomic import write_json_atomic
from pipeline.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

    from pipeline.themes.scoring import _Fitted

SHIPPED_NPZ = "data/heads.npz"
SHIPPED_META = "data/heads.json"
CURRENT = "current.json"


class HeadsError(ModelError):
    """A heads file does not match its recorded checksum."""


def workspace_heads_dir(workspace_root: Path) -> Path:
    """Where `flagger learn` installs heads in a workspace."""
    return Path(workspace_root) / "models" / "themes"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shipped_paths() -> tuple[Path, Path]:
    base = Path(str(resources.files("pipeline.themes")))
    return base / SHIPPED_NPZ, base / SHIPPED_META


def shipped_key() -> str | None:
    """The fit key the shipped heads were made for (None when none are shipped)."""
    _, meta = shipped_paths()
    try:
        return str(json.loads(meta.read_text(encoding="utf-8"))["key"])
    except (OSError, ValueError, KeyError):
        return None


def _load_checked(npz: Path, meta: dict) -> _Fitted:
    from pipeline.themes.scoring import load_fitted

    if _sha256(npz) != meta.get("sha256"):
        raise HeadsError(f"{npz}: checksum does not match {meta.get('sha256')}")
    return load_fitted(npz)


def load_shipped_heads(key: str) -> _Fitted | None:
    """The packaged heads when they were fitted for `key`; None otherwise (then they are fitted)."""
    npz, meta_path = shipped_paths()
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("key") != key or not npz.is_file():
        return None
    return _load_checked(npz, meta)


def write_shipped_heads(fitted: _Fitted, key: str) -> Path:
    """Write the package's heads and their metadata (a maintainer's step, see module doc)."""
    from pipeline.themes.scoring import save_fitted

    npz, meta = shipped_paths()
    save_fitted(npz, fitted)
    npz.chmod(0o644)  # a package file, readable by every user
    write_json_atomic(meta, {"key": key, "sha256": _sha256(npz), "version": fitted.version})
    return npz


def install_heads(fitted: _Fitted, directory: Path, base_key: str) -> Path:
    """Install learned heads into `directory` (a workspace's models/themes) and make them current."""
    from pipeline.themes.scoring import save_fitted

    directory.mkdir(parents=True, exist_ok=True)
    npz = directory / f"heads-{fitted.version}.npz"
    save_fitted(npz, fitted)
    if not npz.is_file():
        raise HeadsError(f"{directory}: cannot write the heads file")
    write_json_atomic(directory / CURRENT, {
        "key": base_key, "file": npz.name, "sha256": _sha256(npz), "version": fitted.version,
    })
    return npz


def installed_version(directory: Path) -> str | None:
    """Version of the heads installed in `directory`, or None."""
    try:
        return str(json.loads((directory / CURRENT).read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def load_installed_heads(directory: Path, key: str) -> _Fitted | None:
    """The heads installed in `directory` when they were learned on top of `key`; None when none
    are installed or the taxonomy/exemplars changed since (the learned heads no longer fit)."""
    try:
        meta = json.loads((directory / CURRENT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("key") != key:
        return None
    return _load_checked(directory / Path(str(meta.get("file", ""))).name, meta)


def shipped_thresholds() -> np.ndarray | None:
    """The calibrated thresholds of the heads in the package, whatever their key (None if none)."""
    from pipeline.themes.scoring import load_fitted

    npz, _ = shipped_paths()
    try:
        return load_fitted(npz).thresholds
    except (OSError, ValueError, KeyError):
        return None


def refit_shipped(anchored: bool = True, max_step: float | None = None) -> str:
    """Fit the heads for the packaged taxonomy and exemplars and ship them; returns the version.
    Anchored (the default), no threshold moves further than `FlagOptions.max_threshold_step` from
    the shipped heads' own; `--unanchored` is for a change of the calibration method itself.
    `max_step` (`--max-step X`) overrides that bound for this refit (0: the thresholds stay)."""
    from dataclasses import replace

    from pipeline.themes.multilingual import MultilingualEncoder
    from pipeline.themes.scoring import FlagOptions, fit_heads, fit_key, interview_exemplars
    from pipeline.themes.taxonomy import load_taxonomy

    options = FlagOptions()
    fit_options = options if max_step is None else replace(options, max_threshold_step=max_step)
    tax = load_taxonomy()
    encoder = MultilingualEncoder.load()
    anchor = shipped_thresholds() if anchored else None
    if anchor is not None and len(anchor) != len(tax.ids):
        anchor = None  # the taxonomy's labels changed: nothing to hold still
    fitted = fit_heads(tax, encoder, fit_options, interview_exemplars(tax), anchor_thresholds=anchor)
    write_shipped_heads(fitted, fit_key(tax, encoder.key, encoder.backend, options))
    return fitted.version


if __name__ == "__main__":
    import sys

    args = sys.argv[1:]
    step = float(args[args.index("--max-step") + 1]) if "--max-step" in args else None
    print(f"shipped heads {refit_shipped(anchored='--unanchored' not in args, max_step=step)}")
