"""`counterclips user add`, `counterclips review approve|reject|request-changes|history|serve`."""

from __future__ import annotations

from flows.cli import main

from .conftest import PASSWORD


def test_user_add_from_file_and_duplicate(workspace, store, capsys, tmp_path):
    pw = tmp_path / "pw.txt"
    pw.write_text("s3cret-password\nignored second line\n")
    ws = str(workspace.root)
    assert main(["user", "add", "nora", "--role", "reviewer", "--password-file", str(pw),
                 "--workspace", ws]) == 0
    assert "created reviewer nora" in capsys.readouterr().out
    assert main(["user", "add", "nora", "--role", "admin", "--password-file", str(pw),
                 "--workspace", ws]) == 1
    assert "already exists" in capsys.readouterr().err
    short = tmp_path / "short.txt"
    short.write_text("abc\n")
    assert main(["user", "add", "x", "--role", "admin", "--password-file", str(short),
                 "--workspace", ws]) == 1
    from clips_metadata.review_store import ReviewStore
    from review.passwords import verify_password

    user, hashed = ReviewStore(store).credentials("nora")
    assert user.role == "reviewer" and verify_password(hashed, "s3cret-password")
    assert not verify_password(hashed, "ignored second line")


def test_user_add_prompts_with_getpass(workspace, store, monkeypatch, capsys):
    answers = iter(["prompted-password", "prompted-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["user", "add", "pia", "--role", "editor", "--workspace", str(workspace.root)]) == 0
    answers = iter(["one-password", "another-password"])
    assert main(["user", "add", "pib", "--role", "editor", "--workspace", str(workspace.root)]) == 1
    assert "do not match" in capsys.readouterr().err


def test_review_decisions_from_the_cli(workspace, store, seeded, capsys, tmp_path):
    ws = str(workspace.root)
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSWORD + "\n")
    me = ["--password-file", str(pw), "--version", "1", "--workspace", ws]
    risks = store.get_candidate(seeded.risky).risks
    assert main(["review", "approve", str(seeded.risky), "--as", "rita", *me]) == 1
    assert "acknowledge every risk" in capsys.readouterr().err
    acks = [a for r in risks for a in ("--ack-risk", r)]
    assert main(["review", "approve", str(seeded.risky), "--as", "rita", *acks, *me]) == 0
    assert "(1 of 2 approvals)" in capsys.readouterr().out
    assert main(["review", "approve", str(seeded.risky), "--as", "ada", *acks, "--note", "ok", *me]) == 0
    assert "-> approved" in capsys.readouterr().out
    assert main(["review", "reject", str(seeded.clean), "--as", "rolf", *me]) == 1
    assert "needs a note" in capsys.readouterr().err
    assert main(["review", "request-changes", str(seeded.clean), "--as", "rolf", "--note", "too long",
                 *me]) == 0
    assert main(["review", "approve", str(seeded.clean), "--as", "eddie", *me]) == 1
    assert main(["review", "approve", str(seeded.clean), "--as", "ghost", *me]) == 1
    capsys.readouterr()
    assert main(["review", "history", str(seeded.risky), "--workspace", ws]) == 0
    out = capsys.readouterr().out
    assert "rita\tapprove" in out and "ada\tapprove" in out


def test_serve_refuses_without_an_admin(workspace, store, capsys):
    assert main(["review", "serve", "--workspace", str(workspace.root), "--port", "1"]) == 1
    assert "no admin account" in capsys.readouterr().err
