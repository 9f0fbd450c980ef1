"""Cue tracks of candidate versions (table `cue_tracks`, revision 0005).

A version's track in a language is either *hashed* (written with the version by an edit or a
trim, and covered by its version hash) or *derived* (built with `build_track` on first view from
the version's words, in/out and fps, all already hashed, and stored so every reader sees the same
cues). Callers pass the Store (its `read()`/`transaction()`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from clips_metadata.engine import Repository, plain_rows
from clips_metadata.rows import utc_now
from clips_metadata.tables import CueTrackRow
from pipeline.cue_track import CueTrack
from pipeline.cue_track_io import track_from_dict, track_to_dict

# built once (the candidate page and every plan read them); (language, track) in insertion order
_TRACKS = (sa.select(CueTrackRow.language, CueTrackRow.track)
           .where(CueTrackRow.candidate_id == sa.bindparam("cid"), CueTrackRow.version == sa.bindparam("v")))
_HASHED_TRACKS = _TRACKS.where(CueTrackRow.hashed.is_(True))


def tracks_in(s: Session, candidate_id: int, version: int, *, hashed_only: bool = False
              ) -> dict[str, dict[str, Any]]:
    """The stored track dicts of one version by language, inside a caller's session."""
    q = _HASHED_TRACKS if hashed_only else _TRACKS
    rows = plain_rows(s, q, {"cid": candidate_id, "v": version})
    return {language: dict(track) for language, track in rows}


def write_tracks(s: Session, candidate_id: int, version: int, tracks: Mapping[str, Mapping[str, Any]],
                 *, hashed: bool) -> None:
    """Insert a version's tracks inside a caller's transaction (a version's tracks never change)."""
    now = utc_now()
    for language, data in tracks.items():
        s.add(CueTrackRow(candidate_id=candidate_id, version=version, language=language,
                          track=dict(data), hashed=hashed, created_at=now))


class CueTracksRepo(Repository):
    def tracks(self, candidate_id: int, version: int) -> dict[str, CueTrack]:
        with self.db.read() as s:
            return {lang: track_from_dict(d) for lang, d in tracks_in(s, candidate_id, version).items()}

    def hashed(self, candidate_id: int, version: int) -> dict[str, dict[str, Any]]:
        """The tracks the version hash covers (for `hash_fields(..., cue_tracks=...)`)."""
        with self.db.read() as s:
            return tracks_in(s, candidate_id, version, hashed_only=True)

    def save_derived(self, candidate_id: int, version: int, tracks: Mapping[str, CueTrack]) -> None:
        """Store tracks built on first view; a concurrent first view that won keeps its rows."""
        with self.db.transaction() as s:
            have = set(tracks_in(s, candidate_id, version))
            write_tracks(s, candidate_id, version,
                         {k: track_to_dict(t) for k, t in tracks.items() if k not in have}, hashed=False)
