"""One errors module for the whole product.

User mistakes raise an :class:`AdvisorError` subclass whose message says what was wrong
and how to fix it. The CLI and UI convert these to one line / a ``gr.Error``; anything
else is a bug and keeps its traceback.

The classes live in the bottom layer (``advisor.tools.errors``, which imports nothing from
the rest of ``advisor``) and are re-exported here, so ``from advisor.errors import X`` and
``isinstance`` checks see the same class objects everywhere.
"""

from __future__ import annotations

from advisor.tools.errors import (
    AdvisorError,
    CatalogError,
    FeedError,
    InvalidInputError,
    NoPriceError,
    UnknownNameError,
)


class IndexStorageError(AdvisorError):
    """The index's folder cannot be used: read-only, disk full, no permission."""


class IndexWriteError(IndexStorageError):
    """The index could not be written; what was already in the index is still there."""


class IndexBusyError(AdvisorError):
    """Another process holds the index's write lock longer than the wait allowed."""


class IndexUnavailableError(AdvisorError):
    """The Chroma server holding the index (``ADVISOR_CHROMA_URL``) did not answer: refused,
    dropped the connection or timed out, on every one of the bounded attempts."""


__all__ = [
    "AdvisorError",
    "CatalogError",
    "FeedError",
    "IndexBusyError",
    "IndexStorageError",
    "IndexUnavailableError",
    "IndexWriteError",
    "InvalidInputError",
    "NoPriceError",
    "UnknownNameError",
]
