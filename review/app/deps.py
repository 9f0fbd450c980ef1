"""Dependencies of the review app: the store, the logged-in user, CSRF, templates, errors."""

from __future__ import annotations

import hmac
import re
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from clips_metadata.errors import ConflictError, DuplicateError, NotFoundError, StoreError
from clips_metadata.review_store import ReviewStore, User
from pipeline.errors import CounterclipsError
from pipeline.translation.limits import is_rtl_language
from review import present
from review.rules import ReviewError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class NoAdmin(CounterclipsError):
    """The review app refuses to start without at least one admin account."""


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, media and POSTs answer 401; a cookie
    whose session has ended gets 401 everywhere (the page then shows the login form)."""


class Forbidden(CounterclipsError):
    """The user's role does not allow this page or action."""


def make_templates(directory: Path) -> Jinja2Templates:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    # Autoescape everything: transcript text, notes and names are untrusted.
    # auto_reload off: templates are compiled once per process (each include was a stat per render).
    env = Environment(loader=FileSystemLoader(str(directory)), autoescape=True, undefined=StrictUndefined,
                      auto_reload=False, cache_size=-1)
    env.globals.update(label_class=present.label_class, label_title=present.label_title,
                       label_colour=present.label_colour, label_chips=present.label_chips,
                       queue_rows=present.queue_rows,
                       is_risk=present.is_risk, words_html=present.words_html,
                       add_label_options=present.add_label_options)
    # One table decides the direction of a language everywhere (pipeline.translation.limits).
    env.tests["rtl_language"] = lambda lang: bool(lang) and is_rtl_language(lang)
    env.filters["secs"] = lambda t: f"{float(t):.2f}"
    env.filters["clock"] = lambda t: f"{int(float(t) // 60)}:{float(t) % 60:05.2f}"
    return Jinja2Templates(env=env)


async def get_review_store(request: Request) -> ReviewStore:
    # async: no I/O here, so no trip through the thread pool (issue 19: each costs the event loop)
    return request.app.state.review_store


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_protect(request: Request) -> None:
    """Every state-changing request must echo the session's token (form field or header)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf") or ""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise HTTPException(status_code=403, detail="CSRF token missing or invalid; reload the page")


RS = Annotated[ReviewStore, Depends(get_review_store)]


async def current_user(request: Request, rs: RS) -> User:
    name = request.session.get("user")
    if not name:
        raise LoginRequired()
    # The account as read with the session in this request (one statement), else read now (in
    # the thread pool: the database is not touched on the event loop).
    user = request.scope.get("session_user")
    if user is None or user.name != name:
        from starlette.concurrency import run_in_threadpool

        user = await run_in_threadpool(rs.get_user, name)
    if user is None or not user.active:
        request.session.clear()
        request.scope["session_stale"] = True
        raise LoginRequired()
    request.state.user = user  # the page's partials ask for it again
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"a {user.role} may not do this")


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message for the next page this browser shows (review/app/sessions.py: `Flashes`)."""
    request.scope["flashes"].add(kind, message[:300])


def _take_flashes(request: Request) -> list[list[str]]:
    flashes = request.scope.get("flashes")
    return flashes.take() if flashes is not None else []


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
           user: User | None = None) -> HTMLResponse:
    ctx = {"user": user, "csrf_token": csrf_token(request), "flashes": _take_flashes(request),
           **context}
    return request.app.state.templates.TemplateResponse(request, name, ctx, status_code=status_code)


def safe_next(target: str | None) -> str:
    """Only same-site absolute paths: no scheme, no `//host`, no backslashes."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class SecurityHeaders:
    """Pure ASGI middleware: CSP and friends on every response."""

    HEADERS = (
        (b"content-security-policy",
         b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         b"media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"cache-control", b"no-store"),
    )

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, wrapped)


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and not request.url.path.startswith("/media/")


def _error_page(request: Request, status: int, message: str) -> Response:
    if not _wants_html(request) and request.method != "POST":
        return PlainTextResponse(message, status_code=status)
    if "session" not in request.scope:  # failed before the session was read: no user, no form
        return request.app.state.templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message, "user": None, "csrf_token": "",
                                    "flashes": []}, status_code=status)
    try:
        user = request.app.state.review_store.get_user(request.session.get("user", "")) \
            if request.session.get("user") else None
    except Exception:  # noqa: BLE001 - an error page must not fail
        user = None
    return render(request, "error.html", {"status": status, "message": message}, status, user=user)


_CANDIDATE_FORM = re.compile(
    r"^/candidates/(\d{1,10})/(decide|trim|text|export|cues/[^/]+|comments(/\d+/resolve)?)$")


def install_error_handlers(app: Any) -> None:
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        stale = bool(request.scope.get("session_stale"))
        if _wants_html(request) and stale:
            # an ended session (logout, disabled, new password): 401, with the form to log in again
            return render(request, "login.html", {"next": safe_next(request.url.path),
                          "error": "Your session has ended. Log in again."}, status_code=401)
        if _wants_html(request):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return PlainTextResponse("login required", status_code=401)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error_page(request, exc.status_code, str(exc.detail))

    async def named(request: Request, exc: CounterclipsError) -> Response:
        status = 400
        if isinstance(exc, NotFoundError):
            status = 404
        elif isinstance(exc, (ConflictError, ReviewError, DuplicateError)):
            status = 409
        elif isinstance(exc, Forbidden):
            status = 403
        elif isinstance(exc, StoreError):
            status = 400
        back = _CANDIDATE_FORM.match(request.url.path) if request.method == "POST" else None
        if back and status in (400, 409):
            # a refused form goes back to its page with the reason, like any other outcome
            flash(request, str(exc), "error")
            return RedirectResponse(f"/candidates/{back.group(1)}", status_code=303)
        return _error_page(request, status, str(exc))

    async def invalid(request: Request, exc: Exception) -> Response:
        # A malformed address (/candidates/abc) is a page that does not exist; a malformed form
        # goes back to its page with the reason. Never raw JSON.
        errors = getattr(exc, "errors", lambda: [])()
        where = {str(e.get("loc", ("",))[0]) for e in errors}
        if request.method == "GET" and "path" in where:
            return _error_page(request, 404, "There is no such page: check the address.")
        fields = ", ".join(sorted({str(e.get("loc", ("", ""))[-1]) for e in errors})) or "the form"
        message = f"Check {fields}: a value is missing or not valid."
        back = _CANDIDATE_FORM.match(request.url.path) if request.method == "POST" else None
        if back:
            flash(request, message, "error")
            return RedirectResponse(f"/candidates/{back.group(1)}", status_code=303)
        return _error_page(request, 422, message)

    async def unexpected(request: Request, exc: Exception) -> Response:
        from sqlalchemy.exc import OperationalError, TimeoutError

        if isinstance(exc, TimeoutError) or (isinstance(exc, OperationalError) and "locked" in str(exc)):
            # Overload, not a fault: the transaction was rolled back and can simply be sent again.
            return _error_page(request, 503, "The server is busy and saved nothing. Try again in a moment.")
        return _error_page(request, 500,
                           "Something went wrong on our side. Your last change may not be saved.")

    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, unexpected)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(CounterclipsError, named)
    app.add_exception_handler(present.TrimError, named)
