"""Pasted error messages and log lines: the catalog checks itself, the tool and the answer."""

from __future__ import annotations

import re

import pytest
import yaml
from advisor.tools.catalog import default_catalog_dir
from advisor.tools.diagnose import (
    SIGNATURES_FILE,
    diagnose_error,
    load_signatures,
    match_signatures,
)

from advisor import Advisor
from advisor.errors import CatalogError, InvalidInputError

SIGNATURES = load_signatures()


@pytest.mark.parametrize("sig", SIGNATURES, ids=[s.id for s in SIGNATURES])
def test_every_example_is_read_as_its_own_signature(sig):
    """Each example line, as the software prints it, matches its signature first: patterns
    that drift or collide fail here."""
    for line in sig.examples:
        found = match_signatures(line)
        assert found, f"{sig.id}: {line!r} matches nothing"
        assert found[0].id == sig.id, f"{line!r} read as {found[0].id}, not {sig.id}"


def test_every_signature_has_a_source_and_ordinary_prose_matches_none():
    assert len({s.id for s in SIGNATURES}) == len(SIGNATURES)
    for s in SIGNATURES:
        assert s.sources and all(str(src.url).startswith("https://") for src in s.sources)
    prose = [
        "How much VRAM do I need for Llama 3.1 70B in 4-bit?",
        "Should I buy two 3090s or one 4090 for local inference?",
        "InfiniBand or RoCE for a 4-node H100 cluster?",
        "Is NVMe or network storage better for checkpoints?",
        "What does NCCL do in multi-node training?",
    ]
    for q in prose:
        assert match_signatures(q) == [], q


def test_the_first_message_in_a_log_is_the_cause():
    log = "NCCL INFO NET/IB : No device found.\nNCCL INFO NET/Socket : Using [0]eth0:10.0.0.1<0>\n"
    r = diagnose_error(log)
    assert r.inputs["matched"][:2] == ["nccl-ib-not-found", "nccl-socket-fallback"]
    assert r.headline.startswith("This is a network problem")
    assert "The text also shows" in r.headline  # the consequence, same area
    assert r.refs and r.refs[0].sources


@pytest.mark.parametrize("bad", ["", "   ", "my training is slow"])
def test_text_without_a_known_message_is_a_clear_error(bad):
    with pytest.raises(InvalidInputError):
        diagnose_error(bad)


def test_a_bad_pattern_in_the_catalog_is_a_catalog_error(tmp_path):
    data = yaml.safe_load((default_catalog_dir() / SIGNATURES_FILE).read_text(encoding="utf-8"))
    data["signatures"][0]["patterns"] = ["(unclosed"]
    (tmp_path / SIGNATURES_FILE).write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogError, match=re.escape("bad pattern")):
        load_signatures(str(tmp_path))


@pytest.fixture(scope="module")
def advisor(tmp_path_factory):
    return Advisor.from_settings(llm_backend="none", data_dir=tmp_path_factory.mktemp("diag-data"))


def test_an_answer_leads_with_the_meaning_of_the_pasted_log(advisor):
    """A slow two-node job whose NCCL log shows the socket transport: the first sentence is the
    diagnosis, not guidance about memory."""
    ans = advisor.ask(
        "Two nodes with 8 GPUs each train slower than one node. NCCL_DEBUG=INFO prints "
        "'NET/Socket : Using [0]eth0' and 'Failed to open libibverbs.so'. Why?"
    )
    assert ans.short_answer.startswith("This is a network problem"), ans.short_answer
    assert any(c.tool == "diagnose_error" for c in ans.tool_calls)
