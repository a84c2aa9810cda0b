"""The vectors shipped for the guides' chunks: complete, correct, and the same retrieval.

When the first test fails, a guide changed: run ``python -m advisor.shipped`` (about 35 s)
and commit ``knowledge/vectors/``. Until then every index build embeds the missing chunks
(correct, but the full build is slow again).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from advisor.evals.retrieval import load_set

from advisor.config import Settings
from advisor.embeddings import SentenceTransformerEmbedder, packaged_model_dir
from advisor.guides import load_guides, split_guide
from advisor.kb import KnowledgeBase
from advisor.minilm import NumpyEncoder
from advisor.shipped import ShippedVectors, packaged_path, text_key, write
from advisor.store import GUIDES
from advisor.verify import passage_pieces

GUIDES_DIR = Path(__file__).resolve().parents[1] / "knowledge" / "guides"


def _chunks(guides_dir: Path | None = None):
    settings = Settings()
    guides = load_guides(guides_dir or settings.guides_dir).guides
    return [c for g in guides for c in split_guide(g, settings.chunk_size)]


def test_shipped_vectors_cover_every_chunk_of_the_shipped_guides():
    shipped = ShippedVectors.packaged()
    chunks = _chunks()
    missing = sorted({c.doc_id for c in chunks if shipped.missing([c.text])})
    assert not missing, (
        f"guides without shipped vectors: {', '.join(missing)}; "
        "run `python -m advisor.shipped` and commit knowledge/vectors/"
    )
    pieces = {p for c in chunks for p in passage_pieces(c.text)}
    assert not shipped.missing(sorted(pieces)), "sentences without shipped vectors"
    keys = {text_key(c.text) for c in chunks} | {text_key(p) for p in pieces}
    assert len(shipped) == len(keys)  # nothing stale kept


def test_shipped_vectors_are_the_models_vectors_of_those_texts():
    """A sample of chunks embedded now (NumPy encoder, same vectors as torch to 1e-6)."""
    chunks = _chunks()[::40]
    texts = [c.text for c in chunks] + [passage_pieces(c.text)[0] for c in chunks]
    encoder = NumpyEncoder(packaged_model_dir())
    now = np.asarray(encoder(texts))
    shipped = np.asarray(ShippedVectors.packaged().lookup(texts))
    assert np.abs(now - shipped).max() < 1e-5


def test_a_table_for_another_model_or_no_file_is_not_used(tmp_path):
    path = tmp_path / "v.npz"
    write(path, "model-a", ["one", "two"], np.eye(2, 3, dtype=np.float32))
    assert ShippedVectors(path, "model-a").lookup(["two", "three"]) == [[0.0, 1.0, 0.0], None]
    assert ShippedVectors(path, "model-b").lookup(["two"]) == [None]
    assert ShippedVectors(tmp_path / "absent.npz", "model-a").lookup(["one"]) == [None]


def test_full_build_embeds_nothing_and_an_edited_guide_only_its_new_chunks(tmp_path):
    gdir = tmp_path / "g"
    gdir.mkdir()
    for name in ("tpus", "glossary", "quantization"):
        (gdir / f"{name}.md").write_text((GUIDES_DIR / f"{name}.md").read_text())
    kb = KnowledgeBase.from_settings(Settings(data_dir=tmp_path / "data", guides_dir=gdir))
    first = kb.build()
    assert first.sync.chunks_written == first.chunks > 0
    assert first.sync.chunks_embedded == 0
    path = gdir / "tpus.md"
    path.write_text(path.read_text() + "\n\n## Extra section\n\nTPU v9 pods are imaginary.\n")
    again = kb.build()
    assert again.sync.replaced == ["tpus"]
    assert 1 <= again.sync.chunks_embedded < again.sync.chunks_written
    top = kb.search("imaginary TPU v9 pods", k=1).passages[0]
    assert top.doc_id == "tpus" and "imaginary" in top.text


def test_full_build_of_the_shipped_guides_loads_no_torch(tmp_path):
    """A new process builds the whole index from the shipped vectors (~1.5 s on 2 cores)."""
    code = (
        "import sys; from pathlib import Path; from advisor.config import Settings; "
        "from advisor.kb import KnowledgeBase; "
        f"r = KnowledgeBase.from_settings(Settings(data_dir=Path({str(tmp_path)!r}))).build(); "
        "print(r.chunks, r.sync.chunks_embedded, 'torch' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    chunks, embedded, torch = proc.stdout.split()
    assert int(chunks) == len(_chunks()) and (embedded, torch) == ("0", "False")


def test_packaged_file_is_small():
    # ~350 chunks and ~1,750 of their sentences at 384 x float32: about 3.2 MB
    assert packaged_path().stat().st_size < 4_000_000


@pytest.mark.integration
def test_shipped_vectors_give_the_same_retrieval_as_embedding_from_scratch(tmp_path):
    """Two full builds of the shipped guides, one embedding every chunk (~35 s on 2 cores):
    the same vectors, and the same top-5 chunks for every question of the retrieval eval."""
    shipped = KnowledgeBase.from_settings(Settings(data_dir=tmp_path / "shipped"))
    assert shipped.build().sync.chunks_embedded == 0
    settings = Settings(data_dir=tmp_path / "scratch")
    scratch = KnowledgeBase(settings, SentenceTransformerEmbedder(), shipped=None)
    built = scratch.build()
    assert built.sync.chunks_embedded == built.chunks
    a, b = shipped.store.snapshot(GUIDES), scratch.store.snapshot(GUIDES)
    assert [r[0] for r in a.rows] == [r[0] for r in b.rows]
    assert a.vectors is not None and b.vectors is not None
    assert np.abs(a.vectors - b.vectors).max() < 1e-5
    for case in load_set().questions:
        for mode in ("hybrid", "dense"):
            ours = [p.chunk_id for p in shipped.search(case.question, 5, mode=mode).passages]
            ref = [p.chunk_id for p in scratch.search(case.question, 5, mode=mode).passages]
            assert ours == ref, (case.id, mode)
