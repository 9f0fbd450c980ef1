"""Transcripts (versions per interview) with their sentences, flags and credibility warnings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from clips_metadata import tables as m
from clips_metadata.engine import Repository
from clips_metadata.errors import NotFoundError, StoreError
from clips_metadata.lookups import interview_row, mark_step, transcript_row
from clips_metadata.read_memo import remembered
from clips_metadata.rows import flags_record, sentence_record, transcript_info, utc_now, warning_record
from clips_metadata.serialize import transcript_from_json, transcript_to_json, words_to_json
from clips_metadata.stored_records import StoredWarning, TranscriptInfo
from pipeline.records import Sentence, SentenceFlags, Transcript

T = TypeVar("T")


class TranscriptRepo(Repository):
    """Transcripts, sentences and flags of one database."""

    def add_transcript(
        self,
        interview_id: int,
        transcript: Transcript,
        sentences: Sequence[Sentence],
        *,
        translations: Sequence[str] | None = None,
        body_path: str = "",
        keep_body: bool = True,
    ) -> TranscriptInfo:
        """Store a new transcript version with its sentences and mark "transcribe" done, in one
        transaction. `translations`: English text per sentence (same order) when translated."""
        if translations is not None and len(translations) != len(sentences):
            raise StoreError("translations must give one text per sentence")
        with self.db.transaction() as s:
            interview = interview_row(s, interview_id)
            latest = s.scalar(
                sa.select(sa.func.max(m.TranscriptRow.version)).where(
                    m.TranscriptRow.interview_id == interview_id
                )
            )
            row = m.TranscriptRow(
                interview_id=interview_id,
                version=(latest or 0) + 1,
                backend=transcript.backend,
                model=transcript.model,
                language=transcript.language,
                language_probability=transcript.language_probability,
                duration=transcript.duration,
                body=transcript_to_json(transcript) if keep_body else None,
                body_path=body_path,
                created_at=utc_now(),
            )
            s.add(row)
            s.flush()
            s.add_all(
                m.SentenceRow(
                    transcript_id=row.id,
                    idx=sent.index,
                    start=sent.start,
                    end=sent.end,
                    text=sent.text,
                    language=sent.language or transcript.language,
                    words=words_to_json(sent.words),
                    translation=translations[i] if translations is not None else "",
                )
                for i, sent in enumerate(sentences)
            )
            if not interview.language:
                interview.language = transcript.language
            mark_step(s, interview_id, "transcribe", {"transcript_id": row.id, "version": row.version})
            s.flush()
            return transcript_info(row)

    def latest_transcript(self, interview_id: int) -> TranscriptInfo | None:
        with self.db.read() as s:
            row = s.scalar(
                sa.select(m.TranscriptRow)
                .where(m.TranscriptRow.interview_id == interview_id)
                .order_by(m.TranscriptRow.version.desc())
                .limit(1)
            )
            return transcript_info(row) if row is not None else None

    def _records(self, row: Any, where: Any, order: Any, record: Callable[[Any], T]) -> tuple[T, ...]:
        """Every `row` matching `where`, in `order`, as `record` makes it (one read)."""
        with self.db.read() as s:
            return tuple(record(r) for r in s.scalars(sa.select(row).where(where).order_by(order)))

    def list_transcripts(self, interview_id: int) -> tuple[TranscriptInfo, ...]:
        t = m.TranscriptRow
        return self._records(t, t.interview_id == interview_id, t.version, transcript_info)

    def get_transcript(self, transcript_id: int) -> TranscriptInfo:
        with self.db.read() as s:
            return transcript_info(transcript_row(s, transcript_id))

    @remembered
    def load_transcript(self, transcript_id: int) -> Transcript:
        """The full transcript (segments, words, translation). Raises NotFoundError when it was
        stored by path only (`keep_body=False`)."""
        with self.db.read() as s:
            row = transcript_row(s, transcript_id)
            if row.body is None:
                raise NotFoundError(f"transcript {transcript_id} body is kept in {row.body_path}")
            return transcript_from_json(row.body)

    def get_sentences(self, transcript_id: int) -> tuple[Sentence, ...]:
        r = m.SentenceRow
        return self._records(r, r.transcript_id == transcript_id, r.idx, sentence_record)

    def get_sentence_translations(self, transcript_id: int) -> tuple[str, ...]:
        """English text per sentence (empty strings when the transcript was not translated)."""
        with self.db.read() as s:
            return tuple(
                s.scalars(
                    sa.select(m.SentenceRow.translation)
                    .where(m.SentenceRow.transcript_id == transcript_id)
                    .order_by(m.SentenceRow.idx)
                )
            )

    # ------------------------------------------------------------------ flags

    def save_flags(
        self, transcript_id: int, flags: Sequence[SentenceFlags], warnings: Sequence[Any] = ()
    ) -> None:
        """Replace the transcript's flags and credibility warnings and mark "flag" done, in one
        transaction. `flags` align with the transcript's sentences; `warnings` have
        risk, sentence_index, start, end, text."""
        with self.db.transaction() as s:
            tr = transcript_row(s, transcript_id)
            n = s.scalar(sa.select(sa.func.count()).where(m.SentenceRow.transcript_id == transcript_id))
            if n != len(flags):
                raise StoreError(
                    f"transcript {transcript_id} has {n} sentences but {len(flags)} flags were given"
                )
            s.execute(sa.delete(m.FlagRow).where(m.FlagRow.transcript_id == transcript_id))
            s.execute(sa.delete(m.WarningRow).where(m.WarningRow.transcript_id == transcript_id))
            s.add_all(
                m.FlagRow(
                    transcript_id=transcript_id,
                    idx=i,
                    text=f.text,
                    labels=list(f.labels),
                    scores={k: float(v) for k, v in f.scores.items()},
                    why=dict(f.why),
                    model_version=f.model_version,
                )
                for i, f in enumerate(flags)
            )
            s.add_all(
                m.WarningRow(
                    transcript_id=transcript_id,
                    risk=w.risk,
                    idx=int(w.sentence_index),
                    start=float(w.start),
                    end=float(w.end),
                    text=w.text,
                )
                for w in warnings
            )
            mark_step(
                s, tr.interview_id, "flag", {"transcript_id": transcript_id, "warnings": len(warnings)}
            )

    def get_flags(self, transcript_id: int) -> tuple[SentenceFlags, ...]:
        r = m.FlagRow
        return self._records(r, r.transcript_id == transcript_id, r.idx, flags_record)

    def get_warnings(self, transcript_id: int) -> tuple[StoredWarning, ...]:
        r = m.WarningRow
        return self._records(r, r.transcript_id == transcript_id, r.id, warning_record)

    def interview_warnings(self, interview_id: int) -> tuple[StoredWarning, ...]:
        """Credibility warnings of the interview's latest transcript."""
        latest = self.latest_transcript(interview_id)
        return self.get_warnings(latest.id) if latest is not None else ()
