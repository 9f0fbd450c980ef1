"""The `counterclips` command. Each area registers its subcommands from flows/cli/*_cmd.py.

Library code raises CounterclipsError; this is the only place that turns errors into exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pipeline.errors import CounterclipsError

# Each module exposes `register(subparsers)`; a subcommand sets `func(args) -> int | None`.
COMMAND_MODULES = (
    "flows.cli.transcribe_cmd",
    "flows.cli.flagging_cmd",
    "flows.cli.flagger_cmd",
    "flows.cli.store_cmd",
    "flows.cli.review_cmd",
    "flows.cli.export_cmd",
    "flows.cli.nightly_cmd",
    "flows.cli.timeline_cmd",
    "flows.cli.translation_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="counterclips",
        description="Interview footage in, subtitled human-approved clips out.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except CounterclipsError as exc:
        print(f"counterclips: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("counterclips: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)

