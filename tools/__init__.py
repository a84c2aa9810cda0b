"""Deterministic calculators over the dated catalogs (installed as ``advisor.tools``).

Pure typed functions: no language model, no network. Every function returns a
:class:`ToolResult` with values and units, ranges, formula, assumptions, catalog rows with
sources and ``as_of`` dates, warnings and alternatives; ``result.summary()`` and
``result.to_markdown()`` render it deterministically.

>>> from advisor.tools import inference_memory
>>> r = inference_memory("llama 3.1 8b", context_tokens=8192)
>>> round(r["kv_bytes_per_token"])
131072
"""

from __future__ import annotations

from .availability import diagnose_availability
from .catalog import Catalog, load_catalog
from .cost import compare_options, cost_per_million_tokens, job_cost
from .decision import FACTORS, decide
from .diagnose import diagnose_error
from .hwcompare import compare_accelerators
from .local import models_for_hardware, run_on_hardware
from .lookup import get_accelerator, get_instance, get_model, get_server
from .memory import inference_memory, kv_cache_bytes_per_token
from .models import ModelSpec, resolve_model
from .parallel import tensor_parallel_options
from .prices import gpu_prices
from .published import published_training
from .result import Alternative, CatalogRef, Quantity, ToolResult
from .serving import serving_estimate
from .storage import storage_estimate
from .tco import break_even, energy_estimate, onprem_tco
from .training import training_estimate, training_memory

__all__ = [
    "FACTORS",
    "Alternative",
    "Catalog",
    "CatalogRef",
    "ModelSpec",
    "Quantity",
    "ToolResult",
    "break_even",
    "compare_accelerators",
    "compare_options",
    "cost_per_million_tokens",
    "decide",
    "diagnose_availability",
    "diagnose_error",
    "energy_estimate",
    "get_accelerator",
    "get_instance",
    "get_model",
    "get_server",
    "gpu_prices",
    "inference_memory",
    "job_cost",
    "kv_cache_bytes_per_token",
    "load_catalog",
    "models_for_hardware",
    "onprem_tco",
    "published_training",
    "resolve_model",
    "run_on_hardware",
    "serving_estimate",
    "storage_estimate",
    "tensor_parallel_options",
    "training_estimate",
    "training_memory",
]
