"""Open models people still name that the catalog lacked (December 2026): Baichuan 2, ChatGLM2/3,
GLM-4-9B, InternLM2/2.5, Qwen2 and Qwen-VL/Qwen2-VL, LLaVA 1.5/1.6, MiniCPM, OpenChat 3.5,
WizardLM, Code Llama 70B, DeepSeek-Coder v1, Gemma v1, Pixtral 12B, TinyLlama, SmolLM2, StableLM,
OPT and Yi 6B.

Each row's architecture fields come from the model's published config.json; the parameter
count the fields imply is checked against the row's ``params_b`` and against the size the
developer publishes.
"""

from __future__ import annotations

import pytest

from advisor.errors import UnknownNameError
from advisor.route import Router

# (what people type, row id)
NAMES = [
    ("Baichuan 2 7B", "baichuan2-7b"),
    ("baichuan-inc/Baichuan2-7B-Chat", "baichuan2-7b"),
    ("baichuan2 13b", "baichuan2-13b"),
    ("THUDM/chatglm2-6b", "chatglm2-6b"),
    ("chatglm3", "chatglm3-6b"),
    ("ChatGLM3-6B", "chatglm3-6b"),
    ("glm-4-9b-chat", "glm-4-9b"),
    ("glm4:9b", "glm-4-9b"),
    ("InternLM2 7B", "internlm2-7b"),
    ("internlm/internlm2-chat-20b", "internlm2-20b"),
    ("internlm2_5-7b-chat", "internlm2.5-7b"),
    ("InternLM2.5 7B", "internlm2.5-7b"),
    ("Qwen-VL-Chat", "qwen-vl"),
    ("Qwen/Qwen2-VL-7B-Instruct", "qwen2-vl-7b"),
    ("qwen2-vl 72b", "qwen2-vl-72b"),
    ("qwen2:7b", "qwen2-7b"),
    ("Qwen2-72B-Instruct", "qwen2-72b"),
    ("llava 1.5 7b", "llava-1.5-7b"),
    ("liuhaotian/llava-v1.5-13b", "llava-1.5-13b"),
    ("llava-hf/llava-v1.6-mistral-7b-hf", "llava-1.6-mistral-7b"),
    ("llava-v1.6-vicuna-7b", "llava-1.6-vicuna-7b"),
    ("LLaVA 1.6 13B", "llava-1.6-vicuna-13b"),
    ("llava-next 34b", "llava-1.6-34b"),
    ("llava:34b", "llava-1.6-34b"),
    ("MiniCPM-2B", "minicpm-2b"),
    ("openbmb/MiniCPM-2B-dpo-bf16", "minicpm-2b"),
    ("MiniCPM-V 2.6", "minicpm-v-2.6"),
    ("openchat_3.5", "openchat-3.5"),
    ("openchat/openchat-3.5-0106", "openchat-3.5"),
    ("WizardLM-13B-V1.2", "llama-2-13b"),  # identical config: an alias, as Vicuna 13B v1.5
    ("wizardlm 70b", "wizardlm-70b"),
    ("Code Llama 70B", "codellama-70b"),
    ("codellama/CodeLlama-70b-Instruct-hf", "codellama-70b"),
    ("codellama:70b", "codellama-70b"),
    ("deepseek-coder 6.7b", "deepseek-coder-6.7b"),
    ("deepseek-ai/deepseek-coder-33b-instruct", "deepseek-coder-33b"),
    ("deepseek-coder:33b", "deepseek-coder-33b"),
    ("gemma 7b", "gemma-v1-7b"),
    ("gemma:7b", "gemma-v1-7b"),
    ("google/gemma-2b-it", "gemma-v1-2b"),
    ("Pixtral 12B", "pixtral-12b"),
    ("mistralai/Pixtral-12B-2409", "pixtral-12b"),
    ("TinyLlama", "tinyllama-1.1b"),
    ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "tinyllama-1.1b"),
    ("tinyllama:1.1b", "tinyllama-1.1b"),
    ("SmolLM2 135M", "smollm2-135m"),
    ("HuggingFaceTB/SmolLM2-360M-Instruct", "smollm2-360m"),
    ("smollm2:1.7b", "smollm2-1.7b"),
    ("StableLM 2 1.6B", "stablelm-2-1.6b"),
    ("stabilityai/stablelm-2-1_6b-chat", "stablelm-2-1.6b"),
    ("stablelm-zephyr-3b", "stablelm-zephyr-3b"),
    ("OPT-6.7B", "opt-6.7b"),
    ("facebook/opt-13b", "opt-13b"),
    ("opt 30b", "opt-30b"),
    ("OPT-66B", "opt-66b"),
    ("Yi 6B", "yi-6b"),
    ("01-ai/Yi-6B", "yi-6b"),
    ("gemma 9b", "gemma-2-9b"),  # only Gemma 2 has a 9B
    ("falcon 180b", "falcon-180b"),  # already catalogued: untouched
    ("mpt-30b", "mpt-30b"),
    ("yi 34b", "yi-34b"),
]


@pytest.mark.parametrize(("typed", "expected"), NAMES)
def test_common_names_resolve(catalog, typed, expected):
    assert catalog.model(typed).id == expected


@pytest.mark.parametrize(
    "typed",
    [
        # several models answer to these: a did-you-mean, never a silent pick
        "gemma 2",
        "gemma2",
        "gemma 2b",  # Gemma v1 2B or Gemma 2 2B
        "gemma 12b",  # Gemma 3 12B, not "gemma 1 2b"
        "llava 1.6 7b",  # the Mistral and the Vicuna build
        "llava:7b",
        "llava:13b",
        "llava",
        "smollm2",
        "opt",
        "internlm2",
        "minicpm",
    ],
)
def test_ambiguous_names_get_a_did_you_mean(catalog, typed):
    with pytest.raises(UnknownNameError):
        catalog.model(typed)


OLD_IDS = {"llama-2-13b", "gemma-2-9b", "falcon-180b", "mpt-30b", "yi-34b"}
NEW_IDS = sorted({i for _, i in NAMES} - OLD_IDS)


def config_count_b(m) -> float:
    """Parameters implied by a row's architecture, in billions.

    Per layer: q and o (hidden x heads x head_dim each), k and v (hidden x kv_heads x
    head_dim each) and the FFN (3 matrices gated, 2 for OPT's plain ReLU FFN); plus the
    embedding, counted twice when the output layer is separate. Norms, biases and OPT's
    learned positions are left out (under 0.2% here).
    Example, Baichuan 2 7B: 32 x (2 x 4096 x 4096 + 2 x 4096 x 4096 + 3 x 4096 x 11008)
    + 2 x 125696 x 4096 = 6.477e9 + 1.030e9 = 7.51e9.
    """
    ffn_matrices = 2 if m.family == "facebook-opt" else 3
    per_layer = (
        2 * m.hidden_size * m.attention_heads * m.head_dim
        + 2 * m.hidden_size * m.kv_heads * m.head_dim
        + ffn_matrices * m.hidden_size * m.intermediate_size
    )
    embedding = m.vocab_size * m.hidden_size * (1 if m.tie_embeddings else 2)
    return (m.layers * per_layer + embedding) / 1e9


@pytest.mark.parametrize("model_id", NEW_IDS)
def test_params_b_is_the_count_from_the_config(catalog, model_id):
    """params_b is what the config's shapes add up to (1%, as for published weight sizes)."""
    m = catalog.model(model_id)
    assert m.params_b == pytest.approx(config_count_b(m), rel=0.01)
    assert m.active_params_b == m.params_b
    assert m.sources and m.as_of


# The size each developer publishes, in billions: in the model's name unless noted. Gemma
# and MiniCPM name the count without the embedding matrix (Gemma 7B is 8.5B in all).
PUBLISHED_B = {
    "baichuan2-7b": 7,
    "baichuan2-13b": 13,
    "chatglm2-6b": 6,
    "chatglm3-6b": 6,
    "glm-4-9b": 9,
    "internlm2-7b": 7,
    "internlm2-20b": 20,
    "internlm2.5-7b": 7,
    "qwen-vl": 7,  # Qwen-7B, its language model; the whole model is 9.6B
    "qwen2-vl-7b": 7,
    "qwen2-vl-72b": 72,
    "qwen2-7b": 7,
    "qwen2-72b": 72,
    "llava-1.5-7b": 7,
    "llava-1.5-13b": 13,
    "llava-1.6-mistral-7b": 7,
    "llava-1.6-vicuna-7b": 7,
    "llava-1.6-vicuna-13b": 13,
    "llava-1.6-34b": 34,
    "minicpm-2b": 2.4,  # card: 2.4B without embeddings
    "minicpm-v-2.6": 7,  # its Qwen2 7B language model
    "openchat-3.5": 7,
    "wizardlm-70b": 70,
    "codellama-70b": 70,
    "deepseek-coder-6.7b": 6.7,
    "deepseek-coder-33b": 33,
    "gemma-v1-7b": 7,
    "gemma-v1-2b": 2,
    "pixtral-12b": 12,  # the 12B decoder; the 0.4B vision encoder is extra
    "tinyllama-1.1b": 1.1,
    "smollm2-135m": 0.135,
    "smollm2-360m": 0.36,
    "smollm2-1.7b": 1.7,
    "stablelm-2-1.6b": 1.6,
    "stablelm-zephyr-3b": 3,
    "opt-6.7b": 6.7,
    "opt-13b": 13,
    "opt-30b": 30,
    "opt-66b": 66,
    "yi-6b": 6,
}
WITHOUT_EMBEDDINGS = {"gemma-v1-7b", "gemma-v1-2b", "minicpm-2b"}


def test_every_new_row_has_a_published_size():
    assert set(PUBLISHED_B) == set(NEW_IDS)


@pytest.mark.parametrize("model_id", NEW_IDS)
def test_count_matches_the_published_size(catalog, model_id):
    """Within 15%, the tolerance the router gives a size typed with a name ("llama 7b" is
    6.74B: advisor/route.py, _family_with_size)."""
    m = catalog.model(model_id)
    count = config_count_b(m)
    if model_id in WITHOUT_EMBEDDINGS:
        count -= m.vocab_size * m.hidden_size * (1 if m.tie_embeddings else 2) / 1e9
    assert count == pytest.approx(PUBLISHED_B[model_id], rel=0.15)


def test_minicpm_totals_match_the_card(catalog):
    """MiniCPM-2B card: 2.4B parameters without embeddings, 2.7B in total. The config sets no
    tie_word_embeddings; only a shared embedding gives 2.7B: 2.442e9 + 122753 x 2304 =
    2.725e9 (a separate output layer would make it 3.0B)."""
    m = catalog.model("minicpm-2b")
    embedding = m.vocab_size * m.hidden_size / 1e9
    assert m.tie_embeddings
    assert config_count_b(m) - embedding == pytest.approx(2.4, rel=0.02)
    assert config_count_b(m) == pytest.approx(2.7, rel=0.02)


@pytest.mark.parametrize(
    ("model_id", "per_token"),
    [
        # 2 (K and V) x layers x KV heads x head_dim x 2 bytes
        ("chatglm2-6b", 2 * 28 * 2 * 128 * 2),  # 2 query groups: 28,672 B
        ("glm-4-9b", 2 * 40 * 2 * 128 * 2),
        ("gemma-v1-2b", 2 * 18 * 1 * 256 * 2),  # multi-query: 18,432 B
        ("baichuan2-13b", 2 * 40 * 40 * 128 * 2),  # MHA: 819,200 B
        ("opt-66b", 2 * 64 * 72 * 128 * 2),
        ("smollm2-135m", 2 * 30 * 3 * 64 * 2),
    ],
)
def test_kv_cache_per_token(model_id, per_token):
    from advisor.tools import kv_cache_bytes_per_token

    assert kv_cache_bytes_per_token(model_id, kv_dtype="bf16") == per_token


@pytest.mark.parametrize(
    "question",
    [
        # family names are matched inside the question text: "yi" is in "trying" and
        # "buying", "opt" in "optimal" and "options", "openchat" in "open chat"
        "I'm trying to run a 34b model on two 3090s",
        "I'm trying to run a 7b model on my 3060",
        "buying a rig for a 34b model",
        "what's the optimal gpu for a 13b model",
        "what are my options for a 6.7b model on 8gb",
        "an open chat interface for a 7b model",
    ],
)
def test_family_words_inside_other_words_name_no_model(catalog, question):
    spec = Router(catalog).route(question)
    assert spec.model is None and spec.params_b is not None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("can I run gemma 9b on a 12gb card", "gemma-2-9b"),
        ("can I run gemma 7b on a 12gb card", "gemma-v1-7b"),
        ("deepseek coder 6.7b on a 3060", "deepseek-coder-6.7b"),
        ("qwen2 7b on a 4060", "qwen2-7b"),
        ("qwen2.5 7b on a 4060", "qwen2.5-7b"),
        ("will llava:34b fit on a 4090", "llava-1.6-34b"),
        ("tinyllama on a raspberry pi", "tinyllama-1.1b"),
    ],
)
def test_questions_name_the_new_rows(catalog, question, expected):
    assert Router(catalog).route(question).model == expected
