"""Login and logout. The password check and its throttle are `review.accounts.authenticate`,
shared with the CLI; the session is server-side (`review/app/sessions.py`)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from review.accounts import AccountDisabled, TooManyAttempts, WrongCredentials, authenticate
from review.app.deps import RS, csrf_token, render, safe_next

router = APIRouter()


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
    def refuse(error: str, status: int) -> Response:
        return render(request, "login.html", {"next": safe_next(next), "error": error}, status_code=status)

    try:
        user = authenticate(rs.store, username, password)
    except TooManyAttempts:
        return refuse("Too many failed attempts for this name; wait a few minutes.", 429)
    except AccountDisabled:
        return refuse("This account is disabled.", 403)
    except WrongCredentials:
        return refuse("Wrong name or password.", 401)
    # a fresh session (new token, new CSRF token) on every login
    request.session.clear()
    request.session.regenerate()
    request.session["user"] = user.name
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    # the stored session is deleted; the browser gets a new anonymous one for the login form
    request.session.clear()
    request.session.regenerate()
    csrf_token(request)
    return RedirectResponse("/login", status_code=303)
