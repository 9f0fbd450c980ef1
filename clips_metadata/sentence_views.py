"""The candidate page's transcript panel: every sentence of a transcript with its flags, decoded
once per distinct content (issue 19: decoding every word on each page view cost ~10 ms).

The rows are read raw (JSON as text, no ORM entities); the decoded `SentenceView`s are remembered
under a digest of that text, so a changed sentence, word, flag or reason is a new key.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from clips_metadata.digest_cache import DigestLRU, digest
from clips_metadata.engine import plain_rows
from clips_metadata.review_records import SentenceView
from clips_metadata.tables import FlagRow, SentenceRow
from pipeline.transcript_io import row_speaker

# Bounded by words (~200 bytes each with their sentence), not interviews: ~40 MB a process, one
# long interview or many short ones.
PANELS = DigestLRU(4096, budget=200_000, weigh=lambda views: sum(len(v.words) + 1 for v in views))


_TEXT = sa.Text()
_PANEL = (  # built once: every candidate page reads it
    sa.select(SentenceRow.idx, SentenceRow.start, SentenceRow.end, SentenceRow.text,
              SentenceRow.translation, sa.cast(SentenceRow.words, _TEXT), sa.cast(FlagRow.labels, _TEXT),
              sa.cast(FlagRow.why, _TEXT))
    .outerjoin(FlagRow, sa.and_(FlagRow.transcript_id == SentenceRow.transcript_id,
                                FlagRow.idx == SentenceRow.idx))
    .where(SentenceRow.transcript_id == sa.bindparam("tid")).order_by(SentenceRow.idx))


def _view(row: Any) -> SentenceView:
    idx, start, end, text, translation, words, labels, why = row
    timed = (json.loads(words) if words else None) or ()
    return SentenceView(
        index=idx, start=start, end=end, text=text, translation=translation or "",
        labels=tuple(json.loads(labels)) if labels is not None else (),
        why=dict(json.loads(why) or {}) if why is not None else {},
        words=tuple((float(w[0]), float(w[1]), str(w[2])) for w in timed), speaker=row_speaker(timed),
    )


def sentence_views(s: Session, transcript_id: int) -> tuple[SentenceView, ...]:
    """The transcript's sentences in order, each with its flags (labels and reasons) if any."""
    rows = plain_rows(s, _PANEL, {"tid": transcript_id})
    key = digest((transcript_id, tuple(tuple(r) for r in rows)))
    views = PANELS.get(key)
    if views is None:
        views = tuple(_view(r) for r in rows)
        PANELS.put(key, views)
    return views  # type: ignore[no-any-return]
