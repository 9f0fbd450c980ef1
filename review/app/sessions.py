"""Server-side sessions for the review app.

The cookie carries only a random token with an HMAC tag (so garbage is refused without a database
read); the session's data live in the `sessions` table under the token's sha256. Logout,
disabling the user and a password change delete the row, so a copy of an old cookie is worth
nothing: `request.scope["session_stale"]` then tells the app to answer 401.

Routes use `request.session` like Starlette's dict session; `ServerSession.regenerate()` asks
for a new token (login and logout, against session fixation).

Flash messages ("comment added", a refusal's reason) ride in a cookie of their own (`Flashes`),
signed and bound to the session, not in the session's row: kept there, setting one and showing it
were two session writes, about 3 of the 7 write transactions of a reviewer's round (issue 19).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

from clips_metadata.accounts_repo import AccountsRepo
from clips_metadata.rows import utc_now

TOUCH_EVERY = timedelta(minutes=1)  # last_seen is refreshed at most this often (one write)
ANONYMOUS_LIFETIME = timedelta(hours=1)  # a login form's CSRF session
FLASH_COOKIE = "cc_flash"
FLASH_KEEP = 5  # messages kept until a page shows them
FLASH_SECONDS = 600  # a message not shown by then is dropped by the browser
FLASH_BYTES = 3000  # the cookie's payload at most


class ServerSession(dict):  # type: ignore[type-arg] - the shape Starlette's request.session has
    """The session's data, plus what the middleware needs to know when the response starts."""

    def __init__(self, data: dict[str, Any], id_hash: str | None) -> None:
        super().__init__(data)
        self.id_hash = id_hash
        self.loaded = dict(data)
        self.rotate = False

    def regenerate(self) -> None:
        """Issue a new token when the response starts; the old row is deleted."""
        self.rotate = True


class Flashes:
    """This request's flash messages: those the browser brought (`pending`, verified) and those
    added now; a page shows and ends all of them, and the rest go back in the cookie."""

    def __init__(self, pending: list[list[str]], cookie: bool) -> None:
        self.pending = pending
        self.sent = list(pending)  # what the browser holds now: the cookie changes only if this does
        self.cookie = cookie  # the browser sent a flash cookie (valid or not)
        self.added: list[list[str]] = []

    def add(self, kind: str, message: str) -> None:
        self.added.append([kind, message])

    def take(self) -> list[list[str]]:
        """Every message to show now (pending first), ended."""
        out = [*self.pending, *self.added][-FLASH_KEEP:]
        self.pending, self.added = [], []
        return out

    def left(self) -> list[list[str]]:
        return [*self.pending, *self.added][-FLASH_KEEP:]


def _flash_tag(key: bytes, id_hash: str, payload: str) -> str:
    # bound to the session: after a logout or a login, messages of the old session are not shown
    return hmac.new(key, f"flash:{id_hash}:{payload}".encode(), hashlib.sha256).hexdigest()[:32]


def _flash_read(key: bytes, id_hash: str | None, value: str | None) -> list[list[str]]:
    if not value or not id_hash:
        return []
    payload, _, tag = value.partition(".")
    if not hmac.compare_digest(tag.encode(), _flash_tag(key, id_hash, payload).encode()):
        return []
    try:
        msgs = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, TypeError):
        return []
    if not isinstance(msgs, list):
        return []
    return [[str(m[0]), str(m[1])] for m in msgs if isinstance(m, list) and len(m) == 2][-FLASH_KEEP:]


def _flash_value(key: bytes, id_hash: str, msgs: list[list[str]]) -> str:
    while True:  # the oldest messages give way so the cookie stays well under browsers' 4 kB
        payload = base64.urlsafe_b64encode(json.dumps(msgs, ensure_ascii=False).encode()).decode()
        if len(payload) <= FLASH_BYTES or len(msgs) <= 1:  # one message (<= 300 characters) fits
            return f"{payload}.{_flash_tag(key, id_hash, payload)}"
        msgs = msgs[1:]


def _tag(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:32]


def _id_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSessionMiddleware:
    """Pure ASGI middleware. The store is read from `app.state.review_store` per request (it is
    set in the app's lifespan)."""

    def __init__(self, app: Any, *, secret_key: bytes, session_cookie: str, max_age: int,
                 same_site: str = "strict", https_only: bool = False) -> None:
        self.app = app
        self.key = secret_key
        self.cookie = session_cookie
        self.lifetime = timedelta(seconds=max_age)
        flags = f"; path=/; HttpOnly; SameSite={same_site}"
        self.flags = flags + ("; Secure" if https_only else "")

    def _token_of(self, cookie_header: str) -> str | None:
        return self._cookies(cookie_header)[0]

    def _cookies(self, cookie_header: str) -> tuple[str | None, str | None]:
        """(the session's token, the flash cookie's value), from one parse of the header."""
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
        except Exception:  # noqa: BLE001 - a malformed Cookie header is just no session
            return None, None
        flash = jar.get(FLASH_COOKIE)
        return self._verified(jar.get(self.cookie)), flash.value if flash is not None else None

    def _verified(self, morsel: Any) -> str | None:
        if morsel is None:
            return None
        token, _, tag = morsel.value.partition(".")
        if not token or not hmac.compare_digest(tag.encode(), _tag(self.key, token).encode()):
            return ""  # sent but forged or garbled: treated like an ended session
        return token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from anyio import to_thread

        repo = AccountsRepo(scope["app"].state.review_store.store)
        headers = dict((k.lower(), v) for k, v in scope.get("headers", []))
        token, flash_value = self._cookies(headers.get(b"cookie", b"").decode("latin-1"))
        stored = await to_thread.run_sync(repo.load_session, _id_hash(token)) if token else None
        session = ServerSession(stored.data if stored else {}, stored.id_hash if stored else None)
        flashes = Flashes(_flash_read(self.key, session.id_hash, flash_value), bool(flash_value))
        scope["session"] = session
        scope["flashes"] = flashes
        scope["session_user"] = stored.user if stored else None  # its account, read with it
        # a cookie was sent but names no live session: logged out, disabled, password changed
        scope["session_stale"] = token is not None and stored is None

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                # most responses change nothing: those skip the trip through the thread pool
                cookie = None if self._unchanged(session, stored) else await to_thread.run_sync(
                    self._persist, repo, session, stored, token is not None)
                cookies = [(b"set-cookie", c.encode("latin-1"))
                           for c in (cookie, self._flash_cookie(flashes, session)) if c is not None]
                if cookies:
                    message = {**message, "headers": [*message.get("headers", []), *cookies]}
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _flash_cookie(self, flashes: Flashes, session: ServerSession) -> str | None:
        """The flash cookie's Set-Cookie value when the messages the browser holds change."""
        left = flashes.left() if session.id_hash else []
        if not left:  # all shown, or none that this session may read (forged, an ended session's)
            return f"{FLASH_COOKIE}=; Max-Age=0{self.flags}" if flashes.cookie else None
        if left == flashes.sent:
            return None
        value = _flash_value(self.key, session.id_hash or "", left)
        return f"{FLASH_COOKIE}={value}; Max-Age={FLASH_SECONDS}{self.flags}"

    @staticmethod
    def _unchanged(session: ServerSession, stored: Any) -> bool:
        """Whether `_persist` would write nothing and send no cookie (checked on the event loop)."""
        return (stored is not None and session.id_hash is not None and not session.rotate
                and bool(session) and dict(session) == session.loaded
                and utc_now() - stored.last_seen < TOUCH_EVERY)

    def _persist(self, repo: AccountsRepo, session: ServerSession, stored: Any, sent: bool) -> str | None:
        """Write what changed; return the Set-Cookie value to send, if any."""
        now = utc_now()
        data = dict(session)
        user = data.get("user") if isinstance(data.get("user"), str) else None
        if session.id_hash and (session.rotate or not data):
            repo.end_session(session.id_hash)
            session.id_hash = None
        if not data:
            return f"{self.cookie}=; Max-Age=0{self.flags}" if sent else None
        if session.id_hash is None:
            token = secrets.token_urlsafe(32)
            lifetime = self.lifetime if user else min(self.lifetime, ANONYMOUS_LIFETIME)
            repo.create_session(_id_hash(token), user, data, lifetime, now)
            session.id_hash = _id_hash(token)
            return (f"{self.cookie}={token}.{_tag(self.key, token)}; "
                    f"Max-Age={int(lifetime.total_seconds())}{self.flags}")
        if data != session.loaded:
            repo.save_session(session.id_hash, user, data, now)
        elif stored is not None and now - stored.last_seen >= TOUCH_EVERY:
            repo.touch_session(session.id_hash, now)
        return None
