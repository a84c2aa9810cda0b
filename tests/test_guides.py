"""The curated guides: front matter, size, summaries, coverage of the required topics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor.guides import glossary_expansions, load_guides, parse_guide, split_guide

REPORT = load_guides()
GUIDES = {g.meta.id: g for g in REPORT.guides}


def test_all_guides_load_without_errors():
    assert REPORT.errors == []
    assert len(GUIDES) >= 40


@pytest.mark.parametrize("guide_id", sorted(GUIDES))
def test_guide_shape(guide_id):
    g = GUIDES[guide_id]
    words = len(re.sub(r"[#*|`-]", " ", g.body).split())
    assert 300 <= words <= 1200, words
    assert len(g.meta.sources) >= 2
    assert g.body.startswith("# ")
    summary = g.summary
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", summary) if s]
    assert 2 <= len(sentences) <= 4, summary
    assert g.body.count("\n## ") >= 3


REQUIRED_TOPICS = [
    "workload-stages",
    "predictive-vs-generative-ai",
    "cloud-vs-onprem",
    "procurement-and-lead-times",
    "cost-predictability",
    "multi-tenancy-performance-variance",
    "control-and-customization",
    "prototype-then-repatriate",
    "hybrid-ai-infrastructure",
    "data-sovereignty-and-compliance",
    "managed-ai-services-and-lock-in",
    "open-source-frameworks-portability",
    "containers-and-kubernetes-for-ai",
    "cpus-for-ai",
    "gpus-for-ai",
    "tpus",
    "npus-and-edge-ai",
    "other-accelerators",
    "choosing-accelerators-by-stage",
    "memory-types-ddr-gddr-hbm",
    "training-memory-and-batch-size",
    "llm-inference-memory-and-kv-cache",
    "quantization",
    "scale-up-interconnects",
    "scale-out-networking",
    "storage-for-ai",
    "feeding-gpus-and-checkpointing",
    "inference-batching-and-caching",
    "serving-at-scale",
    "latency-slos-and-batch-inference",
    "confidential-computing",
    "gpu-supply-and-availability",
    "ai-hardware-market-and-partnerships",
    "cloud-gpu-pricing-trends",
    "right-sizing-per-stage",
    "spot-and-commitments",
    "distillation-and-small-models",
    "moe-and-efficient-training-deepseek",
    "cost-per-million-tokens",
    "onprem-tco",
    "glossary",
]


def test_required_topics_are_covered():
    missing = [t for t in REQUIRED_TOPICS if t not in GUIDES]
    assert not missing


def test_glossary_expansions():
    exp = glossary_expansions(REPORT.guides)
    assert exp["roce"] == "RDMA over Converged Ethernet"
    assert exp["hbm"] == "High-Bandwidth Memory"
    assert len(exp) >= 30


def test_split_keeps_title_section_and_metadata():
    g = GUIDES["scale-out-networking"]
    chunks = split_guide(g, chunk_size=800)
    assert len(chunks) >= 4
    assert all(len(c.text) <= 800 + len(g.meta.title) + 200 for c in chunks)
    assert chunks[0].section == "Summary"
    assert any("RoCE" in c.section for c in chunks)
    meta = chunks[1].metadata()
    assert meta["doc_id"] == "scale-out-networking" and meta["n_chunks"] == len(chunks)
    assert "training" in str(meta["stages"]) and str(meta["source_urls"]).startswith("http")
    assert len({c.id for c in chunks}) == len(chunks)


def test_malformed_guides_are_reported_and_skipped(tmp_path: Path):
    good = GUIDES["tpus"].path.read_text()
    (tmp_path / "tpus.md").write_text(good)
    (tmp_path / "no-front-matter.md").write_text("# Title\n\nJust text.\n")
    (tmp_path / "bad-yaml.md").write_text("---\nid: [unclosed\n---\n# T\n\nbody\n")
    (tmp_path / "wrong-id.md").write_text(good)
    report = load_guides(tmp_path)
    assert [g.meta.id for g in report.guides] == ["tpus"]
    assert len(report.errors) == 3
    assert any("bad-yaml.md" in e and "YAML" in e for e in report.errors)
    assert any("wrong-id.md" in e and "does not match" in e for e in report.errors)
    with pytest.raises(ValueError, match="front matter"):
        parse_guide(tmp_path / "no-front-matter.md")
