"""The error every command raises when its own arguments cannot be used."""

from __future__ import annotations

from pipeline.errors import CounterclipsError


class UsageError(CounterclipsError):
    """The command line cannot be used as given: a malformed value, a count out of range or an
    unusable combination of options (reported in one line)."""
