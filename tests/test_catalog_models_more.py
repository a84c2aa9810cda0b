"""Open models people still ask about that the catalog lacked (issue 12): Qwen (v1) 7B/14B/72B,
Qwen1.5 7B/14B/32B/72B/110B, the MoE models Qwen1.5-MoE-A2.7B and Qwen2-57B-A14B, Baichuan (v1)
7B/13B, Yi-1.5 9B/34B and InternLM (v1) 7B/20B.

Each row's shapes come from its published config.json. Qwen v1 configs state the gated FFN as
both branches together (``intermediate_size`` 22016 for 7B); the rows store one branch (11008),
as the modeling code builds it. Command R+, ChatGLM2/3-6B and Vicuna v1.5 (an alias of the Llama 2
rows) were already catalogued.
"""

from __future__ import annotations

import pytest
from advisor.tools.catalog import _norm

from advisor.route import Router

# row id -> two of the names people type for it
NAMES = {
    "qwen-7b": ("Qwen-7B-Chat", "qwen 7b"),
    "qwen-14b": ("qwen-14b-chat", "Qwen/Qwen-14B"),
    "qwen-72b": ("qwen-72b-chat", "Qwen 72B"),
    "qwen1.5-7b": ("Qwen1.5-7B-Chat", "qwen 1.5 7b"),
    "qwen1.5-14b": ("qwen1.5-14b-chat", "Qwen/Qwen1.5-14B"),
    "qwen1.5-32b": ("Qwen1.5-32B", "qwen1.5-32b-chat"),
    "qwen1.5-72b": ("qwen/Qwen1.5-72B-Chat", "qwen1.5 72b"),
    "qwen1.5-110b": ("Qwen1.5-110B-Chat", "qwen 1.5 110b"),
    "qwen1.5-moe-a2.7b": ("Qwen1.5-MoE-A2.7B", "qwen1.5 moe"),
    "qwen2-57b-a14b": ("Qwen2-57B-A14B-Instruct", "qwen2 57b a14b"),
    "baichuan-7b": ("Baichuan-7B", "baichuan-inc/Baichuan-7B"),
    "baichuan-13b": ("Baichuan-13B-Chat", "baichuan-13b-base"),
    "yi-1.5-9b": ("Yi-1.5-9B-Chat", "yi 1.5 9b"),
    "yi-1.5-34b": ("01-ai/Yi-1.5-34B", "yi-1.5-34b-chat"),
    "internlm-7b": ("internlm-chat-7b", "InternLM 7B"),
    "internlm-20b": ("internlm/internlm-20b", "internlm-chat-20b"),
}
NEW_IDS = sorted(NAMES)
MOE_IDS = ["qwen1.5-moe-a2.7b", "qwen2-57b-a14b"]

# The size each developer publishes, in billions (the name's, or the card's).
PUBLISHED_B = {
    "qwen-7b": 7,
    "qwen-14b": 14,
    "qwen-72b": 72,
    "qwen1.5-7b": 7,
    "qwen1.5-14b": 14,
    "qwen1.5-32b": 32,
    "qwen1.5-72b": 72,
    "qwen1.5-110b": 110,
    "qwen1.5-moe-a2.7b": 14.3,  # 14.3B total, 2.7B active
    "qwen2-57b-a14b": 57,
    "baichuan-7b": 7,
    "baichuan-13b": 13,
    "yi-1.5-9b": 9,
    "yi-1.5-34b": 34,
    "internlm-7b": 7,
    "internlm-20b": 20,
}
PUBLISHED_ACTIVE_B = {"qwen1.5-moe-a2.7b": 2.7, "qwen2-57b-a14b": 14}
# shared_expert_intermediate_size in the MoE configs: one shared expert on every token
SHARED_FFN = {"qwen1.5-moe-a2.7b": 5632, "qwen2-57b-a14b": 20480}


@pytest.mark.parametrize("model_id", NEW_IDS)
def test_each_new_row_resolves_from_two_of_its_names(catalog, model_id):
    for typed in NAMES[model_id]:
        assert catalog.model(typed).id == model_id, typed


def test_no_name_of_a_new_row_is_a_name_of_another_row(catalog):
    """Names match without case or punctuation: "qwen2-57b" would read as qwen2.5-7b."""
    owners: dict[str, set[str]] = {}
    for m in catalog.models:
        for name in (m.id, m.name, *m.aliases):
            owners.setdefault(_norm(name), set()).add(m.id)
    clashes = {k: v for k, v in owners.items() if len(v) > 1 and v & set(NEW_IDS)}
    assert not clashes


def _count_b(m, shared_ffn: int = 0) -> tuple[float, float]:
    """(total, active) parameters implied by a row's shapes, in billions: q/o and k/v
    projections, a gated FFN of three matrices per expert (plus the shared expert), and the
    embedding twice when the output layer is separate. Biases, norms and routers are left out
    (under 0.1% here)."""
    attn = 2 * m.hidden_size * m.attention_heads * m.head_dim
    attn += 2 * m.hidden_size * m.kv_heads * m.head_dim
    ffn = 3 * m.hidden_size * m.intermediate_size
    shared = 3 * m.hidden_size * shared_ffn
    embedding = m.vocab_size * m.hidden_size * (1 if m.tie_embeddings else 2)
    total = m.layers * (attn + ffn * (m.experts or 1) + shared) + embedding
    active = m.layers * (attn + ffn * (m.active_experts or 1) + shared) + embedding
    return total / 1e9, active / 1e9


@pytest.mark.parametrize("model_id", NEW_IDS)
def test_params_are_the_count_from_the_config(catalog, model_id):
    m = catalog.model(model_id)
    total, active = _count_b(m, SHARED_FFN.get(model_id, 0))
    assert m.params_b == pytest.approx(total, rel=0.01)
    assert m.active_params_b == pytest.approx(active, rel=0.01)
    assert m.params_b == pytest.approx(PUBLISHED_B[model_id], rel=0.15)
    assert m.sources and m.as_of


@pytest.mark.parametrize("model_id", MOE_IDS)
def test_a_moe_row_activates_fewer_parameters_than_it_holds(catalog, model_id):
    m = catalog.model(model_id)
    assert m.is_moe
    assert m.active_experts < m.experts
    assert m.shared_experts == 1
    assert m.active_params_b < m.params_b
    assert m.active_params_b == pytest.approx(PUBLISHED_ACTIVE_B[model_id], rel=0.05)


def test_dense_rows_are_not_moe(catalog):
    for model_id in sorted(set(NEW_IDS) - set(MOE_IDS)):
        m = catalog.model(model_id)
        assert not m.is_moe and m.active_params_b == m.params_b


@pytest.mark.parametrize(
    ("model_id", "ffn", "raw"),
    [("qwen-7b", 11008, 22016), ("qwen-14b", 13696, 27392), ("qwen-72b", 24576, 49152)],
)
def test_qwen_v1_ffn_is_half_the_configs_intermediate_size(catalog, model_id, ffn, raw):
    m = catalog.model(model_id)
    assert m.intermediate_size == ffn == raw // 2
    assert m.kv_heads == m.attention_heads and m.attention == "mha"  # no KV grouping in v1
    assert str(raw) in (m.notes or "")


@pytest.mark.parametrize(
    ("model_id", "per_token"),
    [
        # 2 (K and V) x layers x KV heads x head_dim x 2 bytes
        ("qwen-72b", 2 * 80 * 64 * 128 * 2),  # MHA: 2.6 MB per token, 8x Qwen2-72B's
        ("qwen1.5-32b", 2 * 64 * 8 * 128 * 2),
        ("qwen2-57b-a14b", 2 * 28 * 4 * 128 * 2),
        ("yi-1.5-9b", 2 * 48 * 4 * 128 * 2),
    ],
)
def test_kv_cache_per_token(model_id, per_token):
    from advisor.tools import kv_cache_bytes_per_token

    assert kv_cache_bytes_per_token(model_id, kv_dtype="bf16") == per_token


@pytest.fixture(scope="module")
def router(catalog) -> Router:
    return Router(catalog)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Qwen-14B-Chat-Int4", "qwen-14b"),
        ("c4ai-command-r-plus", "command-r-plus"),
        ("will Qwen-14B-Chat-Int4 fit on a 16GB card?", "qwen-14b"),
        ("serving c4ai-command-r-plus on 4 A100s with vllm", "command-r-plus"),
        ("[BUG] 单机8*32GV100 QLora微调 Qwen-72B-Chat-Int4仍然OOM", "qwen-72b"),
        ("vllm 部署 Qwen1.5-7B-Chat 出错", "qwen1.5-7b"),
        ("Qwen2-57B-A14B-Instruct-GPTQ-Int4 generates slowly", "qwen2-57b-a14b"),
        ("full fine-tune of BaiChuan-7B on one A100 80G", "baichuan-7b"),
        ("can I run baichuan2 7b on a 3060?", "baichuan2-7b"),  # Baichuan 2 is untouched
        ("internlm2 20b on two 4090s", "internlm2-20b"),
        ("qwen2.5 7b on a 4060", "qwen2.5-7b"),
    ],
)
def test_the_router_reads_the_new_rows(router, question, expected):
    assert router.route(question).model == expected


@pytest.mark.parametrize(
    "question",
    [
        # sizes no catalogued model of that version has stay bare sizes, never Qwen v1
        "can I run qwen3 72b on two 4090s",
        "can I run qwen2 14b on a 4090",
    ],
)
def test_another_qwen_versions_missing_size_is_not_read_as_qwen_v1(router, question):
    spec = router.route(question)
    assert spec.model is None and spec.params_b is not None
