"""Tensor-parallel sizes: divisors of the attention heads, and TP x PP to use every GPU."""

from __future__ import annotations

import pytest
from advisor.tools import load_catalog, tensor_parallel_options

from advisor.dispatch import plan
from advisor.errors import InvalidInputError
from advisor.route import Router


def test_forty_heads_on_six_gpus():
    """40 heads: 6 does not divide 40; TP 2 x PP 3 = 6 uses all six; 8 is the next TP size."""
    r = tensor_parallel_options(40, 6)
    assert r["largest_tp"] == 5 and r["next_gpus"] == 8
    assert "--tensor-parallel-size 2 --pipeline-parallel-size 3" in r.headline
    assert r.values["valid_tp"].value == "1, 2, 4, 5"


def test_kv_heads_also_split():
    """With 8 KV heads, TP 5 would give each rank 1.6 KV heads: not allowed."""
    r = tensor_parallel_options(40, 6, kv_heads=8)
    assert r["largest_tp"] == 4


def test_fifty_two_heads_on_three_gpus_needs_four():
    r = tensor_parallel_options(52, 3)
    assert r["largest_tp"] == 2 and r["next_gpus"] == 4 and "4 GPUs" in r.headline


def test_bad_numbers_are_typed_errors():
    with pytest.raises(InvalidInputError):
        tensor_parallel_options(0, 4)
    with pytest.raises(InvalidInputError):
        tensor_parallel_options(40, -1)


def test_the_vllm_error_is_planned_as_this_calculator():
    cat = load_catalog()
    q = (
        "ValueError: Total number of attention heads (52) must be divisible by tensor parallel "
        "size (3). I am running LLaMa 33B on 3 v100 32G gpus"
    )
    p = plan(q, Router(cat).route(q), cat)
    assert [(c.tool, c.inputs) for c in p.calls] == [
        ("tensor_parallel_options", {"attention_heads": 52, "gpus": 3})
    ]
