"""Worked examples: the arithmetic is in each docstring, the test checks the tool agrees."""

from __future__ import annotations

import math

import pytest
from advisor.tools import (
    ModelSpec,
    break_even,
    compare_options,
    cost_per_million_tokens,
    decide,
    get_instance,
    inference_memory,
    job_cost,
    kv_cache_bytes_per_token,
    onprem_tco,
    serving_estimate,
    storage_estimate,
    training_estimate,
    training_memory,
)

from advisor.errors import AdvisorError


def test_llama31_8b_kv_per_token():
    """2 x 32 layers x 8 KV heads x 128 head_dim x 2 bytes = 131,072 bytes."""
    assert kv_cache_bytes_per_token("llama 3.1 8b") == 131_072


def test_llama31_70b_kv_per_token_fp8():
    """2 x 80 x 8 x 128 x 1 byte = 163,840 bytes."""
    assert kv_cache_bytes_per_token("llama 3.1 70b", kv_dtype="fp8") == 163_840


def test_deepseek_v3_mla_kv_per_token():
    """MLA caches the compressed latent: 61 layers x (512 + 64) x 2 bytes = 70,272 bytes."""
    assert kv_cache_bytes_per_token("deepseek-v3") == 61 * 576 * 2


def test_gemma2_27b_sliding_window_caps_kv():
    """Gemma 2 27B: 46 layers, half use a 4,096-token window; 16 KV heads x 128 x 2 x 2 B =
    8,192 B per layer-token. At 32,768 tokens: 23 x 8,192 x 32,768 + 23 x 8,192 x 4,096."""
    r = inference_memory("gemma 2 27b", context_tokens=32_768)
    expected = (23 * 8192 * 32_768 + 23 * 8192 * 4096) / 1e9
    assert r["kv_cache_gb"] == pytest.approx(expected, rel=1e-9)


def test_weights_scale_with_dtype():
    """8.03e9 params: bf16 16.06 GB, fp8 8.03 GB, int4 4.015 GB."""
    for dtype, gb in (("bf16", 16.06), ("fp8", 8.03), ("int4", 4.015)):
        assert inference_memory("llama 3.1 8b", dtype=dtype)["weights_gb"] == pytest.approx(gb)


def test_tensor_parallel_splits_weights():
    """70.6e9 x 2 B = 141.2 GB over TP=4 -> 35.3 GB of weights per GPU (+KV, activations)."""
    r = inference_memory(
        "llama 3.1 70b", accelerator="h100", num_accelerators=4, context_tokens=4096
    )
    per_gpu = r["per_device_gb"]
    assert 35.3 < per_gpu < 35.3 + 6
    assert r.values["fits"].value is True


def test_70b_bf16_does_not_fit_one_h100_and_offers_alternatives():
    r = inference_memory("llama 3.1 70b", accelerator="h100", num_accelerators=1)
    assert r.values["fits"].value is False
    labels = " ".join(a.label for a in r.alternatives)
    assert "int4" in labels or "fp8" in labels
    assert r["min_accelerators"] == 4  # 141 GB of weights needs 2 x 72 GB usable + KV -> 4


def test_instance_fit_check():
    r = inference_memory("llama 3.1 405b", instance="p5", provider="aws", dtype="fp8")
    assert r.values["fits"].value is True  # 406 GB / 8 = 51 GB per 80 GB GPU
    r = inference_memory("llama 3.1 405b", instance="p5", provider="aws", dtype="bf16")
    assert r.values["fits"].value is False  # 812 GB > 8 x 72 GB usable


def test_training_flops_6nd():
    """Llama 3.1 8B on 15T tokens: 6 x 8.03e9 x 15e12 = 7.227e23 FLOPs."""
    r = training_estimate("llama 3.1 8b", 15e12, "h100")
    assert r["flops"] == pytest.approx(6 * 8.03e9 * 15e12)
    # 7.227e23 / (989e12 x 0.4 x 3600) = 507,500 GPU-hours
    assert r["gpu_hours"] == pytest.approx(7.227e23 / (989e12 * 0.4 * 3600), rel=1e-3)


def test_training_moe_uses_active_params():
    """DeepSeek-V3: 6 x 37e9 active x 1e12 tokens, not 671e9."""
    r = training_estimate("deepseek-v3", 1e12, "h100")
    assert r["flops"] == pytest.approx(6 * 37e9 * 1e12, rel=0.02)


def test_recompute_is_8nd():
    r6 = training_estimate(8, 1e12, "h100")
    r8 = training_estimate(8, 1e12, "h100", recompute=True)
    assert r8["flops"] / r6["flops"] == pytest.approx(8 / 6)


def test_deadline_sizing():
    """gpu_hours / (days x 24) rounded up."""
    r = training_estimate("llama 3.1 8b", 1e12, "h100", deadline_days=7)
    assert r["accelerators_for_deadline"] == math.ceil(r["gpu_hours"] / (7 * 24))


def test_tokens_per_param_warning():
    r = training_estimate("llama 3.1 70b", 1e11, "h100")  # 1.4 tokens/param
    assert any("Chinchilla" in w for w in r.warnings)


def test_allreduce_slower_on_ethernet_than_infiniband():
    ib = training_estimate("llama 3.1 8b", 1e12, "h100", num_accelerators=64, fabric="infiniband")
    eth = training_estimate("llama 3.1 8b", 1e12, "h100", num_accelerators=64, fabric="ethernet")
    assert eth["allreduce_s_per_step"] > 3 * ib["allreduce_s_per_step"]
    assert 0 < ib["comm_share"] < eth["comm_share"] < 1


def test_full_finetune_16_bytes_per_param():
    """Llama 3.1 8B, ZeRO-0: weights 16.06 + grads 16.06 + optimizer 96.36 = 128.5 GB."""
    r = training_memory("llama 3.1 8b")
    states = r["weights_gb"] + r["gradients_gb"] + r["optimizer_gb"]
    assert states == pytest.approx(8.03 * 16)


def test_small_model_big_vocab_logits_dominate():
    """Llama 3.2 1B, micro-batch 8 x 4,096: logits 32,768 x 128,256 x 10 B = 42 GB, far above
    the 16 B/param rule (1.24e9 x 16 = 19.8 GB)."""
    r = training_memory("llama 3.2 1b", micro_batch_size=8, seq_len=4096)
    assert r["logits_gb"] == pytest.approx(32_768 * 128_256 * 10 / 1e9)
    assert r["logits_gb"] > 2 * (r["weights_gb"] + r["gradients_gb"] + r["optimizer_gb"]) / 1
    assert any("vocabulary" in w for w in r.warnings)


def test_lora_and_qlora_are_smaller():
    full = training_memory("llama 3.1 8b", activation_checkpointing=True)["total_gb"]
    lora = training_memory("llama 3.1 8b", method="lora", activation_checkpointing=True)
    qlora = training_memory("llama 3.1 8b", method="qlora", activation_checkpointing=True)
    assert qlora["total_gb"] < lora["total_gb"] < full
    # LoRA rank 16 on Llama 3.1 8B trains ~42M parameters (0.5% of 8B).
    assert 3e7 < lora["trainable_params"] < 6e7


def test_training_memory_alternatives_when_it_does_not_fit():
    r = training_memory("llama 3.1 70b", accelerator="h100")
    assert r.values["fits"].value is False
    assert any(a.label == "QLoRA" for a in r.alternatives)


def test_decode_is_bandwidth_bound_at_batch_1():
    """Llama 3.1 8B bf16 on H100 SXM: 16.06e9 B / (3,350e9 B/s x 0.7) = 6.85 ms/token."""
    r = serving_estimate("llama 3.1 8b", "h100", concurrency=1)
    assert r["tpot_ms"] == pytest.approx(16.06e9 / (3350e9 * 0.7) * 1000, rel=0.02)


def test_batching_raises_throughput():
    one = serving_estimate("llama 3.1 8b", "h100", concurrency=1)
    many = serving_estimate("llama 3.1 8b", "h100", concurrency=64)
    assert many["tokens_per_s"] > 20 * one["tokens_per_s"]


def test_replicas_for_target():
    r = serving_estimate("llama 3.1 8b", "l4", dtype="fp8", target_requests_per_s=20)
    assert r["replicas"] == math.ceil(20 / r["requests_per_s"])
    assert r["accelerators_total"] == r["replicas"] * r["tensor_parallel"]


def test_job_cost_accelerator_hours():
    """1,000 H100-hours on p5.48xlarge (8 GPUs) = 125 instance-hours x on-demand price."""
    price = get_instance("aws", "p5").prices[0].on_demand_usd_per_hour
    r = job_cost("aws", "p5", accelerator_hours=1000)
    assert r["cost_usd"] == pytest.approx(125 * price)


def test_job_cost_monthly_serving():
    price = get_instance("gcp", "g2-standard-4").prices[0].on_demand_usd_per_hour
    r = job_cost("gcp", "g2-standard-4", months=2, num_instances=3)
    assert r["cost_usd"] == pytest.approx(3 * 730 * 2 * price)


def test_cost_per_million_tokens_arithmetic():
    """price/h / (2,000 tok/s x 3,600) x 1e6."""
    price = get_instance("aws", "p5").prices[0].on_demand_usd_per_hour
    r = cost_per_million_tokens("aws", "p5", tokens_per_s=2000)
    assert r["usd_per_million_tokens"] == pytest.approx(price / 7.2e6 * 1e6)
    half = cost_per_million_tokens("aws", "p5", tokens_per_s=2000, utilization=0.5)
    assert half["usd_per_million_tokens"] == pytest.approx(2 * r["usd_per_million_tokens"])


def test_compare_options_ranks_by_cost_and_explains():
    r = compare_options("llama 3.1 70b", providers=["aws", "gcp"])
    assert r.table
    fitting = [row for row in r.table if row["fits"]]
    costs = [row["usd_per_m_tokens"] for row in fitting]
    assert costs == sorted(costs)
    assert all(row["why"] for row in r.table)
    assert {row["provider"] for row in r.table} <= {"aws", "gcp"}


def test_compare_options_apac_only_lists_apac_regions(catalog):
    r = compare_options("llama 3.1 8b", geography="apac")
    apac = {x.id for x in catalog.regions if x.geography == "apac"}
    assert r.table and all(row["region"] in apac for row in r.table)


def test_onprem_tco_components_add_up():
    r = onprem_tco("hgx h100", utilization=0.5)
    parts = sum(
        r[k]
        for k in (
            "capex_monthly_usd",
            "network_monthly_usd",
            "maintenance_monthly_usd",
            "power_monthly_usd",
            "colocation_monthly_usd",
            "staff_monthly_usd",
        )
    )
    assert r["monthly_usd"] == pytest.approx(parts)
    # per used GPU-hour = monthly / (8 x 730 x 0.5)
    assert r["usd_per_gpu_hour_used"] == pytest.approx(r["monthly_usd"] / (8 * 730 * 0.5))


def test_break_even_is_consistent():
    r = break_even("hgx h100", "aws", "p5", utilization=0.9)
    u = r["break_even_utilization"]
    cloud_at_u = 8 * 730 * u * r["cloud_usd_per_gpu_hour"]
    onprem_at_u = onprem_tco("hgx h100", utilization=u)["monthly_usd"]
    assert cloud_at_u == pytest.approx(onprem_at_u, rel=1e-3)
    assert r.table[0]["month"] == 0


def test_storage_checkpoint_14_bytes_per_param():
    """70.6e9 x 14 B = 988 GB per checkpoint."""
    r = storage_estimate(model="llama 3.1 70b", checkpoints_kept=2)
    assert r["checkpoint_gb"] == pytest.approx(70.6 * 14)
    assert r["checkpoints_gb"] == pytest.approx(2 * 70.6 * 14)


def test_storage_transfer_time():
    """1,000 GB at 10 Gb/s = 800 s."""
    r = storage_estimate(dataset_gb=1000, bandwidth_gbps=10)
    assert r["transfer_hours"] == pytest.approx(800 / 3600)


def test_decide_directions():
    assert (
        decide(utilization=5, horizon=5, sovereignty=5, urgency=1).values["recommendation"].value
        == "on-prem"
    )
    assert (
        decide(utilization=1, urgency=5, elasticity=5, skills=1).values["recommendation"].value
        == "cloud"
    )
    assert decide().values["recommendation"].value == "hybrid"


def test_custom_model_spec():
    spec = ModelSpec(
        name="tiny",
        params_b=1.0,
        layers=16,
        hidden_size=2048,
        attention_heads=16,
        kv_heads=4,
        head_dim=128,
        vocab_size=32000,
    )
    assert kv_cache_bytes_per_token(spec) == 2 * 16 * 4 * 128 * 2


def test_bare_size_is_approximated_with_warning():
    r = inference_memory(70)
    assert any("approximated" in w for w in r.warnings)
    assert r["weights_gb"] == pytest.approx(140)


def test_result_renders_deterministically():
    a = inference_memory("llama 3.1 8b", accelerator="l4").to_markdown()
    b = inference_memory("llama 3.1 8b", accelerator="l4").to_markdown()
    assert a == b
    assert "as of" in a and "| Weights |" in a


def test_training_memory_min_gpus_is_the_smallest_zero3_count_that_fits():
    """Llama 2 13B full fine-tune on 80 GB A800s: 13.0e9 x 16 B = 208 GB of states, so 2 GPUs
    (104 GB each) cannot hold it; ZeRO-3 over the reported minimum fits, one fewer does not."""
    r = training_memory(
        "llama 2 13b", accelerator="a800", num_gpus=2, zero_stage=3, activation_checkpointing=True
    )
    need = int(r["min_accelerators"])
    assert need > 2
    at = training_memory("llama 2 13b", num_gpus=need, zero_stage=3, activation_checkpointing=True)
    below = training_memory(
        "llama 2 13b", num_gpus=need - 1, zero_stage=3, activation_checkpointing=True
    )
    assert at["total_gb"] <= 80 < below["total_gb"]
    assert any(a.label == f"{need} GPUs with ZeRO-3 / FSDP" for a in r.alternatives)


def test_training_memory_8bit_adam_and_optimizer_offload():
    """8-bit AdamW keeps m and v in 8 bits: 4 B master + 2 B = 6 B/param of optimizer state
    instead of 12 B; offloading moves all of it to CPU RAM."""
    full = training_memory("llama 3.1 8b")
    eight = training_memory("llama 3.1 8b", optimizer="adamw_8bit")
    p = full["trainable_params"]
    assert full["optimizer_gb"] == pytest.approx(p * 12 / 1e9)
    assert eight["optimizer_gb"] == pytest.approx(p * 6 / 1e9)
    off = training_memory("llama 3.1 8b", offload_optimizer=True)
    assert off["optimizer_gb"] == 0
    assert off["cpu_offload_gb"] == pytest.approx(p * 12 / 1e9)
    assert off["total_gb"] < full["total_gb"]
    with pytest.raises(AdvisorError):
        training_memory("llama 3.1 8b", optimizer="sgd-ish")


def test_long_context_levers_divide_activations_and_drop_the_logits():
    """Sequence parallelism over n GPUs divides activations and logits by n; a chunked loss
    never holds the whole tokens x vocab x 10 B logits buffer."""
    base = training_memory(
        "llama 3.1 8b", num_gpus=8, zero_stage=3, seq_len=65536, activation_checkpointing=True
    )
    sp = training_memory(
        "llama 3.1 8b",
        num_gpus=8,
        zero_stage=3,
        seq_len=65536,
        activation_checkpointing=True,
        sequence_parallel=8,
    )
    assert sp["activations_gb"] == pytest.approx(base["activations_gb"] / 8)
    assert sp["logits_gb"] == pytest.approx(base["logits_gb"] / 8)
    chunked = training_memory("llama 3.1 8b", seq_len=65536, chunked_loss=True)
    assert chunked["logits_gb"] == 0
    with pytest.raises(AdvisorError):
        training_memory("llama 3.1 8b", num_gpus=2, sequence_parallel=4)


def test_lora_over_an_8_bit_base_halves_the_frozen_weights():
    """LoRA over a base loaded in 8 bits (bitsandbytes LLM.int8): 1 B/param instead of 2."""
    bf16 = training_memory("llama 2 13b", method="lora")
    int8 = training_memory("llama 2 13b", method="lora", lora_base="int8")
    adapters = bf16["weights_gb"] - 13.0 * 2  # the rank-16 adapters, in bf16
    assert int8["weights_gb"] == pytest.approx(13.0 * 1 + adapters, rel=0.01)
    with pytest.raises(AdvisorError):
        training_memory("llama 2 13b", method="lora", lora_base="fp4-ish")


def test_a_sharded_training_job_reports_its_memory_over_all_gpus(catalog):
    """ZeRO-3 over 8 GPUs: the per-GPU peak, and the same job's memory over the 8 together
    (8 x the per-GPU peak), which is what 'how much memory do I need at least?' asks."""
    r = training_memory("llama 3.1 8b", method="full", num_gpus=8, zero_stage=3, catalog=catalog)
    per_gpu = r.values["total_gb"].value
    assert r.values["memory_gb"].value == pytest.approx(8 * per_gpu)
    one = training_memory("llama 3.1 8b", method="full", num_gpus=1, catalog=catalog)
    assert "memory_gb" not in one.values  # one GPU: the peak per GPU is the whole job


def test_half_precision_formats_on_a_pascal_card_are_bound_by_its_fp16_rate(catalog):
    """Tesla P40: FP16 0.18 TFLOPS (1/64 of FP32). EXL2 computes in FP16, so one token of
    Llama 2 13B (2 x 13.0B FLOPs) at 0.18e12 x 0.64 (GDDR prefill efficiency) takes
    26e9 / 1.152e11 = 0.226 s: about 4.4 tokens/s, far under the bandwidth bound. A GGUF file
    (llama.cpp's FP32/INT8 paths) keeps its bandwidth-bound speed."""
    from advisor.tools.local import run_on_hardware

    exl2 = run_on_hardware("llama 2 13b", dtype="exl2-4.0", accelerator="p40", catalog=catalog)
    gguf = run_on_hardware("llama 2 13b", dtype="q4_k_m", accelerator="p40", catalog=catalog)
    active = catalog.model("llama 2 13b").params_b
    want = 0.18e12 * 0.64 / (2 * active * 1e9)
    assert exl2.values["decode_tokens_per_s"].value == pytest.approx(want, rel=1e-6)
    assert "FP16 compute" in exl2.values["decode_tokens_per_s"].label
    assert any("FP16 0.18 TFLOPS" in f for f in exl2.formula)
    assert gguf.values["decode_tokens_per_s"].value > 4 * want


def test_cpu_only_without_a_ram_size_assumes_the_smallest_usual_size_that_holds_it(catalog):
    """Qwen2.5 7B Q4_K_M needs about 4.95 GB; with the OS reserve that rounds up to 16 GB of
    RAM, stated as an assumption. The speed then depends on the RAM's bandwidth only."""
    from advisor.tools.local import run_on_hardware

    r = run_on_hardware("qwen2.5 7b", dtype="q4_k_m", cpu_only=True, catalog=catalog)
    assert "16 GB system RAM" in r.inputs["hardware"]
    assert any("System RAM not given: assumed 16 GB" in a for a in r.assumptions)
    big = run_on_hardware(
        "qwen2.5 7b", dtype="q4_k_m", cpu_only=True, system_ram_gb=128, catalog=catalog
    )
    assert r.values["decode_tokens_per_s"].value == pytest.approx(
        big.values["decode_tokens_per_s"].value
    )


def test_a_long_sequence_training_misfit_offers_a_shorter_sequence_and_micro_batch_1(catalog):
    """LoRA on an 8B at micro-batch 4 x 8,192 tokens without checkpointing: activations
    dominate, so halving the sequence and micro-batch 1 (gradient accumulation) are offered,
    each re-run through the calculator (each smaller than the run as set up)."""
    r = training_memory(
        "llama 3.1 8b",
        method="lora",
        num_gpus=1,
        accelerator="rtx-4090",
        seq_len=8192,
        micro_batch_size=4,
        catalog=catalog,
    )
    assert r.headline.startswith("LoRA fine-tuning")
    alts = {a.label: a.values["total_gb"] for a in r.alternatives}
    short = next(k for k in alts if k.startswith("a maximum sequence length of 4,096"))
    one = next(k for k in alts if k.startswith("micro-batch 1"))
    total = r.values["total_gb"].value
    assert alts[short] < total and alts[one] < total


def test_the_slow_fp16_note_names_the_cards_architecture(catalog):
    from advisor.tools.quant import slow_half_precision

    note = slow_half_precision(catalog.accelerator("p40"), "gptq")
    assert note is not None and note.startswith("NVIDIA Tesla P40 (Pascal) computes FP16")
    assert slow_half_precision(catalog.accelerator("rtx-3090"), "gptq") is None
