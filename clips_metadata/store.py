"""The store: every interview, transcript, flag and candidate, in SQLite or PostgreSQL.

`Store.open(url)` migrates the database to the newest Alembic revision and returns a store.
Every public method runs in its own transaction and returns frozen records
(`clips_metadata.stored_records`); ORM rows never leave this package.

Safety properties the tests hold us to:
- an ingest step's result and its `ingest_steps` row commit together, so a killed process
  leaves either the whole step or none of it;
- a file is one interview per sha256 (unique constraint; a racing second insert re-reads);
- candidate changes are optimistic: `UPDATE ... WHERE version = expected` in SQL, so of two
  writers holding the same version exactly one wins and the other gets `ConflictError`;
- every candidate change writes a new immutable `candidate_versions` row.

Later revisions (users, review events, exports) live in `review_store.py` and can run their own
statements through `transaction()`, `read()` or `engine`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from clips_metadata import tables as m
from clips_metadata.cue_tracks_repo import tracks_in, write_tracks
from clips_metadata.errors import ConflictError, DuplicateError, NotFoundError, StoreError
from clips_metadata.rows import as_utc, candidate_filters, interviewee_record, utc_now, warning_record
from clips_metadata.serialize import (
    media_to_json,
    transcript_from_json,
    transcript_to_json,
    words_from_json,
    words_to_json,
)
from clips_metadata.stored_records import (
    UNASSIGNED,
    Candidate,
    CandidateVersion,
    Consent,
    IngestState,
    Interview,
    Interviewee,
    StoredWarning,
    TranscriptInfo,
    hash_fields,
)
from pipeline.authorisation import version_hash
from pipeline.records import MediaInfo, Sentence, SentenceFlags, Transcript

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CREDIBILITY = "credibility"

# Fields of a candidate version that `update_candidate` accepts in `changes`.
CONTENT_FIELDS = (
    "start",
    "end",
    "sentence_indices",
    "subtitles",
    "translations",
    "redactions",
    "render_options",
)
META_FIELDS = ("themes", "risks", "rank", "reasons")
_STATUS_RE = re.compile(r"^[a-z_]{1,30}$")


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """How the store connects.

    busy_timeout_ms: SQLite only; how long a writer waits for another writer's lock (30 s:
        the nightly run and the review app write concurrently).
    pool_size: PostgreSQL connection pool size (5; review app workers share it).
    migrate: run Alembic to head on open (True); False only for tools that inspect old schemas.
    echo: log SQL (False).
    """

    busy_timeout_ms: int = 30_000
    pool_size: int = 5
    migrate: bool = True
    echo: bool = False


def _create_engine(url: str, options: StoreOptions) -> Engine:
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        db = u.database or ""
        memory = db in ("", ":memory:")
        if not memory:
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"connect_args": {"timeout": options.busy_timeout_ms / 1000}}
        if memory:
            kwargs["poolclass"] = sa.StaticPool
            kwargs["connect_args"]["check_same_thread"] = False
        engine = sa.create_engine(u, echo=options.echo, **kwargs)
        _tune_sqlite(engine, options, wal=not memory)
        return engine
    return sa.create_engine(u, echo=options.echo, pool_size=options.pool_size, pool_pre_ping=True)


def _tune_sqlite(engine: Engine, options: StoreOptions, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves: pysqlite's implicit BEGIN is deferred and only starts
        # at the first write, which makes read-then-write transactions fail with "database is
        # locked" instead of waiting. Writers use BEGIN IMMEDIATE (see _begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(options.busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        cur.close()

    @event.listens_for(engine, "checkout")
    def _checkout(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        record.info["cc_write"] = False

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("cc_write") else "BEGIN")


class Store:
    """Handle on one database. Cheap to share across threads; close() when done."""

    def __init__(self, engine: Engine, options: StoreOptions = StoreOptions()) -> None:
        self._engine = engine
        self.options = options

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    def open(cls, url: str, options: StoreOptions = StoreOptions()) -> Store:
        """Connect to `url` (SQLite file or `postgresql+psycopg://...`) and migrate to head."""
        try:
            engine = _create_engine(url, options)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use database URL {_safe_url(url)}: {exc}") from exc
        store = cls(engine, options)
        if options.migrate:
            try:
                store.migrate()
            except OperationalError as exc:
                engine.dispose()
                raise StoreError(f"cannot open database {_safe_url(url)}: {exc.orig}") from exc
            except BaseException:
                engine.dispose()
                raise
        return store

    @classmethod
    def for_workspace(cls, workspace: Any, options: StoreOptions = StoreOptions()) -> Store:
        """Open the store of a `clips_metadata.workspace.Workspace` (its `db_url`)."""
        return cls.open(workspace.db_url, options)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self._engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self, revision: str = "head") -> None:
        """Upgrade to `revision`. Safe when several processes open a fresh database at once."""
        from alembic import command
        from alembic.util import CommandError

        if revision == "head" and self.current_revision() == self.head_revision():
            return
        cfg = self._alembic_config()
        with self._engine.connect() as conn:
            # SQLite: BEGIN IMMEDIATE serialises migrators (DDL is transactional there).
            # PostgreSQL: a transaction-scoped advisory lock does the same.
            conn.info["cc_write"] = True
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7262011)")
                cfg.attributes["connection"] = conn
                try:
                    command.upgrade(cfg, revision)
                except CommandError as exc:
                    # Typically a database written by a newer counterclips than this one.
                    raise StoreError(
                        f"cannot migrate the database to {revision} (this program knows up to "
                        f"{self.head_revision()}): {exc}"
                    ) from exc

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        """A session in one transaction, committed on success and rolled back on error.
        On SQLite `write=True` takes the write lock up front (BEGIN IMMEDIATE), so do not call
        other Store methods inside it: each opens its own transaction and would wait for this
        one's lock (up to busy_timeout) before failing."""
        with self._engine.connect() as conn:
            conn.info["cc_write"] = write
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    def read(self) -> AbstractContextManager[Session]:
        """A read-only transaction (consistent snapshot; takes no write lock)."""
        return self.transaction(write=False)

    # ----------------------------------------------------------- interviewees

    def add_interviewee(
        self,
        pseudonym: str,
        *,
        real_names: Sequence[str] = (),
        identifying_words: Sequence[str] = (),
        is_public: bool = False,
        consent: Consent | None = None,
        notes: str = "",
    ) -> Interviewee:
        """Register a person. Raises DuplicateError when the pseudonym is taken."""
        pseudonym = pseudonym.strip()
        if not pseudonym:
            raise StoreError("a pseudonym is required")
        row = m.IntervieweeRow(
            pseudonym=pseudonym,
            real_names=[n.strip() for n in real_names if n.strip()],
            identifying_words=[w.strip() for w in identifying_words if w.strip()],
            is_public=is_public,
            notes=notes,
            created_at=utc_now(),
            **_consent_columns(consent or Consent()),
        )
        try:
            with self.transaction() as s:
                s.add(row)
                s.flush()
                return interviewee_record(row)
        except IntegrityError as exc:
            raise DuplicateError(f"interviewee {pseudonym!r} already exists") from exc

    def update_interviewee(
        self,
        pseudonym: str,
        *,
        real_names: Sequence[str] | None = None,
        identifying_words: Sequence[str] | None = None,
        is_public: bool | None = None,
        consent: Consent | None = None,
        notes: str | None = None,
    ) -> Interviewee:
        """Change the given fields of a registered person (consent included)."""
        with self.transaction() as s:
            row = _interviewee_row(s, pseudonym)
            if real_names is not None:
                row.real_names = list(real_names)
            if identifying_words is not None:
                row.identifying_words = list(identifying_words)
            if is_public is not None:
                row.is_public = is_public
            if notes is not None:
                row.notes = notes
            if consent is not None:
                for k, v in _consent_columns(consent).items():
                    setattr(row, k, v)
            s.flush()
            return interviewee_record(row)

    def get_interviewee(self, pseudonym: str) -> Interviewee:
        with self.read() as s:
            return interviewee_record(_interviewee_row(s, pseudonym))

    def get_interviewee_by_id(self, interviewee_id: int) -> Interviewee:
        with self.read() as s:
            row = s.get(m.IntervieweeRow, interviewee_id)
            if row is None:
                raise NotFoundError(f"no interviewee with id {interviewee_id}")
            return interviewee_record(row)

    def list_interviewees(self) -> tuple[Interviewee, ...]:
        with self.read() as s:
            rows = s.scalars(sa.select(m.IntervieweeRow).order_by(m.IntervieweeRow.pseudonym))
            return tuple(interviewee_record(r) for r in rows)

    def unassigned_interviewee(self) -> Interviewee:
        """The placeholder owner of footage without a sidecar; no consent at all, so the export
        gate refuses its clips until the interview is assigned to a real person."""
        try:
            return self.get_interviewee(UNASSIGNED)
        except NotFoundError:
            pass
        try:
            return self.add_interviewee(UNASSIGNED, notes="footage not yet assigned to a person")
        except DuplicateError:  # another process created it meanwhile
            return self.get_interviewee(UNASSIGNED)

    # ------------------------------------------------------------- interviews

    def find_interview(self, sha256: str) -> Interview | None:
        with self.read() as s:
            row = s.scalar(sa.select(m.InterviewRow).where(m.InterviewRow.sha256 == sha256))
            return _interview(s, row) if row is not None else None

    def get_interview(self, interview_id: int) -> Interview:
        with self.read() as s:
            return _interview(s, _interview_row(s, interview_id))

    def list_interviews(
        self, *, pseudonym: str | None = None, status: str | None = None
    ) -> tuple[Interview, ...]:
        with self.read() as s:
            q = sa.select(m.InterviewRow).order_by(m.InterviewRow.id)
            if pseudonym is not None:
                q = q.where(m.InterviewRow.interviewee_id == _interviewee_row(s, pseudonym).id)
            if status is not None:
                q = q.where(m.InterviewRow.status == status)
            names = {i: p for i, p in s.execute(sa.select(m.IntervieweeRow.id, m.IntervieweeRow.pseudonym))}
            return tuple(_interview(s, r, names) for r in s.scalars(q))

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
        existing = self.find_interview(media.sha256)
        if existing is not None:
            return existing, False
        if pseudonym is None or pseudonym == UNASSIGNED:
            owner_id = self.unassigned_interviewee().id
        else:
            owner_id = self.get_interviewee(pseudonym).id
        try:
            with self.transaction() as s:
                previous = s.scalar(
                    sa.select(m.InterviewRow.id)
                    .where(m.InterviewRow.source_path == media.path)
                    .order_by(m.InterviewRow.id.desc())
                    .limit(1)
                )
                row = m.InterviewRow(
                    interviewee_id=owner_id,
                    source_path=media.path,
                    sha256=media.sha256,
                    size=media.size,
                    duration=media.duration,
                    container=media.container,
                    language=language or "",
                    recorded=recorded or "",
                    place=place or "",
                    status="ingesting",
                    error="",
                    replaces_id=previous,
                    media=media_to_json(media),
                    created_at=utc_now(),
                )
                s.add(row)
                s.flush()
                _mark_step(s, row.id, "probe", {"duration": media.duration})
                return _interview(s, row), True
        except IntegrityError:
            # Another process registered the same sha256 between our check and insert.
            again = self.find_interview(media.sha256)
            if again is None:
                raise
            return again, False

    def assign_interview(self, interview_id: int, pseudonym: str) -> Interview:
        """Move an interview (e.g. from "unassigned") to a registered interviewee."""
        with self.transaction() as s:
            row = _interview_row(s, interview_id)
            row.interviewee_id = _interviewee_row(s, pseudonym).id
            s.flush()
            return _interview(s, row)

    def set_interview_status(self, interview_id: int, status: str, error: str = "") -> Interview:
        """`status`: "ingesting" | "ready" | "failed" (with a one-line `error`)."""
        with self.transaction() as s:
            row = _interview_row(s, interview_id)
            row.status = status
            row.error = error
            s.flush()
            return _interview(s, row)

    def set_interview_language(self, interview_id: int, language: str) -> None:
        with self.transaction() as s:
            _interview_row(s, interview_id).language = language

    def ingest_state(self, interview_id: int) -> IngestState:
        with self.read() as s:
            steps = s.scalars(
                sa.select(m.IngestStepRow.step).where(m.IngestStepRow.interview_id == interview_id)
            )
            return IngestState(interview_id, tuple(sorted(steps)))

    def step_detail(self, interview_id: int, step: str) -> dict[str, Any] | None:
        """What a finished ingest step recorded (e.g. its transcript_id), or None if not done."""
        with self.read() as s:
            row = s.get(m.IngestStepRow, (interview_id, step))
            return dict(row.detail) if row is not None else None

    # ------------------------------------------------------------ transcripts

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
        with self.transaction() as s:
            interview = _interview_row(s, interview_id)
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
            _mark_step(s, interview_id, "transcribe", {"transcript_id": row.id, "version": row.version})
            s.flush()
            return _transcript_info(row)

    def latest_transcript(self, interview_id: int) -> TranscriptInfo | None:
        with self.read() as s:
            row = s.scalar(
                sa.select(m.TranscriptRow)
                .where(m.TranscriptRow.interview_id == interview_id)
                .order_by(m.TranscriptRow.version.desc())
                .limit(1)
            )
            return _transcript_info(row) if row is not None else None

    def list_transcripts(self, interview_id: int) -> tuple[TranscriptInfo, ...]:
        with self.read() as s:
            rows = s.scalars(
                sa.select(m.TranscriptRow)
                .where(m.TranscriptRow.interview_id == interview_id)
                .order_by(m.TranscriptRow.version)
            )
            return tuple(_transcript_info(r) for r in rows)

    def get_transcript(self, transcript_id: int) -> TranscriptInfo:
        with self.read() as s:
            return _transcript_info(_transcript_row(s, transcript_id))

    def load_transcript(self, transcript_id: int) -> Transcript:
        """The full transcript (segments, words, translation). Raises NotFoundError when it was
        stored by path only (`keep_body=False`)."""
        with self.read() as s:
            row = _transcript_row(s, transcript_id)
            if row.body is None:
                raise NotFoundError(f"transcript {transcript_id} body is kept in {row.body_path}")
            return transcript_from_json(row.body)

    def get_sentences(self, transcript_id: int) -> tuple[Sentence, ...]:
        with self.read() as s:
            rows = s.scalars(
                sa.select(m.SentenceRow)
                .where(m.SentenceRow.transcript_id == transcript_id)
                .order_by(m.SentenceRow.idx)
            )
            return tuple(
                Sentence(r.idx, r.start, r.end, r.text, words_from_json(r.words), r.language) for r in rows
            )

    def get_sentence_translations(self, transcript_id: int) -> tuple[str, ...]:
        """English text per sentence (empty strings when the transcript was not translated)."""
        with self.read() as s:
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
        with self.transaction() as s:
            tr = _transcript_row(s, transcript_id)
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
            _mark_step(
                s, tr.interview_id, "flag", {"transcript_id": transcript_id, "warnings": len(warnings)}
            )

    def get_flags(self, transcript_id: int) -> tuple[SentenceFlags, ...]:
        with self.read() as s:
            rows = s.scalars(
                sa.select(m.FlagRow).where(m.FlagRow.transcript_id == transcript_id).order_by(m.FlagRow.idx)
            )
            return tuple(
                SentenceFlags(r.text, tuple(r.labels), dict(r.scores), dict(r.why), r.model_version or "")
                for r in rows
            )

    def get_warnings(self, transcript_id: int) -> tuple[StoredWarning, ...]:
        with self.read() as s:
            rows = s.scalars(
                sa.select(m.WarningRow)
                .where(m.WarningRow.transcript_id == transcript_id)
                .order_by(m.WarningRow.id)
            )
            return tuple(warning_record(r) for r in rows)

    def interview_warnings(self, interview_id: int) -> tuple[StoredWarning, ...]:
        """Credibility warnings of the interview's latest transcript."""
        latest = self.latest_transcript(interview_id)
        return self.get_warnings(latest.id) if latest is not None else ()

    # ------------------------------------------------------------- candidates

    def add_candidates(
        self, transcript_id: int, proposals: Sequence[Any], *, by: str = "pipeline"
    ) -> tuple[Candidate, ...]:
        """Store proposals (`pipeline.candidates.CandidateProposal`) as version-1 candidates with
        status "proposed", and mark "propose" done, in one transaction. Subtitle text comes from
        the stored sentences (original language) and their translations (English)."""
        with self.transaction() as s:
            tr = _transcript_row(s, transcript_id)
            interview = _interview_row(s, tr.interview_id)
            sents = {
                r.idx: r
                for r in s.scalars(
                    sa.select(m.SentenceRow).where(m.SentenceRow.transcript_id == transcript_id)
                )
            }
            has_warning = (
                s.scalar(sa.select(sa.func.count()).where(m.WarningRow.transcript_id == transcript_id)) or 0
            ) > 0
            ids = []
            now = utc_now()
            for p in proposals:
                idx = tuple(int(i) for i in p.sentence_indices)
                missing = [i for i in idx if i not in sents]
                if missing:
                    raise StoreError(f"proposal names sentences {missing} not in transcript {transcript_id}")
                subtitles = {tr.language: " ".join(sents[i].text.strip() for i in idx)}
                en = " ".join(sents[i].translation.strip() for i in idx if sents[i].translation.strip())
                translations = {"en": en} if en and tr.language != "en" else {}
                risks = tuple(p.risks)
                if has_warning and CREDIBILITY not in risks:
                    risks = (*risks, CREDIBILITY)  # every clip of a warned interview carries it
                row = m.CandidateRow(
                    interview_id=interview.id,
                    transcript_id=transcript_id,
                    status="proposed",
                    version=1,
                    start=float(p.start),
                    end=float(p.end),
                    rank=float(p.rank),
                    themes=list(p.themes),
                    risks=list(risks),
                    content_hash="",
                    updated_by=by,
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
                s.flush()
                content = hash_fields(interview.sha256, row.start, row.end, subtitles, translations, (), {})
                row.content_hash = version_hash(content)
                s.add(
                    m.CandidateVersionRow(
                        candidate_id=row.id,
                        version=1,
                        start=row.start,
                        end=row.end,
                        sentence_indices=list(idx),
                        subtitles=subtitles,
                        translations=translations,
                        redactions=[],
                        render_options={},
                        themes=list(p.themes),
                        risks=list(risks),
                        rank=row.rank,
                        reasons=list(p.reasons),
                        content_hash=row.content_hash,
                        created_by=by,
                        note="proposed by the candidate builder",
                        created_at=now,
                    )
                )
                _set_labels(s, row.id, p.themes, risks)
                ids.append(row.id)
            _mark_step(s, interview.id, "propose", {"transcript_id": transcript_id, "candidates": len(ids)})
            interview.status = "ready"
            interview.error = ""
            s.flush()
            return tuple(_candidates_by_ids(s, ids))

    def get_candidate(self, candidate_id: int) -> Candidate:
        with self.read() as s:
            found = _candidates_by_ids(s, [candidate_id])
            if not found:
                raise NotFoundError(f"no candidate with id {candidate_id}")
            return found[0]

    def list_candidates(
        self,
        *,
        status: str | None = None,
        interview_id: int | None = None,
        theme: str | None = None,
        risk: str | None = None,
        language: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[Candidate, ...]:
        """Candidates, best rank first (then oldest), filtered by the given fields."""
        where = candidate_filters(
            status=status, interview_id=interview_id, theme=theme, risk=risk, language=language
        )
        with self.read() as s:
            q = _candidate_query().where(*where)
            q = q.order_by(m.CandidateRow.rank.desc(), m.CandidateRow.id).offset(offset)
            if limit is not None:
                q = q.limit(limit)
            return tuple(_candidate(*row) for row in s.execute(q))

    def count_candidates(
        self,
        *,
        status: str | None = None,
        interview_id: int | None = None,
        theme: str | None = None,
        risk: str | None = None,
        language: str | None = None,
    ) -> int:
        where = candidate_filters(
            status=status, interview_id=interview_id, theme=theme, risk=risk, language=language
        )
        with self.read() as s:
            return int(s.scalar(sa.select(sa.func.count(m.CandidateRow.id)).where(*where)) or 0)

    def candidate_versions(self, candidate_id: int) -> tuple[CandidateVersion, ...]:
        """Every version, oldest first."""
        with self.read() as s:
            rows = list(
                s.scalars(
                    sa.select(m.CandidateVersionRow)
                    .where(m.CandidateVersionRow.candidate_id == candidate_id)
                    .order_by(m.CandidateVersionRow.version)
                )
            )
            if not rows:
                raise NotFoundError(f"no candidate with id {candidate_id}")
            return tuple(_version(r) for r in rows)

    def get_candidate_version(self, candidate_id: int, version: int) -> CandidateVersion:
        with self.read() as s:
            row = _version_row(s, candidate_id, version)
            return _version(row)

    def update_candidate(
        self,
        candidate_id: int,
        expected_version: int,
        changes: Mapping[str, Any],
        by: str,
        note: str = "",
    ) -> Candidate:
        """Write version `expected_version + 1` with `changes` applied and return the candidate
        (see `write_candidate_version`, which does it inside a caller's transaction)."""
        with self.transaction() as s:
            write_candidate_version(s, candidate_id, expected_version, changes, by, note)
            return _candidates_by_ids(s, [candidate_id])[0]

    def set_candidate_status(
        self,
        candidate_id: int,
        status: str,
        *,
        expected_version: int,
        by: str,
        expected_status: str | None = None,
    ) -> Candidate:
        """Change only the status (no new version: the content is unchanged). Compare-and-set on
        the version and, when given, on the current status, so a state-machine transition
        decided on stale data fails with ConflictError instead of overwriting."""
        _check_status(status)
        with self.transaction() as s:
            q = sa.update(m.CandidateRow).where(
                m.CandidateRow.id == candidate_id, m.CandidateRow.version == expected_version
            )
            if expected_status is not None:
                q = q.where(m.CandidateRow.status == expected_status)
            res = s.execute(
                q.values(status=status, updated_by=by, updated_at=utc_now()).execution_options(
                    synchronize_session=False
                )
            )
            if res.rowcount != 1:
                cur = s.get(m.CandidateRow, candidate_id)
                if cur is None:
                    raise NotFoundError(f"no candidate with id {candidate_id}")
                if cur.version != expected_version:
                    raise _conflict(candidate_id, expected_version, cur.version)
                raise ConflictError(
                    f"candidate {candidate_id} is {cur.status!r}, not {expected_status!r}: "
                    "someone else changed it; reload and try again"
                )
            s.expire_all()
            return _candidates_by_ids(s, [candidate_id])[0]


# ------------------------------------------------------------------ helpers


def _safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"


def _check_status(status: Any) -> None:
    if not isinstance(status, str) or not _STATUS_RE.match(status):
        raise StoreError(f"invalid candidate status {status!r}")


def _conflict(candidate_id: int, expected: int, current: int | None) -> ConflictError:
    now = f"; it is now at version {current}" if current is not None else ""
    return ConflictError(
        f"candidate {candidate_id} changed since version {expected}{now}: someone else saved first; "
        "reload and apply your change again"
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _consent_columns(c: Consent) -> dict[str, Any]:
    return {
        "consent_face": c.face,
        "consent_voice": c.voice,
        "consent_name": c.name,
        "consent_languages": list(c.languages),
        "consent_platforms": list(c.platforms),
        "consent_expires": c.expires,
    }


def _mark_step(s: Session, interview_id: int, step: str, detail: Mapping[str, Any]) -> None:
    # Re-running a step (e.g. re-flagging) refreshes its row instead of failing on the key.
    existing = s.get(m.IngestStepRow, (interview_id, step))
    if existing is None:
        s.add(
            m.IngestStepRow(interview_id=interview_id, step=step, detail=dict(detail), finished_at=utc_now())
        )
    else:
        existing.detail = dict(detail)
        existing.finished_at = utc_now()


def _set_labels(s: Session, candidate_id: int, themes: Sequence[str], risks: Sequence[str]) -> None:
    s.add_all(
        m.CandidateLabelRow(candidate_id=candidate_id, kind="theme", label=t) for t in dict.fromkeys(themes)
    )
    s.add_all(
        m.CandidateLabelRow(candidate_id=candidate_id, kind="risk", label=r) for r in dict.fromkeys(risks)
    )


def _interviewee_row(s: Session, pseudonym: str) -> m.IntervieweeRow:
    row = s.scalar(sa.select(m.IntervieweeRow).where(m.IntervieweeRow.pseudonym == pseudonym))
    if row is None:
        raise NotFoundError(f"no interviewee {pseudonym!r}; add one with `counterclips interviewee add`")
    return row


def _interview_row(s: Session, interview_id: int) -> m.InterviewRow:
    row = s.get(m.InterviewRow, interview_id)
    if row is None:
        raise NotFoundError(f"no interview with id {interview_id}")
    return row


def _transcript_row(s: Session, transcript_id: int) -> m.TranscriptRow:
    row = s.get(m.TranscriptRow, transcript_id)
    if row is None:
        raise NotFoundError(f"no transcript with id {transcript_id}")
    return row


def _version_row(s: Session, candidate_id: int, version: int) -> m.CandidateVersionRow:
    row = s.scalar(
        sa.select(m.CandidateVersionRow).where(
            m.CandidateVersionRow.candidate_id == candidate_id, m.CandidateVersionRow.version == version
        )
    )
    if row is None:
        raise NotFoundError(f"candidate {candidate_id} has no version {version}")
    return row


def _interview(s: Session, r: m.InterviewRow, names: Mapping[int, str] | None = None) -> Interview:
    if names is not None:
        pseudonym = names.get(r.interviewee_id)
    else:
        pseudonym = s.scalar(
            sa.select(m.IntervieweeRow.pseudonym).where(m.IntervieweeRow.id == r.interviewee_id)
        )
    return Interview(
        id=r.id,
        interviewee_id=r.interviewee_id,
        pseudonym=pseudonym or "",
        source_path=r.source_path,
        sha256=r.sha256,
        size=r.size,
        duration=r.duration,
        container=r.container,
        language=r.language,
        recorded=r.recorded,
        place=r.place,
        status=r.status,
        error=r.error,
        replaces_id=r.replaces_id,
        created_at=as_utc(r.created_at),  # type: ignore[arg-type]
        media=dict(r.media),
    )


def _transcript_info(r: m.TranscriptRow) -> TranscriptInfo:
    return TranscriptInfo(
        id=r.id,
        interview_id=r.interview_id,
        version=r.version,
        backend=r.backend,
        model=r.model,
        language=r.language,
        language_probability=r.language_probability,
        duration=r.duration,
        body_path=r.body_path,
        created_at=as_utc(r.created_at),  # type: ignore[arg-type]
    )


def _version_content(v: m.CandidateVersionRow) -> dict[str, Any]:
    # The JSON columns a version row and the current candidate both take from the version.
    return {
        "sentence_indices": tuple(v.sentence_indices),
        "subtitles": dict(v.subtitles),
        "translations": dict(v.translations),
        "redactions": tuple(dict(x) for x in v.redactions),
        "render_options": dict(v.render_options),
        "reasons": tuple(v.reasons),
    }


def _version(r: m.CandidateVersionRow) -> CandidateVersion:
    return CandidateVersion(
        candidate_id=r.candidate_id,
        version=r.version,
        start=r.start,
        end=r.end,
        themes=tuple(r.themes),
        risks=tuple(r.risks),
        rank=r.rank,
        content_hash=r.content_hash,
        created_by=r.created_by,
        note=r.note,
        created_at=as_utc(r.created_at),  # type: ignore[arg-type]
        **_version_content(r),
    )


def _candidate_query() -> sa.Select[Any]:
    return (
        sa.select(
            m.CandidateRow,
            m.CandidateVersionRow,
            m.InterviewRow.sha256,
            m.InterviewRow.language,
            m.IntervieweeRow.pseudonym,
        )
        .join(
            m.CandidateVersionRow,
            sa.and_(
                m.CandidateVersionRow.candidate_id == m.CandidateRow.id,
                m.CandidateVersionRow.version == m.CandidateRow.version,
            ),
        )
        .join(m.InterviewRow, m.InterviewRow.id == m.CandidateRow.interview_id)
        .join(m.IntervieweeRow, m.IntervieweeRow.id == m.InterviewRow.interviewee_id)
    )


def _candidates_by_ids(s: Session, ids: Sequence[int]) -> list[Candidate]:
    if not ids:
        return []
    rows = s.execute(_candidate_query().where(m.CandidateRow.id.in_(list(ids))))
    by_id = {r[0].id: _candidate(*r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def _candidate(
    c: m.CandidateRow, v: m.CandidateVersionRow, sha256: str, language: str, pseudonym: str
) -> Candidate:
    return Candidate(
        id=c.id,
        interview_id=c.interview_id,
        transcript_id=c.transcript_id,
        pseudonym=pseudonym,
        source_sha256=sha256,
        language=language,
        status=c.status,
        version=c.version,
        start=c.start,
        end=c.end,
        themes=tuple(c.themes),
        risks=tuple(c.risks),
        rank=c.rank,
        content_hash=c.content_hash,
        updated_by=c.updated_by,
        created_at=as_utc(c.created_at),
        updated_at=as_utc(c.updated_at),
        **_version_content(v),
    )


def write_candidate_version(
    s: Session, candidate_id: int, expected_version: int, changes: Mapping[str, Any], by: str, note: str = ""
) -> m.CandidateRow:
    """Inside the caller's transaction, write version `expected_version + 1` of the candidate
    with `changes` applied; returns its (refreshed) row. The review store adds its audit entry in
    the same transaction, so a version never exists without it.

    `changes` may hold content fields (start, end, sentence_indices, subtitles, translations,
    redactions, render_options), labels (themes, risks, rank, reasons) and `status`.
    A content change that alters the version hash sets status back to "proposed" unless
    `status` is given: an approval is bound to the exact version it saw.
    Raises ConflictError when `expected_version` is no longer current (someone else wrote
    first), NotFoundError for an unknown id, StoreError for unknown fields or bad times.
    """
    unknown = set(changes) - set(CONTENT_FIELDS) - set(META_FIELDS) - {"status", "cue_tracks"}
    if unknown:
        raise StoreError(f"cannot change candidate fields: {', '.join(sorted(unknown))}")
    if "status" in changes:
        _check_status(changes["status"])
    cur = s.get(m.CandidateRow, candidate_id)
    if cur is None:
        raise NotFoundError(f"no candidate with id {candidate_id}")
    if cur.version != expected_version:
        raise _conflict(candidate_id, expected_version, cur.version)
    prev = _version_row(s, candidate_id, expected_version)
    sha = s.scalar(sa.select(m.InterviewRow.sha256).where(m.InterviewRow.id == cur.interview_id))
    v = {f: getattr(prev, f) for f in (*CONTENT_FIELDS, *META_FIELDS)}
    v.update({k: _jsonable(val) for k, val in changes.items() if k not in ("status", "cue_tracks")})
    start, end = float(v["start"]), float(v["end"])
    if not (0 <= start < end):
        raise StoreError(f"candidate times must satisfy 0 <= start < end (got {start}, {end})")
    moved = (start, end) != (prev.start, prev.end)
    tracks = _version_tracks(s, candidate_id, expected_version, changes, moved)
    content = hash_fields(
        sha, start, end, v["subtitles"], v["translations"], v["redactions"], v["render_options"], tracks
    )
    new_hash = version_hash(content)
    status = changes.get("status")
    if status is None:
        status = "proposed" if new_hash != cur.content_hash else cur.status
    now = utc_now()
    # The optimistic lock proper: of two writers holding the same version, only one
    # UPDATE matches; PostgreSQL re-checks the WHERE after the first commits.
    res = s.execute(
        sa.update(m.CandidateRow)
        .where(m.CandidateRow.id == candidate_id, m.CandidateRow.version == expected_version)
        .values(
            version=expected_version + 1,
            status=status,
            start=start,
            end=end,
            rank=float(v["rank"]),
            themes=list(v["themes"]),
            risks=list(v["risks"]),
            content_hash=new_hash,
            updated_by=by,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        raise _conflict(candidate_id, expected_version, None)
    s.add(
        m.CandidateVersionRow(
            candidate_id=candidate_id,
            version=expected_version + 1,
            start=start,
            end=end,
            sentence_indices=[int(i) for i in v["sentence_indices"]],
            subtitles=dict(v["subtitles"]),
            translations=dict(v["translations"]),
            redactions=list(v["redactions"]),
            render_options=dict(v["render_options"]),
            themes=list(v["themes"]),
            risks=list(v["risks"]),
            rank=float(v["rank"]),
            reasons=list(v["reasons"]),
            content_hash=new_hash,
            created_by=by,
            note=note,
            created_at=now,
        )
    )
    if tracks:
        write_tracks(s, candidate_id, expected_version + 1, tracks, hashed=True)
    if "themes" in changes or "risks" in changes:
        s.execute(
            sa.delete(m.CandidateLabelRow).where(m.CandidateLabelRow.candidate_id == candidate_id)
        )
        _set_labels(s, candidate_id, v["themes"], v["risks"])
    s.flush()
    s.expire_all()
    return s.get(m.CandidateRow, candidate_id)


def _version_tracks(s: Session, candidate_id: int, prev_version: int, changes: Mapping[str, Any],
                    cut_moved: bool) -> dict[str, dict[str, Any]]:
    """The new version's hashed cue tracks: the ones `changes["cue_tracks"]` gives (replacing
    those languages), else the previous version's, unless the cut moved (their cues would lie
    outside it; the page re-derives tracks with `retrim` and passes them)."""
    given = {str(k): dict(v) for k, v in (changes.get("cue_tracks") or {}).items()}
    carried = {} if cut_moved else tracks_in(s, candidate_id, prev_version, hashed_only=True)
    return {**carried, **given}
