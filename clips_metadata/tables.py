"""ORM models of revision 0001. They stay inside `clips_metadata`; callers get records.

The migration `migrations/versions/0001_core.py` creates exactly these tables; a test compares
the two so they cannot drift. The review tables of revision 0002
(users, review events, approvals, exports) follow; `0002_review.py` creates exactly those.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pipeline.labels import ROLES, sql_in

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


class IntervieweeRow(Base):
    __tablename__ = "interviewees"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(sa.String(200), unique=True)
    real_names: Mapped[list[Any]] = mapped_column(sa.JSON)
    identifying_words: Mapped[list[Any]] = mapped_column(sa.JSON)
    is_public: Mapped[bool] = mapped_column(sa.Boolean)
    consent_face: Mapped[bool] = mapped_column(sa.Boolean)
    consent_voice: Mapped[bool] = mapped_column(sa.Boolean)
    consent_name: Mapped[bool] = mapped_column(sa.Boolean)
    consent_languages: Mapped[list[Any]] = mapped_column(sa.JSON)
    consent_platforms: Mapped[list[Any]] = mapped_column(sa.JSON)
    consent_expires: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    notes: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(_ts())


class InterviewRow(Base):
    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    interviewee_id: Mapped[int] = mapped_column(sa.ForeignKey("interviewees.id"), index=True)
    source_path: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    duration: Mapped[float] = mapped_column(sa.Float)
    container: Mapped[str] = mapped_column(sa.String(100))
    language: Mapped[str] = mapped_column(sa.String(20))
    recorded: Mapped[str] = mapped_column(sa.String(100))
    place: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20))
    error: Mapped[str] = mapped_column(sa.Text)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("interviews.id"), nullable=True)
    media: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(_ts())


class TranscriptRow(Base):
    __tablename__ = "transcripts"
    __table_args__ = (
        sa.UniqueConstraint("interview_id", "version", name="uq_transcripts_interview_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    backend: Mapped[str] = mapped_column(sa.String(50))
    model: Mapped[str] = mapped_column(sa.String(200))
    language: Mapped[str] = mapped_column(sa.String(20))
    language_probability: Mapped[float] = mapped_column(sa.Float)
    duration: Mapped[float] = mapped_column(sa.Float)
    body: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    body_path: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(_ts())


class SentenceRow(Base):
    __tablename__ = "sentences"
    __table_args__ = (sa.UniqueConstraint("transcript_id", "idx", name="uq_sentences_transcript_idx"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(sa.ForeignKey("transcripts.id"))
    idx: Mapped[int] = mapped_column(sa.Integer)
    start: Mapped[float] = mapped_column(sa.Float)
    end: Mapped[float] = mapped_column(sa.Float)
    text: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(20))
    # [[start, end, text, probability], ...]; words are never queried on their own.
    words: Mapped[list[Any]] = mapped_column(sa.JSON)
    # English sentence on the same clock, when the transcript was translated.
    translation: Mapped[str] = mapped_column(sa.Text)


class FlagRow(Base):
    __tablename__ = "sentence_flags"
    __table_args__ = (sa.UniqueConstraint("transcript_id", "idx", name="uq_sentence_flags_transcript_idx"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(sa.ForeignKey("transcripts.id"))
    idx: Mapped[int] = mapped_column(sa.Integer)
    text: Mapped[str] = mapped_column(sa.Text)
    labels: Mapped[list[Any]] = mapped_column(sa.JSON)
    scores: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    why: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # The flagger's heads that made this flag (revision 0006); "" for flags stored before it.
    model_version: Mapped[str] = mapped_column(sa.String(100), server_default="")


class WarningRow(Base):
    __tablename__ = "credibility_warnings"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(sa.ForeignKey("transcripts.id"), index=True)
    risk: Mapped[str] = mapped_column(sa.String(100))
    idx: Mapped[int] = mapped_column(sa.Integer)
    start: Mapped[float] = mapped_column(sa.Float)
    end: Mapped[float] = mapped_column(sa.Float)
    text: Mapped[str] = mapped_column(sa.Text)


class CandidateRow(Base):
    """Current state of a candidate; the content of each version lives in candidate_versions.
    `version` is the optimistic-lock column: writers update WHERE version = expected."""

    __tablename__ = "candidates"
    # The review queue pages by keyset on (rank, id): (rank, id) serves the unfiltered queue,
    # (status, rank, id) the one filtered by status (revision 0009).
    __table_args__ = (
        sa.Index("ix_candidates_status_rank_id", "status", "rank", "id"),
        sa.Index("ix_candidates_rank_id", "rank", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    transcript_id: Mapped[int] = mapped_column(sa.ForeignKey("transcripts.id"))
    status: Mapped[str] = mapped_column(sa.String(30))
    version: Mapped[int] = mapped_column(sa.Integer)
    start: Mapped[float] = mapped_column(sa.Float)
    end: Mapped[float] = mapped_column(sa.Float)
    rank: Mapped[float] = mapped_column(sa.Float)
    themes: Mapped[list[Any]] = mapped_column(sa.JSON)
    risks: Mapped[list[Any]] = mapped_column(sa.JSON)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    updated_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(_ts())
    updated_at: Mapped[datetime] = mapped_column(_ts())


class CandidateVersionRow(Base):
    __tablename__ = "candidate_versions"
    __table_args__ = (
        sa.UniqueConstraint("candidate_id", "version", name="uq_candidate_versions_candidate_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    start: Mapped[float] = mapped_column(sa.Float)
    end: Mapped[float] = mapped_column(sa.Float)
    sentence_indices: Mapped[list[Any]] = mapped_column(sa.JSON)
    subtitles: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    translations: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    redactions: Mapped[list[Any]] = mapped_column(sa.JSON)
    render_options: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    themes: Mapped[list[Any]] = mapped_column(sa.JSON)
    risks: Mapped[list[Any]] = mapped_column(sa.JSON)
    rank: Mapped[float] = mapped_column(sa.Float)
    reasons: Mapped[list[Any]] = mapped_column(sa.JSON)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    created_by: Mapped[str] = mapped_column(sa.String(200))
    note: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(_ts())


class CandidateLabelRow(Base):
    """One theme or risk of a candidate's current version: lets the review queue filter by
    label with an index on both SQLite and PostgreSQL instead of searching JSON."""

    __tablename__ = "candidate_labels"
    __table_args__ = (
        sa.PrimaryKeyConstraint("candidate_id", "kind", "label", name="pk_candidate_labels"),
        sa.Index("ix_candidate_labels_label", "label", "kind"),
    )

    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    kind: Mapped[str] = mapped_column(sa.String(10))  # "theme" | "risk"
    label: Mapped[str] = mapped_column(sa.String(100))


# --- revision 0002: review (migrations/versions/0002_review.py creates exactly these) ---


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(sql_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime] = mapped_column(_ts())


class ReviewEventRow(Base):
    __tablename__ = "review_events"
    __table_args__ = (sa.Index("ix_review_events_candidate", "candidate_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    actor: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(30))
    from_state: Mapped[str] = mapped_column(sa.String(30))
    to_state: Mapped[str] = mapped_column(sa.String(30))
    from_version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    to_version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    version_hash: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.Text)
    acknowledged_risks: Mapped[list[Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(_ts())


class ApprovalRow(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        sa.UniqueConstraint("candidate_id", "version", "reviewer",
                            name="uq_approvals_candidate_version_reviewer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    version_hash: Mapped[str] = mapped_column(sa.String(64))
    reviewer: Mapped[str] = mapped_column(sa.String(100))
    acknowledged_risks: Mapped[list[Any]] = mapped_column(sa.JSON)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("review_events.id"))
    created_at: Mapped[datetime] = mapped_column(_ts())


class ExportRow(Base):
    __tablename__ = "exports"
    __table_args__ = (sa.Index("ix_exports_candidate", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    version_hash: Mapped[str] = mapped_column(sa.String(64))
    profile: Mapped[str] = mapped_column(sa.String(30))
    language: Mapped[str] = mapped_column(sa.String(20))
    paths: Mapped[list[Any]] = mapped_column(sa.JSON)
    output_sha256: Mapped[str] = mapped_column(sa.String(64))
    manifest_path: Mapped[str] = mapped_column(sa.Text)
    authorisation: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(_ts())


class IngestStepRow(Base):
    """A finished ingest step, written in the same transaction as the step's result."""

    __tablename__ = "ingest_steps"
    __table_args__ = (sa.PrimaryKeyConstraint("interview_id", "step", name="pk_ingest_steps"),)

    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"))
    step: Mapped[str] = mapped_column(sa.String(30))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    finished_at: Mapped[datetime] = mapped_column(_ts())


# ---- revision 0005 (issue 14): cue tracks per version, waveform peaks, comments at timecodes


class CueTrackRow(Base):
    """A version's subtitle cues in one language (pipeline.cue_track_io JSON). `hashed` rows
    were written with their version and are part of its hash; the others were derived on first
    view from hashed data only (words, in/out, fps)."""

    __tablename__ = "cue_tracks"
    __table_args__ = (sa.PrimaryKeyConstraint("candidate_id", "version", "language", name="pk_cue_tracks"),)

    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    language: Mapped[str] = mapped_column(sa.String(12))
    track: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    hashed: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime] = mapped_column(_ts())


class WaveformRow(Base):
    """Audio peaks of one source file (pipeline.waveform.peaks_to_bytes), computed once."""

    __tablename__ = "waveforms"

    source_sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    peaks: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(_ts())


class CommentRow(Base):
    """A comment pinned to a time or range of a candidate; it outlives versions."""

    __tablename__ = "candidate_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    author: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(20))  # "comment" | "change_request"
    start: Mapped[float] = mapped_column(sa.Float)
    end: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    body: Mapped[str] = mapped_column(sa.Text)
    resolved_by: Mapped[str] = mapped_column(sa.String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(_ts(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(_ts())


class InterviewSpeakersRow(Base):
    """Who speaks in an interview's transcript (revision 0007): the diarization's speakers and
    which of them is the interviewee, written with the labelled transcript in one transaction."""

    __tablename__ = "interview_speakers"

    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), primary_key=True)
    transcript_id: Mapped[int] = mapped_column(sa.ForeignKey("transcripts.id"))
    interviewee: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    interviewer_first: Mapped[bool] = mapped_column(sa.Boolean)
    # [{"speaker": "S1", "seconds": 12.3}, ...] in order of first appearance.
    speakers: Mapped[list[Any]] = mapped_column(sa.JSON)
    model: Mapped[str] = mapped_column(sa.String(200))
    updated_by: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(_ts())


class LabelCorrectionRow(Base):
    """A reviewer's correction of one sentence's flags (revision 0006), append-only: labels it
    should carry (`added`), labels it wrongly got (`removed`), who, why, and the model version
    whose flags were corrected. Imported corrections have no candidate."""

    __tablename__ = "label_corrections"
    __table_args__ = (sa.Index("ix_label_corrections_transcript", "transcript_id", "sentence_idx"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("candidates.id"), nullable=True)
    transcript_id: Mapped[int | None] = mapped_column(sa.ForeignKey("transcripts.id"), nullable=True)
    sentence_idx: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    text: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(20))
    added: Mapped[list[Any]] = mapped_column(sa.JSON)
    removed: Mapped[list[Any]] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(100))
    model_version: Mapped[str] = mapped_column(sa.String(100))
    source: Mapped[str] = mapped_column(sa.String(20))  # "review" | "import"
    created_at: Mapped[datetime] = mapped_column(_ts())


# --- revision 0008 (issue 18): distribution log and consent withdrawal ---------------------------
# Rows of `clips_metadata/publications_repo.py`; the migration `0008_publications.py` creates them.


class PublicationRow(Base):
    """One recorded publication of an export, tied by the file's sha256 to the exact bytes."""

    __tablename__ = "publications"
    __table_args__ = (sa.Index("ix_publications_candidate", "candidate_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(sa.ForeignKey("exports.id"))
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    platform: Mapped[str] = mapped_column(sa.String(64))
    url: Mapped[str] = mapped_column(sa.Text)
    published_at: Mapped[str] = mapped_column(sa.String(20))  # ISO 8601 UTC, as given
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(_ts())
    taken_down_at: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    taken_down_by: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)


class WithdrawalRow(Base):
    """A withdrawal or narrowing of an interviewee's consent: who did it, why, what it voided.
    Names the person by id and pseudonym only, never a real name."""

    __tablename__ = "consent_withdrawals"

    id: Mapped[int] = mapped_column(primary_key=True)
    interviewee_id: Mapped[int] = mapped_column(sa.ForeignKey("interviewees.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20))  # "withdraw" | "narrow"
    narrowed: Mapped[list[Any]] = mapped_column(sa.JSON)  # what the new consent no longer covers
    reason: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(100))
    takedown_files: Mapped[list[Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(_ts())


class ConsentVoidRow(Base):
    """An approval or export authorisation a withdrawal voided (kind "approval" | "export")."""

    __tablename__ = "consent_voids"
    __table_args__ = (sa.UniqueConstraint("kind", "ref_id", name="uq_consent_voids_kind_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    withdrawal_id: Mapped[int] = mapped_column(sa.ForeignKey("consent_withdrawals.id"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    ref_id: Mapped[int] = mapped_column(sa.Integer)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(_ts())


# --- revision 0010 (issue 17): translation tracks, translation memory, languages users read ------
# Rows of `clips_metadata/translations_repo.py`; the migration `0010_translations.py` creates them.


class TranslationTrackRow(Base):
    """One language's translation track of one candidate version: the whole
    `pipeline.translation.track.track_to_dict` record, plus the source cue track it was last
    reconciled against (so a changed source marks the affected cues)."""

    __tablename__ = "translation_tracks"
    __table_args__ = (
        sa.UniqueConstraint("candidate_id", "version", "language",
                            name="uq_translation_tracks_version_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    language: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(12))
    track: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    source: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    updated_by: Mapped[str] = mapped_column(sa.String(100))
    updated_at: Mapped[datetime] = mapped_column(_ts())
    exported_at: Mapped[datetime | None] = mapped_column(_ts(), nullable=True)


class TranslationMemoryRow(Base):
    """One approved cue pair; `key` is the sha256 of `MemoryEntry.key` (one row per pair)."""

    __tablename__ = "translation_memory"
    __table_args__ = (sa.Index("ix_translation_memory_pair", "source_language", "target_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    source_language: Mapped[str] = mapped_column(sa.String(20))
    source_text: Mapped[str] = mapped_column(sa.Text)
    target_language: Mapped[str] = mapped_column(sa.String(20))
    target_text: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[str] = mapped_column(sa.String(40))
    origin: Mapped[str] = mapped_column(sa.Text)


class UserLanguageRow(Base):
    """A language a user reads (translators and reviewers list theirs; checks depend on it)."""

    __tablename__ = "user_languages"
    __table_args__ = (sa.PrimaryKeyConstraint("user_name", "language", name="pk_user_languages"),)

    user_name: Mapped[str] = mapped_column(sa.String(100))
    language: Mapped[str] = mapped_column(sa.String(20))


# --- revision 0004 (issue 13): approved publication plans and preview jobs ---------------------


class ApprovedPlanRow(Base):
    """The publication plan a reviewer approved (revision 0004): its hash and canonical JSON, so
    an export can name what changed since (`pipeline.publication.plan_difference`)."""

    __tablename__ = "approved_plans"
    __table_args__ = (sa.Index("ix_approved_plans_candidate", "candidate_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    reviewer: Mapped[str] = mapped_column(sa.String(100))
    plan_hash: Mapped[str] = mapped_column(sa.String(64))
    plan: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(_ts())


class PreviewJobRow(Base):
    """A preview render of one plan (revision 0004): one row per plan hash, so asking twice is
    one job."""

    __tablename__ = "preview_jobs"
    __table_args__ = (sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                                         name="status"),)

    plan_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(10))
    progress: Mapped[float] = mapped_column(sa.Float)
    error: Mapped[str] = mapped_column(sa.Text)
    plan: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(_ts())


class SessionRow(Base):
    """A review-app login session (revision 0003). The cookie holds a random token; only its
    sha256 is stored, so a leaked database does not hand out live sessions."""

    __tablename__ = "sessions"
    __table_args__ = (
        sa.Index("ix_sessions_user_name", "user_name"),
        sa.Index("ix_sessions_expires_at", "expires_at"),
    )

    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_name: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)  # None: not logged in
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(_ts())
    last_seen: Mapped[datetime] = mapped_column(_ts())
    expires_at: Mapped[datetime] = mapped_column(_ts())


class LoginFailureRow(Base):
    """One failed password check (web login or CLI decision), for the shared throttle (0003)."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_user_name", "user_name", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(sa.String(100))
    failed_at: Mapped[datetime] = mapped_column(_ts())
