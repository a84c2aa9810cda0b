"""Owned hardware: fit, offload and single-stream speed, as worked examples with the arithmetic."""

from __future__ import annotations

import math

import pytest
from advisor.tools.local import (
    GPU_RESERVE_GB,
    OS_RESERVE_GB,
    Placement,
    accelerator_pool,
    apple_gpu_share,
    batched_tokens_per_s,
    decode_class,
    decode_tokens_per_s,
    footprint,
    format_decode_factor,
    prefill_tokens_per_s,
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
    usable = 2 x (24 - 0.8) = 46.4 GB -> fits. A token reads 43.2 GB of weights and half the
    KV cache, 0.67 GB; the cards take turns, so one card's bandwidth sets the pace (GDDR GPU
    constants: efficiency 0.95, 4-bit format factor 0.83, 1.3 ms fixed per token):
    t = 43.2 / (0.95 x 0.83 x 1,008) + 0.67 / (0.95 x 1,008) + 0.0013 = 0.0563 s -> 17.7 tokens/s.
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
    seconds = 43.2 / (0.95 * 0.83 * 1008) + 0.67 / (0.95 * 1008) + 0.0013
    assert r["decode_tokens_per_s"] == pytest.approx(1 / seconds, rel=0.01)


def test_offload_splits_layers_and_adds_the_times(catalog):
    """The same model on one RTX 4090 + 64 GB of DDR4-3200 (51.2 GB/s).

    Per layer (43.2 - embeddings 1.05 + 1.34) / 80 = 0.544 GB; the GPU holds
    floor((23.2 - 1.05 - compute) / 0.544) = 40 layers, so half the bytes per token come from
    RAM; the times add, with the GPU's fixed 1.3 ms once per token:
    t = (21.6 / 0.83 + 0.34) / (0.95 x 1,008) + (21.6 + 0.34) / (0.6 x 51.2) + 0.0013
    -> about 1.3 tokens/s (the RAM half is 96% of the time).
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
    weights, kv = r["weights_gb"], r["kv_cache_gb"] / 2
    gpu = (weights * share / 0.83 + kv * share) / (0.95 * 1008)
    ram = (weights + kv) * (1 - share) / (0.6 * 51.2)
    expect = 1 / (gpu + ram + 0.0013)
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


def test_a_format_that_runs_offloaded_gets_a_faster_smaller_file(catalog):
    """A 32B model in bf16 (about 67 GB) on a 12 GB GPU with 64 GB of RAM runs offloaded at
    well under 1 token/s; Q4_K_M (about 21 GB) keeps more layers on the GPU and is offered
    first among the offloaded files (not Q8_0, which leaves more in RAM)."""
    r = run_on_hardware("qwen2.5 32b", device_memory_gb=12, system_ram_gb=64, catalog=catalog)
    assert r.values["status"].value == "fits_with_offload"
    offloaded = [a for a in r.alternatives if "offload" in a.label]
    assert offloaded and offloaded[0].values["dtype"] == "q4_k_m"
    assert offloaded[0].values["decode_tokens_per_s"] > 2 * r["decode_tokens_per_s"]


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
    63 tokens/s; a step of a batch of 8 reads the weights once and 8 KV caches, so the total is
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


# -- the calibrated speed model (docs/ESTIMATORS.md, knowledge/catalog/speed-benchmarks.yaml) --


def test_small_model_on_a_datacenter_gpu_pays_the_fixed_per_token_time(catalog):
    """Llama 2 7B at Q4_K_M on an A100 80GB SXM4 (2,039 GB/s HBM2e), 4,096-token context.

    weights = 6.74e9 x 4.90 / 8 = 4.13 GB; KV = 4,096 x 2 x 32 layers x 32 heads x 128 x 2 B =
    2.15 GB, half read per token on average = 1.07 GB. HBM GPU constants: efficiency 0.65,
    format factor 0.83, 2.9 ms fixed:
    t = 4.13 / (0.65 x 0.83 x 2,039) + 1.07 / (0.65 x 2,039) + 0.0029 = 0.00746 s -> 134 tokens/s.
    The bandwidth-only model said 0.65 x 2,039 / 5.2 = 255 tokens/s; llama.cpp runs Llama 3 8B
    Q4_K_M at 135 tokens/s on this card (speed-benchmarks.yaml).
    """
    r = run_on_hardware("llama 2 7b", dtype="q4_k_m", accelerator="a100-80gb-sxm", catalog=catalog)
    assert r["weights_gb"] == pytest.approx(4.13, rel=0.01)
    assert r["kv_cache_gb"] == pytest.approx(2.15, rel=0.01)
    seconds = 4.13 / (0.65 * 0.83 * 2039) + 1.07 / (0.65 * 2039) + 0.0029
    assert r["decode_tokens_per_s"] == pytest.approx(1 / seconds, rel=0.01)
    assert 125 < r["decode_tokens_per_s"] < 145


def test_the_range_scales_the_whole_time_per_token(catalog):
    """One device: low = central x 0.80, high = central x 1.08 (the 10th and 90th percentile of
    measured / central on the fit rows), the efficiency and the fixed time scaled together."""
    r = run_on_hardware("llama 3 8b", dtype="fp16", accelerator="rtx-4090", catalog=catalog)
    q = r.values["decode_tokens_per_s"]
    assert q.low == pytest.approx(float(q.value) * 0.80)
    assert q.high == pytest.approx(float(q.value) * 1.08)


def test_sixteen_bit_weights_take_no_format_factor(catalog):
    """Llama 3 8B in F16 on an RTX 4090: 8.03e9 x 2 = 16.06 GB, KV at 4,096 tokens = 0.54 GB,
    0.27 GB read; t = (16.06 + 0.27) / (0.95 x 1,008) + 0.0013 = 0.0184 s -> 54.3 tokens/s
    (llama.cpp measured 54.84 at 512 tokens in May 2024)."""
    r = run_on_hardware("llama 3 8b", dtype="fp16", accelerator="rtx-4090", catalog=catalog)
    seconds = (r["weights_gb"] + r["kv_cache_gb"] / 2) / (0.95 * 1008) + 0.0013
    assert r["decode_tokens_per_s"] == pytest.approx(1 / seconds, rel=1e-6)
    assert 52 < r["decode_tokens_per_s"] < 57


def test_format_factors_by_bits():
    """8 and 16 bits decode at the byte rate, 4-6-bit block formats at 0.83 of it, formats
    under 4 bits (Q2_K 3.35, Q3_K_S 3.65) at 0.32: their unpacking costs more per byte."""
    assert format_decode_factor(16) == format_decode_factor(8.5) == 1.0
    assert format_decode_factor(weight_format("q4_k_m").bits) == 0.83
    assert format_decode_factor(weight_format("q6_k").bits) == 0.83
    assert format_decode_factor(weight_format("q2_k").bits) == 0.32
    assert format_decode_factor(weight_format("q3_k_s").bits) == 0.32


def test_apple_takes_its_own_constants(catalog):
    """Llama 3 70B at Q4_K_M on an M2 Ultra (800 GB/s): 70.6e9 x 4.90 / 8 = 43.2 GB; Apple
    constants efficiency 0.82, fixed 4.0 ms: t = 43.2 / (0.82 x 0.83 x 800) + KV + 0.004
    -> about 12 tokens/s (llama.cpp measured 12.48 at 512 tokens)."""
    acc = catalog.accelerator("apple-m2-ultra")
    pool = accelerator_pool(acc, 1, None, 192)
    spec = ModelSpec.from_catalog(catalog.model("llama-3-70b"))
    fp = footprint(spec, "q4_k_m", "fp16", 512, 1)
    mid, low, high = decode_tokens_per_s(spec, fp, 512, pool, None, Placement("fits", 80, 0.0))
    seconds = fp.weights_gb / (0.82 * 0.83 * 800) + fp.kv_gb / 2 / (0.82 * 800) + 0.004
    assert mid == pytest.approx(1 / seconds)
    assert 11 < mid < 13
    assert low < mid < high


def test_device_classes(catalog):
    """HBM datacenter GPUs, other GPUs (GDDR, LPDDR), Apple silicon and CPUs."""
    assert decode_class(catalog.accelerator("a100-80gb-sxm")) == "gpu-hbm"
    assert decode_class(catalog.accelerator("mi300x")) == "gpu-hbm"
    assert decode_class(catalog.accelerator("rtx-4090")) == "gpu"
    assert decode_class(catalog.accelerator("jetson-agx-orin-64gb")) == "gpu"
    assert decode_class(catalog.accelerator("apple-m4-max")) == "apple"
    assert decode_class(catalog.accelerator("xeon-8480")) == "cpu"


def test_a_batch_of_one_is_the_single_stream(catalog):
    """The batched formula pays the fixed time once per step, so at B = 1 it is one stream."""
    acc = catalog.accelerator("l40s")
    pool = accelerator_pool(acc, 1, None, None)
    spec = ModelSpec.from_catalog(catalog.model("llama-3-8b"))
    fp = footprint(spec, "q4_k_m", "fp16", 2048, 1)
    one = decode_tokens_per_s(spec, fp, 2048, pool, None, Placement("fits", 32, 0.0))
    got = batched_tokens_per_s(spec, "q4_k_m", "fp16", 2048, pool, 1)
    assert got is not None
    assert got == pytest.approx(one)


def test_prefill_efficiency_by_class_and_pascal_uses_fp32(catalog):
    """Prompt tokens/s = efficiency x peak FLOPS / (2 x active params), Llama 2 7B (6.74e9):
    A100 (HBM, 0.31 of 312 TFLOPS FP16): 0.31 x 312e12 / 13.48e9 = 7,175 tokens/s;
    RTX 4090 (0.64 of 165.2): 7,843; Tesla P40, whose FP16 runs at 1/64 rate, takes its FP32
    11.76 TFLOPS: 0.64 x 11.76e12 / 13.48e9 = 558 (llama.cpp measured 912 on Q4_0)."""
    spec = ModelSpec.from_catalog(catalog.model("llama-2-7b"))

    def pre(acc_id: str) -> float:
        got = prefill_tokens_per_s(
            spec, accelerator_pool(catalog.accelerator(acc_id), 1, None, None)
        )
        assert got is not None
        return got

    assert pre("a100-80gb-sxm") == pytest.approx(0.31 * 312e12 / 13.48e9, rel=1e-3)
    assert pre("rtx-4090") == pytest.approx(0.64 * 165.2e12 / 13.48e9, rel=1e-3)
    assert pre("p40") == pytest.approx(0.64 * 11.76e12 / 13.48e9, rel=1e-3)


def test_the_formula_shows_the_constants_used(catalog):
    """The formula lines name this card's efficiency, format factor, bandwidth and fixed time."""
    r = run_on_hardware("llama 2 7b", dtype="q4_k_m", accelerator="a100-80gb-sxm", catalog=catalog)
    line = next(f for f in r.formula if f.startswith("NVIDIA A100"))
    assert "0.65 x 0.83 x 2039 GB/s" in line and "2.9 ms fixed" in line
    assert any("fixed per-token time" in f for f in r.formula)


def test_transformers_generate_adds_its_per_layer_overhead(catalog):
    """Llama 2 7B in fp16 on an A10 through transformers' generate(): measured 34 ms a token
    (lmdeploy#210, 29 tokens/s). The bandwidth model alone says about 40 tokens/s; with
    0.4 ms x 32 layers added it is about 26, and the measured figure is inside the band."""
    plain = run_on_hardware("llama 2 7b", dtype="fp16", accelerator="a10", catalog=catalog)
    eager = run_on_hardware(
        "llama 2 7b", dtype="fp16", accelerator="a10", eager_engine=True, catalog=catalog
    )
    fast, slow = plain.values["decode_tokens_per_s"], eager.values["decode_tokens_per_s"]
    assert float(fast.value) > 35
    assert float(slow.value) == pytest.approx(1 / (1 / float(fast.value) + 0.4e-3 * 32), rel=0.01)
    assert float(slow.low) <= 1000 / 34 <= float(slow.high)
    assert any("transformers' generate()" in a for a in eager.assumptions)


def test_a_catalogued_cpu_board_runs_at_its_own_memory_bandwidth(catalog):
    """A Raspberry Pi 5 8GB: LPDDR4X at the board's catalogued bandwidth, not a desktop DDR
    default, and its 8 GB as the RAM when none is said."""
    pi = catalog.accelerator("raspberry-pi-5-8gb")
    r = run_on_hardware("phi-2", dtype="q4_k_m", accelerator=pi.id, catalog=catalog)
    assert r.values["status"].value == "fits"
    assert any(f"{pi.memory_bandwidth_gb_s:g} GB/s" in a for a in r.assumptions)
    desktop = run_on_hardware(
        "phi-2", dtype="q4_k_m", system_ram_gb=8, cpu_only=True, catalog=catalog
    )
    assert float(r["decode_tokens_per_s"]) < float(desktop["decode_tokens_per_s"])
