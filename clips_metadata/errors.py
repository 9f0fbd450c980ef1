"""Named errors of the store. Library code raises them; the CLI prints them in one line."""

from __future__ import annotations

from pipeline.errors import CounterclipsError


class StoreError(CounterclipsError):
    """The store cannot do what was asked (bad input, unreachable database, failed migration)."""


class NotFoundError(StoreError):
    """A record named by id, pseudonym or sha256 does not exist."""


class ConflictError(StoreError):
    """Someone else changed the record first: the caller's version or status is stale."""


class DuplicateError(StoreError):
    """A record with the same unique key (pseudonym, sha256) already exists."""
