"""Indexing into a real Chroma (embedded, in tmp_path): incremental, crash-safe, user docs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from fakes import HashingEmbedder

from advisor.config import Settings
from advisor.guides import load_guides, split_guide
from advisor.kb import KnowledgeBase
from advisor.store import GUIDES, USER_DOCS, KnowledgeStore

GUIDES_DIR = Path(__file__).resolve().parents[1] / "knowledge" / "guides"


def _copy_guides(dest: Path, ids: list[str]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for i in ids:
        (dest / f"{i}.md").write_text((GUIDES_DIR / f"{i}.md").read_text())
    return dest


def _kb(tmp_path: Path, guides_dir: Path | None = None, embedder=None) -> KnowledgeBase:
    settings = Settings(data_dir=tmp_path / "data", guides_dir=guides_dir)
    return KnowledgeBase(settings, embedder or HashingEmbedder())


def _consistent(store: KnowledgeStore, name: str = GUIDES) -> dict[str, int]:
    """Every document has exactly one version, complete, and no duplicate ids."""
    rows = store.all_chunks(name)
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids))
    versions: dict[str, set[str]] = {}
    counts: Counter[str] = Counter()
    for _, _, meta in rows:
        versions.setdefault(meta["doc_id"], set()).add(meta["content_hash"])
        counts[meta["doc_id"]] += 1
        assert counts[meta["doc_id"]] <= meta["n_chunks"]
    for doc, hashes in versions.items():
        assert len(hashes) == 1, doc
    for _, _, meta in rows:
        assert counts[meta["doc_id"]] == meta["n_chunks"], meta["doc_id"]
    return dict(counts)


def test_build_then_noop(tmp_path):
    kb = _kb(tmp_path, _copy_guides(tmp_path / "g", ["tpus", "quantization", "glossary"]))
    first = kb.build()
    assert sorted(first.sync.added) == ["glossary", "quantization", "tpus"]
    emb_calls = kb.store.embedder.calls
    again = kb.build()
    assert again.sync.unchanged == 3 and not again.sync.changed
    assert kb.store.embedder.calls == emb_calls  # nothing re-embedded
    _consistent(kb.store)


def test_changed_guide_replaces_its_chunks_and_deleted_guide_goes(tmp_path):
    gdir = _copy_guides(tmp_path / "g", ["tpus", "quantization", "glossary"])
    kb = _kb(tmp_path, gdir)
    kb.build()
    path = gdir / "tpus.md"
    path.write_text(path.read_text() + "\n\n## Extra section\n\nTPU v9 pods are imaginary here.\n")
    (gdir / "quantization.md").unlink()
    report = kb.build()
    assert report.sync.replaced == ["tpus"] and report.sync.removed == ["quantization"]
    counts = _consistent(kb.store)
    assert set(counts) == {"tpus", "glossary"}
    assert any("imaginary" in text for _, text, _ in kb.store.all_chunks())


def test_half_written_guide_is_repaired(tmp_path):
    """Simulates a crash after writing part of a guide: the next run finishes it."""
    gdir = _copy_guides(tmp_path / "g", ["tpus", "glossary"])
    kb = _kb(tmp_path, gdir)
    guide = next(g for g in load_guides(gdir).guides if g.meta.id == "tpus")
    chunks = split_guide(guide, kb.settings.chunk_size)
    kb.store._write(GUIDES, chunks[:2])  # the process "died" here
    report = kb.build()
    assert report.sync.repaired == ["tpus"] and report.sync.added == ["glossary"]
    _consistent(kb.store)


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from fakes import HashingEmbedder
    from advisor.config import Settings
    from advisor.kb import KnowledgeBase
    # one embedding call per ~64 chunks (several guides): slow each call so the build is
    # still under way when the test kills it
    kb = KnowledgeBase(Settings(data_dir={data!r}), HashingEmbedder(delay_s=1.5))
    kb.build()
    print("finished", flush=True)
    """
)


def test_killed_indexer_leaves_a_recoverable_index(tmp_path):
    """SIGKILL a real indexing process mid-way; a re-run leaves a complete, duplicate-free index."""
    data = tmp_path / "data"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), data=str(data))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    kb = _kb(tmp_path)
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(0.5)
        try:
            if kb.store.count(GUIDES) > 0:
                break
        except Exception:  # noqa: BLE001 - the other process may be creating the collection
            continue
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert b"finished" not in (proc.stdout.read() if proc.stdout else b"")
    kb = _kb(tmp_path)  # a fresh process view of the same files
    partial = kb.store.count(GUIDES)
    report = kb.build()
    assert report.guides >= 40
    counts = _consistent(kb.store)
    assert len(counts) == report.guides
    assert sum(counts.values()) >= partial


def test_user_documents_go_to_their_own_collection(tmp_path):
    kb = _kb(tmp_path, _copy_guides(tmp_path / "g", ["tpus", "glossary"]))
    kb.build()
    docs = tmp_path / "mine"
    docs.mkdir()
    (docs / "policy.md").write_text(
        "# Our GPU policy\n\n## Procurement\n\nWe buy only "
        "liquid-cooled racks from vendor Zeta for the Oslo site.\n"
    )
    (docs / "notes.txt").write_text("The Oslo cluster uses 400G RoCE between racks.\n")
    (docs / "page.html").write_text(
        "<html><head><title>Runbook</title><script>evil()</script>"
        "</head><body><p>Drain nodes before firmware upgrades "
        "on the Oslo cluster.</p></body></html>"
    )
    (docs / "spec.pdf").write_bytes(_tiny_pdf("Oslo cluster power budget is 400 kW."))
    (docs / "blob.bin").write_bytes(b"\x00\x01\x02")  # ignored: unsupported suffix
    report = kb.add_documents([docs])
    assert len(report.added) == 4, report.errors
    assert not report.errors
    rows = kb.store.all_chunks(USER_DOCS)
    assert rows and all(m["user_supplied"] for _, _, m in rows)
    text = " ".join(t for _, t, _ in rows)
    assert "evil()" not in text and "Drain nodes" in text and "400 kW" in text
    assert kb.store.count(GUIDES) > 0 and all(
        not m["user_supplied"] for _, _, m in kb.store.all_chunks(GUIDES)
    )
    res = kb.search("Oslo cluster power budget", k=3)
    assert res.passages[0].user_supplied
    # Re-adding the same file replaces, never duplicates.
    kb.add_documents([docs / "notes.txt"])
    _consistent(kb.store, USER_DOCS)


def test_bad_user_documents_are_reported(tmp_path):
    kb = _kb(tmp_path, _copy_guides(tmp_path / "g", ["tpus"]))
    (tmp_path / "x.txt").write_bytes(b"\x00binary\x00junk")
    (tmp_path / "y.docx").write_text("nope")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    report = kb.add_documents(
        [tmp_path / "x.txt", tmp_path / "y.docx", tmp_path / "broken.pdf", tmp_path / "missing.md"]
    )
    assert not report.added and len(report.errors) == 4


def test_index_builds_on_first_use(tmp_path):
    kb = _kb(tmp_path, _copy_guides(tmp_path / "g", ["tpus", "glossary"]))
    assert kb.store.count(GUIDES) == 0
    res = kb.search("what is a TPU pod slice")
    assert kb.store.count(GUIDES) > 0 and res.passages


def _tiny_pdf(text: str) -> bytes:
    """A minimal one-page PDF with one line of text (Helvetica)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.mark.integration
def test_chroma_server_same_code_path(tmp_path):
    """A real `chroma run` on 127.0.0.1: index and query through ADVISOR_CHROMA_URL."""
    import shutil
    import socket

    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(exe).exists():
        pytest.fail("the chroma CLI (from the chromadb package) is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "srv"), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        settings = Settings(
            data_dir=tmp_path / "unused",
            chroma_url=f"http://127.0.0.1:{port}",
            guides_dir=_copy_guides(tmp_path / "g", ["scale-out-networking", "tpus", "glossary"]),
        )
        deadline = time.time() + 60
        while True:
            try:
                kb = KnowledgeBase(settings, HashingEmbedder())
                kb.store.client.heartbeat()
                break
            except Exception:  # noqa: BLE001 - server still starting
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        report = kb.build()
        assert len(report.sync.added) == 3
        assert not (tmp_path / "unused" / "chroma").exists()  # nothing embedded on disk
        res = kb.search("InfiniBand or RoCE for training", k=3)
        assert res.passages[0].doc_id == "scale-out-networking"
        assert kb.build().sync.unchanged == 3
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_read_cache_follows_every_write(tmp_path):
    """A new knowledge base reads chunks and vectors from the read cache (no Chroma); a write
    through another instance (another process) is seen, and a writer that died half-way
    leaves no cache behind, so the next reader goes back to Chroma."""
    gdir = _copy_guides(tmp_path / "g", ["tpus", "glossary"])
    writer = _kb(tmp_path, gdir)
    writer.build()
    reader = _kb(tmp_path, gdir)
    assert reader.store.is_cached(GUIDES)
    top = reader.search("what is a TPU pod slice").passages[0]
    assert top.doc_id == "tpus" and top.dense is not None
    docs = tmp_path / "mine"
    docs.mkdir()
    (docs / "notes.txt").write_text("The Oslo cluster uses 400G RoCE between racks.\n")
    writer.add_documents([docs])
    after = _kb(tmp_path, gdir)
    assert any(p.user_supplied for p in after.search("Oslo cluster racks", k=3).passages)
    chunks = writer.store.count(GUIDES)
    guide = next(g for g in load_guides(gdir).guides if g.meta.id == "tpus")
    changed = guide.__class__(guide.meta, guide.body + "\n\nA new line.\n", guide.path)
    writer.store._write(GUIDES, split_guide(changed, writer.settings.chunk_size)[:1])  # died
    crashed = _kb(tmp_path, gdir)
    assert not crashed.store.is_cached(GUIDES)
    assert crashed.store.count(GUIDES) == chunks + 1
    crashed.build()  # repairs, and writes the cache again
    assert _kb(tmp_path, gdir).store.is_cached(GUIDES)
    _consistent(crashed.store)


TWO_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, {tests!r})
    from fakes import HashingEmbedder
    from advisor.config import Settings
    from advisor.errors import IndexBusyError
    from advisor.kb import KnowledgeBase
    settings = Settings(
        data_dir={data!r}, guides_dir={guides!r}, index_lock_timeout_s=float(sys.argv[1])
    )
    kb = KnowledgeBase(settings, HashingEmbedder(delay_s=float(sys.argv[2])))
    start = time.time()
    try:
        r = kb.build()
        print(json.dumps({{"added": len(r.sync.added), "unchanged": r.sync.unchanged,
                          "start": start, "end": time.time()}}))
    except IndexBusyError as exc:
        print(json.dumps({{"busy": str(exc)}}))
    """
)


def test_two_processes_indexing_at_once(tmp_path):
    """The second waits for the first and finds its work done, or (no wait allowed) fails
    naming the other process; the index stays consistent."""
    import json

    guides = _copy_guides(tmp_path / "g", ["tpus", "quantization", "glossary", "storage-for-ai"])
    script = TWO_SCRIPT.format(
        tests=str(Path(__file__).parent), data=str(tmp_path / "data"), guides=str(guides)
    )

    def start(timeout: str, delay: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", script, timeout, delay], stdout=subprocess.PIPE, text=True
        )

    first = start("600", "3")
    lock = tmp_path / "data" / "index.lock"
    deadline = time.time() + 60
    while not (lock.exists() and lock.read_text().strip()) and time.time() < deadline:
        time.sleep(0.1)
    waiting, impatient = start("600", "0"), start("0", "0")
    busy = json.loads(impatient.communicate(timeout=120)[0])
    one = json.loads(first.communicate(timeout=120)[0])
    two = json.loads(waiting.communicate(timeout=120)[0])
    assert f"pid {first.pid}" in busy["busy"] and "writing the index" in busy["busy"]
    assert one["added"] == 4
    assert two == {**two, "added": 0, "unchanged": 4} and two["end"] >= one["end"]
    assert set(_consistent(_kb(tmp_path, guides).store)) == {
        "tpus",
        "quantization",
        "glossary",
        "storage-for-ai",
    }


RANDOM_KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from fakes import HashingEmbedder
    from advisor.config import Settings
    from advisor.kb import KnowledgeBase
    kb = KnowledgeBase(Settings(data_dir={data!r}, guides_dir={guides!r}), HashingEmbedder(0.8))
    if sys.argv[1] == "index":
        kb.build()
    else:
        kb.add_documents([Path({docs!r})])
    print("finished", flush=True)
    """
)


def test_killed_at_random_points_during_index_and_index_add(tmp_path):
    """SIGKILL `index` three times and `index add` twice, each at a random moment after it
    took the write lock (seeded), each re-run killed again; then one clean run of each: a
    complete, duplicate-free index. Each kill leaves an index a new process can read."""
    import random

    rng = random.Random(10)
    ids = ["tpus", "quantization", "glossary", "storage-for-ai", "onprem-tco", "cpus-for-ai"]
    guides = _copy_guides(tmp_path / "g", ids)
    docs = tmp_path / "mine"
    docs.mkdir()
    for n in range(6):
        (docs / f"note{n}.md").write_text(f"# Note {n}\n\n## Site\n\nRack {n} draws {n + 3} kW.\n")
    data = tmp_path / "data"
    script = RANDOM_KILL_SCRIPT.format(
        tests=str(Path(__file__).parent), data=str(data), guides=str(guides), docs=str(docs)
    )
    lock = data / "index.lock"
    killed = 0
    for what in ["index"] * 3 + ["add"] * 2:
        with contextlib.suppress(FileNotFoundError):
            lock.write_text("")
        proc = subprocess.Popen([sys.executable, "-c", script, what], stdout=subprocess.PIPE)
        deadline = time.time() + 60
        while not (lock.exists() and lock.read_text().strip()) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.2))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        killed += b"finished" not in (proc.stdout.read() if proc.stdout else b"")
        _kb(tmp_path, guides).store.count(GUIDES)  # readable after the kill
    assert killed >= 4  # most kills land mid-write (kill times are seeded)
    kb = _kb(tmp_path, guides)
    assert kb.build().guides == len(ids)
    kb.add_documents([docs])
    assert set(_consistent(kb.store)) == set(ids)
    assert len(_consistent(kb.store, USER_DOCS)) == 6
