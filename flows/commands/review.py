"""Subcommands of this area (not yet built)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # noqa: ARG001 - filled in by its issue
    return None
