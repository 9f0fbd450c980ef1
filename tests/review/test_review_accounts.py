"""People, not flags (issue 13 item 5): CLI decisions need the user's password and name the version
watched; sessions are server-side and end at logout, disable and password change; private files."""

from __future__ import annotations

import os
import stat

import pytest
from fastapi.testclient import TestClient

from flows.cli import main
from review.app import SESSION_COOKIE, create_app

from .conftest import PASSWORD
from .test_review_app import TOKEN, login


@pytest.fixture
def app(workspace, store, seeded):
    return create_app(workspace, store=store, session_key=b"t" * 32)


@pytest.fixture
def pw(tmp_path):
    path = tmp_path / "pw.txt"
    path.write_text(PASSWORD + "\n")
    return path


def _decide(ws, cid, *extra: str, who: str = "rita", action: str = "approve") -> int:
    return main(["review", action, str(cid), "--as", who, "--workspace", str(ws.root), *extra])


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# ------------------------------------------------------------------------------ the CLI


def test_cli_refuses_a_decision_without_the_password(workspace, store, seeded, capsys, monkeypatch):
    monkeypatch.setattr("flows.cli.auth._stdin_is_terminal", lambda: False)
    assert _decide(workspace, seeded.clean, "--version", "1") == 1
    err = capsys.readouterr().err
    assert "needs rita's password" in err and "--password-file F" in err and err.count("\n") == 1
    assert store.get_candidate(seeded.clean).status == "proposed"


def test_cli_refuses_a_wrong_password_and_throttles_in_the_database(workspace, store, seeded, capsys,
                                                                   tmp_path, pw):
    from clips_metadata.accounts_repo import AccountsRepo
    from review.accounts import MAX_FAILURES, WINDOW

    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not-the-password\n")
    for _ in range(MAX_FAILURES):
        assert _decide(workspace, seeded.clean, "--password-file", str(wrong), "--version", "1") == 1
        assert "wrong name or password" in capsys.readouterr().err
    # the count lives in the store, so every process (and the web login) sees it
    assert AccountsRepo(store).recent_failures("rita", WINDOW) == MAX_FAILURES
    assert _decide(workspace, seeded.clean, "--password-file", str(pw), "--version", "1") == 1
    assert "too many failed attempts" in capsys.readouterr().err
    assert store.get_candidate(seeded.clean).status == "proposed"
    # rolf is not throttled by rita's failures; a success clears his own count
    assert _decide(workspace, seeded.clean, "--password-file", str(pw), "--version", "1", who="rolf") == 0
    assert store.get_candidate(seeded.clean).status == "approved"


def test_cli_decision_with_password_file_or_terminal_prompt(workspace, store, seeded, capsys, pw,
                                                            monkeypatch):
    assert _decide(workspace, seeded.clean, "--password-file", str(pw), "--version", "1") == 0
    assert "proposed -> approved" in capsys.readouterr().out
    monkeypatch.setattr("flows.cli.auth._stdin_is_terminal", lambda: True)
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or PASSWORD)
    assert _decide(workspace, seeded.low, "--version", "1", "--note", "off topic", action="reject") == 0
    assert prompts == ["Password for rita: "]
    assert store.get_candidate(seeded.low).status == "rejected"
    events = __import__("clips_metadata.review_store").review_store.ReviewStore(store).history(seeded.low)
    assert [(e.actor, e.action) for e in events] == [("rita", "reject")]


def test_cli_decision_names_the_version_watched_and_refuses_a_stale_one(workspace, store, seeded, capsys,
                                                                       pw):
    from review.service import ReviewService

    assert _decide(workspace, seeded.clean, "--password-file", str(pw)) == 1
    assert "--version N" in capsys.readouterr().err
    ReviewService.over(store).edit(seeded.clean, 1, {"end": store.get_candidate(seeded.clean).end - 0.5},
                                   actor="eddie", role="editor")
    assert _decide(workspace, seeded.clean, "--password-file", str(pw), "--version", "1") == 1
    assert "version 2, not the version 1 you watched" in capsys.readouterr().err
    assert store.get_candidate(seeded.clean).status == "proposed"
    # a plan hash that is not the current plan's is refused, never waved through
    assert _decide(workspace, seeded.clean, "--password-file", str(pw), "--plan", "ab" * 32) == 1
    assert "plan" in capsys.readouterr().err
    assert _decide(workspace, seeded.clean, "--password-file", str(pw), "--version", "2") == 0
    assert store.get_candidate(seeded.clean).status == "approved"


def test_serve_binds_to_loopback_by_default():
    from flows.cli import build_parser

    args = build_parser().parse_args(["review", "serve"])
    assert args.host == "127.0.0.1"


# ------------------------------------------------------------------ sessions and accounts


def test_session_is_server_side_and_a_cookie_from_before_logout_gets_401(app, store, seeded):
    from clips_metadata.accounts_repo import AccountsRepo

    with TestClient(app, follow_redirects=False) as c:
        token = login(c, "rita")
        old = c.cookies.get(SESSION_COOKIE)
        assert "rita" not in old and "csrf" not in old
        (live,) = AccountsRepo(store).sessions_of("rita")
        assert live.id_hash not in old  # only the token's hash is stored
        assert c.post("/logout", data={"csrf_token": token}).status_code == 303
        assert AccountsRepo(store).sessions_of("rita") == ()
        assert c.get("/").status_code == 303  # the same browser, now anonymous: to the login form
    for url in ("/", f"/candidates/{seeded.clean}"):
        # a fresh client each time: the 401 page hands out a new anonymous session
        with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: old}) as thief:
            r = thief.get(url)
            assert r.status_code == 401 and 'action="/login"' in r.text and "session has ended" in r.text
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: old}) as thief:
        assert thief.get(f"/media/candidates/{seeded.clean}/subtitles.vtt").status_code == 401
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: old}) as thief:
        r = thief.post(f"/candidates/{seeded.clean}/decide",
                       data={"csrf_token": token, "action": "approve", "version": 1})
        assert r.status_code in (401, 403)
    assert store.get_candidate(seeded.clean).status == "proposed"
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: "forged.cookie"}) as forger:
        assert forger.get("/").status_code == 401


def test_disabling_a_user_ends_their_sessions_and_refuses_login(app, workspace, store, seeded, capsys, pw):
    with TestClient(app, follow_redirects=False) as c:
        login(c, "rolf")
        assert c.get("/").status_code == 200
        assert main(["user", "disable", "rolf", "--workspace", str(workspace.root)]) == 0
        assert "disabled rolf (ended 1 session)" in capsys.readouterr().out
        assert c.get("/").status_code == 401
        token = TOKEN.search(c.get("/login").text).group(1)
        r = c.post("/login", data={"username": "rolf", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 403 and "disabled" in r.text
    assert _decide(workspace, seeded.clean, "--password-file", str(pw), "--version", "1", who="rolf") == 1
    assert "is disabled" in capsys.readouterr().err
    assert main(["user", "list", "--workspace", str(workspace.root)]) == 0
    assert "rolf\treviewer\tdisabled" in capsys.readouterr().out
    assert main(["user", "enable", "rolf", "--workspace", str(workspace.root)]) == 0
    with TestClient(app, follow_redirects=False) as c:
        login(c, "rolf")
    # the last active admin cannot be disabled (nobody could start the app again)
    assert main(["user", "disable", "ada", "--workspace", str(workspace.root)]) == 1
    assert "last active admin" in capsys.readouterr().err
    assert main(["user", "disable", "ghost", "--workspace", str(workspace.root)]) == 1


def test_changing_a_password_ends_sessions_and_the_old_password(app, workspace, store, seeded, capsys,
                                                                tmp_path, pw):
    new = tmp_path / "new.txt"
    new.write_text("a-brand-new-password\n")
    with TestClient(app, follow_redirects=False) as c:
        login(c, "rita")
        assert main(["user", "password", "rita", "--password-file", str(new),
                     "--workspace", str(workspace.root)]) == 0
        assert "ended 1 session" in capsys.readouterr().out
        assert c.get(f"/candidates/{seeded.clean}").status_code == 401
    assert _decide(workspace, seeded.clean, "--password-file", str(pw), "--version", "1") == 1
    assert _decide(workspace, seeded.clean, "--password-file", str(new), "--version", "1") == 0


def test_password_command_prompts_twice(workspace, store, users, monkeypatch, capsys):
    answers = iter(["another-password", "another-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["user", "password", "eddie", "--workspace", str(workspace.root)]) == 0
    from clips_metadata.review_store import ReviewStore
    from review.passwords import verify_password

    assert verify_password(ReviewStore(store).credentials("eddie")[1], "another-password")


# ------------------------------------------------------------------------------ file modes


def test_workspace_store_and_transcripts_are_private(tmp_path, monkeypatch):
    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace
    from pipeline.atomic import PRIVATE, write_json_atomic

    monkeypatch.delenv("COUNTERCLIPS_DB_URL", raising=False)
    ws = Workspace(tmp_path / "fresh").ensure()
    assert _mode(ws.root) == 0o700
    with Store.for_workspace(ws) as s:
        s.add_interviewee("Abu")
        assert _mode(ws.database) == 0o600
        for suffix in ("-wal", "-shm"):
            companion = ws.database.with_name(ws.database.name + suffix)
            if companion.exists():
                assert _mode(companion) == 0o600, suffix
    written = write_json_atomic(ws.transcripts / "t.json", {"words": []}, mode=PRIVATE)
    assert _mode(written) == 0o600


def test_existing_loose_modes_are_fixed_at_open(tmp_path, monkeypatch):
    from clips_metadata.store import Store
    from clips_metadata.workspace import Workspace

    monkeypatch.delenv("COUNTERCLIPS_DB_URL", raising=False)
    ws = Workspace(tmp_path / "old").ensure()
    Store.for_workspace(ws).close()
    old = ws.transcripts / "old.json"
    old.write_text("{}")
    for p in (ws.root, ws.database, old):
        p.chmod(0o755 if p.is_dir() else 0o644)
    ws = Workspace(ws.root).ensure()
    Store.for_workspace(ws).close()
    assert (_mode(ws.root), _mode(ws.database), _mode(old)) == (0o700, 0o600, 0o600)


def test_ingested_transcript_file_is_private(workspace, store, seeded):
    from flows.services.ingesting import _write_transcript_file
    from pipeline.records import Transcript

    iv = store.get_interview(seeded.interview_clean)
    transcript = Transcript(language="en", language_probability=1.0, duration=1.0, segments=(),
                            backend="test", model="none")
    assert _mode(_write_transcript_file(workspace, iv, transcript)) == 0o600


def test_no_cookie_value_but_a_real_token_names_a_session():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from review.app.sessions import ServerSessionMiddleware, _tag

    mw = ServerSessionMiddleware(None, secret_key=b"k" * 32, session_cookie=SESSION_COOKIE, max_age=60)

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=200))
    def check(value: str) -> None:
        token = mw._token_of(f"{SESSION_COOKIE}={value}")
        # anything not minted with the key is refused (None: unparsable header, "": forged)
        assert token in (None, "") or value == f"{token}.{_tag(b'k' * 32, token)}"

    check()
    assert mw._token_of(f"{SESSION_COOKIE}=abc.{_tag(b'k' * 32, 'abc')}") == "abc"
    assert mw._token_of("other=1") is None
