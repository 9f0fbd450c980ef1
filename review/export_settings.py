"""What a person asks of one export (profile, platform, language...), as the CLI, the review
app and the nightly run pass it to `flows.services.exporting.export_candidate`.

It lives in `review` (not `flows`) so the review app, which may not import `flows`, can build one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.render.profiles import PROFILES

PROFILE_NAMES = tuple(PROFILES)
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                "veryslow")

Progress = Callable[[float], None]
"""Called with the fraction done (0..1) while rendering."""


@dataclass(frozen=True, slots=True)
class ExportSettings:
    """What the caller asks of one export; every default is the CLI's.

    profile: one of PROFILE_NAMES. language: burned subtitles (None: the interview's language).
    platform: where the clip will be published (the consent must cover it).
    out_dir: None writes under the workspace's exports/. preset: x264 preset (None: the profile's).
    actor: who asked (recorded with the export).
    """

    profile: str = "master"
    language: str | None = None
    platform: str = "any"
    out_dir: Path | None = None
    preset: str | None = None
    actor: str = "cli"
