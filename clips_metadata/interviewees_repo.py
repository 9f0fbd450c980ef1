"""The registry: interviewees (pseudonym, protected names, consent)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from clips_metadata import tables as m
from clips_metadata.engine import Repository, plain_rows
from clips_metadata.errors import DuplicateError, NotFoundError, StoreError
from clips_metadata.lookups import interviewee_row
from clips_metadata.read_memo import remembered
from clips_metadata.rows import consent_columns, interviewee_record, utc_now
from clips_metadata.stored_records import UNASSIGNED, Consent, Interviewee

# built once (every page view and approval reads the person), rows named by column
_BY_ID = sa.select(m.IntervieweeRow).where(m.IntervieweeRow.id == sa.bindparam("id"))


class IntervieweeRepo(Repository):
    """Interviewees of one database."""

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
            **consent_columns(consent or Consent()),
        )
        return interviewee_record(self.db.add_unique(row, f"interviewee {pseudonym!r} already exists"))

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
        with self.db.transaction() as s:
            row = interviewee_row(s, pseudonym)
            if real_names is not None:
                row.real_names = list(real_names)
            if identifying_words is not None:
                row.identifying_words = list(identifying_words)
            if is_public is not None:
                row.is_public = is_public
            if notes is not None:
                row.notes = notes
            if consent is not None:
                for k, v in consent_columns(consent).items():
                    setattr(row, k, v)
            s.flush()
            return interviewee_record(row)

    def get_interviewee(self, pseudonym: str) -> Interviewee:
        with self.db.read() as s:
            return interviewee_record(interviewee_row(s, pseudonym))

    @remembered  # a page view reads the person for its plan, its redactions and its gate facts
    def get_interviewee_by_id(self, interviewee_id: int) -> Interviewee:
        with self.db.read() as s:
            found = plain_rows(s, _BY_ID, {"id": interviewee_id})
        if not found:
            raise NotFoundError(f"no interviewee with id {interviewee_id}")
        return interviewee_record(found[0])

    def list_interviewees(self) -> tuple[Interviewee, ...]:
        with self.db.read() as s:
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
