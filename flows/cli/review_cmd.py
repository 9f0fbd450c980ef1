"""`counterclips user ...` and `counterclips review ...`: accounts, scripted review decisions, and
the review web app."""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager
from pathlib import Path

from flows.cli.auth import add_auth_args, authenticate
from flows.cli.usage import UsageError
from flows.cli.workspace_store import open_store
from pipeline.labels import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    user = sub.add_parser("user", help="manage review accounts")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="create an account (password from a prompt or a file)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-file", type=Path, help="read the password from the first line of this file")
    add.add_argument("--workspace", help="workspace directory (default $COUNTERCLIPS_HOME)")
    add.set_defaults(func=cmd_user_add)
    ls = usub.add_parser("list", help="list accounts")
    ls.add_argument("--workspace")
    ls.set_defaults(func=cmd_user_list)
    for name, active, help_ in (("disable", False, "disable an account and end its sessions"),
                                ("enable", True, "enable a disabled account")):
        p = usub.add_parser(name, help=help_)
        p.add_argument("name")
        p.add_argument("--workspace")
        p.set_defaults(func=cmd_user_active, active=active)
    pw = usub.add_parser("password", help="set a new password (ends the account's sessions)")
    pw.add_argument("name")
    pw.add_argument("--password-file", type=Path,
                    help="read the new password from the first line of this file")
    pw.add_argument("--workspace")
    pw.set_defaults(func=cmd_user_password)

    review = sub.add_parser("review", help="review decisions and the review web app")
    rsub = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    decisions = (("approve", "approve", "approve the candidate's current version"),
                 ("reject", "reject", "reject the candidate (needs --note)"),
                 ("request-changes", "request_changes", "send back for changes (needs --note)"))
    for name, action, help_ in decisions:
        p = rsub.add_parser(name, help=help_)
        p.add_argument("candidate_id", type=int, metavar="CANDIDATE_ID")
        add_auth_args(p, required=True)
        p.add_argument("--version", type=int, metavar="N", help="the candidate version you watched")
        p.add_argument("--ack-risk", action="append", default=[], metavar="ID",
                       help="acknowledge a risk (repeat for each risk the candidate carries)")
        p.add_argument("--note", default="")
        p.add_argument("--plan", default=None, metavar="HASH",
                       help="the publication plan hash you watched (see `review plan`); another is refused")
        p.add_argument("--workspace")
        p.set_defaults(func=cmd_decide, action=action)
    plan = rsub.add_parser("plan", help="print the hash of the publication plan reviewers watch now")
    plan.add_argument("candidate_id", type=int, metavar="CANDIDATE_ID")
    plan.add_argument("--workspace")
    plan.set_defaults(func=cmd_plan)
    label = rsub.add_parser(
        "label", help="correct a sentence's flags: dismiss a false flag, add a missed label",
        description="Record an audited correction of one transcript sentence's labels. It teaches "
        "`counterclips flagger learn`; it never lowers the reviewers a version needs.")
    label.add_argument("candidate_id", type=int, metavar="CANDIDATE_ID")
    label.add_argument("--sentence", type=int, required=True, metavar="N",
                       help="index of the sentence in the candidate's transcript")
    label.add_argument("--add", action="append", default=[], metavar="LABEL",
                       help="a missed label (repeatable)")
    label.add_argument("--remove", action="append", default=[], metavar="LABEL",
                       help="a false flag to dismiss (repeatable)")
    label.add_argument("--reason", required=True, help="why the flags are wrong")
    add_auth_args(label, required=True)
    label.add_argument("--workspace")
    label.set_defaults(func=cmd_label)
    hist = rsub.add_parser("history", help="print a candidate's audit log")
    hist.add_argument("candidate_id", type=int, metavar="CANDIDATE_ID")
    hist.add_argument("--workspace")
    hist.set_defaults(func=cmd_history)
    serve = rsub.add_parser("serve", help="run the review web app (127.0.0.1 unless told otherwise)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--workspace")
    serve.add_argument("--secure-cookies", action="store_true",
                       help="mark the session cookie Secure (behind HTTPS)")
    serve.add_argument("--workers", type=int, default=1,
                       help="uvicorn worker processes (1; more serve more reviewers at once)")
    serve.set_defaults(func=cmd_serve)


@contextmanager
def _open(args: argparse.Namespace):  # noqa: ANN202 - store types imported lazily
    """`open_store`, with the review store over it."""
    from clips_metadata.review_store import ReviewStore

    with open_store(args) as (ws, store):
        yield ws, ReviewStore(store)


def read_password(path: Path | None) -> str:
    """A new password: first line of `path`, or a prompt (asked twice)."""
    if path is not None:
        from flows.cli.auth import read_first_line

        return read_first_line(path)
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise UsageError("the passwords do not match")
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    from review.passwords import hash_password

    password = read_password(args.password_file)
    hashed = hash_password(password)
    with _open(args) as (_, rs):
        user = rs.add_user(args.name, args.role, hashed)
    print(f"created {user.role} {user.name}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    with _open(args) as (_, rs):
        for u in rs.list_users():
            print(f"{u.name}\t{u.role}\t{'active' if u.active else 'disabled'}")
    return 0


def cmd_user_active(args: argparse.Namespace) -> int:
    from clips_metadata.accounts_repo import AccountsRepo

    with _open(args) as (_, rs):
        ended = AccountsRepo(rs.store).set_active(args.name, args.active)
    if args.active:
        print(f"enabled {args.name}")
    else:
        print(f"disabled {args.name} (ended {ended} session{'s' if ended != 1 else ''})")
    return 0


def cmd_user_password(args: argparse.Namespace) -> int:
    from clips_metadata.accounts_repo import AccountsRepo
    from review.passwords import hash_password

    hashed = hash_password(read_password(args.password_file))
    with _open(args) as (_, rs):
        ended = AccountsRepo(rs.store).change_password(args.name, hashed)
    print(f"new password for {args.name} (ended {ended} session{'s' if ended != 1 else ''})")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from review.plans import Planner

    with _open(args) as (ws, rs):
        current = Planner.for_workspace(rs.store, ws).review_plan(args.candidate_id)
    if current.plan is None:
        raise UsageError(f"candidate {args.candidate_id} has no publication plan: {current.problem}")
    print(current.hash)
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    from review.plans import Planner
    from review.service import ReviewService

    if args.version is None and args.plan is None:
        raise UsageError("name what you watched: --version N (or --plan HASH, see `review plan`)")
    with _open(args) as (ws, rs):
        user = authenticate(rs, args.actor, args.password_file)
        svc = ReviewService(rs, Planner.for_workspace(rs.store, ws))
        d = svc.act(args.candidate_id, args.action, actor=user.name, role=user.role,
                    acknowledged_risks=args.ack_risk, note=args.note, plan_hash=args.plan,
                    watched_version=args.version)
    extra = ""
    if d.records_approval and d.approvals_after < d.approvals_needed:
        extra = f" ({d.approvals_after} of {d.approvals_needed} approvals)"
    print(f"candidate {args.candidate_id}: {d.from_state.value} -> {d.to_state.value}{extra}")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    from clips_metadata.corrections_repo import CorrectionsRepo
    from review.labelling import correct_labels

    with _open(args) as (_, rs):
        user = authenticate(rs, args.actor, args.password_file)
        c = correct_labels(CorrectionsRepo(rs.store), args.candidate_id, args.sentence, add=args.add,
                           remove=args.remove, reason=args.reason, actor=user.name, role=user.role)
    parts = [f"+{x}" for x in c.added] + [f"-{x}" for x in c.removed]
    print(f"candidate {args.candidate_id} sentence {args.sentence}: {' '.join(parts)} (correction {c.id})")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    with _open(args) as (_, rs):
        events = rs.history(args.candidate_id)
    for e in events:
        acks = f" acks={','.join(e.acknowledged_risks)}" if e.acknowledged_risks else ""
        print(f"{e.created_at.isoformat(timespec='seconds')}\t{e.actor}\t{e.action}\t"
              f"{e.from_state}->{e.to_state}\tv{e.from_version}->v{e.to_version}{acks}\t{e.note}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from review.app.deps import NoAdmin

    with _open(args) as (ws, rs):
        if rs.count_admins() == 0:
            raise NoAdmin("no admin account: create one with `counterclips user add NAME --role admin`")
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.secure_cookies:
        print("counterclips: warning: serving beyond loopback without --secure-cookies; put it behind HTTPS")
    from flows import review_server

    print(f"review app on http://{args.host}:{args.port}/ (workspace {ws.root})")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    os.environ[review_server.WORKSPACE_ENV] = str(ws.root)
    os.environ[review_server.SECURE_ENV] = "1" if args.secure_cookies else "0"
    if args.workers == 1:
        uvicorn.run(review_server.make_app(), host=args.host, port=args.port, log_level="info",
                    server_header=False)
    else:  # each worker process builds its own app (and store) from the environment
        uvicorn.run("flows.review_server:make_app", factory=True, workers=args.workers, host=args.host,
                    port=args.port, log_level="info", server_header=False)
    return 0
