"""The NumPy query encoder gives the same vectors as sentence-transformers (torch)."""

from __future__ import annotations

import math

import pytest

from advisor.embeddings import SentenceTransformerEmbedder, packaged_model_dir
from advisor.minilm import NumpyEncoder, supports

TEXTS = [
    "How much memory does Llama 3.1 8B need in bf16?",
    "IB vs RoCE?",
    "RoCE fabrics rely on Priority Flow Control (PFC) and ECN to behave nearly losslessly.",
    "é ü — ünïcödé, emoji 🚀 and CJK 中文 survive tokenization",
    "token " * 400,  # longer than max_seq_length (256): truncated the same way
]


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


@pytest.fixture(scope="module")
def torch_vectors() -> list[list[float]]:
    embedder = SentenceTransformerEmbedder()
    embedder.load_torch()
    return embedder.embed_documents(TEXTS)


def test_numpy_encoder_matches_sentence_transformers(torch_vectors):
    """Batched (mixed lengths, padding masked) and one at a time: cosine 1.0 to 6 places."""
    encoder = NumpyEncoder(packaged_model_dir())
    batched = encoder.encode(TEXTS)
    single = [encoder.encode([t])[0] for t in TEXTS]
    for ours, one, ref in zip(batched, single, torch_vectors, strict=True):
        assert _cos(ours, ref) > 0.999999
        assert _cos(one, ref) > 0.999999
        assert max(abs(x - y) for x, y in zip(ours, ref, strict=True)) < 1e-5


def test_only_the_architecture_it_implements_is_accepted(tmp_path):
    assert supports(packaged_model_dir())
    (tmp_path / "config.json").write_text('{"model_type": "roberta"}')
    assert not supports(tmp_path)
    assert not supports(tmp_path / "missing")


def test_repeated_query_is_embedded_once():
    embedder = SentenceTransformerEmbedder()
    first = embedder.embed_query("IB vs RoCE?")
    again = embedder.embed_query("IB vs RoCE?")
    assert first == again
    assert (embedder.query_cache_misses, embedder.query_cache_hits) == (1, 1)


def test_encoder_sets_one_blas_thread_so_concurrent_callers_do_not_thrash():
    """Regression (issue 10, `advisor bench load`): with OpenBLAS's own 2 threads, 20 API
    threads answered 24 questions in 6 s on 2 cores; with one, about 700."""
    from threadpoolctl import threadpool_info

    NumpyEncoder(packaged_model_dir())
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert blas and all(i["num_threads"] == 1 for i in blas)
