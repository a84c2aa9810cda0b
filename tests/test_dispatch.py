"""Which calculators a question gets: a table of question -> planned tools (no index, no LLM)."""

from __future__ import annotations

import pytest

from advisor.dispatch import plan
from advisor.route import Router

PLANS = [
    # (question, expected tool names in order, clarification expected)
    ("What is the KV cache per token of Qwen2.5 7B?", ["inference_memory"], False),
    (
        "What is the per-token latency at batch 1 serving Llama 3.1 8B on an H200?",
        ["serving_estimate"],
        False,
    ),
    ("how much memory does llama 3.1 70b need in fp8 on h100?", ["inference_memory"], False),
    (
        "I have two RTX 3090s and 64 GB of RAM; can I run Llama 3.1 70B at Q4_K_M?",
        ["run_on_hardware"],
        False,
    ),
    (
        "getting 5 tok/s on rtx 4090 with llama 3.1 70b q4_k_m, is that normal?",
        ["run_on_hardware"],
        False,
    ),
    ("what can I run on a 4090 with 64GB of RAM?", ["models_for_hardware"], False),
    # a memory trouble on owned hardware, no model named: what the hardware holds
    ("Around 47GB I get problems loading models on my 64GB M2 Max", ["models_for_hardware"], False),
    # a reported speed on a datacenter card: the user's one stream, not a serving fleet
    ("Llama-2-70B-GPTQ with 1 * A100 40G runs at 9 t/s. Expected?", ["run_on_hardware"], False),
    ("QLoRA fine-tune of Llama 3.1 8B on a 24GB card: does it fit?", ["training_memory"], False),
    (
        "2x RTX 3090 vs 1x RTX 4090 for running llama 3.1 70b?",
        ["run_on_hardware", "run_on_hardware"],
        False,
    ),
    ("What is the difference between prefill and decode?", [], False),
    # full fine-tuning and LoRA asked about together: one training_memory for each
    (
        "full fine-tuning vs LoRA memory for Mistral 7B?",
        ["training_memory", "training_memory"],
        False,
    ),
    # a rental price with no workload to size: the priced instances, cheapest per GPU-hour
    ("How much does an A100 cost per hour on GCP?", ["gpu_prices"], False),
    ("how much is g5.xlarge per month", ["gpu_prices"], False),
    # a question about the fabric itself is answered from the guides, model or not
    ("Do I need InfiniBand for 2 nodes of 8 H100 fine-tuning Llama 3.1 70B?", [], False),
    # storage, not GPU memory
    (
        "how much storage do I need for checkpoints of a Llama 3.1 70B run?",
        ["storage_estimate"],
        False,
    ),
    # an edge board is the user's own device: the local path, not a serving fleet
    ("What speed for llama 2 7b on a Jetson AGX Orin 64GB?", ["run_on_hardware"], False),
    # two cards and no model: the datasheet ratios, not the models that fit on the first
    ("A100 vs H100: how much faster is it?", ["compare_accelerators"], False),
    ("Why is the RTX A6000 faster than the RTX 6000 Ada?", ["compare_accelerators"], False),
    ("NCCL timeout on 2 nodes with RoCE, what should I check?", [], False),
    ("p4d not available in my region", [], False),
    ("how much vram do i need with a 32k context?", [], True),
]


@pytest.fixture(scope="module")
def router(catalog):
    return Router(catalog)


@pytest.mark.parametrize(("question", "tools", "clarify"), PLANS, ids=[q[:40] for q, *_ in PLANS])
def test_plan_table(router, catalog, question, tools, clarify):
    p = plan(question, router.route(question), catalog)
    assert [c.tool for c in p.calls] == tools
    assert (p.clarification is not None) == clarify


@pytest.mark.parametrize(
    ("question", "dtype", "stated"),
    [
        # a fit question about a discrete GPU is judged as published; the formats follow
        ("can I run llama 3.1 8b on my rtx 3060?", "bf16", "judged in BF16"),
        # llama.cpp / Ollama users download a Q4_K_M file; so do Mac and CPU-only users
        ("can I run llama 3.1 8b on my rtx 3060 with ollama?", "q4_k_m", "assumed Q4_K_M"),
        ("can I run llama 3.1 8b on a macbook with 16gb of unified memory?", "q4_k_m", "Q4_K_M"),
        ("how fast is llama 3.1 8b on my rtx 3060?", "q4_k_m", "assumed Q4_K_M"),
    ],
)
def test_local_default_precision_is_stated(router, catalog, question, dtype, stated):
    p = plan(question, router.route(question), catalog)
    assert p.calls[0].inputs["dtype"] == dtype
    assert any(stated in a for a in p.assumptions)


def test_gpus_without_bf16_default_to_fp16(router, catalog):
    q = "does llama 3.1 8b fit on a single v100?"
    p = plan(q, router.route(q), catalog)
    assert p.calls[0].inputs["dtype"] == "fp16"


@pytest.mark.parametrize(
    ("question", "tokens", "stated"),
    [
        ("How long would a LoRA fine-tune of llama 3.1 8b take on 8 H100s?", 100e6, "100M"),
        ("how long to pretrain llama 3.1 8b on 64 H100s?", 20 * 8.03e9, "20 per parameter"),
    ],
)
def test_duration_without_a_dataset_is_timed_for_a_stated_amount(
    router, catalog, question, tokens, stated
):
    from advisor.dispatch import run_calls
    from advisor.verdict import compose

    spec = router.route(question)
    p = plan(question, spec, catalog)
    timed = [c for c in p.calls if c.tool == "training_estimate"]
    assert p.clarification is None and len(timed) == 1
    assert timed[0].inputs["tokens"] == pytest.approx(tokens, rel=0.01)
    assert any(stated in a for a in p.assumptions)
    run_calls(p, catalog)
    v = compose(spec, [c.result for c in p.calls if c.result is not None])
    assert v is not None and v.text.startswith("About ") and "GPU-hours" in v.text


def test_a_model_released_in_fp8_is_sized_as_released_unless_the_card_cannot():
    """DeepSeek-V3 is published in FP8: with no precision named it is sized in FP8 on an H100
    (FP8 tensor cores), and in bf16 on an A800, which has none, saying why."""
    from advisor.tools.catalog import load_catalog

    from advisor.dispatch import plan
    from advisor.route import WorkloadSpec

    cat = load_catalog()
    assert cat.model("deepseek-v3").published_dtype == "fp8"
    h100 = plan(
        "how many H100 for DeepSeek-V3?",
        WorkloadSpec(model="deepseek-v3", accelerator="h100-sxm", intents=["size"]),
        cat,
    )
    assert {c.inputs.get("dtype") for c in h100.calls if "dtype" in c.inputs} == {"fp8"}
    assert any("as the developer released them" in a for a in h100.assumptions)
    a800 = plan(
        "how many A800 for DeepSeek-V3?",
        WorkloadSpec(model="deepseek-v3", accelerator="a800-80gb-sxm", intents=["size"]),
        cat,
    )
    assert {c.inputs.get("dtype") for c in a800.calls if "dtype" in c.inputs} == {"bf16"}
    assert any("16-bit conversion" in a for a in a800.assumptions)


def test_two_cards_compared_on_cost_keep_the_ranking_to_those_cards(router, catalog):
    q = "Which is cheaper for Llama 3 8B inference: L4 or A10G on AWS?"
    p = plan(q, router.route(q), catalog)
    ranked = [c for c in p.calls if c.tool == "compare_options"]
    assert ranked and ranked[0].inputs["accelerators"] == ["l4", "a10g"]
    assert ranked[0].inputs["providers"] == ["aws"]


def test_which_card_to_buy_for_a_model_runs_it_on_the_card_tiers(router, catalog):
    from advisor.dispatch import LOCAL_CARD_LADDER

    q = "Which GPU should I buy to run Llama 3.1 70B locally?"
    spec = router.route(q)
    assert spec.buying_local
    p = plan(q, spec, catalog)
    cards = [c.inputs["accelerator"] for c in p.calls if c.tool == "run_on_hardware"]
    assert cards == [*LOCAL_CARD_LADDER, "rtx-3090"]
    assert p.calls[-1].inputs["num_accelerators"] == 2


def test_a_fine_tune_cost_question_ranks_training_jobs_not_serving(router, catalog):
    q = "How much does it cost to fine-tune Llama 3.1 8B with LoRA on 50k examples on AWS?"
    p = plan(q, router.route(q), catalog)
    ranked = [c for c in p.calls if c.tool == "compare_options"]
    assert ranked and ranked[0].inputs["workload"] == "training"
    assert ranked[0].inputs["tokens"] == 5e7
    assert "published_training" not in [c.tool for c in p.calls]


def test_a_daily_request_volume_is_priced_as_a_monthly_serving_bill(router, catalog):
    q = "How much would 1 million requests per day of Llama 3.1 8B cost on Lambda?"
    p = plan(q, router.route(q), catalog)
    ranked = [c for c in p.calls if c.tool == "compare_options"]
    assert ranked and ranked[0].inputs["target_tokens_per_s"] == pytest.approx(1e6 / 86_400 * 250)
