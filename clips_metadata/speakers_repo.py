"""Who speaks in an interview: the diarized transcript and the interviewee's speaker id.

`save_diarization` writes the speaker-labelled transcript body, its sentences (a speaker change
always ends a sentence, so they are rebuilt), the `interview_speakers` row and the "diarize"
ingest step in one transaction: a run killed midway leaves the unlabelled transcript and the
step still to do. Takes the Store (its `transaction()`); no new concern grows store.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from clips_metadata import tables as m
from clips_metadata.engine import Repository, plain_rows
from clips_metadata.errors import NotFoundError, StoreError
from clips_metadata.lookups import mark_step
from clips_metadata.rows import utc_now
from clips_metadata.serialize import transcript_to_json, words_to_json
from pipeline.records import Sentence, Transcript


@dataclass(frozen=True, slots=True)
class InterviewSpeakers:
    """The speakers of an interview's transcript. `seconds` per speaker id, in order of first
    appearance; `interviewee` is None when nobody spoke (or diarization found no speech)."""

    interview_id: int
    transcript_id: int
    interviewee: str | None
    interviewer_first: bool
    seconds: tuple[tuple[str, float], ...]
    model: str

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.seconds)


class SpeakersRepo(Repository):
    """Reads and writes `interview_speakers` (revision 0007)."""

    def save_diarization(
        self,
        transcript_id: int,
        transcript: Transcript,
        sentences: Sequence[Sentence],
        translations: Sequence[str] | None,
        *,
        interviewee: str | None,
        interviewer_first: bool,
        seconds: Mapping[str, float],
        model: str,
        by: str = "pipeline",
    ) -> InterviewSpeakers:
        """Replace the transcript's body and sentences by their speaker-labelled versions, record
        the speakers and mark "diarize" done, in one transaction."""
        if translations is not None and len(translations) != len(sentences):
            raise StoreError("translations must give one text per sentence")
        with self.db.transaction() as s:
            tr = s.get(m.TranscriptRow, transcript_id)
            if tr is None:
                raise NotFoundError(f"no transcript with id {transcript_id}")
            if tr.body is not None:
                tr.body = transcript_to_json(transcript)
            s.execute(sa.delete(m.SentenceRow).where(m.SentenceRow.transcript_id == transcript_id))
            s.flush()
            s.add_all(
                m.SentenceRow(transcript_id=transcript_id, idx=sent.index, start=sent.start, end=sent.end,
                              text=sent.text, language=sent.language or tr.language,
                              words=words_to_json(sent.words),
                              translation=translations[i] if translations is not None else "")
                for i, sent in enumerate(sentences))
            row = s.get(m.InterviewSpeakersRow, tr.interview_id)
            if row is None:
                row = m.InterviewSpeakersRow(interview_id=tr.interview_id)
                s.add(row)
            row.transcript_id = transcript_id
            row.interviewee = interviewee
            row.interviewer_first = interviewer_first
            row.speakers = [{"speaker": k, "seconds": round(float(v), 3)} for k, v in seconds.items()]
            row.model = model[:200]
            row.updated_by = by
            row.updated_at = utc_now()
            mark_step(s, tr.interview_id, "diarize",
                       {"transcript_id": transcript_id, "speakers": len(seconds), "interviewee": interviewee})
            s.flush()
            return _record(row)

    def get(self, interview_id: int) -> InterviewSpeakers | None:
        """The interview's speakers, or None before diarization."""
        with self.db.read() as s:
            found = plain_rows(s, _OF_INTERVIEW, {"id": interview_id})
        return _record(found[0]) if found else None


# built once: every candidate page reads it
_OF_INTERVIEW = (sa.select(m.InterviewSpeakersRow)
                 .where(m.InterviewSpeakersRow.interview_id == sa.bindparam("id")))


def _record(row: m.InterviewSpeakersRow) -> InterviewSpeakers:
    return InterviewSpeakers(
        interview_id=row.interview_id, transcript_id=row.transcript_id, interviewee=row.interviewee,
        interviewer_first=bool(row.interviewer_first),
        seconds=tuple((str(d["speaker"]), float(d["seconds"])) for d in row.speakers or ()),
        model=row.model)


def sentence_speaker(sentence: Sentence) -> str | None:
    """A stored sentence's speaker: its words' (the store keeps speakers on words only; a
    sentence never spans a speaker change)."""
    return next((w.speaker for w in sentence.words if w.speaker is not None), None)
