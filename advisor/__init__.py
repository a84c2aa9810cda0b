"""AI Infra Advisor: where and on what to run AI workloads.

Heavy parts (retrieval, language models) are imported lazily; importing ``advisor``
does no work.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
