"""The knowledge base: guides + user documents in Chroma, searched by the hybrid retriever."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.config import Settings
from advisor.embeddings import Embedder, SentenceTransformerEmbedder
from advisor.errors import AdvisorError, IndexBusyError, IndexWriteError
from advisor.guides import Guide, glossary_expansions, load_guides
from advisor.retrieve import HybridRetriever, RetrievalResult
from advisor.shipped import ShippedVectors
from advisor.store import GUIDES, USER_DOCS, KnowledgeStore, Progress, SyncReport


@dataclass
class BuildReport:
    sync: SyncReport
    guide_errors: list[str] = field(default_factory=list)
    guides: int = 0
    chunks: int = 0


@dataclass
class AddReport:
    added: list[str] = field(default_factory=list)
    chunks: int = 0
    errors: list[str] = field(default_factory=list)


class KnowledgeBase:
    """Dependencies passed in: settings, an embedder and (optionally) a Chroma client."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        client: Any = None,
        shipped: ShippedVectors | None = None,
    ) -> None:
        self.settings = settings
        self.store = KnowledgeStore(settings, embedder, client, shipped)
        self._guides: list[Guide] | None = None
        self._guide_errors: list[str] = []
        self.retriever = HybridRetriever(self.store, glossary_expansions(self.guides()))

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> KnowledgeBase:
        s = settings or Settings(**overrides)
        embedder = SentenceTransformerEmbedder(s.embedding_model, device=s.device)
        # the packaged model's vectors of the shipped guides' chunks (read on first use)
        shipped = None if s.embedding_model else ShippedVectors.packaged(embedder.name)
        return cls(s, embedder, shipped=shipped)

    def guides(self) -> list[Guide]:
        if self._guides is None:
            report = load_guides(self.settings.guides_dir)
            self._guides, self._guide_errors = report.guides, report.errors
        return self._guides

    def build(self, *, rebuild: bool = False, progress: Progress | None = None) -> BuildReport:
        """Index the guides incrementally (or from scratch with ``rebuild``)."""
        self._guides = None  # re-read the folder
        guides = self.guides()
        if rebuild:
            self.store.reset(GUIDES)
        sync = self.store.sync(guides, GUIDES, progress=progress)
        if sync.changed or rebuild or not self.store.is_cached(GUIDES):
            self.retriever.refresh()  # also writes the read cache the next process starts from
        return BuildReport(sync, list(self._guide_errors), len(guides), self.store.count(GUIDES))

    def ensure_index(self, progress: Progress | None = None) -> BuildReport | None:
        """Build the index on first use if it is missing."""
        if self.store.count(GUIDES) == 0:
            return self.build(progress=progress)
        return None

    def add_documents(self, paths: list[Path], progress: Progress | None = None) -> AddReport:
        from advisor.userdocs import collect_paths, document_chunks

        files = [p for target in paths for p in collect_paths(Path(target))]
        report = AddReport()
        for n, path in enumerate(files, start=1):
            try:
                chunks = document_chunks(path, self.settings.chunk_size)
                report.chunks += self.store.replace_document(USER_DOCS, chunks)
                report.added.append(str(path))
            except (IndexWriteError, IndexBusyError):
                raise  # the index, not this file: the other files would fail the same way
            except AdvisorError as exc:
                report.errors.append(str(exc))
            if progress:
                progress(path.name, n, len(files))
        if report.added:
            self.retriever.refresh()
        return report

    def search(self, query: str, k: int | None = None, **kwargs: Any) -> RetrievalResult:
        self.ensure_index()
        return self.retriever.search(query, k or self.settings.retrieval_k, **kwargs)
