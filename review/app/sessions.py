"""Server-side sessions for the review app.

The cookie carries only a random token with an HMAC tag (so garbage is refused without a database
read); the session's data live in the `sessions` table under the token's sha256. Logout,
disabling the user and a password change delete the row, so a copy of an old cookie is worth
nothing: `request.scope["session_stale"]` then tells the app to answer 401.

Routes use `request.session` like Starlette's dict session; `ServerSession.regenerate()` asks
for a new token (login and logout, against session fixation).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

from clips_metadata.accounts_repo import AccountsRepo
from clips_metadata.rows import utc_now

TOUCH_EVERY = timedelta(minutes=1)  # last_seen is refreshed at most this often (one write)
ANONYMOUS_LIFETIME = timedelta(hours=1)  # a login form's CSRF session


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
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
        except Exception:  # noqa: BLE001 - a malformed Cookie header is just no session
            return None
        morsel = jar.get(self.cookie)
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
        token = self._token_of(headers.get(b"cookie", b"").decode("latin-1"))
        stored = await to_thread.run_sync(repo.load_session, _id_hash(token)) if token else None
        session = ServerSession(stored.data if stored else {}, stored.id_hash if stored else None)
        scope["session"] = session
        scope["session_user"] = stored.user if stored else None  # its account, read with it
        # a cookie was sent but names no live session: logged out, disabled, password changed
        scope["session_stale"] = token is not None and stored is None

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                # most responses change nothing: those skip the trip through the thread pool
                cookie = None if self._unchanged(session, stored) else await to_thread.run_sync(
                    self._persist, repo, session, stored, token is not None)
                if cookie is not None:
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"set-cookie", cookie.encode("latin-1"))]}
            await send(message)

        await self.app(scope, receive, send_wrapper)

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
