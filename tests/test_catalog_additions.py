"""December 2026 additions: recent open models (Kimi K2, GLM-4.5/4.6, DeepSeek-V3.1/V3.2,
Qwen3-Next, Qwen3-Coder, ...), older ones people still run (phi-1.5, phi-2, StarCoder), TPU
v2/v3/v4, the architecture of every accelerator, the H20's FP8 peak and the GeForce cards that
were missing (RTX 5060 Ti 8/16 GB, 5070, 5070 Ti, 4060 Ti 8 GB, 4070 SUPER).
"""

from __future__ import annotations

import pytest

from advisor.errors import UnknownNameError
from advisor.route import Router


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("kimi-k2", "kimi-k2"),
        ("Kimi K2 Instruct", "kimi-k2"),
        ("glm4.5", "glm-4.5"),
        ("GLM-4.5-Air", "glm-4.5-air"),
        ("glm 4.6", "glm-4.6"),
        ("DeepSeek-V3.1", "deepseek-v3.1"),
        ("deepseek v3.2 exp", "deepseek-v3.2-exp"),
        ("DeepSeek-V3.2", "deepseek-v3.2"),
        ("deepseek v3", "deepseek-v3"),  # the neighbours are untouched
        ("Qwen3-Next-80B-A3B-Instruct", "qwen3-next-80b-a3b"),
        ("qwen3-coder", "qwen3-coder-480b-a35b"),
        ("Qwen3-Coder-30B-A3B-Instruct", "qwen3-coder-30b-a3b"),
        ("qwen3 30b", "qwen3-30b-a3b"),
        ("phi-1_5", "phi-1.5"),
        ("phi 2", "phi-2"),
        ("starcoder 15b", "starcoder-15b"),
        ("starcoder2 15b", "starcoder2-15b"),
        ("mistral small 3.1", "mistral-small-3.1"),
        ("mistral small 3", "mistral-small-3"),
        ("nemotron nano 8b", "llama-3.1-nemotron-nano-8b"),
    ],
)
def test_new_model_names_resolve(catalog, typed, expected):
    assert catalog.model(typed).id == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("TPU v2", "tpu-v2"),
        ("TPU v3", "tpu-v3"),
        ("tpu v4", "tpu-v4"),
        ("RTX 5060 Ti 16GB", "rtx-5060-ti-16gb"),
        ("rtx 5060 ti 8gb", "rtx-5060-ti-8gb"),
        ("5070", "rtx-5070"),
        ("RTX 5070 Ti", "rtx-5070-ti"),
        ("4060 Ti 8GB", "rtx-4060-ti-8gb"),
        ("RTX 4060 Ti 16GB", "rtx-4060-ti-16gb"),
        ("4070 super", "rtx-4070-super"),
        ("4070", "rtx-4070"),  # not the SUPER
        ("4070 ti super", "rtx-4070-ti-super"),
    ],
)
def test_new_accelerator_names_resolve(catalog, typed, expected):
    assert catalog.accelerator(typed).id == expected


@pytest.mark.parametrize("typed", ["5060 Ti", "RTX 4060 Ti"])
def test_a_name_two_cards_share_lists_both_first(catalog, typed):
    """'4060 Ti' is an 8 GB and a 16 GB card: neither is substituted, both lead the did-you-mean."""
    with pytest.raises(UnknownNameError) as err:
        catalog.accelerator(typed)
    text = str(err.value)
    head = text.split("Did you mean:")[1].split(",")[:2]
    assert any("8GB" in h for h in head) and any("16GB" in h for h in head), text


@pytest.mark.parametrize("typed", ["v2-8", "v3-8", "v4-8", "v4"])
def test_tpu_slice_names_are_not_chips(catalog, typed):
    """v4-8 is 8 TensorCores = 4 chips: read as one chip, its memory would be a quarter."""
    with pytest.raises(UnknownNameError):
        catalog.accelerator(typed)


def test_tpu_rows_are_per_chip(catalog):
    """Google's v3 / v4 pages: 32 GiB HBM2 per chip at 900 / 1200 GBps, 123 / 275 bf16 TFLOPS."""
    v3, v4 = catalog.accelerator("tpu-v3"), catalog.accelerator("tpu-v4")
    assert (v3.memory_gb, v3.memory_bandwidth_gb_s, v3.bf16_tflops) == (32, 900, 123)
    assert (v4.memory_gb, v4.memory_bandwidth_gb_s, v4.bf16_tflops) == (32, 1200, 275)


def test_tpu_v2_is_per_chip(catalog):
    """JAX's TPU table: a v2 chip is two TensorCores with 16 GB HBM at 716 GB/s and 46 bf16
    TFLOPS in all (Google's 180 TFLOPS Cloud TPU v2 is a 4-chip host)."""
    v2 = catalog.accelerator("tpu-v2")
    assert (v2.memory_gb, v2.memory_bandwidth_gb_s, v2.bf16_tflops) == (16, 716, 46)
    assert v2.kind == "tpu" and v2.architecture == "TPU v2"


@pytest.mark.parametrize(
    ("question", "chips"),
    [("TPU v2-8 on colab runs out of memory", 4), ("training on a tpu v2-32 pod slice", 16)],
)
def test_tpu_v2_slices_read_as_chips(catalog, question, chips):
    """A "v2-8" names 8 TensorCores = 4 chips of tpu-v2, as "v3-8" does for tpu-v3."""
    spec = Router(catalog).route(question)
    assert (spec.accelerator, spec.num_accelerators) == ("tpu-v2", chips)


# Rows whose architecture no source read confirms (keep short; each one is a gap to fill).
ARCHITECTURE_UNCONFIRMED: frozenset[str] = frozenset()


def test_every_accelerator_names_its_architecture(catalog):
    missing = {a.id for a in catalog.accelerators if not a.architecture}
    assert missing <= ARCHITECTURE_UNCONFIRMED, sorted(missing - ARCHITECTURE_UNCONFIRMED)
    assert not ARCHITECTURE_UNCONFIRMED & ({a.id for a in catalog.accelerators} - missing), (
        "an allow-listed row now has an architecture: drop it from the list"
    )


@pytest.mark.parametrize(
    ("acc_id", "architecture"),
    [
        ("t4", "Turing"),
        ("v100", "Volta"),
        ("p40", "Pascal"),
        ("a100-80gb-sxm", "Ampere"),
        ("rtx-4090", "Ada Lovelace"),
        ("h20", "Hopper"),
        ("b200", "Blackwell"),
        ("mi300x", "CDNA 3"),
        ("rx-7900-xtx", "RDNA 3"),
        ("gaudi3", "Gaudi 3"),
        ("tpu-v5e", "TPU v5e"),
        ("trainium2", "Trainium2"),
        ("apple-m2-max", "Apple M2"),
    ],
)
def test_architecture_names(catalog, acc_id, architecture):
    assert catalog.accelerator(acc_id).architecture == architecture


def test_h20_fp8_is_the_int8_rate(catalog):
    """Tom's Hardware's H20 table: INT8 | FP8 tensor 296 | 296, BF16 | FP16 148 | 148 (dense)."""
    h20 = catalog.accelerator("h20")
    assert (h20.fp8_tflops, h20.int8_tops, h20.bf16_tflops, h20.fp16_tflops) == (296, 296, 148, 148)


@pytest.mark.parametrize(
    ("model_id", "experts", "active", "shared", "latent"),
    [
        ("kimi-k2", 384, 8, 1, 512),
        ("deepseek-v3.1", 256, 8, 1, 512),
        ("deepseek-v3.2-exp", 256, 8, 1, 512),
        ("glm-4.5", 160, 8, 1, None),
        ("glm-4.5-air", 128, 8, 1, None),
        ("qwen3-next-80b-a3b", 512, 10, 1, None),
        ("qwen3-coder-480b-a35b", 160, 8, 0, None),
    ],
)
def test_moe_and_mla_rows_carry_their_fields(catalog, model_id, experts, active, shared, latent):
    m = catalog.model(model_id)
    assert (m.experts, m.active_experts, m.shared_experts) == (experts, active, shared)
    assert m.kv_lora_rank == latent
    assert m.active_params_b < m.params_b / 5


def test_kimi_k2_kv_cache_is_the_mla_latent():
    """61 layers x (512 + 64) latent values x 1 byte (fp8) = 35,136 bytes per token."""
    from advisor.tools.memory import kv_cache_bytes_per_token

    assert kv_cache_bytes_per_token("kimi k2", kv_dtype="fp8") == 61 * (512 + 64)
