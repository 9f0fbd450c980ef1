"""Translation tracks per candidate version and language, translation memory entries and the
languages each user reads (issue 17).

Takes an open `clips_metadata.store.Store` (its `transaction()`/`read()`); the tables are in
`clips_metadata/tables.py` (revision 0010). A track is stored whole as
`pipeline.translation.track.track_to_dict`, next to the source cue track
(`pipeline.cue_track_io.track_to_dict`) it was last reconciled against.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from clips_metadata.engine import Repository
from clips_metadata.rows import as_utc, utc_now
from clips_metadata.tables import TranslationMemoryRow, TranslationTrackRow, UserLanguageRow
from pipeline.translation.memory import MemoryEntry
from pipeline.translation.track import TranslationTrack, track_from_dict, track_to_dict


@dataclass(frozen=True, slots=True)
class StoredTrack:
    """A stored translation track: the version it belongs to, the source cue track (as a dict)
    it was reconciled against, who touched it last and when it was last exported."""

    candidate_id: int
    version: int
    track: TranslationTrack
    source: dict[str, Any]
    updated_by: str
    updated_at: datetime | None
    exported_at: datetime | None


def memory_key(entry: MemoryEntry) -> str:
    """The stored identity of a memory pair: sha256 of `MemoryEntry.key`."""
    return hashlib.sha256(json.dumps(entry.key, ensure_ascii=False).encode("utf-8")).hexdigest()


def _stored(row: TranslationTrackRow) -> StoredTrack:
    return StoredTrack(row.candidate_id, row.version, track_from_dict(dict(row.track)), dict(row.source),
                       row.updated_by, as_utc(row.updated_at), as_utc(row.exported_at))


class TranslationsRepo(Repository):
    """Translation tracks, memory and user languages over a Store."""

    # ---- tracks ----

    def track(self, candidate_id: int, version: int, language: str) -> StoredTrack | None:
        with self.db.read() as s:
            row = s.scalar(sa.select(TranslationTrackRow).where(
                TranslationTrackRow.candidate_id == candidate_id, TranslationTrackRow.version == version,
                TranslationTrackRow.language == language))
            return _stored(row) if row is not None else None

    def latest_tracks(self, candidate_id: int) -> dict[str, StoredTrack]:
        """Per language, the track of the newest version that has one."""
        with self.db.read() as s:
            rows = s.scalars(sa.select(TranslationTrackRow)
                             .where(TranslationTrackRow.candidate_id == candidate_id)
                             .order_by(TranslationTrackRow.version))
            return {r.language: _stored(r) for r in rows}

    def candidates_with_tracks(self) -> tuple[int, ...]:
        with self.db.read() as s:
            return tuple(s.scalars(sa.select(TranslationTrackRow.candidate_id).distinct()
                                   .order_by(TranslationTrackRow.candidate_id)))

    def save_track(self, candidate_id: int, version: int, track: TranslationTrack, source: dict[str, Any],
                   by: str) -> StoredTrack:
        """Insert or replace the (candidate, version, language) track."""
        with self.db.transaction() as s:
            row = s.scalar(sa.select(TranslationTrackRow).where(
                TranslationTrackRow.candidate_id == candidate_id, TranslationTrackRow.version == version,
                TranslationTrackRow.language == track.language))
            if row is None:
                row = TranslationTrackRow(candidate_id=candidate_id, version=version, language=track.language)
                s.add(row)
            row.status = track.status
            row.track = track_to_dict(track)
            row.source = source
            row.updated_by = by
            row.updated_at = utc_now()
            s.flush()
            return _stored(row)

    def mark_exported(self, candidate_id: int, version: int, language: str) -> None:
        with self.db.transaction() as s:
            s.execute(sa.update(TranslationTrackRow).where(
                TranslationTrackRow.candidate_id == candidate_id, TranslationTrackRow.version == version,
                TranslationTrackRow.language == language).values(exported_at=utc_now())
                .execution_options(synchronize_session=False))

    # ---- translation memory ----

    def memory_entries(self, source_language: str | None = None,
                       target_language: str | None = None) -> tuple[MemoryEntry, ...]:
        q = sa.select(TranslationMemoryRow).order_by(TranslationMemoryRow.id)
        if source_language:
            q = q.where(TranslationMemoryRow.source_language == source_language)
        if target_language:
            q = q.where(TranslationMemoryRow.target_language == target_language)
        with self.db.read() as s:
            return tuple(MemoryEntry(r.source_language, r.source_text, r.target_language, r.target_text,
                                     r.created_by, r.created_at, r.origin) for r in s.scalars(q))

    def add_memory(self, entries: Iterable[MemoryEntry]) -> int:
        """Store the pairs not stored yet (by `memory_key`); returns how many were new."""
        wanted = {memory_key(e): e for e in entries}
        if not wanted:
            return 0
        with self.db.transaction() as s:
            have = set(s.scalars(sa.select(TranslationMemoryRow.key)
                                 .where(TranslationMemoryRow.key.in_(list(wanted)))))
            new = [(k, e) for k, e in wanted.items() if k not in have]
            for k, e in new:
                s.add(TranslationMemoryRow(key=k, source_language=e.source_language,
                                           source_text=e.source_text,
                                           target_language=e.target_language, target_text=e.target_text,
                                           created_by=e.created_by, created_at=e.created_at or
                                           utc_now().isoformat(timespec="seconds"), origin=e.origin))
            return len(new)

    # ---- languages users read ----

    def set_languages(self, user: str, languages: Iterable[str]) -> tuple[str, ...]:
        langs = tuple(sorted({lang.strip() for lang in languages if lang.strip()}))
        with self.db.transaction() as s:
            s.execute(sa.delete(UserLanguageRow).where(UserLanguageRow.user_name == user))
            for lang in langs:
                s.add(UserLanguageRow(user_name=user, language=lang))
        return langs

    def languages_of(self, user: str) -> tuple[str, ...]:
        with self.db.read() as s:
            return tuple(s.scalars(sa.select(UserLanguageRow.language)
                                   .where(UserLanguageRow.user_name == user)
                                   .order_by(UserLanguageRow.language)))
