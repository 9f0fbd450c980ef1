"""Named errors of the translation package; library code raises them, only the CLI exits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.errors import CounterclipsError

if TYPE_CHECKING:
    from pipeline.translation.limits import Problem


class TranslationError(CounterclipsError):
    """A translated track cannot change as asked (wrong status, unknown cue, not allowed)."""


class TrackFileError(TranslationError):
    """A translation file (XLIFF, SRT, TMX) is invalid; `problems` lists each with its line."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{source}: {first}{more}")


class EngineError(TranslationError):
    """A machine-translation engine is missing, unreachable or failed."""
