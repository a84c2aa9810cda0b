"""A BERT sentence encoder in NumPy, for queries: the same vectors as sentence-transformers
without importing torch.

Loading torch and sentence-transformers takes about 4 s and 400 MB on 2 cores; a question
needs one short query vector (and a few sentence vectors for the verifier). This module runs
the forward pass of a BERT-style sentence-transformers model (all-MiniLM-L6-v2 by default:
6 layers, 384 wide) with NumPy over the model's own ``model.safetensors``, memory-mapped so
only the touched vocabulary rows are read, and the model's own ``tokenizer.json`` (the Rust
``tokenizers`` library). Output: mean pooling over the tokens, L2-normalized, as the model's
``modules.json`` prescribes; cosine similarity with the torch vectors is 1.0 to 6 places
(``tests/test_minilm.py``).

Only the architecture it implements is accepted: ``supports(model_dir)`` says no for other
models (another ``ADVISOR_EMBEDDING_MODEL``), and the torch path is used for them.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
_BATCH_TOKENS = 4096  # padded tokens per forward pass


def supports(model_dir: Path) -> bool:
    """True when ``model_dir`` is a BERT encoder with mean pooling and normalization."""
    try:
        config = json.loads((model_dir / "config.json").read_text())
        modules = json.loads((model_dir / "modules.json").read_text())
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return False
    types = [m.get("type", "") for m in modules]
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and (model_dir / "model.safetensors").is_file()
        and (model_dir / "tokenizer.json").is_file()
        and types
        == [
            "sentence_transformers.models.Transformer",
            "sentence_transformers.models.Pooling",
            "sentence_transformers.models.Normalize",
        ]
        and pooling.get("pooling_mode_mean_tokens") is True
        and not any(
            pooling.get(k)
            for k in (
                "pooling_mode_cls_token",
                "pooling_mode_max_tokens",
                "pooling_mode_mean_sqrt_len_tokens",
            )
        )
    )


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file as read-only memory maps (nothing copied)."""
    with path.open("rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = np.dtype(_DTYPES[info["dtype"]])
        start, end = info["data_offsets"]
        count = (end - start) // dtype.itemsize
        arr = np.memmap(path, dtype=dtype, mode="r", offset=8 + size + start, shape=(count,))
        out[name] = arr.reshape(info["shape"])
    return out


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to 1.2e-7 (Numerical Recipes erfc, Chebyshev fit), vectorized, in float64."""
    z = np.abs(x).astype(np.float64)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = (
        -z * z
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t
                        * (
                            0.27886807
                            + t
                            * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                        )
                    )
                )
            )
        )
    )
    erfc = t * np.exp(poly)
    out: np.ndarray = np.where(x >= 0, 1.0 - erfc, erfc - 1.0).astype(np.float32)
    return out


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    out: np.ndarray = ((x - mean) / np.sqrt(var + eps)) * weight + bias
    return out


def one_blas_thread() -> None:
    """Set NumPy's BLAS (OpenBLAS) to one thread, for the whole process.

    The encoder is called from many threads at once (the web app's workers, API users), and
    OpenBLAS's own thread pool then thrashes: 20 threads on 2 cores answered 24 questions in
    6 s instead of about 700 (issue 10, found by `advisor bench load`). One query's matrices
    are too small to gain from BLAS threads; the parallelism comes from the callers, since
    NumPy releases the GIL inside each product. Libraries loaded later (torch) are untouched.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class NumpyEncoder:
    """Sentence vectors from a BERT sentence-transformers folder, with NumPy."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        one_blas_thread()

        self.model_dir = Path(model_dir)
        self.config = json.loads((self.model_dir / "config.json").read_text())
        st_config_path = self.model_dir / "sentence_bert_config.json"
        st_config = json.loads(st_config_path.read_text()) if st_config_path.is_file() else {}
        self.max_len = int(st_config.get("max_seq_length", 512))
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_len)
        weights = _safetensors(self.model_dir / "model.safetensors")
        self.w = {k.removeprefix("bert."): v for k, v in weights.items()}
        self.heads = int(self.config["num_attention_heads"])
        self.eps = float(self.config.get("layer_norm_eps", 1e-12))
        self.layers = int(self.config["num_hidden_layers"])

    def encode(self, texts: list[str]) -> list[list[float]]:
        """Unit vectors of ``texts``; similar lengths are batched, padding is masked out."""
        # encode() one by one: encode_batch would start the Rust thread pool, which then
        # warns in every forked child (the web app, test subprocesses).
        ids = [self.tokenizer.encode(t).ids for t in texts]
        out: list[list[float]] = [[] for _ in texts]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and (end - start + 1) * len(ids[order[end]]) <= _BATCH_TOKENS:
                end += 1
            batch = order[start:end]
            vectors = self._forward([ids[i] for i in batch])
            for i, vec in zip(batch, vectors, strict=True):
                out[i] = vec.astype(np.float64).tolist()
            start = end
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        w, eps = self.w, self.eps
        n, length = len(batch), max(len(x) for x in batch)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        x = (
            np.asarray(w["embeddings.word_embeddings.weight"][ids.ravel()]).reshape(n, length, -1)
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps
        ).astype(np.float32)
        hidden = x.shape[-1]
        head = hidden // self.heads
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def dense(t: np.ndarray, name: str, p: str = p) -> np.ndarray:
                out: np.ndarray = t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                return out

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(n, length, self.heads, head).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, hidden)
            x = _layer_norm(
                dense(ctx, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                eps,
            )
            inner = dense(x, "intermediate.dense")
            inner = 0.5 * inner * (1.0 + _erf(inner / np.float32(np.sqrt(2.0))))
            x = _layer_norm(
                dense(inner, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                eps,
            ).astype(np.float32)
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: np.ndarray = pooled / np.maximum(norms, 1e-12)
        return result

    def __call__(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts)
