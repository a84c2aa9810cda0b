"""The errors the calculators raise: user mistakes with a fix, and broken catalogs.

This module belongs to the bottom layer (``advisor.tools``) and imports nothing above it;
``advisor.errors`` re-exports these classes for the rest of the product. Hints here are
neutral: an edge that knows its commands (the CLI) adds its own, e.g. which command lists
the catalog.
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

    def __init__(
        self, kind: str, name: str, suggestions: Sequence[str], *, hint: str | None = None
    ) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        if hint is not None:
            pass  # the caller knows better ("p5.48xlarge is priced in: us-east-1, ...")
        elif self.suggestions:
            hint = "Did you mean: " + ", ".join(self.suggestions) + "?"
        else:
            hint = "nothing catalogued has a similar name; check the spelling against the catalog."
        super().__init__(f"Unknown {kind} {name!r}.", hint=hint)

    def __str__(self) -> str:
        hint = self.hint or ""
        return f"{self.message} {hint[:1].upper()}{hint[1:]}"


class NoPriceError(AdvisorError, LookupError):
    """A catalogued instance with no price to give: a retired size, or another service's name
    for an instance's hardware (SageMaker ``ml.*``), whose own rates are not catalogued.

    Never answered with another instance's price: ``hint`` names what can be priced instead.
    """

    def __init__(self, instance: str, reason: str, *, hint: str | None = None) -> None:
        self.instance = instance
        self.reason = reason
        super().__init__(f"No price for {instance}: {reason}", hint=hint)


class CatalogError(AdvisorError):
    """A catalog file is missing or malformed: a hard error naming file, row and field."""


class FeedError(AdvisorError):
    """A price feed is malformed or is not the format named: names the file and line.

    Raised before anything is written, so a bad feed never changes a catalog.
    """

    def __init__(self, where: str, line: int | None, message: str) -> None:
        self.where = where
        self.line = line
        at = f"{where}:{line}" if line is not None else where
        super().__init__(f"{at}: {message}")
