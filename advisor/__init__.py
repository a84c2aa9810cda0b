"""AI Infra Advisor: where and on what to run AI workloads.

Heavy parts (retrieval, language models) are imported lazily; importing ``advisor`` does no
work. ``from advisor import Advisor`` gives the question-answering API.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
# A library logs to whatever the application configured; nothing by default (the CLI prints
# what a user must see on stderr itself).
logging.getLogger("advisor").addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from advisor.core import Advisor, Answer

__all__ = ["Advisor", "Answer", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("Advisor", "Answer"):
        from advisor import core

        return getattr(core, name)
    raise AttributeError(f"module 'advisor' has no attribute {name!r}")
