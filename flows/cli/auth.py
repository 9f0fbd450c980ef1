"""Who acts from the command line: `--as USER` proven by `--password-file F` or a prompt on a
terminal (as issue 13 asks of review decisions). Used where an action needs a person's role."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from pipeline.errors import CounterclipsError


class AuthError(CounterclipsError):
    """The named account does not exist, is disabled, or the password is wrong."""


def add_auth_args(p: argparse.ArgumentParser, required: bool = False,
                  what: str = "the account acting") -> None:
    p.add_argument("--as", dest="actor", required=required, metavar="USER", help=what)
    p.add_argument("--password-file", type=Path, metavar="F",
                   help="the account's password, first line of F (else a prompt on a terminal)")


def authenticate(rs: Any, name: str, password_file: Path | None) -> Any:
    """The active account `name` once its password checks out; raises AuthError."""
    from review.passwords import dummy_verify, verify_password

    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise AuthError(f"cannot read password file {password_file}: {exc.strerror}") from exc
        password = lines[0] if lines else ""
    elif sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"Password for {name}: ")
    else:
        raise AuthError(f"--as {name} needs the account's password: --password-file F, or run on a terminal")
    found = rs.credentials(name)
    if found is None:
        dummy_verify(password)  # same time whether or not the account exists
        raise AuthError(f"no active account {name!r} or wrong password")
    user, stored = found
    if not user.active or not verify_password(stored, password):
        raise AuthError(f"no active account {name!r} or wrong password")
    return user


def shell_actor() -> str:
    """Who runs an unauthenticated command (recorded as such): the login name, marked as CLI."""
    return f"cli:{os.environ.get('USER', 'unknown')}"
