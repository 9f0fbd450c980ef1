"""Who is acting: one password check for the web login and every CLI decision, throttled in the
database so all processes count failures together.

    user = authenticate(store, "rita", password)   # raises AuthError subclasses
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from clips_metadata.accounts_repo import AccountsRepo
from clips_metadata.review_store import ReviewStore, User
from pipeline.errors import CounterclipsError
from review.passwords import dummy_verify, verify_password

MAX_FAILURES = 5  # per account name within WINDOW, across every process using the store
WINDOW = timedelta(minutes=5)


class AuthError(CounterclipsError):
    """A person could not be authenticated."""


class WrongCredentials(AuthError):
    """The name or the password is wrong (deliberately not saying which)."""


class TooManyAttempts(AuthError):
    """Too many recent failed password checks for this name."""


class AccountDisabled(AuthError):
    """The password is right but the account is disabled."""


def authenticate(store: Any, name: str, password: str, *, now: datetime | None = None) -> User:
    """The active user `name` whose password is `password`.

    Raises TooManyAttempts after MAX_FAILURES failures within WINDOW (checked before the
    password, so a correct guess after the limit is refused too), WrongCredentials (each counts
    as a failure; unknown names spend the same argon2 time), AccountDisabled."""
    name = name.strip()
    repo = AccountsRepo(store)
    if repo.recent_failures(name, WINDOW, now) >= MAX_FAILURES:
        raise TooManyAttempts(f"too many failed attempts for {name!r}; wait a few minutes")
    found = ReviewStore(store).credentials(name)
    if found is None:
        dummy_verify(password)
        ok = False
    else:
        ok = verify_password(found[1], password)
    if not ok or found is None:
        repo.record_failure(name, WINDOW, now)
        raise WrongCredentials("wrong name or password")
    user = found[0]
    if not user.active:
        raise AccountDisabled(f"account {user.name!r} is disabled")
    repo.clear_failures(name)
    return user
