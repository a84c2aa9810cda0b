"""The published llama.cpp speed table (knowledge/catalog/speed-benchmarks.yaml) and the
estimator's error on it."""

from __future__ import annotations

import hashlib

import pytest
from advisor.tools.catalog import validate_file
from advisor.tools.errors import CatalogError
from advisor.tools.freshness import check_catalog
from advisor.tools.speedcal import check_benchmarks, load_benchmarks, split_of


def test_every_row_is_sourced_catalogued_and_split_by_its_hash(catalog):
    """Models and accelerators are catalog ids, bits are advisor.tools.quant's, and every
    stored split is the hash rule's: int(sha256(id), 16) % 10 < 3 -> held out."""
    rows = load_benchmarks()
    check_benchmarks(rows, catalog)
    assert len(rows) >= 50
    assert all(r.sources for r in rows)
    primary = [r for r in rows if r.provenance == "primary"]
    held = [r for r in primary if r.split == "heldout"]
    assert 0.2 < len(held) / len(primary) < 0.4


def test_split_rule_worked_example():
    """The rule on one id, by hand: the sha256 of the id as an integer, mod 10."""
    row_id = "xdai-rtx-4090-llama-3-8b-q4_k_m"
    digest = int(hashlib.sha256(row_id.encode()).hexdigest(), 16)
    assert split_of(row_id) == ("heldout" if digest % 10 < 3 else "fit")


def test_a_row_whose_split_disagrees_with_its_hash_is_refused(catalog):
    row = load_benchmarks()[0]
    flipped = row.model_copy(update={"split": "heldout" if row.split == "fit" else "fit"})
    with pytest.raises(CatalogError, match="hashes to"):
        check_benchmarks((flipped,), catalog)


def test_a_row_with_other_bits_than_the_format_table_is_refused(catalog):
    row = load_benchmarks()[0]
    with pytest.raises(CatalogError, match="bits_per_weight"):
        check_benchmarks((row.model_copy(update={"bits_per_weight": 4.0}),), catalog)


def test_the_file_validates_on_its_own_and_in_the_catalog_check():
    from advisor.tools.catalog import default_catalog_dir

    validate_file(default_catalog_dir() / "speed-benchmarks.yaml")
    report = check_catalog()
    speed = next(f for f in report.files if f.file == "speed-benchmarks.yaml")
    assert len(speed.rows) == len(load_benchmarks())
    assert not speed.missing_sources
