"""Who acts from the command line: `--as USER` proven by `--password-file F` or a prompt on a
terminal (issue 13). Used wherever an action needs a person: review decisions, exports, timeline
imports, withdrawals. The check itself, its throttle (stored in the database, shared with the web
login) and the disabled-account rule are `review.accounts.authenticate`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from pipeline.errors import CounterclipsError


class AuthError(CounterclipsError):
    """No usable password was given for the acting account."""


def add_auth_args(p: argparse.ArgumentParser, required: bool = False,
                  what: str = "the account acting") -> None:
    p.add_argument("--as", dest="actor", required=required, metavar="USER", help=what)
    p.add_argument("--password-file", type=Path, metavar="F",
                   help="the account's password, first line of F (else a prompt on a terminal)")


def read_first_line(path: Path) -> str:
    """The first line of a password file ("" when empty)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuthError(f"cannot read password file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise AuthError(f"password file {path} is not UTF-8 text") from exc
    lines = text.splitlines()
    return lines[0] if lines else ""


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def ask_password(name: str, password_file: Path | None) -> str:
    """The acting account's password: first line of `password_file`, or one prompt on a
    terminal; refused otherwise (a script must say whose password it holds)."""
    if password_file is not None:
        password = read_first_line(password_file)
    elif _stdin_is_terminal():
        import getpass

        password = getpass.getpass(f"Password for {name}: ")
    else:
        raise AuthError(f"--as {name} needs {name}'s password: pass --password-file F "
                        "or run on a terminal to be asked")
    if not password:
        raise AuthError(f"no password given for {name}")
    return password


def authenticate(rs: Any, name: str, password_file: Path | None) -> Any:
    """The active account `name` (a `User`) once its password checks out. `rs` is a ReviewStore.
    Raises AuthError (no password) or review.accounts' WrongCredentials, TooManyAttempts,
    AccountDisabled."""
    from review.accounts import authenticate as check

    return check(rs.store, name, ask_password(name, password_file))


def shell_actor() -> str:
    """Who runs an unauthenticated command (recorded as such): the login name, marked as CLI."""
    return f"cli:{os.environ.get('USER', 'unknown')}"
