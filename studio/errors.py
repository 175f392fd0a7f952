"""Every failure a user can cause is a :class:`StudioError` with a message that says
what was wrong and what is allowed. The CLI prints ``str(error)`` on one line and exits 2;
the UI shows it as a message. Nothing else should reach a user as a traceback."""

from __future__ import annotations

from typing import Optional


class StudioError(Exception):
    """Base class for user-facing failures. ``str(err)`` is a complete one-line message."""

    exit_code = 2


class InputError(StudioError):
    """A bad argument: duration, style, seed, gain, a malformed option."""


class ImageError(StudioError):
    """An image that cannot be read: missing, empty, not an image, truncated, too large."""


class AudioError(StudioError):
    """Audio that cannot be read or processed (bad file, wrong shape, NaN)."""


class PlanError(StudioError):
    """A scene plan or manifest that does not validate."""


class ModelUnavailableError(StudioError):
    """A model or optional dependency that is not present; the message says how to get it."""


class BackendError(StudioError):
    """A generation backend that failed on valid input."""


class ExportError(StudioError):
    """Writing results failed (no space, not writable, bad format)."""


class CancelledError(StudioError):
    """The user cancelled a running render."""


def first_line(exc_or_text: BaseException | str, limit: Optional[int] = 200) -> str:
    """The first non-blank line of an exception's message (or of a text), stripped and cut at
    ``limit`` characters (None: not cut), for one-line messages: library messages may start
    with a newline and run over several lines. An exception with no text gives its type name."""
    for line in str(exc_or_text).splitlines():
        if line.strip():
            return line.strip()[:limit]
    return type(exc_or_text).__name__ if isinstance(exc_or_text, BaseException) else ""
