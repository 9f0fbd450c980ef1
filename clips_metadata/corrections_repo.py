"""Reviewers' label corrections (issue 15): stored append-only, one row per correction, and read
back as the learning dataset or as each sentence's current dismissed/added labels.

A correction never touches the candidate's risks: a dismissed risk stays counted for approvals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from clips_metadata.engine import Repository, plain_rows
from clips_metadata.errors import NotFoundError, StoreError
from clips_metadata.rows import as_utc, utc_now
from clips_metadata.tables import CandidateRow, FlagRow, LabelCorrectionRow, SentenceRow, TranscriptRow


@dataclass(frozen=True, slots=True)
class StoredCorrection:
    """One stored correction. `candidate_id`/`transcript_id`/`sentence_index` are None for
    corrections imported from another team."""

    id: int
    candidate_id: int | None
    transcript_id: int | None
    sentence_index: int | None
    text: str
    language: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    reason: str
    actor: str
    model_version: str
    source: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LabelMark:
    """Who dismissed or added a label on a sentence, and why."""

    actor: str
    reason: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SentenceCorrections:
    """A sentence's labels as corrected: the latest correction naming a label wins."""

    dismissed: dict[str, LabelMark] = field(default_factory=dict)
    added: dict[str, LabelMark] = field(default_factory=dict)


def _record(r: LabelCorrectionRow) -> StoredCorrection:
    return StoredCorrection(
        id=r.id, candidate_id=r.candidate_id, transcript_id=r.transcript_id, sentence_index=r.sentence_idx,
        text=r.text, language=r.language, added=tuple(r.added or ()), removed=tuple(r.removed or ()),
        reason=r.reason, actor=r.actor, model_version=r.model_version, source=r.source,
        created_at=as_utc(r.created_at),
    )


# built once: every candidate page reads it
_FOR_TRANSCRIPT = (sa.select(LabelCorrectionRow)
                   .where(LabelCorrectionRow.transcript_id == sa.bindparam("tid"))
                   .order_by(LabelCorrectionRow.id))


class CorrectionsRepo(Repository):
    """Label corrections in the store (its engine and `transaction()`)."""

    def add_for_sentence(
        self,
        candidate_id: int,
        sentence_index: int,
        *,
        added: Sequence[str],
        removed: Sequence[str],
        reason: str,
        actor: str,
    ) -> StoredCorrection:
        """Record a correction of sentence `sentence_index` of the candidate's transcript; the
        sentence's text, language and the flags' model version are taken from the store."""
        if not added and not removed:
            raise StoreError("a correction must add or remove at least one label")
        with self.db.transaction() as s:
            cand = s.get(CandidateRow, candidate_id)
            if cand is None:
                raise NotFoundError(f"no candidate {candidate_id}")
            sentence = s.scalar(
                sa.select(SentenceRow).where(
                    SentenceRow.transcript_id == cand.transcript_id, SentenceRow.idx == sentence_index
                )
            )
            if sentence is None:
                raise NotFoundError(f"candidate {candidate_id}'s transcript has no sentence {sentence_index}")
            flag = s.scalar(
                sa.select(FlagRow).where(
                    FlagRow.transcript_id == cand.transcript_id, FlagRow.idx == sentence_index
                )
            )
            transcript = s.get(TranscriptRow, cand.transcript_id)
            language = sentence.language or (transcript.language if transcript is not None else "")
            row = LabelCorrectionRow(
                candidate_id=candidate_id, transcript_id=cand.transcript_id, sentence_idx=sentence_index,
                text=sentence.text, language=language or "", added=list(added), removed=list(removed),
                reason=reason, actor=actor, model_version=flag.model_version if flag is not None else "",
                source="review", created_at=utc_now(),
            )
            s.add(row)
            s.flush()
            return _record(row)

    def add_imported(
        self, corrections: Iterable[tuple[str, str, Sequence[str], Sequence[str], str]], *, actor: str
    ) -> int:
        """Record corrections from another team: (text, language, added, removed, reason) each."""
        now = utc_now()
        rows = [
            LabelCorrectionRow(
                candidate_id=None, transcript_id=None, sentence_idx=None, text=text, language=language,
                added=list(added), removed=list(removed), reason=reason, actor=actor, model_version="",
                source="import", created_at=now,
            )
            for text, language, added, removed, reason in corrections
        ]
        with self.db.transaction() as s:
            s.add_all(rows)
        return len(rows)

    def all(self) -> tuple[StoredCorrection, ...]:
        """Every correction, oldest first (the learning dataset)."""
        with self.db.read() as s:
            rows = s.scalars(sa.select(LabelCorrectionRow).order_by(LabelCorrectionRow.id))
            return tuple(_record(r) for r in rows)

    def for_transcript(self, transcript_id: int) -> dict[int, SentenceCorrections]:
        """Each corrected sentence's dismissed and added labels (latest correction per label)."""
        with self.db.read() as s:
            rows = plain_rows(s, _FOR_TRANSCRIPT, {"tid": transcript_id})
            out: dict[int, SentenceCorrections] = {}
            for r in rows:
                state = out.setdefault(int(r.sentence_idx or 0), SentenceCorrections())
                mark = LabelMark(r.actor, r.reason, as_utc(r.created_at))
                for label in r.removed or ():
                    state.added.pop(label, None)
                    state.dismissed[label] = mark
                for label in r.added or ():
                    state.dismissed.pop(label, None)
                    state.added[label] = mark
            return out
