"""Small named exceptions. Library code raises them; only the CLI turns them into exit codes."""

from __future__ import annotations


class CounterclipsError(Exception):
    """Base of every error the product reports to a person in one line."""


class MediaError(CounterclipsError):
    """A media file cannot be used (missing, empty, not media, truncated, no audio, silent)."""


class ModelError(CounterclipsError):
    """A transcription or embedding model cannot be found, verified or loaded."""


class TranscriptionError(CounterclipsError):
    """The transcription backend failed on otherwise valid media."""


class SubtitleError(CounterclipsError):
    """Subtitle text or timing cannot be turned into cues."""


class TaxonomyError(CounterclipsError):
    """The theme and risk taxonomy file is invalid."""


class RenderError(CounterclipsError):
    """ffmpeg failed or its output did not verify."""


class AuthorisationError(CounterclipsError):
    """A render was attempted without a valid export authorisation for the current version."""


class TimelineError(CounterclipsError):
    """A timeline cannot be built, written or read (bad clip, unsupported format, malformed file)."""


class TimelineRefused(TimelineError):
    """An edited timeline or an export request asks for something the rules do not allow."""


class ProtectedNameError(CounterclipsError):
    """A protected (real) name would leave the system in a name, file name or file content."""
