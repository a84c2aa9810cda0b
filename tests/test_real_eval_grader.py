"""The real-question grader's situation checks: a fair reading of what the question says."""

from __future__ import annotations

from advisor.evals.real_eval import Situation, check_situation

from advisor.route import WorkloadSpec


def test_a_product_sold_in_several_sizes_is_judged_by_its_stated_memory(catalog):
    """'RTX 5060 Ti' with 16 GB stated is the 16 GB card; the 8 GB one is another product."""
    want = Situation(hardware="RTX 5060 Ti", memory_gb=16)
    sixteen = catalog.accelerator("rtx 5060 ti 16gb").id
    eight = catalog.accelerator("rtx 5060 ti 8gb").id
    assert check_situation(want, WorkloadSpec(accelerator=sixteen), catalog) == []
    bad = check_situation(want, WorkloadSpec(accelerator=eight), catalog)
    assert bad and any("hardware" in b or "memory" in b for b in bad)


def test_an_unknown_device_and_a_wrong_count_are_reported(catalog):
    assert check_situation(Situation(hardware="Quantum GPU 9000"), WorkloadSpec(), catalog) == [
        "hardware 'Quantum GPU 9000' unknown to the catalog"
    ]
    spec = WorkloadSpec(accelerator=catalog.accelerator("rtx 3090").id, num_accelerators=1)
    assert check_situation(Situation(hardware="RTX 3090", count=2), spec, catalog) == [
        "count: read 1, expected 2"
    ]


def test_a_tpu_slice_is_judged_as_its_chip(catalog):
    want = Situation(hardware="TPU v3-8")
    assert check_situation(want, WorkloadSpec(accelerator="tpu-v3"), catalog) == []
    assert check_situation(want, WorkloadSpec(accelerator="tpu-v4"), catalog)


def test_a_model_is_judged_only_where_the_question_names_it(catalog):
    """The thread's model is context: "this model" states no model; a family word or a size
    does, and then a wrong reading fails."""
    want = Situation(model="MPT-7b-Chat-Instruct-LongCTX-Merge")
    page = "can the rtx 3050 8g run this model?"
    assert check_situation(want, WorkloadSpec(), catalog, page) == []
    named = check_situation(want, WorkloadSpec(), catalog, "can a 3050 run mpt?")
    assert named and "model" in named[0]
    llama = Situation(model="Llama 2 13B")
    sized = check_situation(llama, WorkloadSpec(params_b=7.0), catalog, "can I run the 13B?")
    assert sized and "13" in sized[0]
    right = catalog.model("llama 2 13b").id
    assert check_situation(llama, WorkloadSpec(model=right), catalog, "can I run the 13B?") == []


def test_a_cpu_named_as_the_machine_is_judged_as_cpu_only(catalog):
    for hw in ("Intel Core i5", "Intel Core Ultra 7 255H", "AWS c5.xlarge", "CPU"):
        assert check_situation(Situation(hardware=hw), WorkloadSpec(cpu_only=True), catalog) == []
        assert check_situation(Situation(hardware=hw), WorkloadSpec(), catalog) == [
            "missed: CPU only"
        ]


def test_generic_int4_accepts_gptq_and_awq_but_not_the_reverse(catalog):
    assert check_situation(Situation(precision="int4"), WorkloadSpec(dtype="gptq"), catalog) == []
    assert check_situation(Situation(precision="int4"), WorkloadSpec(dtype="awq"), catalog) == []
    assert check_situation(Situation(precision="gptq"), WorkloadSpec(dtype="int4"), catalog)
    assert check_situation(Situation(precision="int4"), WorkloadSpec(dtype="int8"), catalog)


def test_an_expectation_naming_several_models_accepts_any_of_them(catalog):
    from advisor.evals.real_eval import expected_models

    assert expected_models("Llama 2 7B/13B/70B") == ["Llama 2 7B", "Llama 2 13B", "Llama 2 70B"]
    assert expected_models("Llama 3 8B and 70B") == ["Llama 3 8B", "Llama 3 70B"]
    assert expected_models("Falcon-40B / Llama 2 70B") == ["Falcon-40B", "Llama 2 70B"]
    assert expected_models("Mixtral-8x7B") == ["Mixtral-8x7B"]
    q = "what GPU do you need to run llama 2 7B, 13B or 70B?"
    want = Situation(model="Llama 2 7B/13B/70B")
    seventy = catalog.model("llama 2 70b").id
    assert check_situation(want, WorkloadSpec(model=seventy), catalog, q) == []
    wrong = check_situation(want, WorkloadSpec(model=catalog.model("llama 3.1 8b").id), catalog, q)
    assert wrong and wrong[0].startswith("model")
    # one expected model, read beside the first: sized too
    seven = catalog.model("llama 2 7b").id
    both = WorkloadSpec(model=seven, other_models=[seventy])
    assert check_situation(Situation(model="Llama 2 70B"), both, catalog, "7B & 70B llama 2") == []


def test_a_version_of_the_expected_model_counts_but_another_generation_does_not(catalog):
    q = "fine-tune Mistral-7B [mistralai/Mistral-7B-v0.1]"
    v01 = catalog.model("mistral 7b v0.1").id
    assert check_situation(Situation(model="Mistral-7B"), WorkloadSpec(model=v01), catalog, q) == []
    llama1 = WorkloadSpec(model=catalog.model("llama 1 7b").id)
    assert check_situation(Situation(model="Llama 2 7B"), llama1, catalog, "llama 2 7b")


def test_a_vm_series_is_judged_by_its_gpu(catalog):
    v100 = catalog.instance("azure", "Standard_NC6s_v3").accelerator
    assert (
        check_situation(Situation(hardware="NCv3"), WorkloadSpec(accelerator=v100), catalog) == []
    )
    bad = check_situation(Situation(hardware="NCv3"), WorkloadSpec(accelerator="t4"), catalog)
    assert bad and bad[0].startswith("hardware")
