"""The store: every interview, transcript, flag and candidate, in SQLite or PostgreSQL.

`Store.open(url)` migrates the database to the newest Alembic revision and returns a store.
Every public method runs in its own transaction and returns frozen records
(`clips_metadata.stored_records`); ORM rows never leave this package.

`Store` is a facade: the engine and transactions live in `engine.py`, the tables in
`tables.py`, and each method in the repository of what it stores (`interviewees_repo`,
`interviews_repo`, `transcripts_repo`, `candidates_repo`, `review_repo`, `queue_repo`),
reachable as `store.interviewees`, `store.interviews`, ... or under its old name on the store.

Safety properties the tests hold us to:
- an ingest step's result and its `ingest_steps` row commit together, so a killed process
  leaves either the whole step or none of it;
- a file is one interview per sha256 (unique constraint; a racing second insert re-reads);
- candidate changes are optimistic: `UPDATE ... WHERE version = expected` in SQL, so of two
  writers holding the same version exactly one wins and the other gets `ConflictError`;
- every candidate change writes a new immutable `candidate_versions` row.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from clips_metadata import tables as m
from clips_metadata.candidates_repo import (
    CONTENT_FIELDS,
    CREDIBILITY,
    META_FIELDS,
    CandidateRepo,
    write_candidate_version,
)
from clips_metadata.engine import DEFAULT_OPTIONS, MIGRATIONS, Database, StoreOptions
from clips_metadata.facade import forward
from clips_metadata.interviewees_repo import IntervieweeRepo
from clips_metadata.interviews_repo import InterviewRepo
from clips_metadata.queue_repo import QueueRepo
from clips_metadata.review_repo import ReviewRepo
from clips_metadata.stored_records import UNASSIGNED, Interview
from clips_metadata.transcripts_repo import TranscriptRepo
from pipeline.records import MediaInfo

__all__ = [
    "CONTENT_FIELDS",
    "CREDIBILITY",
    "META_FIELDS",
    "MIGRATIONS",
    "Store",
    "StoreOptions",
    "m",
    "write_candidate_version",
]


class Store(Database):
    """Handle on one database and its repositories. Cheap to share across threads."""

    def __init__(self, engine: Engine, options: StoreOptions = DEFAULT_OPTIONS) -> None:
        super().__init__(engine, options)
        self.interviewees = IntervieweeRepo(self)
        self.interviews = InterviewRepo(self)
        self.transcripts = TranscriptRepo(self)
        self.candidates = CandidateRepo(self)
        self.reviews = ReviewRepo(self)
        self.review_queue = QueueRepo(self)

    # ----------------------------------------------------------- interviewees
    add_interviewee = forward("interviewees", IntervieweeRepo.add_interviewee)
    update_interviewee = forward("interviewees", IntervieweeRepo.update_interviewee)
    get_interviewee = forward("interviewees", IntervieweeRepo.get_interviewee)
    get_interviewee_by_id = forward("interviewees", IntervieweeRepo.get_interviewee_by_id)
    list_interviewees = forward("interviewees", IntervieweeRepo.list_interviewees)
    unassigned_interviewee = forward("interviewees", IntervieweeRepo.unassigned_interviewee)

    # ------------------------------------------------------------- interviews
    find_interview = forward("interviews", InterviewRepo.find_interview)
    get_interview = forward("interviews", InterviewRepo.get_interview)
    list_interviews = forward("interviews", InterviewRepo.list_interviews)
    assign_interview = forward("interviews", InterviewRepo.assign_interview)
    set_interview_status = forward("interviews", InterviewRepo.set_interview_status)
    set_interview_language = forward("interviews", InterviewRepo.set_interview_language)
    ingest_state = forward("interviews", InterviewRepo.ingest_state)
    step_detail = forward("interviews", InterviewRepo.step_detail)

    def register_interview(
        self,
        media: MediaInfo,
        pseudonym: str | None,
        *,
        language: str = "",
        recorded: str = "",
        place: str = "",
    ) -> tuple[Interview, bool]:
        """The interview for `media.sha256`, creating it (and the "probe" step) if new.

        Returns (interview, created). The same bytes twice give the same interview whatever the
        path; a changed file at a known path is a new interview that `replaces_id` the old one.
        `pseudonym` None files it under the unassigned interviewee.
        """
        existing = self.interviews.find_interview(media.sha256)
        if existing is not None:
            return existing, False
        if pseudonym is None or pseudonym == UNASSIGNED:
            owner = self.interviewees.unassigned_interviewee()
        else:
            owner = self.interviewees.get_interviewee(pseudonym)
        return self.interviews.register_interview(
            media, owner.id, language=language, recorded=recorded, place=place
        )

    # ------------------------------------------------------------ transcripts
    add_transcript = forward("transcripts", TranscriptRepo.add_transcript)
    latest_transcript = forward("transcripts", TranscriptRepo.latest_transcript)
    list_transcripts = forward("transcripts", TranscriptRepo.list_transcripts)
    get_transcript = forward("transcripts", TranscriptRepo.get_transcript)
    load_transcript = forward("transcripts", TranscriptRepo.load_transcript)
    get_sentences = forward("transcripts", TranscriptRepo.get_sentences)
    get_sentence_translations = forward("transcripts", TranscriptRepo.get_sentence_translations)
    save_flags = forward("transcripts", TranscriptRepo.save_flags)
    get_flags = forward("transcripts", TranscriptRepo.get_flags)
    get_warnings = forward("transcripts", TranscriptRepo.get_warnings)
    interview_warnings = forward("transcripts", TranscriptRepo.interview_warnings)

    # ------------------------------------------------------------- candidates
    add_candidates = forward("candidates", CandidateRepo.add_candidates)
    get_candidate = forward("candidates", CandidateRepo.get_candidate)
    list_candidates = forward("candidates", CandidateRepo.list_candidates)
    count_candidates = forward("candidates", CandidateRepo.count_candidates)
    candidate_versions = forward("candidates", CandidateRepo.candidate_versions)
    get_candidate_version = forward("candidates", CandidateRepo.get_candidate_version)
    update_candidate = forward("candidates", CandidateRepo.update_candidate)
    set_candidate_status = forward("candidates", CandidateRepo.set_candidate_status)
