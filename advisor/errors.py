"""One errors module for the whole product.

User mistakes raise an :class:`AdvisorError` subclass whose message says what was wrong
and how to fix it. The CLI and UI convert these to one line / a ``gr.Error``; anything
else is a bug and keeps its traceback.

The classes live in the bottom layer (``advisor.tools.errors``, which imports nothing from
the rest of ``advisor``) and are re-exported here, so ``from advisor.errors import X`` and
``isinstance`` checks see the same class objects everywhere.
"""

from __future__ import annotations

from advisor.tools.errors import AdvisorError, CatalogError, InvalidInputError, UnknownNameError

__all__ = ["AdvisorError", "CatalogError", "InvalidInputError", "UnknownNameError"]
