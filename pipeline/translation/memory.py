"""Translation memory: every approved cue pair, with exact and fuzzy look-up.

Records are plain (`MemoryEntry`), keyed by `entry.key`, so a repository can save them as rows
and load them back with `TranslationMemory(entries)`. Matching compares normalised source text
(Unicode NFC, case folded, whitespace collapsed): 100 means the same sentence; lower scores are
rapidfuzz's normalised edit similarity in percent.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.translation.limits import base_language
from pipeline.translation.track import SourceTrack, TranslationTrack, clean_lines


@dataclass(frozen=True, slots=True)
class MemoryEntry:
    """One approved pair. Languages are BCP 47 tags as given; texts are single-line (cue lines
    joined by a space). created_by: who approved it; created_at: ISO 8601 UTC or ""; origin:
    where it came from (a clip/version id, "tmx:FILE", ...)."""

    source_language: str
    source_text: str
    target_language: str
    target_text: str
    created_by: str = ""
    created_at: str = ""
    origin: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity in the memory: the same pair approved twice is stored once."""
        return (
            base_language(self.source_language),
            normalise(self.source_text),
            base_language(self.target_language),
            normalise(self.target_text),
        )


@dataclass(frozen=True, slots=True)
class MemoryMatch:
    """A memory entry offered for a new source text, with its match percentage (0-100)."""

    entry: MemoryEntry
    score: float

    @property
    def exact(self) -> bool:
        return self.score >= 100.0


def normalise(text: str) -> str:
    """The form texts are compared in: NFC, case folded, one space between words."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


class TranslationMemory:
    """In-memory store of approved pairs; the database repository fills and drains it."""

    def __init__(self, entries: Iterable[MemoryEntry] = ()) -> None:
        self._entries: dict[tuple[str, str, str, str], MemoryEntry] = {}
        # (source base, target base) -> normalised source text -> keys
        self._by_pair: dict[tuple[str, str], dict[str, list[tuple[str, str, str, str]]]] = {}
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> tuple[MemoryEntry, ...]:
        """All entries in the order they were added (for saving and TMX export)."""
        return tuple(self._entries.values())

    def add(self, entry: MemoryEntry) -> bool:
        """Keep `entry`; False when the same pair is already there (the first one stays)."""
        source_text = " ".join(entry.source_text.split())
        target_text = " ".join(entry.target_text.split())
        if not source_text or not target_text:
            return False
        key = entry.key
        if key in self._entries:
            return False
        self._entries[key] = entry
        self._by_pair.setdefault((key[0], key[2]), {}).setdefault(key[1], []).append(key)
        return True

    def lookup(
        self,
        source_language: str,
        text: str,
        target_language: str,
        *,
        limit: int = 5,
        min_score: float = 70.0,
    ) -> tuple[MemoryMatch, ...]:
        """Best matches for `text`, highest score first (exact matches score 100)."""
        from rapidfuzz import fuzz, process

        pair = self._by_pair.get((base_language(source_language), base_language(target_language)), {})
        query = normalise(text)
        if not query or not pair:
            return ()
        found = process.extract(query, list(pair), scorer=fuzz.ratio, limit=limit, score_cutoff=min_score)
        out: list[MemoryMatch] = []
        for choice, score, _ in found:
            for key in pair[choice]:
                out.append(
                    MemoryMatch(self._entries[key], 100.0 if choice == query else round(float(score), 1))
                )
        out.sort(key=lambda m: -m.score)
        return tuple(out[:limit])

    def exact(self, source_language: str, text: str, target_language: str) -> MemoryMatch | None:
        """The earliest stored translation of exactly this sentence, or None."""
        pair = self._by_pair.get((base_language(source_language), base_language(target_language)), {})
        keys = pair.get(normalise(text))
        return MemoryMatch(self._entries[keys[0]], 100.0) if keys else None


def approved_pairs(
    source: SourceTrack,
    track: TranslationTrack,
    *,
    created_by: str = "",
    created_at: str = "",
    origin: str = "",
) -> tuple[MemoryEntry, ...]:
    """Memory entries for every cue pair of a checked track (nothing from unchecked tracks)."""
    if track.status != "checked":
        return ()
    by_id = {c.id: c for c in source.cues}
    out = []
    for cue in track.cues:
        s = by_id.get(cue.source_id)
        if s is None or cue.is_empty or cue.needs_look or cue.machine_made:
            continue
        src = " ".join(clean_lines(s.lines))
        if src:
            out.append(
                MemoryEntry(
                    source.language,
                    src,
                    track.language,
                    " ".join(clean_lines(cue.lines)),
                    created_by or track.checker,
                    created_at,
                    origin,
                )
            )
    return tuple(out)
