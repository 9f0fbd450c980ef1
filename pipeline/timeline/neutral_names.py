"""Neutral names: reel names, frame rates, and the check that no protected name leaves."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pipeline.errors import ProtectedNameError, TimelineError

# Reel names CMX 3600 readers treat as special sources (black, bars, auxiliary).
SPECIAL_REELS = frozenset({"AX", "BL", "BLACK", "BARS"})

# Rates editing suites know; NTSC rates are exact fractions (29.97 is 30000/1001).
STANDARD_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 48.0, 50.0, 60000 / 1001, 60.0)


def exact_rate(fps: float) -> float:
    """The timeline rate for a probed rate: the nearest standard rate, exact (29.97 → 30000/1001).

    Editing suites conform variable-rate media to a standard rate, and FCP 7 and EDL timecode
    exist only for those; a phone video probed at an average 22.13 fps is cut on the 23.976 grid.
    """
    if not fps or fps <= 0 or fps != fps or fps == float("inf"):
        raise TimelineError(f"invalid frame rate {fps!r}")
    return min(STANDARD_RATES, key=lambda rate: abs(rate - fps))


def rate_label(fps: float) -> str:
    """FCPX's spelling of a rate in format names: 25 → "25", 29.97 → "2997", 23.976 → "2398"."""
    rate = exact_rate(fps)
    if rate == round(rate):
        return str(int(rate))
    return f"{round(rate * 100):d}"


def reel_names(clip_ids: Iterable[str], sha256s: Iterable[str]) -> tuple[str, ...]:
    """One distinct reel name (≤ 8 characters, A–Z 0–9, never a special source) per clip.

    The clip's neutral id is used when it fits; otherwise `R<index><sha prefix>`.
    """
    names: list[str] = []
    for index, (clip_id, sha) in enumerate(zip(clip_ids, sha256s, strict=True), 1):
        name = re.sub(r"[^A-Z0-9]", "", clip_id.upper())
        if not name or len(name) > 8 or name in SPECIAL_REELS or name in names:
            prefix = f"R{index:02d}"
            name = prefix + re.sub(r"[^A-Z0-9]", "", sha.upper())[: 8 - len(prefix)]
        spare = index
        while name in names:  # a clip id that happens to look like a fallback name
            spare += 1
            name = f"R{spare:07d}"
        names.append(name)
    return tuple(names)


def fold(text: str) -> str:
    """Text as name matching sees it: NFKC, case-folded, accents and format characters removed."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
    return re.sub(r"[\s_\-.]+", " ", kept)


def check_no_protected(texts: Iterable[str], protected_terms: Iterable[str], where: str) -> None:
    """Raise ProtectedNameError when a protected term (in any Unicode variant) occurs in `texts`.

    Underscores, dots and hyphens count as spaces so "Yusuf_Darwish.mp4" is caught too; a term
    matches as whole words, so a short name ("Ali") does not refuse the word "available".
    """
    terms = [fold(t).strip() for t in protected_terms if t and t.strip()]
    patterns = [re.compile(rf"(?<!\w){re.escape(term)}(?!\w)") for term in terms if term]
    for text in texts:
        folded = fold(text)
        if any(p.search(folded) for p in patterns):
            raise ProtectedNameError(f"{where} would carry a protected name")
