"""The Chroma index: embedded (PersistentClient) or a `chroma run` server (HttpClient).

Indexing is incremental and crash-safe. Chunk ids embed the guide's content hash and every
chunk records how many chunks its version has, so the index state is read from Chroma itself:

* a guide whose current hash is fully present is skipped;
* a new or changed guide's chunks are upserted first, then chunks of other versions deleted;
* a guide killed half-way (fewer chunks than ``n_chunks``) is found and redone on the next run;
* chunks of guides that no longer exist are deleted.

Writers of the embedded index take an exclusive lock (``DATA_DIR/index.lock``, ``flock``):
a second process indexing at once waits for the first (``index_lock_timeout_s``), then reads
the index state afresh, or fails with :class:`IndexBusyError`. Chroma's embedded mode is not
safe for two writing processes. A write that fails on storage (read-only folder, disk full)
raises :class:`IndexWriteError`; the chunks already in the index stay as they were.

Reading the embedded index needs no chromadb import: every read of a collection (chunk ids,
texts, metadata and vectors) is also written to ``DATA_DIR/retrieval-cache/<name>.json``,
tagged with the index *generation*, a random token that every write through this class
replaces before and after it changes Chroma. A cache whose tag is not the current generation
(a write happened, or a writer died half-way) is ignored and rebuilt from Chroma. Writes made
to the Chroma folder by other programs are not seen: run ``advisor index --rebuild`` after
them. A Chroma server (``ADVISOR_CHROMA_URL``) or a client passed in is always read directly.

Every request to a Chroma server is bounded in time and retried a few times with backoff
when the server refused, dropped or did not answer it (``advisor.remote``); then the operation
fails with :class:`IndexUnavailableError`.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import functools
import json
import os
import re
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from advisor import remote
from advisor.config import Settings
from advisor.embeddings import Embedder
from advisor.errors import AdvisorError, IndexBusyError, IndexStorageError, IndexWriteError
from advisor.guides import Chunk, Guide, split_guide
from advisor.shipped import ShippedVectors

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock between processes
    fcntl = None  # type: ignore[assignment]

GUIDES = "guides"
USER_DOCS = "user_docs"
Progress = Callable[[str, int, int], None]  # (label, done, total)
Row = tuple[str, str, dict[str, Any]]  # (chunk id, text, metadata)
CACHE_DIR = "retrieval-cache"
EMBED_BATCH_CHUNKS = 64  # chunks of several guides embedded in one call when indexing
WRITE_BATCH_CHUNKS = 1024  # chunks (with their vectors) upserted in one call at most
LOCK_FILE = "index.lock"
# Storage failures that Chroma (sqlite, its Rust segment writer) raises as other types than
# OSError; anything else stays a bug with its traceback.
STORAGE_FAILURE = re.compile(
    r"read-?only|disk (?:is )?full|no space left|quota exceeded|permission denied|"
    r"unable to open database|disk i/o error|failed to apply logs",
    re.IGNORECASE,
)
MIN_FREE_BYTES = 1 << 20  # less free space than this after a failed write: the disk is full
T = TypeVar("T")


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_written: int = 0
    chunks_embedded: int = 0  # of those, not found in the shipped vectors
    timings: dict[str, float] = field(default_factory=dict)  # split, embed, upsert, delete (s)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.repaired or self.removed)


def make_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    if settings.chroma_url:
        return remote.connect(settings)  # requests bounded in time
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


@dataclass(frozen=True)
class Snapshot:
    """All chunks of a collection with their unit vectors (rows of ``vectors``)."""

    rows: list[Row]
    vectors: np.ndarray | None  # None when read from a Chroma server (queried there)


class KnowledgeStore:
    """Guides and user documents in two Chroma collections, with their embeddings.

    ``shipped``: precomputed vectors (``advisor.shipped``) used for chunks whose text they
    hold; only the others are embedded."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        client: Any = None,
        shipped: ShippedVectors | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.shipped = shipped if shipped and shipped.model == embedder.name else None
        self._client = client
        self._client_lock = threading.Lock()
        own = client is None and not settings.chroma_url
        self.cache_dir: Path | None = Path(settings.data_dir) / CACHE_DIR if own else None
        self._snapshots: dict[str, tuple[str, Snapshot]] = {}
        self._depth = 0  # nesting of _writing()

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()``; against a Chroma server, bounded in time and retried (``remote.call``)."""
        if not self.settings.chroma_url:
            return fn()
        return remote.call(self.settings, what, fn)

    @property
    def client(self) -> Any:
        """The Chroma client, made (and chromadb imported) on first use."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = make_client(self.settings)
        return self._client

    # -- read cache (see the module docstring) -----------------------------------------
    def _generation(self) -> str:
        assert self.cache_dir is not None
        try:
            return (self.cache_dir / "generation").read_text().strip()
        except OSError:
            return ""

    def _new_generation(self) -> None:
        if self.cache_dir is None:
            return
        self._snapshots.clear()
        self._atomic_write(self.cache_dir / "generation", uuid.uuid4().hex)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """The outermost write: take the index lock, invalidate the read cache before and
        after changing Chroma, and turn storage failures into :class:`IndexWriteError`."""
        self._depth += 1
        try:
            if self._depth > 1:
                yield
                return
            with self._write_errors(), self._index_lock():
                self._new_generation()
                done = False
                try:
                    yield
                    done = True
                finally:
                    if done:
                        self._new_generation()
                    else:  # the cache is already invalid; keep the first error
                        with contextlib.suppress(OSError):
                            self._new_generation()
        finally:
            self._depth -= 1

    @contextlib.contextmanager
    def _write_errors(self) -> Iterator[None]:
        try:
            yield
        except AdvisorError:
            raise
        except Exception as exc:
            data_dir = Path(self.settings.data_dir)
            storage = _storage_problem(data_dir)
            if storage is None and not isinstance(exc, OSError) and not _storage_text(exc):
                raise  # not storage: a bug, with its traceback
            raise _write_error(data_dir, exc, storage) from exc

    @contextlib.contextmanager
    def _read_errors(self) -> Iterator[None]:
        """Embedded Chroma writes to read (it applies its log first): on a full or read-only
        disk a read fails, as :class:`IndexStorageError`."""
        try:
            yield
        except AdvisorError:
            raise
        except Exception as exc:
            storage = _storage_problem(Path(self.settings.data_dir)) if self.cache_dir else None
            if storage is None or not _storage_text(exc):
                raise
            raise IndexStorageError(
                f"Could not read the index in {self.settings.data_dir}: the disk is {storage}"
                " (embedded Chroma writes to its folder to read).",
                hint="free some space or make the folder writable, then ask again.",
            ) from exc

    @contextlib.contextmanager
    def _index_lock(self) -> Iterator[None]:
        """Exclusive between processes writing this embedded index; waits, then fails."""
        if self.cache_dir is None or fcntl is None:
            yield  # a Chroma server or a client passed in: its own business
            return
        path = Path(self.settings.data_dir) / LOCK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.settings.index_lock_timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexBusyError(
                            f"Another process ({_lock_holder(path)}) is writing the index in "
                            f"{self.settings.data_dir}.",
                            hint="wait for it to finish, then run the command again "
                            "(ADVISOR_INDEX_LOCK_TIMEOUT_S sets how long to wait).",
                        ) from None
                    time.sleep(0.2)
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())  # named in the other's message
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @staticmethod
    def _atomic_write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _cached(self, name: str) -> Snapshot | None:
        if self.cache_dir is None:
            return None
        generation = self._generation()
        held = self._snapshots.get(name)
        if held and held[0] == generation:
            return held[1]
        try:
            data = json.loads((self.cache_dir / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("generation") != generation or data.get("model") != self.embedder.name:
            return None
        raw = base64.b64decode(data["vectors"])
        vectors = np.frombuffer(raw, dtype="<f4").reshape(len(data["ids"]), int(data["dim"]))
        rows = list(zip(data["ids"], data["texts"], data["metas"], strict=True))
        snap = Snapshot(rows, vectors)
        self._snapshots[name] = (generation, snap)
        return snap

    def _save(self, name: str, generation: str, snap: Snapshot) -> None:
        assert self.cache_dir is not None and snap.vectors is not None
        vectors = np.ascontiguousarray(snap.vectors, dtype="<f4")
        data = {
            "generation": generation,
            "model": self.embedder.name,
            "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
            "ids": [r[0] for r in snap.rows],
            "texts": [r[1] for r in snap.rows],
            "metas": [r[2] for r in snap.rows],
            "vectors": base64.b64encode(vectors.tobytes()).decode("ascii"),
        }
        with contextlib.suppress(OSError):  # a read-only or full disk: read from Chroma
            self._atomic_write(self.cache_dir / f"{name}.json", json.dumps(data))
        self._snapshots[name] = (generation, snap)

    def is_cached(self, name: str = GUIDES) -> bool:
        return self._cached(name) is not None

    def snapshot(self, name: str = GUIDES) -> Snapshot:
        """Every chunk of a collection with its vector: from the read cache when current."""
        snap = self._cached(name)
        if snap is not None:
            return snap
        generation = self._generation() if self.cache_dir is not None else ""
        with_vectors = not self.settings.chroma_url
        include = ["documents", "metadatas", "embeddings"] if with_vectors else None
        with self._read_errors():
            got = self._call(
                "read the index",
                lambda: self.collection(name).get(include=include or ["documents", "metadatas"]),
            )
        rows = [
            (cid, doc or "", dict(meta or {}))
            for cid, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
            )
        ]
        vectors = None
        if with_vectors:
            found = got.get("embeddings")
            vectors = (
                np.asarray(found, dtype=np.float32)
                if found is not None and len(found)
                else np.zeros((0, 0), dtype=np.float32)
            )
        snap = Snapshot(rows, vectors)
        if self.cache_dir is not None and self._generation() == generation:
            self._save(name, generation, snap)  # nobody wrote while it was read
        return snap

    # -- collections -------------------------------------------------------------------
    def collection(self, name: str) -> Any:
        col = self._call(
            "open the index",
            lambda: self.client.get_or_create_collection(
                name=name,
                metadata={"hnsw:space": "cosine", "embedding_model": self.embedder.name},
            ),
        )
        model = (col.metadata or {}).get("embedding_model")
        if model and model != self.embedder.name:
            raise AdvisorError(
                f"The index was built with embedding model {model!r}, not {self.embedder.name!r}.",
                hint="run `advisor index --rebuild`.",
            )
        return col

    def count(self, name: str = GUIDES) -> int:
        snap = self._cached(name)
        if snap is not None:
            return len(snap.rows)
        col = self.collection(name)
        with self._read_errors():
            return int(self._call("read the index", col.count))

    def reset(self, name: str) -> None:
        with self._writing():
            try:
                self._call("reset the index", lambda: self.client.delete_collection(name))
            except AdvisorError:
                raise  # the server did not answer
            except Exception:  # noqa: BLE001 - absent: nothing to delete
                pass

    # -- incremental sync --------------------------------------------------------------
    def _state(self, name: str) -> dict[str, dict[str, list[tuple[str, int]]]]:
        """doc_id -> content_hash -> [(chunk id, n_chunks)]."""
        col = self.collection(name)
        got = self._call("read the index", lambda: col.get(include=["metadatas"]))
        state: dict[str, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
        for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            meta = meta or {}
            state[str(meta.get("doc_id", ""))][str(meta.get("content_hash", ""))].append(
                (cid, int(meta.get("n_chunks", 0) or 0))
            )
        return state

    def _write(
        self,
        name: str,
        chunks: Sequence[Chunk],
        timings: dict[str, float] | None = None,
        vectors: list[list[float]] | None = None,
    ) -> None:
        if not chunks:
            return
        with self._writing():
            col = self.collection(name)
            t = time.perf_counter()
            if vectors is None:
                vectors, _ = self._embed([c.text for c in chunks])
            t_embed = time.perf_counter()
            written = vectors
            self._call(
                "write the index",
                lambda: col.upsert(
                    ids=[c.id for c in chunks],
                    documents=[c.text for c in chunks],
                    metadatas=[c.metadata() for c in chunks],
                    embeddings=written,
                ),
            )
            if timings is not None:
                _add(timings, "embed", t_embed - t)
                _add(timings, "upsert", time.perf_counter() - t_embed)

    def _embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Vectors of ``texts``: shipped ones where known, the rest embedded in one call.
        Returns the vectors and how many were embedded."""
        found = self.shipped.lookup(texts) if self.shipped and texts else [None] * len(texts)
        missing = [i for i, v in enumerate(found) if v is None]
        if missing:
            fresh = self.embedder.embed_documents([texts[i] for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                found[i] = vector
        return [v for v in found if v is not None], len(missing)

    def sync(
        self,
        guides: Sequence[Guide],
        name: str = GUIDES,
        *,
        remove_missing: bool = True,
        progress: Progress | None = None,
    ) -> SyncReport:
        with self._writing():
            return self._sync(guides, name, remove_missing, progress)

    def _sync(
        self,
        guides: Sequence[Guide],
        name: str,
        remove_missing: bool,
        progress: Progress | None,
    ) -> SyncReport:
        report = SyncReport()
        timings = report.timings
        t = time.perf_counter()
        state = self._state(name)
        col = self.collection(name)
        _add(timings, "read state", time.perf_counter() - t)
        total, done = len(guides), 0
        # Guides to (re)write are embedded a few at a time in one call (EMBED_BATCH_CHUNKS):
        # one call per guide pads every short batch and cost twice as long on 2 cores. Their
        # chunks are then upserted in one call (one per guide cost 1.6 s of a 2 s build with
        # shipped vectors), and only after that the other versions of each guide deleted:
        # a guide's new chunks are always in before its old ones go.
        pending: list[tuple[Guide, list[Chunk], list[tuple[str, int]], bool, list[str]]] = []
        to_embed = 0  # chunks of ``pending`` the shipped vectors do not hold

        def flush() -> None:
            nonlocal done, to_embed
            if not pending:
                return
            t = time.perf_counter()
            chunks = [c for _, mine, *_ in pending for c in mine]
            vectors, embedded = self._embed([c.text for c in chunks])
            _add(timings, "embed", time.perf_counter() - t)
            report.chunks_embedded += embedded
            self._write(name, chunks, timings, vectors=vectors)
            report.chunks_written += len(chunks)
            for guide, mine, current, complete, stale in pending:
                keep = {c.id for c in mine}
                extra = [cid for cid, _ in current if cid not in keep]
                if stale or extra:
                    t = time.perf_counter()
                    gone = stale + extra
                    self._call("write the index", functools.partial(col.delete, ids=gone))
                    _add(timings, "delete", time.perf_counter() - t)
                if not state.get(guide.meta.id):
                    report.added.append(guide.meta.id)
                elif current and not complete:
                    report.repaired.append(guide.meta.id)
                else:
                    report.replaced.append(guide.meta.id)
                done += 1
                if progress:
                    progress(guide.meta.id, done, total)
            pending.clear()
            to_embed = 0

        for guide in guides:
            doc_id, h = guide.meta.id, guide.content_hash
            versions = state.get(doc_id, {})
            current = versions.get(h, [])
            complete = bool(current) and len(current) == current[0][1]
            stale = [cid for v, ids in versions.items() if v != h for cid, _ in ids]
            if complete and not stale:
                report.unchanged += 1
                done += 1
                if progress:
                    progress(doc_id, done, total)
                continue
            t = time.perf_counter()
            chunks = split_guide(guide, self.settings.chunk_size)
            _add(timings, "split", time.perf_counter() - t)
            pending.append((guide, chunks, current, complete, stale))
            texts = [c.text for c in chunks]
            to_embed += self.shipped.missing(texts) if self.shipped else len(texts)
            writing = sum(len(p[1]) for p in pending)
            if to_embed >= EMBED_BATCH_CHUNKS or writing >= WRITE_BATCH_CHUNKS:
                flush()
        flush()
        if remove_missing:
            present = {g.meta.id for g in guides}
            for doc_id, versions in state.items():
                if doc_id not in present:
                    gone = [cid for ids in versions.values() for cid, _ in ids]
                    self._call("write the index", functools.partial(col.delete, ids=gone))
                    report.removed.append(doc_id)
        return report

    def replace_document(self, name: str, chunks: Sequence[Chunk]) -> int:
        """Write one document's chunks, then delete any other chunks of that document."""
        if not chunks:
            return 0
        doc_id = chunks[0].doc_id
        with self._writing():
            self._write(name, chunks)
            keep = {c.id for c in chunks}
            col = self.collection(name)
            old = self._call(
                "read the index", lambda: col.get(where={"doc_id": doc_id}, include=[])
            )
            stale = [cid for cid in old["ids"] if cid not in keep]
            if stale:
                self._call("write the index", lambda: col.delete(ids=stale))
        return len(chunks)

    def all_chunks(self, name: str = GUIDES) -> list[tuple[str, str, dict[str, Any]]]:
        col = self.collection(name)
        got = self._call("read the index", lambda: col.get(include=["documents", "metadatas"]))
        return [
            (cid, doc or "", dict(meta or {}))
            for cid, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
            )
        ]

    def query(self, name: str, vector: list[float], n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks."""
        col = self.collection(name)
        count = int(self._call("search the index", col.count))
        if count == 0:
            return []
        res = self._call(
            "search the index",
            lambda: col.query(
                query_embeddings=[vector], n_results=min(n, count), include=["distances"]
            ),
        )
        ids = res["ids"][0]
        dists = (res.get("distances") or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, dists, strict=False)]


def _lock_holder(path: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        return f"pid {int(path.read_text().split()[0])}"
    return "pid unknown"


def _storage_text(exc: Exception) -> bool:
    return bool(STORAGE_FAILURE.search(str(exc)))


def _storage_problem(data_dir: Path) -> str | None:
    """'full' or 'read-only' when the folder's file system is so now, else None.

    Chroma reports a full disk in many words ("Error in compaction: Failed to apply logs to
    the metadata segment"), so a failed write asks the file system itself."""
    path = data_dir
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY or not os.access(path, os.W_OK):
        return "read-only"
    if st.f_bavail * st.f_frsize < MIN_FREE_BYTES:
        return "full"
    return None


def _write_error(data_dir: Path, exc: Exception, storage: str | None) -> IndexWriteError:
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    full = storage == "full" or code in (errno.ENOSPC, errno.EDQUOT)
    if full or "full" in text or "no space" in text:
        why, fix = "the disk is full", "free some space"
    elif storage or code in (errno.EROFS, errno.EACCES, errno.EPERM) or "read" in text:
        why, fix = "the folder is read-only or not yours", "make it writable"
    else:
        why, fix = f"{type(exc).__name__}: {exc}", "check the folder"
    return IndexWriteError(
        f"Could not write the index in {data_dir}: {why}. What it held is still there.",
        hint=f"{fix}, or set ADVISOR_DATA_DIR to another folder; then run the command again "
        "(it finishes what was left half-done).",
    )


def _add(timings: dict[str, float], key: str, seconds: float) -> None:
    timings[key] = timings.get(key, 0.0) + seconds
