"""Flash messages ride in their own signed cookie (issue 19): shown once on the next page, never
written to the session's row, unreadable when forged or carried over a logout."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from review.app.sessions import FLASH_COOKIE

from .test_review_app import app, login  # noqa: F401 - the fixture


def _session_writes(store) -> list[str]:
    seen: list[str] = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def _log(_conn, _cur, statement, *_a) -> None:  # noqa: ANN001
        if "sessions" in statement and not statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    return seen


def _comment(client: TestClient, token: str, candidate: int, body: str = "look here"):
    return client.post(f"/candidates/{candidate}/comments",
                       data={"csrf_token": token, "version": 1, "at": "0.5", "body": body})


def test_a_flash_is_shown_once_without_writing_the_session(app, seeded, store):  # noqa: F811
    with TestClient(app, follow_redirects=False) as client:
        token = login(client, "rita")
        client.get("/")  # the session's last_seen is fresh: nothing more to write for a minute
        writes = _session_writes(store)
        r = _comment(client, token, seeded.clean)
        assert r.status_code == 303 and FLASH_COOKIE in r.headers["set-cookie"]
        page = client.get(f"/candidates/{seeded.clean}")
        assert "comment added" in page.text
        assert "Max-Age=0" in page.headers["set-cookie"]  # shown: ended
        assert "comment added" not in client.get(f"/candidates/{seeded.clean}").text
        assert writes == []


def test_flashes_add_up_until_a_page_shows_them(app, seeded):  # noqa: F811
    with TestClient(app, follow_redirects=False) as client:
        token = login(client, "rita")
        _comment(client, token, seeded.clean)
        client.get("/media/candidates/1/subtitles.vtt")  # no page: the message waits
        r = client.post(f"/candidates/{seeded.clean}/decide",
                        data={"csrf_token": token, "action": "nonsense", "version": 1})
        assert r.status_code == 303
        text = client.get("/").text
        assert "comment added" in text and "unknown action" in text


def test_a_forged_or_foreign_flash_cookie_is_not_shown(app, seeded):  # noqa: F811
    with TestClient(app, follow_redirects=False) as client, \
            TestClient(app, follow_redirects=False) as other:
        token = login(client, "rita")
        login(other, "rolf")
        _comment(client, token, seeded.clean, body="mine")
        stolen = client.cookies[FLASH_COOKIE]
        payload, _, _tag = stolen.partition(".")
        for value in (stolen, f"{payload}.{'0' * 32}", "garbage"):
            other.cookies.set(FLASH_COOKIE, value)
            page = other.get("/")
            assert page.status_code == 200 and "comment added" not in page.text
            assert "Max-Age=0" in page.headers["set-cookie"]  # cleared, not kept


def test_a_flash_does_not_outlive_its_session(app, seeded):  # noqa: F811
    with TestClient(app, follow_redirects=False) as client:
        token = login(client, "rita")
        _comment(client, token, seeded.clean)
        client.post("/logout", data={"csrf_token": token})
        assert "comment added" not in client.get("/login").text
        login(client, "rolf")
        assert "comment added" not in client.get("/").text


def test_long_messages_keep_the_cookie_small():
    from review.app.sessions import FLASH_BYTES, _flash_read, _flash_value

    msgs = [["error", f"{i} " + "ع" * 290] for i in range(5)]
    value = _flash_value(b"k" * 32, "session", msgs)
    assert len(value) < FLASH_BYTES + 40
    kept = _flash_read(b"k" * 32, "session", value)
    assert kept and kept == msgs[-len(kept):]  # the newest kept, in order
    assert _flash_read(b"k" * 32, "other session", value) == []
