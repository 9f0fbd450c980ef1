"""`forward`: a facade's method that is a repository's method under the same name, so the
`Store` and `ReviewStore` facades keep their API while the code lives in one repository each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

P = ParamSpec("P")
R = TypeVar("R")


class forward(Generic[P, R]):  # noqa: N801 - used like a decorator-style attribute
    """Class attribute exposing `getattr(instance, repo).<method name>` on the facade."""

    def __init__(self, repo: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self.repo = repo
        self.name = method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> forward[P, R]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Callable[P, R]: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(getattr(obj, self.repo), self.name)
