"""Bad input gets a typed error with a fix hint; nothing crashes."""

from __future__ import annotations

import math

import pytest
from advisor.tools import (
    break_even,
    compare_options,
    cost_per_million_tokens,
    decide,
    inference_memory,
    job_cost,
    onprem_tco,
    serving_estimate,
    storage_estimate,
    training_estimate,
    training_memory,
)

from advisor.errors import AdvisorError, InvalidInputError, UnknownNameError


@pytest.mark.parametrize("tokens", [0, -1, math.nan, math.inf, 1e30, "lots", True])
def test_training_rejects_bad_tokens(tokens):
    with pytest.raises(InvalidInputError):
        training_estimate("llama 3.1 8b", tokens, "h100")


@pytest.mark.parametrize("model", [0, -70, math.nan, 1e9, "", "gpt-9 ultra"])
def test_bad_models(model):
    with pytest.raises(AdvisorError):
        inference_memory(model)


def test_percent_instead_of_fraction_has_hint():
    with pytest.raises(InvalidInputError, match="write 0.4"):
        training_estimate("llama 3.1 8b", 1e12, "h100", mfu=40)


def test_unknown_dtype_lists_options():
    with pytest.raises(InvalidInputError, match="bf16"):
        inference_memory("llama 3.1 8b", dtype="fp12")


def test_unknown_accelerator_did_you_mean():
    with pytest.raises(UnknownNameError, match="Did you mean"):
        serving_estimate("llama 3.1 8b", "h1000")


def test_zero_batch_and_context():
    with pytest.raises(InvalidInputError):
        inference_memory("llama 3.1 8b", batch_size=0)
    with pytest.raises(InvalidInputError):
        inference_memory("llama 3.1 8b", context_tokens=-5)


def test_training_memory_bad_stage_and_method():
    with pytest.raises(InvalidInputError):
        training_memory("llama 3.1 8b", zero_stage=4)
    with pytest.raises(InvalidInputError, match="full, lora, qlora"):
        training_memory("llama 3.1 8b", method="dora")


def test_job_cost_needs_exactly_one_quantity():
    with pytest.raises(InvalidInputError, match="exactly one"):
        job_cost("aws", "p5")
    with pytest.raises(InvalidInputError, match="exactly one"):
        job_cost("aws", "p5", accelerator_hours=10, months=1)


def test_missing_price_model_is_explained():
    with pytest.raises(InvalidInputError, match="No commit_3y price"):
        job_cost("aws", "p5", accelerator_hours=10, pricing="commit_3y")


def test_unknown_pricing():
    with pytest.raises(InvalidInputError, match="on_demand"):
        job_cost("aws", "p5", accelerator_hours=10, pricing="cheap")


def test_cost_per_million_needs_input():
    with pytest.raises(InvalidInputError, match="tokens_per_s or a model"):
        cost_per_million_tokens("aws", "p5")


def test_model_too_big_for_instance():
    with pytest.raises(InvalidInputError, match="does not fit"):
        cost_per_million_tokens("aws", "g4dn.xlarge", model="llama 3.1 405b")


def test_compare_options_filters_that_match_nothing():
    with pytest.raises(InvalidInputError, match="No catalogued instance"):
        compare_options("llama 3.1 8b", providers=["nobody"])
    with pytest.raises(InvalidInputError, match="tokens"):
        compare_options("llama 3.1 8b", workload="training")


def test_onprem_bad_inputs():
    with pytest.raises(UnknownNameError):
        onprem_tco("hgx h900")
    with pytest.raises(UnknownNameError):
        onprem_tco(electricity_region="atlantis")
    with pytest.raises(InvalidInputError):
        onprem_tco(pue=0.5)
    with pytest.raises(InvalidInputError):
        onprem_tco(utilization=0)


def test_break_even_unknown_instance():
    with pytest.raises(UnknownNameError):
        break_even(instance="p99")


def test_storage_nothing_to_size():
    with pytest.raises(InvalidInputError, match="Nothing to size"):
        storage_estimate()
    with pytest.raises(InvalidInputError):
        storage_estimate(dataset_gb=10, tier="tape")


def test_decide_rejects_unknown_or_out_of_range():
    with pytest.raises(InvalidInputError, match="Unknown factor"):
        decide(vibes=5)
    with pytest.raises(InvalidInputError, match="1 to 5"):
        decide(utilization=9)


def test_absurd_scale_is_rejected_with_units_hint():
    with pytest.raises(InvalidInputError, match="units"):
        training_estimate("llama 3.1 8b", 1e12, "h100", deadline_days=1e6)
