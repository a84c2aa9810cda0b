"""The verdict composer: first sentence in the user's terms, numbers only from tool results."""

from __future__ import annotations

import pytest
from advisor.tools.local import run_on_hardware
from advisor.tools.training import training_memory

from advisor.route import WorkloadSpec
from advisor.verdict import compose
from advisor.verify import numbers_in


def _numbers_from(result) -> set[float]:
    out = set(numbers_in(result.to_markdown()))
    for q in result.values.values():
        for v in (q.value, q.low, q.high):
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.add(round(float(v), 6))
    return out


def _all_numbers_traceable(text: str, result) -> bool:
    allowed = _numbers_from(result)
    for n in numbers_in(text):
        if not any(abs(n - a) <= max(0.051 * abs(a), 0.05) for a in allowed):
            return False
    return True


def test_fit_yes(catalog):
    r = run_on_hardware("llama 3.1 8b", dtype="q4_k_m", accelerator="rtx-3090", catalog=catalog)
    v = compose(WorkloadSpec(kind="fit", dtype="q4_k_m"), [r])
    assert v is not None and v.answer == "yes"
    assert v.text.startswith("Yes:")
    assert _all_numbers_traceable(v.text, r)
    assert 3 <= len(v.key_numbers) <= 6


def test_fit_with_offload_says_how_many_layers(catalog):
    r = run_on_hardware(
        "llama 3.1 70b",
        dtype="q4_k_m",
        accelerator="rtx-4090",
        system_ram_gb=64,
        catalog=catalog,
    )
    v = compose(WorkloadSpec(kind="fit", dtype="q4_k_m"), [r])
    assert v.answer == "yes_with_changes"
    layers = int(r["gpu_layers"])
    assert f"-ngl {layers}" in v.text
    assert _all_numbers_traceable(v.text, r)


def test_no_fit_names_the_cheapest_change(catalog):
    """No precision named: judged in bf16, and quantizing is the change that makes it work."""
    r = run_on_hardware("llama 3.1 70b", dtype="bf16", accelerator="rtx-4090", catalog=catalog)
    v = compose(WorkloadSpec(kind="fit"), [r])
    assert v.answer == "yes_with_changes"
    assert v.text.startswith("Not in bf16")
    assert r.alternatives[0].label in v.text


def test_a_named_format_that_does_not_fit_is_a_no_with_the_format_that_would(catalog):
    """'Can I run it unquantized / in AWQ?': another format is not their question, so the answer
    is no, and the format that fits follows; offload in the same format stays a change."""
    r = run_on_hardware("llama 3.1 70b", dtype="bf16", accelerator="rtx-4090", catalog=catalog)
    v = compose(WorkloadSpec(kind="fit", dtype="bf16"), [r])
    assert v.answer == "no"
    assert v.text.startswith("No, not in bf16") and r.alternatives[0].label in v.text
    same = run_on_hardware(
        "llama 3.1 70b", dtype="q4_k_m", accelerator="rtx-4090", system_ram_gb=64, catalog=catalog
    )
    assert compose(WorkloadSpec(kind="fit", dtype="q4_k_m"), [same]).answer == "yes_with_changes"


def test_assumed_precision_states_the_bf16_need(catalog):
    r = run_on_hardware("llama 3.1 8b", dtype="q4_k_m", accelerator="rtx-3090", catalog=catalog)
    v = compose(WorkloadSpec(kind="fit"), [r])  # dtype None: the format was assumed
    assert "unquantized (16-bit) it would need" in v.text


@pytest.mark.parametrize(("seen", "answer"), [(14.0, "yes"), (2.0, "no"), (500.0, "info")])
def test_is_this_speed_normal(catalog, seen, answer):
    """Llama 3.1 70B Q4_K_M on 2 x RTX 4090: 0.65 x 1,008 / 43.9 GB -> about 14.9 tokens/s
    (range 11.5-18.4); 14 is normal, 2 is slow, 500 is more than the bandwidth allows."""
    r = run_on_hardware(
        "llama 3.1 70b", dtype="q4_k_m", accelerator="rtx-4090", num_accelerators=2, catalog=catalog
    )
    v = compose(WorkloadSpec(kind="speed", observed_tokens_per_s=seen), [r])
    assert v.answer == answer
    assert _all_numbers_traceable(v.text, r) or str(int(seen)) in v.text


def test_speed_without_a_reported_figure(catalog):
    r = run_on_hardware(
        "llama 3.1 8b", dtype="q4_0", cpu_only=True, system_ram_gb=32, catalog=catalog
    )
    v = compose(WorkloadSpec(kind="speed"), [r])
    assert v.text.startswith("Expect about")
    assert "one stream" in v.text


def test_training_fit_and_troubleshoot_phrasing(catalog):
    r = training_memory("llama 3.1 8b", method="full", accelerator="rtx-4090", catalog=catalog)
    fit = compose(WorkloadSpec(kind="fit", workload="full_finetune"), [r])
    oom = compose(WorkloadSpec(kind="troubleshoot", workload="full_finetune"), [r])
    assert fit.answer in ("no", "yes_with_changes")
    assert oom.text.startswith("It runs out of memory because")


def test_no_verdict_without_a_result():
    assert compose(WorkloadSpec(kind="explain"), []) is None


def test_comparing_two_options_names_the_one_that_runs_it(catalog):
    two = run_on_hardware(
        "llama 3.1 70b", dtype="q4_k_m", accelerator="rtx-3090", num_accelerators=2, catalog=catalog
    )
    one = run_on_hardware("llama 3.1 70b", dtype="q4_k_m", accelerator="rtx-4090", catalog=catalog)
    spec = WorkloadSpec(kind="choose", options=[("rtx-3090", 2), ("rtx-4090", 1)])
    v = compose(spec, [two, one])
    assert v.text.startswith("2 x NVIDIA GeForce RTX 3090 is the better choice")
    assert "does not fit" in v.text


def test_only_just_is_a_change_not_a_yes(catalog):
    """Llama 2 70B at 2.3 bits on a 24 GB A10G: 21.5 of 23.2 GB usable fits with under 10% to
    spare, so the verdict says so and names the change (a shorter context)."""
    r = run_on_hardware("llama 2 70b", dtype="exl2-2.3", accelerator="a10g", catalog=catalog)
    assert r.values["fits"].value is True and "headroom_gb" in r.values
    v = compose(WorkloadSpec(kind="fit", dtype="exl2-2.3"), [r])
    assert v.answer == "yes_with_changes" and v.text.startswith("Only just:")
    assert "2,048 tokens" in v.text
    assert _all_numbers_traceable(v.text, r)
    oom = compose(WorkloadSpec(kind="troubleshoot", dtype="exl2-2.3"), [r])
    assert oom.text.startswith("It fits only just")


def test_serving_memory_with_no_room_to_batch(catalog):
    """Llama 2 70B in fp16 on 2 x A100 80GB: about 71 of 72 GB per device. A100 has no FP8, so
    the first change is 8-bit integer weights; more cards are offered too."""
    from advisor.tools.memory import inference_memory

    r = inference_memory(
        "llama 2 70b",
        dtype="fp16",
        accelerator="a100-80gb-sxm",
        num_accelerators=2,
        catalog=catalog,
    )
    assert r.values["fits"].value is True and r.values["headroom_gb"].value < 7.2
    labels = [a.label for a in r.alternatives]
    assert labels[0] == "Quantize to int8" and "Use 4 x NVIDIA A100 80GB SXM4" in labels
    v = compose(WorkloadSpec(kind="fit"), [r])
    assert v.answer == "yes_with_changes" and v.text.startswith("Only just:")


def test_roomy_fit_stays_a_plain_yes(catalog):
    r = run_on_hardware("llama 3.1 8b", dtype="bf16", accelerator="h100-sxm", catalog=catalog)
    assert "headroom_gb" not in r.values and r.alternatives == []
    assert compose(WorkloadSpec(kind="fit"), [r]).answer == "yes"


@pytest.mark.parametrize(
    ("engine", "dtype", "said", "not_said"),
    [
        ("llama.cpp", "q4_k_m", ["-ngl", "(-t)", "debug"], ["AutoGPTQ"]),
        ("transformers", "gptq", ["device_map", "AutoGPTQ", "Marlin"], ["-ngl"]),
    ],
)
def test_slow_speed_names_the_causes_of_its_engine(catalog, engine, dtype, said, not_said):
    r = run_on_hardware("llama 3.1 8b", dtype=dtype, accelerator="rtx-3090", catalog=catalog)
    v = compose(WorkloadSpec(kind="speed", engine=engine, observed_tokens_per_s=3), [r])
    assert v.answer == "no"
    assert all(s in v.text for s in said) and not any(s in v.text for s in not_said)


def test_memory_trouble_without_a_model_states_what_the_hardware_holds(catalog):
    """'models above ~47 GB fail to load on my 64 GB Mac': the GPU's share, and why."""
    from advisor.tools.local import models_for_hardware

    r = models_for_hardware(accelerator="apple-m2-max", unified_memory_gb=64, catalog=catalog)
    v = compose(WorkloadSpec(kind="troubleshoot"), [r])
    assert "48 GB" in v.text and "recommendedMaxWorkingSetSize" in v.text


def test_a_format_the_card_cannot_compute_is_a_no(catalog):
    """FP8 on an A100 (no FP8 tensor cores): no, with what works instead; H100 has them."""
    from advisor.tools.memory import inference_memory
    from advisor.tools.quant import unsupported_on

    a100, h100 = catalog.accelerator("a100-80gb-sxm"), catalog.accelerator("h100-sxm")
    assert unsupported_on(a100, "fp8") and unsupported_on(h100, "fp8") is None
    assert unsupported_on(a100, "bf16") is None
    r = inference_memory(
        "llama 3.1 70b",
        dtype="fp8",
        accelerator="a100-80gb-sxm",
        num_accelerators=2,
        catalog=catalog,
    )
    v = compose(WorkloadSpec(kind="fit", dtype="fp8"), [r])
    assert v.answer == "no" and "no FP8 tensor cores" in v.text and "INT8" in v.text
    local = run_on_hardware("llama 3.1 8b", dtype="fp8", accelerator="rtx-3090", catalog=catalog)
    assert compose(WorkloadSpec(kind="fit", dtype="fp8"), [local]).answer == "no"
    ok = run_on_hardware("llama 3.1 8b", dtype="fp8", accelerator="rtx-4090", catalog=catalog)
    assert compose(WorkloadSpec(kind="fit", dtype="fp8"), [ok]).answer == "yes"


@pytest.mark.parametrize(("seen", "answer", "opens"), [(50.0, "yes", "Yes"), (10.0, "no", "No")])
def test_a_speed_at_a_batch_is_judged_against_the_batch_total(catalog, seen, answer, opens):
    """'batch size 4, I get N tokens/s': the figure is the total of 4 streams, so it is compared
    with the batch's total, not with one stream."""
    r = run_on_hardware(
        "llama 3.1 70b",
        dtype="q4_k_m",
        accelerator="l40s",
        batch_size=4,
        context_tokens=2048,
        catalog=catalog,
    )
    spec = WorkloadSpec(kind="speed", observed_tokens_per_s=seen, batch_size=4)
    v = compose(spec, [r])
    assert v is not None and v.answer == answer and v.text.startswith(opens)
    assert "batch 4" in v.text
    assert _all_numbers_traceable(v.text, r)


def test_a_batched_benchmark_figure_is_explained_by_its_batch(catalog):
    """2,000 tokens/s for Llama 3.1 8B on one A100 is a batch total: the verdict says so, names
    the batch that reaches it, and every number in it comes from the result."""
    r = run_on_hardware(
        "llama 3.1 8b",
        dtype="fp16",
        accelerator="a100-80gb-sxm",
        observed_tokens_per_s=2000,
        catalog=catalog,
    )
    v = compose(WorkloadSpec(kind="speed", observed_tokens_per_s=2000), [r])
    assert v is not None and "batched figure" in v.text
    assert f"batch {int(r['batch_for_observed'])}" in v.text
    assert _all_numbers_traceable(v.text, r)
    far = run_on_hardware(
        "llama 3.1 8b",
        dtype="fp16",
        accelerator="rtx-3090",
        observed_tokens_per_s=1e6,
        catalog=catalog,
    )
    v = compose(WorkloadSpec(kind="speed", observed_tokens_per_s=1e6), [far])
    assert v is not None and v.answer == "no" and "even with many streams" in v.text


def test_tensor_parallel_on_a_model_that_fits_one_gpu_is_explained(catalog):
    """Llama 3.1 8B fits one H100, so TP=4 adds two all-reduces per layer for every token: the
    verdict says so and suggests replicas; a 70B that needs its cards gets no such note."""
    from advisor.tools.serving import serving_estimate

    r = serving_estimate("llama 3.1 8b", "h100-sxm", num_accelerators=4, catalog=catalog)
    v = compose(WorkloadSpec(kind="explain", num_accelerators=4), [r])
    assert v is not None and "fits on one" in v.text and "replicas" in v.text
    assert "NVLink" in v.text  # the H100 SXM's link is named
    pcie = serving_estimate("llama 3.1 8b", "l40s", num_accelerators=2, catalog=catalog)
    assert "PCIe without NVLink" in str(pcie.values["tensor_parallel_note"].value)
    big = serving_estimate("llama 3.1 70b", "h100-sxm", num_accelerators=4, catalog=catalog)
    assert "tensor_parallel_note" not in big.values


def test_how_many_gpus_to_train_leads_with_the_count(catalog):
    """'How many A100 40GB to fully fine-tune a 13B?': the fewest GPUs that hold it sharded."""
    r = training_memory(
        "llama 2 13b",
        method="full",
        num_gpus=1,
        accelerator="a100-40gb-sxm",
        activation_checkpointing=True,
        catalog=catalog,
    )
    need = int(r["min_accelerators"])
    v = compose(WorkloadSpec(kind="capacity", method="full"), [r])
    assert v is not None and v.text.startswith(f"At least {need} GPUs")
    assert _all_numbers_traceable(v.text, r)


def test_an_oom_that_fits_at_zero3_but_not_zero2_names_the_stage(catalog):
    """Full fine-tuning of Llama 2 13B on 4 x A100 80GB: about 88 GB per GPU at ZeRO-2 and
    under 80 at ZeRO-3, so an OOM with the stage unsaid points at the config's stage."""
    common = dict(
        method="full",
        num_gpus=4,
        accelerator="a100-80gb-sxm",
        activation_checkpointing=True,
        catalog=catalog,
    )
    three = training_memory("llama 2 13b", zero_stage=3, **common)
    two = training_memory("llama 2 13b", zero_stage=2, **common)
    assert three["fits"] and not two["fits"]
    v = compose(WorkloadSpec(kind="troubleshoot", method="full"), [three, two])
    assert v is not None and v.answer == "yes_with_changes"
    assert v.text.startswith("If your DeepSpeed config is at ZeRO stage 2")
    assert '"stage": 3' in v.text
    at_two, at_three = v.text.split(" and about ")
    assert f"{two['total_gb']:.3g} GB" in at_two and f"{three['total_gb']:.3g} GB" in at_three
    # a fit question gets the plain verdict, not the stage diagnosis
    plain = compose(WorkloadSpec(kind="fit", method="full"), [three, two])
    assert plain is not None and plain.text.startswith("Yes")


def test_other_sizes_named_get_their_memory_after_the_verdict(catalog):
    """'Can my 3090 run Llama 2 13B or 70B?': the verdict is about the first; each other size
    follows with its memory and whether it fits."""
    from advisor.tools.catalog import load_catalog

    from advisor.dispatch import plan

    spec = WorkloadSpec(
        kind="fit",
        model="llama-2-13b",
        accelerator="rtx-3090",
        owned=True,
        workload="inference",
        other_models=["llama-2-70b"],
    )
    calls = plan("can my 3090 run llama 2 13b or 70b?", spec, load_catalog()).calls
    sized = [c for c in calls if c.tool == "run_on_hardware"]
    assert [c.inputs["model"] for c in sized] == ["llama-2-13b", "llama-2-70b"]
    results = [run_on_hardware(**c.inputs, catalog=catalog) for c in sized]
    v = compose(spec, results)
    assert v is not None and "The other sizes named: Llama 2 70B: about" in v.text
    assert "(does not fit)" in v.text


def test_a_question_about_one_card_is_a_no_when_every_change_needs_more(catalog):
    """'Will one H100 be enough for Llama 3.1 405B?': even FP8 needs eight, so the answer
    is no, with the change that fits named; a change that fits one card stays a change."""
    from advisor.tools.memory import inference_memory

    big = inference_memory(
        "llama 3.1 405b", accelerator="h100-sxm", num_accelerators=1, catalog=catalog
    )
    v = compose(WorkloadSpec(kind="fit", num_accelerators=1), [big])
    assert v is not None and v.answer == "no"
    assert "needs more than 1 device" in v.text
    mid = inference_memory(
        "llama 3.1 70b", accelerator="h100-sxm", num_accelerators=1, catalog=catalog
    )
    v = compose(WorkloadSpec(kind="fit", num_accelerators=1), [mid])
    assert v is not None and v.answer == "yes_with_changes" and "int4" in v.text


def test_other_training_methods_named_follow_the_first(catalog):
    """'Memory for LoRA and for full fine-tuning of Llama 3.1 8B?': LoRA first, then full on
    the same single GPU, each figure from its own training_memory result."""
    common = dict(num_gpus=1, accelerator="h100-sxm", activation_checkpointing=True)
    lora = training_memory("llama 3.1 8b", method="lora", catalog=catalog, **common)
    full = training_memory("llama 3.1 8b", method="full", catalog=catalog, **common)
    v = compose(WorkloadSpec(kind="fit", method="lora", other_methods=["full"]), [lora, full])
    assert v is not None and v.answer == "yes"
    assert "Other methods: full fine-tuning: about" in v.text
    assert "on one GPU (does not fit)" in v.text
    allowed = _numbers_from(lora) | _numbers_from(full)
    assert all(
        any(abs(n - a) <= max(0.051 * abs(a), 0.05) for a in allowed) for n in numbers_in(v.text)
    )


def test_a_minimum_gpu_count_is_rounded_to_servers_as_they_come(catalog):
    """Llama 2 13B full fine-tuning on A100 40GB needs 7 sharded: in practice one 8-GPU server."""
    r = training_memory(
        "llama 2 13b",
        method="full",
        num_gpus=1,
        accelerator="a100-40gb-sxm",
        activation_checkpointing=True,
        catalog=catalog,
    )
    assert r["min_accelerators"] == 7 and r["gpus"] == 8
    v = compose(WorkloadSpec(kind="capacity", method="full"), [r])
    assert v is not None and "In practice that is 8 GPUs, one 8-GPU server." in v.text
    # a minimum that is already a server size gets no second figure
    r8 = training_memory(
        "llama 2 13b",
        method="full",
        num_gpus=1,
        accelerator="a100-80gb-sxm",
        activation_checkpointing=True,
        catalog=catalog,
    )
    assert r8["min_accelerators"] == 4 and "gpus" not in r8.values


@pytest.mark.parametrize(
    ("need", "servers"), [(1, 1), (3, 4), (5, 8), (7, 8), (8, 8), (9, 16), (11, 16), (17, 24)]
)
def test_server_gpus(need, servers):
    from advisor.tools.training import server_gpus

    assert server_gpus(need) == servers


def test_several_gpus_and_no_setup_said_means_sharding_them(catalog):
    """'Can I QLoRA Llama 3.1 70B on 4 x A6000?': nothing was set up, so using the four
    together (ZeRO-3 / FSDP) is the yes; a full copy per GPU is what would not fit. After an
    OOM (troubleshoot) or with a stage named, sharding is the change to make."""
    r = training_memory(
        "llama 3.1 70b",
        method="qlora",
        num_gpus=4,
        zero_stage=0,
        accelerator="rtx-a6000",
        activation_checkpointing=True,
        catalog=catalog,
    )
    assert not r["fits"]
    v = compose(WorkloadSpec(kind="fit", method="qlora"), [r])
    assert v is not None and v.answer == "yes"
    assert v.text.startswith("Yes, sharded over the 4 GPUs with ZeRO-3 / FSDP")
    assert _all_numbers_traceable(v.text, r)
    for spec in (
        WorkloadSpec(kind="troubleshoot", method="qlora"),
        WorkloadSpec(kind="fit", method="qlora", zero_stage=2),
    ):
        other = compose(spec, [r])
        assert other is not None and other.answer == "yes_with_changes"


def test_a_needed_context_that_only_fits_shorter_is_a_no(catalog):
    """'Llama 3.1 8B at 128K on a 16 GB card?': the fix is a shorter context, which is not what
    they need, so the answer in their terms is no; a context from a model name stays a change."""
    r = run_on_hardware(
        "llama 3.1 8b",
        dtype="q4_k_m",
        accelerator="rtx-4060-ti-16gb",
        context_tokens=131072,
        catalog=catalog,
    )
    assert r.alternatives and r.alternatives[0].label.startswith("shorten the context")
    needed = compose(
        WorkloadSpec(kind="fit", dtype="q4_k_m", context_tokens=131072, context_needed=True), [r]
    )
    assert needed is not None and needed.answer == "no"
    assert needed.text.startswith("No, not with a 131,072-token context:")
    default = compose(WorkloadSpec(kind="fit", dtype="q4_k_m", context_tokens=131072), [r])
    assert default is not None and default.answer == "yes_with_changes"


def test_a_retired_instance_is_said_first(catalog):
    from advisor.tools.memory import inference_memory

    r = inference_memory(
        "llama 2 7b", dtype="int8", instance="Standard_NC6", provider="azure", catalog=catalog
    )
    v = compose(WorkloadSpec(kind="fit", dtype="int8"), [r])
    assert v is not None
    assert v.text.startswith("Standard_NC6 is retired and cannot be rented now;")


def test_a_slowness_complaint_without_a_figure_gets_the_usual_causes(catalog):
    r = run_on_hardware("llama 2 7b", dtype="q4_k_m", accelerator="rtx-4090", catalog=catalog)
    plain = compose(WorkloadSpec(kind="speed", dtype="q4_k_m"), [r])
    slow = compose(WorkloadSpec(kind="speed", dtype="q4_k_m", reports_slow=True), [r])
    assert plain is not None and slow is not None
    assert "If you see far less" not in plain.text
    assert slow.text.startswith(plain.text) and "-ngl" in slow.text


def test_a_slow_mac_names_docker_among_the_causes(catalog):
    r = run_on_hardware("llama 2 7b", dtype="q4_k_m", accelerator="apple-m1-pro", catalog=catalog)
    spec = WorkloadSpec(
        kind="speed", dtype="q4_k_m", accelerator="apple-m1-pro", observed_tokens_per_s=0.07
    )
    v = compose(spec, [r])
    assert v is not None and v.answer == "no" and "Docker or a VM on macOS" in v.text
    pc = compose(WorkloadSpec(kind="speed", dtype="q4_k_m", observed_tokens_per_s=0.07), [r])
    assert pc is not None and "Docker" not in pc.text


def test_two_cards_compared_on_cost_name_the_cheaper_with_each_ones_best(catalog):
    from advisor.tools.cost import compare_options

    r = compare_options(
        "llama 3 8b", providers=["aws"], accelerators=["l4", "a10g"], top=50, catalog=catalog
    )
    assert {row["accelerators"].split(" x ")[1] for row in r.table or []} == {
        "NVIDIA L4",
        "NVIDIA A10G",
    }
    v = compose(WorkloadSpec(kind="cost", options=[("l4", 1), ("a10g", 1)]), [r])
    assert v is not None and "NVIDIA L4: cheapest as aws" in v.text
    assert "NVIDIA A10G: cheapest as aws" in v.text
    cheaper = v.text.split(" is cheaper for ")[0]
    best = min(
        (row for row in r.table or [] if row.get("fits")), key=lambda row: row["usd_per_m_tokens"]
    )
    assert cheaper in best["accelerators"]


def test_which_card_to_buy_names_the_smallest_tier_that_holds_it(catalog):
    runs = [
        run_on_hardware("llama 3.1 8b", dtype="q4_k_m", accelerator=a, catalog=catalog)
        for a in ("rtx-3060", "rtx-3090")
    ]
    v = compose(WorkloadSpec(kind="choose", buying_local=True), runs)
    assert v is not None
    assert v.text.startswith("The smallest card that holds Llama 3.1 8B in q4_k_m")
    assert (
        "GPU: NVIDIA GeForce RTX 3060" in v.text
        and "larger or faster: NVIDIA GeForce RTX 3090" in v.text
    )
    big = [
        run_on_hardware("llama 3.1 70b", dtype="q4_k_m", accelerator=a, catalog=catalog)
        for a in ("rtx-3060", "rtx-3090")
    ]
    none = compose(WorkloadSpec(kind="choose", buying_local=True), big)
    assert none is not None and none.text.startswith("None of the usual cards")


def test_a_training_deadline_is_answered_with_the_duration_on_their_gpus(catalog):
    """1B params x 100B tokens x 6 = 6e20 FLOPs; 8 x A100 (312 TFLOPS) at 40% MFU = 998
    TFLOPS -> 6.0e5 s = 6.96 days: within a week; a 5-day deadline needs 12 such GPUs."""
    from advisor.tools.training import training_estimate

    r = training_estimate(
        1.0, tokens=1e11, accelerator="a100-80gb-sxm", num_accelerators=8, catalog=catalog
    )
    week = compose(WorkloadSpec(kind="fit", deadline_days=7, num_accelerators=8), [r])
    assert week is not None and week.answer == "yes"
    assert "on 100B tokens takes about 6.96 days on 8 x" in week.text
    five = compose(WorkloadSpec(kind="fit", deadline_days=5, num_accelerators=8), [r])
    assert five is not None and five.answer == "no"
    assert "about 12 such GPUs would finish in time" in five.text


def test_a_speed_asked_at_a_batch_leads_with_the_batch_total(catalog):
    from advisor.tools.serving import serving_estimate

    r = serving_estimate(
        "llama 3.1 8b", accelerator="h100-sxm", dtype="bf16", concurrency=64, catalog=catalog
    )
    v = compose(WorkloadSpec(kind="speed", batch_size=64), [r])
    assert v is not None and v.text.startswith("At batch 64, about ")
    total = r["tokens_per_s"]
    assert f"{total / 64:.3g}"[:3] in v.text  # the per-stream share of the total
    one = compose(WorkloadSpec(kind="speed"), [r])
    assert one is not None and one.text.startswith("One stream runs at about")


def test_a_training_misfit_on_owned_cards_leads_with_a_change_on_those_cards(catalog):
    """Full fine-tuning of an 8B on one 4090 does not fit; QLoRA fits on that card, so it is
    the change offered first, and sharding over more GPUs comes after it."""
    full = training_memory(
        "llama 3 8b",
        method="full",
        num_gpus=1,
        accelerator="rtx-4090",
        activation_checkpointing=True,
        catalog=catalog,
    )
    v = compose(WorkloadSpec(kind="fit", accelerator="rtx-4090", owned=True), [full])
    assert v is not None and v.answer == "yes_with_changes"
    assert "It fits if you use QLoRA" in v.text
    assert v.text.index("QLoRA") < v.text.index("ZeRO-3")
    assert _all_numbers_traceable(v.text, full)


def test_a_bare_fine_tune_shows_the_other_method_with_its_gpu_count(catalog):
    """'How much to fine-tune a 70B?' names no method: LoRA is sized, full fine-tuning beside
    it with the GPUs it needs sharded."""
    common = dict(num_gpus=1, accelerator="h100-sxm", activation_checkpointing=True)
    lora = training_memory("llama 3.1 70b", method="lora", catalog=catalog, **common)
    full = training_memory("llama 3.1 70b", method="full", catalog=catalog, **common)
    need = int(full.values["min_accelerators"].value)
    v = compose(WorkloadSpec(kind="fit", other_methods=["full", "lora"]), [lora, full])
    assert v is not None
    assert "full fine-tuning: about" in v.text and f"at least {need} GPUs sharded" in v.text


def test_a_fit_only_in_the_assumed_quantized_file_is_yes_with_changes(catalog):
    """No precision said, a 16 GB M1: the 4-bit file fits and the 16-bit weights do not, so
    the answer names the change; with Ollama (which pulls a 4-bit file) it is a plain yes."""
    r = run_on_hardware(
        "llama 2 7b",
        dtype="q4_k_m",
        accelerator="apple-m1",
        unified_memory_gb=16,
        catalog=catalog,
    )
    v = compose(WorkloadSpec(kind="fit", accelerator="apple-m1"), [r])
    assert v is not None and v.answer == "yes_with_changes"
    assert v.text.startswith("Yes, in a quantized file (Q4_K_M)")
    assert _all_numbers_traceable(v.text, r)
    ollama = compose(WorkloadSpec(kind="fit", accelerator="apple-m1", engine="ollama"), [r])
    assert ollama is not None and ollama.answer == "yes"


def test_training_that_only_fits_on_more_gpus_than_theirs_is_a_no(catalog):
    """'Can I fine-tune Falcon 7B with 8 GB?': when every change that fits needs more GPUs
    than the ones named, the answer on their hardware is no, with the count that would work;
    without hardware named, more GPUs is just the change to make."""
    r = training_memory(
        "falcon 7b",
        method="full",
        device_memory_gb=8,
        activation_checkpointing=True,
        catalog=catalog,
    )
    working = [a for a in r.alternatives if a.values["fits"] == 1.0]
    assert working and all(a.label.endswith("GPUs with ZeRO-3 / FSDP") for a in working)
    v = compose(WorkloadSpec(kind="fit", device_memory_gb=8, workload="full_finetune"), [r])
    assert v is not None and v.answer == "no"
    assert v.text.startswith("No, not on one such GPU") and "GPUs with ZeRO-3" in v.text
    assert _all_numbers_traceable(v.text, r)
    unstated = compose(WorkloadSpec(kind="fit", workload="full_finetune"), [r])
    assert unstated is not None and unstated.answer == "yes_with_changes"


def test_adapters_over_several_gpus_are_sized_sharded(catalog):
    """On several GPUs the LoRA / QLoRA alternative shards the frozen base (FSDP + QLoRA),
    not a full copy of it on each GPU."""
    r = training_memory(
        "llama 2 70b",
        method="full",
        num_gpus=2,
        accelerator="rtx-3090",
        activation_checkpointing=True,
        catalog=catalog,
    )
    qlora = next(a for a in r.alternatives if a.label.startswith("QLoRA"))
    assert "sharded over the 2 GPUs" in qlora.label
    alone = training_memory(
        "llama 2 70b",
        method="qlora",
        num_gpus=2,
        zero_stage=3,
        accelerator="rtx-3090",
        activation_checkpointing=True,
        catalog=catalog,
    )
    assert qlora.values["total_gb"] == pytest.approx(alone["total_gb"])


def test_offloaded_without_a_precision_leads_with_the_quantized_file(catalog):
    """No precision given and the published weights only run offloaded: the quantized,
    less offloaded file leads; with the precision named, its offloaded run leads."""
    r = run_on_hardware("qwen2.5 32b", device_memory_gb=12, system_ram_gb=64, catalog=catalog)
    v = compose(WorkloadSpec(kind="fit", device_memory_gb=12), [r])
    assert v is not None and v.answer == "yes_with_changes"
    assert v.text.startswith("Yes, in a quantized file: quantize to Q4_K_M and offload")
    assert _all_numbers_traceable(v.text, r)
    named = compose(WorkloadSpec(kind="fit", device_memory_gb=12, dtype="bf16"), [r])
    assert named is not None and named.text.startswith("Yes, with CPU offload")
    assert "Faster: quantize to Q4_K_M" in named.text
