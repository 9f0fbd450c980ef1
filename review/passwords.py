"""Password hashing (argon2id). Only hashes are stored; verification is constant-time."""

from __future__ import annotations

from functools import lru_cache

from pipeline.errors import CounterclipsError

MIN_LENGTH = 8


class PasswordError(CounterclipsError):
    """A password is unusable (too short, empty)."""


@lru_cache(maxsize=1)
def _hasher():  # noqa: ANN202 - argon2 imported lazily
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"password must be at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a wrong or malformed hash."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if not stored_hash:
        return False
    try:
        return _hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A fixed hash used to spend the same time for unknown user names as for known ones.
_DUMMY: list[str] = []


def dummy_verify(password: str) -> None:
    if not _DUMMY:
        _DUMMY.append(_hasher().hash("not-a-real-password"))
    verify_password(_DUMMY[0], password)
