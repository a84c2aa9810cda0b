"""Owned hardware: fit, offload and single-stream speed, as worked examples with the arithmetic."""

from __future__ import annotations

import math

import pytest
from advisor.tools.local import (
    GPU_RESERVE_GB,
    OS_RESERVE_GB,
    apple_gpu_share,
    footprint,
    ram_bandwidth_gb_s,
    run_on_hardware,
)
from advisor.tools.models import ModelSpec, weight_bytes
from advisor.tools.quant import weight_format

from advisor.errors import InvalidInputError, UnknownNameError

# A round dense model: 10B params, 40 layers, hidden 5120, 8 KV heads of 128, vocab 32,000.
TOY = ModelSpec(
    name="toy 10B",
    params_b=10.0,
    layers=40,
    hidden_size=5120,
    intermediate_size=13824,
    attention_heads=40,
    kv_heads=8,
    head_dim=128,
    vocab_size=32_000,
    max_context=32_768,
)


def test_real_bits_per_weight():
    """GGUF sizes from llama.cpp's quantize table at Llama-3-8B (8.03e9 params).

    Q4_K_M: 4.58 GiB x 2^30 x 8 / 8.03e9 = 4.90 bits; Q8_0: 34 bytes per 32 weights = 8.5 bits;
    GPTQ g128: 4 + (16 + 4) / 128 = 4.156 bits; NF4 with double quant: 4 + 0.127 bits.
    """
    assert weight_format("Q4_K_M").bits == pytest.approx(4.90, abs=0.01)
    assert weight_format("q8_0").bits == 8.5
    assert weight_format("gptq").bits == pytest.approx(4.156, abs=0.001)
    assert weight_format("nf4").bits == pytest.approx(4.127, abs=0.001)
    assert weight_format("mxfp4").bits == 4.25
    assert weight_format("4.65bpw").bits == 4.65
    assert weight_format("exl2-3.0").key == "exl2-3"
    assert weight_format("q9_z") is None
    # i-quants from the same table's bpw column; a stated average is taken as said
    assert weight_format("IQ1_S").bits == 1.56
    assert weight_format("iq2_xxs").bits == 2.06
    assert weight_format("q2_k_xl").key == "q2_k"
    assert weight_format("2.51bit").bits == 2.51
    assert weight_format("0.5bit") is None


def test_gptq_keeps_embeddings_in_16_bits():
    """Embeddings + head = 2 x 32,000 x 5,120 = 0.328e9 params stay fp16 in GPTQ.

    (10e9 - 0.328e9) x 4.156/8 + 0.328e9 x 2 = 5.024e9 + 0.655e9 = 5.68e9 bytes.
    """
    assert weight_bytes(TOY, "gptq") == pytest.approx(5.68e9, rel=0.005)
    assert weight_bytes(TOY, "q4_0") == pytest.approx(10e9 * 4.5 / 8)


def test_ram_bandwidth():
    """Dual-channel DDR5-5600: 2 x 5,600 MT/s x 8 B = 89.6 GB/s; 12-channel DDR5-4800 = 460.8."""
    assert ram_bandwidth_gb_s("DDR5", 2, 5600) == pytest.approx(89.6)
    assert ram_bandwidth_gb_s("ddr5", 12, 4800) == pytest.approx(460.8)
    assert ram_bandwidth_gb_s(None, None, None) == pytest.approx(51.2)


def test_apple_gpu_share():
    """macOS wires about 2/3 of unified memory for the GPU up to 36 GB, 3/4 above."""
    assert apple_gpu_share(16) == pytest.approx(2 / 3)
    assert apple_gpu_share(64) == 0.75


def test_fits_on_two_cards_and_runs_at_one_cards_speed(catalog):
    """Llama 3.1 70B at Q4_K_M on 2 x RTX 4090 (24 GB, 1,008 GB/s).

    weights = 70.6e9 x 4.90 / 8 = 43.2 GB; KV = 4,096 x 2 x 80 x 8 x 128 x 2 B = 1.34 GB;
    usable = 2 x (24 - 0.8) = 46.4 GB -> fits. Decode reads 43.2 + 1.34/2 = 43.9 GB per token;
    the cards take turns, so 0.65 x 1,008 / 43.9 = 14.9 tokens/s.
    """
    r = run_on_hardware(
        "llama 3.1 70b",
        dtype="q4_k_m",
        accelerator="rtx-4090",
        num_accelerators=2,
        catalog=catalog,
    )
    assert r.values["status"].value == "fits"
    assert r["weights_gb"] == pytest.approx(43.2, rel=0.01)
    assert r["kv_cache_gb"] == pytest.approx(1.34, rel=0.01)
    assert r["device_memory_gb"] == pytest.approx(2 * (24 - GPU_RESERVE_GB))
    assert r["decode_tokens_per_s"] == pytest.approx(0.65 * 1008 / 43.9, rel=0.01)


def test_offload_splits_layers_and_adds_the_times(catalog):
    """The same model on one RTX 4090 + 64 GB of DDR4-3200 (51.2 GB/s).

    Per layer (43.2 - embeddings 1.05 + 1.34) / 80 = 0.544 GB; the GPU holds
    floor((23.2 - 1.05 - compute) / 0.544) = 40 layers, so half the bytes per token come from
    RAM: t = 21.9 / (0.65 x 1,008) + 21.9 / (0.6 x 51.2) -> about 1.3 tokens/s.
    """
    r = run_on_hardware(
        "llama 3.1 70b",
        dtype="q4_k_m",
        accelerator="rtx-4090",
        system_ram_gb=64,
        ram_kind="DDR4",
        ram_mt_s=3200,
        catalog=catalog,
    )
    assert r.values["status"].value == "fits_with_offload"
    layers = r["gpu_layers"]
    assert layers == 40
    share = layers / 80
    per_token = r["bytes_per_token_gb"]
    expect = 1 / (per_token * share / (0.65 * 1008) + per_token * (1 - share) / (0.6 * 51.2))
    assert r["decode_tokens_per_s"] == pytest.approx(expect, rel=0.01)
    assert 1.0 < r["decode_tokens_per_s"] < 1.6
    assert r["system_ram_usable_gb"] == 64 - OS_RESERVE_GB


def test_does_not_fit_names_the_cheapest_change(catalog):
    """Mixtral 8x7B in bf16 (93.4 GB) on a 12 GB card + 32 GB RAM: the change that works is a
    quantization with offload, listed before buying cards."""
    r = run_on_hardware(
        "mixtral 8x7b", dtype="bf16", device_memory_gb=12, system_ram_gb=32, catalog=catalog
    )
    assert r.values["status"].value == "does_not_fit"
    first = r.alternatives[0]
    assert first.label.startswith("quantize to") and "offload" in first.label
    assert first.values["memory_gb"] <= (12 - GPU_RESERVE_GB) + (32 - OS_RESERVE_GB)


def test_without_ram_given_the_change_is_a_good_quantization_with_offload(catalog):
    """Llama 2 70B in fp16 on one 16 GB V100, no RAM given: Q4_K_M (about 43 GB) with what the
    card cannot hold in system RAM comes before a 2-bit file that fits alone; the RAM it needs
    is stated."""
    r = run_on_hardware("llama 2 70b", dtype="fp16", accelerator="v100-16gb-pcie", catalog=catalog)
    first = r.alternatives[0]
    assert first.values["dtype"] == "q4_k_m" and "offload" in first.label
    need = first.values["memory_gb"] - (16 - GPU_RESERVE_GB) + OS_RESERVE_GB
    assert f"at least {math.ceil(need)} GB of RAM" in first.label


def test_engine_memory_fraction_shrinks_the_usable_memory(catalog):
    """vLLM --gpu-memory-utilization 0.5 on a 24 GB RTX 3090: 24 x 0.5 = 12 GB for weights,
    cache and buffers, so Mixtral 8x7B in AWQ (about 25 GB) is far from fitting."""
    r = run_on_hardware(
        "mixtral 8x7b", dtype="awq", accelerator="rtx-3090", memory_fraction=0.5, catalog=catalog
    )
    assert r["device_memory_gb"] == pytest.approx(12.0)
    assert r.values["status"].value == "does_not_fit"
    full = run_on_hardware("llama 3.1 8b", dtype="awq", accelerator="rtx-3090", catalog=catalog)
    assert full["device_memory_gb"] == pytest.approx(24 - GPU_RESERVE_GB)


def test_an_engine_without_offload_gets_no_offload_advice(catalog):
    """TGI or ExLlama keep the model on the GPU: system RAM does not count, and no change
    offers to offload; llama.cpp's advice names -ngl, vLLM's names --cpu-offload-gb."""
    gpu_only = run_on_hardware(
        "llama 2 70b",
        dtype="fp16",
        accelerator="rtx-3090",
        system_ram_gb=128,
        offload=False,
        catalog=catalog,
    )
    assert gpu_only.values["status"].value == "does_not_fit"
    assert not any("offload" in a.label for a in gpu_only.alternatives)
    local = run_on_hardware("llama 2 70b", dtype="fp16", accelerator="rtx-3090", catalog=catalog)
    assert any("llama.cpp -ngl" in a.label for a in local.alternatives)
    vllm = run_on_hardware(
        "llama 2 70b",
        dtype="fp16",
        accelerator="rtx-3090",
        offload_setting="vLLM --cpu-offload-gb",
        catalog=catalog,
    )
    labels = " ".join(a.label for a in vllm.alternatives)
    assert "vLLM --cpu-offload-gb" in labels and "llama.cpp" not in labels


def test_memory_override_keeps_the_named_card(catalog):
    """'an 8 GB RTX 3060' is that card with 8 GB, labelled so, not the 3060 12GB row."""
    r = run_on_hardware(
        "llama 3.1 8b", dtype="q4_k_m", accelerator="rtx-3060", device_memory_gb=8, catalog=catalog
    )
    assert r.inputs["hardware"] == "NVIDIA GeForce RTX 3060 (8 GB)"
    assert r.values["device_memory_gb"].value == 8 - GPU_RESERVE_GB


def test_cpu_only_speed_is_bound_by_ram_bandwidth(catalog):
    """Llama 3.1 8B Q4_0 (8.03e9 x 4.5/8 = 4.52 GB) on dual-channel DDR5-5600 (89.6 GB/s):
    0.6 x 89.6 / (4.52 + KV/2) -> about 11.2 tokens/s."""
    r = run_on_hardware(
        "llama 3.1 8b",
        dtype="q4_0",
        cpu_only=True,
        system_ram_gb=32,
        ram_kind="DDR5",
        ram_channels=2,
        ram_mt_s=5600,
        catalog=catalog,
    )
    assert r.values["status"].value == "fits"
    assert r["decode_tokens_per_s"] == pytest.approx(0.6 * 89.6 / r["bytes_per_token_gb"])
    assert 10 < r["decode_tokens_per_s"] < 12.5


def test_moe_reads_only_active_parameters(catalog):
    """Mixtral 8x7B: 12.9B of 46.7B parameters active, so a token reads 28% of the weights."""
    dense = footprint(TOY, "q4_k_m", "fp16", 4096, 1)
    r = run_on_hardware("mixtral 8x7b", dtype="q4_k_m", unified_memory_gb=64, catalog=catalog)
    active_share = r["bytes_per_token_gb"] / r["weights_gb"]
    assert active_share == pytest.approx(12.9 / 46.7, abs=0.02)
    assert dense.weights_gb > 0


def test_apple_unified_memory_share(catalog):
    """An M2 Max with 32 GB: the GPU may wire 2/3 x 32 = 21.3 GB by default."""
    r = run_on_hardware(
        "llama 3.1 8b",
        dtype="q8_0",
        accelerator="apple-m2-max",
        unified_memory_gb=32,
        catalog=catalog,
    )
    assert r["device_memory_gb"] == pytest.approx(32 * 2 / 3)


def test_no_hardware_is_a_clear_error(catalog):
    with pytest.raises(InvalidInputError, match="No hardware"):
        run_on_hardware("llama 3.1 8b", catalog=catalog)


@pytest.mark.parametrize("bad", [0, -4, math.nan, math.inf])
def test_bad_memory_is_rejected(catalog, bad):
    with pytest.raises(InvalidInputError):
        run_on_hardware("llama 3.1 8b", device_memory_gb=bad, catalog=catalog)


# -- lookups never substitute another product ------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [("h20", "h20"), ("H200", "h200"), ("A100 80G", "a100-80gb-sxm"), ("rtx3090", "rtx-3090")],
)
def test_lookup_finds_the_named_product(catalog, typed, expected):
    assert catalog.accelerator(typed).id == expected


@pytest.mark.parametrize("typed", ["h2", "a80", "mi250", "rtx 309"])
def test_lookup_never_extends_a_number_into_another_product(catalog, typed):
    """'a80' is not the A800 and 'mi250' is not the MI250X: an error with suggestions."""
    with pytest.raises(UnknownNameError) as info:
        catalog.accelerator(typed)
    assert info.value.suggestions


def test_prefix_lookup_still_completes_a_size(catalog):
    assert catalog.model("llama 3.1 405").id == "llama-3.1-405b"


def test_models_for_hardware_lists_what_fits(catalog):
    """On one 24 GB card at Q4_K_M every listed model needs at most 23.2 GB; with 64 GB of RAM
    larger ones run with layers offloaded, and the largest that fits is named."""
    from advisor.tools.local import models_for_hardware

    r = models_for_hardware(accelerator="rtx-3090", system_ram_gb=64, catalog=catalog)
    full = [row for row in r.table or [] if row["placement"] == "all on GPU"]
    assert full and all(float(row["memory_gb"]) <= 24 - GPU_RESERVE_GB for row in full)
    assert r["largest_fit_b"] == full[0]["params_b"]
    assert r["largest_offload_b"] > r["largest_fit_b"]
    assert full[0]["model"] in r.headline


def test_slow_half_precision_is_read_from_the_catalog_figures(catalog):
    """Pascal's P40 runs FP16 at 0.18 TFLOPS against 11.76 in FP32 (1/64): a 16-bit format is
    flagged, a GGUF file is not; BF16 before Ampere (V100) is flagged, on an A100 nothing is."""
    from advisor.tools.quant import slow_half_precision

    p40 = catalog.accelerator("p40")
    assert "1/65" in (slow_half_precision(p40, "fp16") or "")
    assert slow_half_precision(p40, "q4_k_m") is None
    assert "no BF16" in (slow_half_precision(catalog.accelerator("v100"), "bf16") or "")
    assert slow_half_precision(catalog.accelerator("v100"), "fp16") is None
    assert slow_half_precision(catalog.accelerator("a100-80gb-sxm"), "bf16") is None
    r = run_on_hardware("llama 2 13b", dtype="fp16", accelerator="p40", catalog=catalog)
    assert "half_precision_note" in r.values and any("FP16" in w for w in r.warnings)


def test_a_16_or_8_bit_format_also_gets_the_4_bit_speed(catalog):
    """One stream reads every weight per token, so a Q4_K_M file (4.9 bits) of Llama 3.1 8B runs
    faster than the fp16 weights in proportion to the bytes read; a 4-bit format gets no
    comparison with itself."""
    r = run_on_hardware("llama 3.1 8b", dtype="fp16", accelerator="rtx-3090", catalog=catalog)
    q4 = run_on_hardware("llama 3.1 8b", dtype="q4_k_m", accelerator="rtx-3090", catalog=catalog)
    assert r["decode_4bit_tokens_per_s"] == pytest.approx(q4["decode_tokens_per_s"])
    assert r["decode_4bit_tokens_per_s"] > 2 * r["decode_tokens_per_s"]
    assert "decode_4bit_tokens_per_s" not in q4.values


def test_a_model_that_fits_one_of_several_cards_says_so(catalog):
    """Llama 3.1 8B in Q4_K_M (about 6 GB) on 4 x RTX 3090: one card holds it, so the advice is
    to run it on one; a 70B that needs the cards together gets no such note."""
    small = run_on_hardware(
        "llama 3.1 8b", dtype="q4_k_m", accelerator="rtx-3090", num_accelerators=4, catalog=catalog
    )
    assert "single GPU" in str(small.values["fits_one_device"].value)
    big = run_on_hardware(
        "llama 3.1 70b", dtype="q4_k_m", accelerator="rtx-3090", num_accelerators=4, catalog=catalog
    )
    assert "fits_one_device" not in big.values


def test_a_batch_decodes_its_streams_together(catalog):
    """Llama 3.1 8B in fp16 on an A100 80GB: one stream reads 16 GB of weights per token, about
    81 tokens/s; a step of a batch of 8 reads the weights once and 8 KV caches, so the total is
    close to 8x (memory-bound), and each stream in the batch is a little slower than alone."""
    one = run_on_hardware(
        "llama 3.1 8b", dtype="fp16", accelerator="a100-80gb-sxm", catalog=catalog
    )
    eight = run_on_hardware(
        "llama 3.1 8b", dtype="fp16", accelerator="a100-80gb-sxm", batch_size=8, catalog=catalog
    )
    total = eight["decode_batch_tokens_per_s"]
    assert 7 * one["decode_tokens_per_s"] < total < 8 * one["decode_tokens_per_s"]
    assert eight["decode_tokens_per_s"] < one["decode_tokens_per_s"]
    assert "decode_batch_tokens_per_s" not in one.values
    assert any("batch B" in f for f in eight.formula)


def test_a_measured_total_far_above_one_stream_gets_the_batch_that_explains_it(catalog):
    """2,000 tokens/s for Llama 3.1 8B fp16 on one A100 is no single stream (about 81): the
    smallest batch whose total reaches it is reported with that total; a figure no batch that
    fits in memory can reach says so; a figure near one stream's speed adds nothing."""
    r = run_on_hardware(
        "llama 3.1 8b",
        dtype="fp16",
        accelerator="a100-80gb-sxm",
        observed_tokens_per_s=2000,
        catalog=catalog,
    )
    batch = int(r["batch_for_observed"])
    assert 20 < batch < 60
    assert r["decode_batch_tokens_per_s"] >= 2000
    smaller = run_on_hardware(
        "llama 3.1 8b",
        dtype="fp16",
        accelerator="a100-80gb-sxm",
        batch_size=batch - 1,
        catalog=catalog,
    )
    assert smaller["decode_batch_tokens_per_s"] < 2000  # the smallest such batch
    far = run_on_hardware(
        "llama 3.1 8b",
        dtype="fp16",
        accelerator="rtx-3090",
        observed_tokens_per_s=1e6,
        catalog=catalog,
    )
    assert far.values["batch_for_observed"].value == "none that fits in memory"
    near = run_on_hardware(
        "llama 3.1 8b",
        dtype="fp16",
        accelerator="rtx-3090",
        observed_tokens_per_s=40,
        catalog=catalog,
    )
    assert "batch_for_observed" not in near.values
    with pytest.raises(InvalidInputError):
        run_on_hardware(
            "llama 3.1 8b", accelerator="rtx-3090", observed_tokens_per_s=-1, catalog=catalog
        )


def test_a_long_window_that_fills_the_card_is_shortened_first(catalog):
    """Llama 2 7B GPTQ at a 32K window on an 8 GB card: the KV cache (about 17 GB in fp16)
    is most of the need, so the first change is the longest window that fits the card alone,
    not a smaller format or offloading; at a short window the ladder is unchanged."""
    r = run_on_hardware(
        "llama 2 7b", dtype="gptq", context_tokens=32768, device_memory_gb=8, catalog=catalog
    )
    assert r.values["status"].value == "does_not_fit"
    first = r.alternatives[0]
    assert first.label.startswith("shorten the context to")
    window = int(first.values["context_tokens"])
    assert window < 32768 and first.values["memory_gb"] <= r["device_memory_gb"]
    short = run_on_hardware("llama 3.1 70b", dtype="q4_k_m", device_memory_gb=8, catalog=catalog)
    assert not any(a.label.startswith("shorten the context") for a in short.alternatives)
