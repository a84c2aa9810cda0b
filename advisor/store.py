"""The Chroma index: embedded (PersistentClient) or a `chroma run` server (HttpClient).

Indexing is incremental and crash-safe. Chunk ids embed the guide's content hash and every
chunk records how many chunks its version has, so the index state is read from Chroma itself:

* a guide whose current hash is fully present is skipped;
* a new or changed guide's chunks are upserted first, then chunks of other versions deleted;
* a guide killed half-way (fewer chunks than ``n_chunks``) is found and redone on the next run;
* chunks of guides that no longer exist are deleted.
"""

from __future__ import annotations

import contextlib
import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from advisor.config import Settings
from advisor.embeddings import Embedder
from advisor.errors import AdvisorError
from advisor.guides import Chunk, Guide, split_guide

GUIDES = "guides"
USER_DOCS = "user_docs"
Progress = Callable[[str, int, int], None]  # (label, done, total)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_written: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.repaired or self.removed)


def make_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise AdvisorError(
                f"ADVISOR_CHROMA_URL={settings.chroma_url!r} is not an http(s) URL.",
                hint="use e.g. http://127.0.0.1:8000",
            )
        return chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 80),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class KnowledgeStore:
    """Guides and user documents in two Chroma collections, with their embeddings."""

    def __init__(self, settings: Settings, embedder: Embedder, client: Any = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.client = client if client is not None else make_client(settings)

    # -- collections -------------------------------------------------------------------
    def collection(self, name: str) -> Any:
        col = self.client.get_or_create_collection(
            name=name,
            metadata={"hnsw:space": "cosine", "embedding_model": self.embedder.name},
        )
        model = (col.metadata or {}).get("embedding_model")
        if model and model != self.embedder.name:
            raise AdvisorError(
                f"The index was built with embedding model {model!r}, not {self.embedder.name!r}.",
                hint="run `advisor index --rebuild`.",
            )
        return col

    def count(self, name: str = GUIDES) -> int:
        return int(self.collection(name).count())

    def reset(self, name: str) -> None:
        with contextlib.suppress(Exception):  # absent collection: nothing to delete
            self.client.delete_collection(name)

    # -- incremental sync --------------------------------------------------------------
    def _state(self, name: str) -> dict[str, dict[str, list[tuple[str, int]]]]:
        """doc_id -> content_hash -> [(chunk id, n_chunks)]."""
        got = self.collection(name).get(include=["metadatas"])
        state: dict[str, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
        for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            meta = meta or {}
            state[str(meta.get("doc_id", ""))][str(meta.get("content_hash", ""))].append(
                (cid, int(meta.get("n_chunks", 0) or 0))
            )
        return state

    def _write(self, name: str, chunks: Sequence[Chunk]) -> None:
        if not chunks:
            return
        col = self.collection(name)
        vectors = self.embedder.embed_documents([c.text for c in chunks])
        col.upsert(
            ids=[c.id for c in chunks],
            documents=[c.text for c in chunks],
            metadatas=[c.metadata() for c in chunks],
            embeddings=vectors,
        )

    def sync(
        self,
        guides: Sequence[Guide],
        name: str = GUIDES,
        *,
        remove_missing: bool = True,
        progress: Progress | None = None,
    ) -> SyncReport:
        report = SyncReport()
        state = self._state(name)
        col = self.collection(name)
        total = len(guides)
        for n, guide in enumerate(guides, start=1):
            doc_id, h = guide.meta.id, guide.content_hash
            versions = state.get(doc_id, {})
            current = versions.get(h, [])
            complete = bool(current) and len(current) == current[0][1]
            stale = [cid for v, ids in versions.items() if v != h for cid, _ in ids]
            if complete and not stale:
                report.unchanged += 1
            else:
                chunks = split_guide(guide, self.settings.chunk_size)
                self._write(name, chunks)
                report.chunks_written += len(chunks)
                keep = {c.id for c in chunks}
                extra = [cid for cid, _ in current if cid not in keep]
                if stale or extra:
                    col.delete(ids=stale + extra)
                if not versions:
                    report.added.append(doc_id)
                elif current and not complete:
                    report.repaired.append(doc_id)
                else:
                    report.replaced.append(doc_id)
            if progress:
                progress(doc_id, n, total)
        if remove_missing:
            present = {g.meta.id for g in guides}
            for doc_id, versions in state.items():
                if doc_id not in present:
                    col.delete(ids=[cid for ids in versions.values() for cid, _ in ids])
                    report.removed.append(doc_id)
        return report

    def replace_document(self, name: str, chunks: Sequence[Chunk]) -> int:
        """Write one document's chunks, then delete any other chunks of that document."""
        if not chunks:
            return 0
        doc_id = chunks[0].doc_id
        self._write(name, chunks)
        keep = {c.id for c in chunks}
        col = self.collection(name)
        old = col.get(where={"doc_id": doc_id}, include=[])
        stale = [cid for cid in old["ids"] if cid not in keep]
        if stale:
            col.delete(ids=stale)
        return len(chunks)

    def remove_document(self, name: str, doc_id: str) -> int:
        col = self.collection(name)
        old = col.get(where={"doc_id": doc_id}, include=[])
        if old["ids"]:
            col.delete(ids=old["ids"])
        return len(old["ids"])

    def all_chunks(self, name: str = GUIDES) -> list[tuple[str, str, dict[str, Any]]]:
        got = self.collection(name).get(include=["documents", "metadatas"])
        return [
            (cid, doc or "", dict(meta or {}))
            for cid, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
            )
        ]

    def query(self, name: str, vector: list[float], n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks."""
        col = self.collection(name)
        count = col.count()
        if count == 0:
            return []
        res = col.query(query_embeddings=[vector], n_results=min(n, count), include=["distances"])
        ids = res["ids"][0]
        dists = (res.get("distances") or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, dists, strict=False)]


def wipe_local_index(settings: Settings) -> None:
    """Delete the embedded index folder (used by --rebuild when files are corrupt)."""
    path = Path(settings.data_dir) / "chroma"
    if path.exists():
        shutil.rmtree(path)
