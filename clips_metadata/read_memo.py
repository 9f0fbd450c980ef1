"""Reads remembered for the length of one block: a page view asks for the same candidate,
interview, transcript and publication plan several times (its panels, the plan, the preview),
and each ask is a transaction or more. Inside `remembered_reads()` the methods marked
`@remembered` answer a repeated call with the first answer. Only for blocks that read: a write
inside would not be seen by later reads. Records are frozen, so sharing one answer is safe.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")

_MEMO: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("counterclips_read_memo", default=None)


@contextmanager
def remembered_reads() -> Iterator[None]:
    """Within the block (this thread or task only), `@remembered` reads are made once each."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def prime(method: Callable[..., Any], owner: Any, *args: Any, value: Any) -> None:
    """Within a `remembered_reads()` block, answer a later `owner.method(*args)` (a `@remembered`
    read) with `value`: the same record, read already by another statement in the block."""
    memo = _MEMO.get()
    if memo is not None:
        memo[(method.__qualname__, id(getattr(owner, "db", owner)), *args)] = value


def remembered(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Mark a repository read (positional, hashable arguments) as rememberable."""

    @functools.wraps(method)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        memo = _MEMO.get()
        if memo is None or kwargs:
            return method(self, *args, **kwargs)
        key = (method.__qualname__, id(getattr(self, "db", self)), *args)
        if key not in memo:
            memo[key] = method(self, *args)
        return memo[key]  # type: ignore[no-any-return]

    return wrapper
