"""How a command prints a list: JSON with `--json`, else one line per item, or a note when empty."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def print_listing(items: Sequence[T], *, as_json: bool, to_json: Callable[[T], Any], line: Callable[[T], str],
                  empty: str) -> int:
    """Print `items` (a JSON array of `to_json(item)`, or `line(item)` each, or `empty`); exit code 0."""
    if as_json:
        print(json.dumps([to_json(x) for x in items], ensure_ascii=False, indent=2))
    elif not items:
        print(empty)
    else:
        for x in items:
            print(line(x))
    return 0
