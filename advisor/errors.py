"""One errors module for the whole product.

User mistakes raise an :class:`AdvisorError` subclass whose message says what was wrong
and how to fix it. The CLI and UI convert these to one line / a ``gr.Error``; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class AdvisorError(Exception):
    """Base class for errors a user can fix."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} To fix: {hint}")


class InvalidInputError(AdvisorError, ValueError):
    """A parameter is out of range, of the wrong kind, NaN, or inconsistent."""


class UnknownNameError(AdvisorError, LookupError):
    """A catalog lookup found nothing; carries the closest names."""

    def __init__(self, kind: str, name: str, suggestions: Sequence[str]) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        if self.suggestions:
            hint = "Did you mean: " + ", ".join(self.suggestions) + "?"
        else:
            hint = f"run `advisor catalog list {kind}s` to see what is catalogued."
        super().__init__(f"Unknown {kind} {name!r}.", hint=hint)

    def __str__(self) -> str:
        base = f"Unknown {self.kind} {self.name!r}."
        if self.suggestions:
            return f"{base} Did you mean: {', '.join(self.suggestions)}?"
        return f"{base} Run `advisor catalog list {self.kind}s` to see what is catalogued."


class CatalogError(AdvisorError):
    """A catalog file is missing or malformed: a hard error naming file, row and field."""


class IndexStorageError(AdvisorError):
    """The index's folder cannot be used: read-only, disk full, no permission."""


class IndexWriteError(IndexStorageError):
    """The index could not be written; what was already in the index is still there."""


class IndexBusyError(AdvisorError):
    """Another process holds the index's write lock longer than the wait allowed."""
