"""Login and logout."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from review.app.deps import RS, csrf_token, render, safe_next
from review.passwords import dummy_verify, verify_password

router = APIRouter()

MAX_FAILURES = 5  # per account name within WINDOW seconds, per server process
WINDOW = 300.0
_failures: dict[str, list[float]] = {}
_lock = threading.Lock()


def _recent_failures(name: str, now: float) -> int:
    with _lock:
        recent = [t for t in _failures.get(name, []) if now - t < WINDOW]
        _failures[name] = recent
        return len(recent)


def _fail(name: str, now: float) -> None:
    with _lock:
        _failures.setdefault(name, []).append(now)
        if len(_failures) > 10_000:  # bound memory against name spraying
            _failures.clear()


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002 - query name
    if request.session.get("user"):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "error": ""})


@router.post("/login")
def login(
    request: Request,
    rs: RS,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/",  # noqa: A002 - form field name
) -> Response:
    name = username.strip()
    now = time.monotonic()
    if _recent_failures(name, now) >= MAX_FAILURES:
        return render(request, "login.html", {"next": safe_next(next),
                      "error": "Too many failed attempts for this name; wait a few minutes."},
                      status_code=429)
    found = rs.credentials(name)
    if found is None:
        dummy_verify(password)  # same time as a wrong password: do not reveal which names exist
        ok = False
    else:
        user, stored = found
        ok = user.active and verify_password(stored, password)
    if not ok:
        _fail(name, now)
        return render(request, "login.html", {"next": safe_next(next), "error": "Wrong name or password."},
                      status_code=401)
    # a fresh session (and CSRF token) on every login
    request.session.clear()
    with _lock:
        _failures.pop(name, None)
    request.session["user"] = found[0].name
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    csrf_token(request)
    return RedirectResponse("/login", status_code=303)
