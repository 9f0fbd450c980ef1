"""`counterclips flagger learn|export-corrections|import-corrections` (issue 15): refit the
flagger's heads on reviewers' corrections behind the recall guard, and move corrections between
teams."""

from __future__ import annotations

import argparse
from pathlib import Path

from flows.cli.auth import add_auth_args, authenticate
from flows.cli.usage import UsageError
from flows.cli.workspace_store import open_store

# The sealed split of issue 15's evaluation corpus, used when --sealed is not given (a checkout).
DEFAULT_SEALED = Path(__file__).resolve().parents[2] / "bench" / "eval" / "themes_real_test9.jsonl"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flagger", help="the flagger's model: learn from corrections, move corrections")
    fsub = p.add_subparsers(dest="flagger_command", metavar="ACTION", required=True)
    learn = fsub.add_parser(
        "learn", help="refit the label heads on the exemplars plus stored corrections and install them",
        description="Refit, print before/after figures on the sealed split, and install the new heads "
        "into the workspace unless they lose any-risk recall there (then nothing is installed).")
    learn.add_argument("--sealed", type=Path, default=None,
                       help=f"sealed split JSONL (default {DEFAULT_SEALED})")
    learn.add_argument("--dry-run", action="store_true", help="compare only; install nothing")
    add_auth_args(learn, required=True, what="the account installing the model (reviewer or admin)")
    learn.add_argument("--workspace")
    learn.set_defaults(func=cmd_learn)
    exp = fsub.add_parser("export-corrections",
                          help="write stored corrections as JSONL, registry terms redacted")
    exp.add_argument("file", type=Path, metavar="FILE")
    exp.add_argument("--workspace")
    exp.set_defaults(func=cmd_export)
    imp = fsub.add_parser("import-corrections", help="store corrections from a JSONL file")
    imp.add_argument("file", type=Path, metavar="FILE")
    add_auth_args(imp, required=True, what="the account importing (reviewer or admin)")
    imp.add_argument("--workspace")
    imp.set_defaults(func=cmd_import)


def _reviewer(store, args: argparse.Namespace):  # noqa: ANN001, ANN202 - store types imported lazily
    """The authenticated account of `--as`, which must be a reviewer or an admin."""
    from clips_metadata.review_store import ReviewStore
    from review.labelling import CORRECTING_ROLES

    user = authenticate(ReviewStore(store), args.actor, args.password_file)
    if user.role not in CORRECTING_ROLES:
        raise UsageError(f"a {user.role} may not change the flagger's model or corrections")
    return user


def cmd_learn(args: argparse.Namespace) -> int:
    from flows.services.flagger_model import learn_and_install, read_split

    sealed = args.sealed or DEFAULT_SEALED
    if not sealed.is_file():
        raise UsageError(f"sealed split {sealed} not found (give --sealed FILE)")
    split = read_split(sealed)
    with open_store(args) as (ws, store):
        _reviewer(store, args)
        r = learn_and_install(store, ws, split, dry_run=args.dry_run, say=print)
    print(f"before ({r.old_version}): {r.before.line()}")
    print(f"after  ({r.new_version}): {r.after.line()}")
    print(f"recall guard: any-risk recall {r.guard.old_recall:.3f} -> {r.guard.new_recall:.3f}, passed")
    if r.installed is not None:
        print(f"installed model {r.new_version} ({r.corrections} corrections) at {r.installed}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from flows.services.flagger_model import export_corrections_file

    with open_store(args) as (_, store):
        n = export_corrections_file(store, args.file)
    print(f"{args.file}: {n} correction(s), registry terms redacted")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from flows.services.flagger_model import import_corrections_file

    with open_store(args) as (_, store):
        user = _reviewer(store, args)
        n = import_corrections_file(store, args.file, actor=user.name)
    print(f"{args.file}: {n} correction(s) imported")
    return 0
