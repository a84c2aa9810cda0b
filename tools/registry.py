"""The one list of calculators: the CLI, the planner, LLM tool calling and the evals read it.

Adding a calculator is one entry here. Each entry says whether the function takes the catalog,
whether a tool-calling language model may choose it, and whether ``advisor calc`` builds a
generic command from its signature (``decide`` has its own command: its arguments are factors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .availability import diagnose_availability
from .cost import compare_options, cost_per_million_tokens, job_cost
from .decision import decide
from .diagnose import diagnose_error
from .hwcompare import compare_accelerators
from .local import models_for_hardware, run_on_hardware
from .memory import inference_memory
from .parallel import tensor_parallel_options
from .prices import gpu_prices
from .published import published_training
from .result import ToolResult
from .serving import serving_estimate
from .storage import storage_estimate
from .tco import break_even, energy_estimate, onprem_tco
from .training import training_estimate, training_memory


@dataclass(frozen=True)
class Calculator:
    name: str
    func: Callable[..., ToolResult]
    takes_catalog: bool = True
    model_callable: bool = True  # offered to a tool-calling language model
    generic_cli: bool = True  # `advisor calc <name>` built from the signature


CALCULATORS: dict[str, Calculator] = {
    c.name: c
    for c in (
        Calculator("inference_memory", inference_memory),
        Calculator("run_on_hardware", run_on_hardware),
        Calculator("models_for_hardware", models_for_hardware),
        Calculator("training_estimate", training_estimate),
        Calculator("training_memory", training_memory),
        Calculator("serving_estimate", serving_estimate),
        Calculator("job_cost", job_cost),
        Calculator("cost_per_million_tokens", cost_per_million_tokens),
        Calculator("compare_options", compare_options),
        Calculator("compare_accelerators", compare_accelerators),
        Calculator("gpu_prices", gpu_prices),
        Calculator("onprem_tco", onprem_tco),
        Calculator("break_even", break_even),
        Calculator("energy_estimate", energy_estimate),
        Calculator("storage_estimate", storage_estimate),
        Calculator("decide", decide, takes_catalog=False, model_callable=False, generic_cli=False),
        Calculator("diagnose_availability", diagnose_availability, takes_catalog=False),
        Calculator("diagnose_error", diagnose_error, takes_catalog=False),
        Calculator("published_training", published_training, takes_catalog=False),
        Calculator("tensor_parallel_options", tensor_parallel_options, takes_catalog=False),
    )
}
