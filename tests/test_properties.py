"""Property tests: monotonicity, and no crash on any valid input."""

from __future__ import annotations

import math

import pytest
from advisor.tools import (
    get_accelerator,
    inference_memory,
    load_catalog,
    serving_estimate,
    training_estimate,
    training_memory,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.errors import AdvisorError

CAT = load_catalog()
MODEL_IDS = [m.id for m in CAT.models if m.kind == "llm"]
ACC_IDS = [a.id for a in CAT.accelerators if a.kind != "cpu"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

tokens = st.floats(min_value=1e6, max_value=1e14, allow_nan=False)


@FAST
@given(model=st.sampled_from(MODEL_IDS), d1=tokens, d2=tokens)
def test_more_tokens_more_gpu_hours(model, d1, d2):
    lo, hi = sorted((d1, d2))
    a = training_estimate(model, lo, "h100")["gpu_hours"]
    b = training_estimate(model, hi, "h100")["gpu_hours"]
    assert a <= b


@FAST
@given(n1=st.integers(1, 20000), n2=st.integers(1, 20000))
def test_more_gpus_shorter_wall_clock(n1, n2):
    lo, hi = sorted((n1, n2))
    a = training_estimate("llama 3.1 8b", 1e12, "h100", num_accelerators=lo)
    b = training_estimate("llama 3.1 8b", 1e12, "h100", num_accelerators=hi)
    assert b["wall_clock_days"] <= a["wall_clock_days"]


@FAST
@given(model=st.sampled_from(MODEL_IDS), c1=st.integers(1, 1_000_000), c2=st.integers(1, 1_000_000))
def test_longer_context_more_kv(model, c1, c2):
    lo, hi = sorted((c1, c2))
    a = inference_memory(model, context_tokens=lo)["kv_cache_gb"]
    b = inference_memory(model, context_tokens=hi)["kv_cache_gb"]
    assert a <= b


@FAST
@given(
    model=st.sampled_from(MODEL_IDS),
    acc=st.sampled_from(ACC_IDS),
    dtype=st.sampled_from(["bf16", "fp8", "int4", "q4_k_m"]),
    context=st.integers(1, 200_000),
    batch=st.integers(1, 64),
)
def test_inference_memory_never_crashes(model, acc, dtype, context, batch):
    r = inference_memory(
        model, dtype=dtype, context_tokens=context, batch_size=batch, accelerator=acc
    )
    assert r["total_gb"] > 0 and math.isfinite(r["total_gb"])
    assert r.summary() and r.to_markdown()
    r.model_dump_json()


@FAST
@given(
    model=st.sampled_from(MODEL_IDS),
    acc=st.sampled_from(ACC_IDS),
    prompt=st.integers(1, 32_000),
    out=st.integers(1, 4000),
    conc=st.one_of(st.none(), st.integers(1, 512)),
)
def test_serving_estimate_valid_or_typed_error(model, acc, prompt, out, conc):
    try:
        r = serving_estimate(model, acc, prompt_tokens=prompt, output_tokens=out, concurrency=conc)
    except AdvisorError as exc:
        assert "fix" in str(exc).lower() or "does not fit" in str(exc)
        return
    assert r["tokens_per_s"] > 0 and r["ttft_s"] > 0


@FAST
@given(
    model=st.sampled_from(MODEL_IDS),
    method=st.sampled_from(["full", "lora", "qlora"]),
    zero=st.integers(0, 3),
    n=st.integers(1, 512),
    seq=st.integers(1, 131_072),
    ckpt=st.booleans(),
)
def test_training_memory_never_crashes_and_zero_helps(model, method, zero, n, seq, ckpt):
    r = training_memory(
        model,
        method=method,
        zero_stage=zero,
        num_gpus=n,
        seq_len=seq,
        activation_checkpointing=ckpt,
    )
    assert r["total_gb"] > 0
    if zero < 3:
        more = training_memory(
            model,
            method=method,
            zero_stage=zero + 1,
            num_gpus=n,
            seq_len=seq,
            activation_checkpointing=ckpt,
        )
        assert more["total_gb"] <= r["total_gb"] + 1e-9


def test_every_accelerator_has_a_usable_peak():
    """A bf16 estimate for every part with a bf16/fp16 figure; parts whose sources give only
    fp8/fp4 (MI355X, GB300...) say so in a fixable error and work in fp8."""
    for acc_id in ACC_IDS:
        acc = get_accelerator(acc_id)
        if acc.bf16_tflops or acc.fp16_tflops:
            assert training_estimate(1, 1e9, acc.id)["gpu_hours"] > 0
            continue
        with pytest.raises(AdvisorError, match="no catalogued bf16 throughput"):
            training_estimate(1, 1e9, acc.id)
        if acc.fp8_tflops:
            assert training_estimate(1, 1e9, acc.id, dtype="fp8")["gpu_hours"] > 0
