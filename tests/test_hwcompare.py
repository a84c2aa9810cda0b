"""compare_accelerators: datasheet ratios by what bounds the work, from the real catalog."""

from __future__ import annotations

import pytest
from advisor.tools.hwcompare import compare_accelerators

from advisor.errors import InvalidInputError, UnknownNameError


def test_ratios_are_bandwidth_for_one_stream_and_compute_for_prefill(catalog):
    a, h = catalog.accelerator("a100-80gb-sxm"), catalog.accelerator("h100-sxm")
    r = compare_accelerators(["a100-80gb-sxm", "h100-sxm"], catalog=catalog)
    bw = r.values["bandwidth_ratio_h100_sxm"].value
    comp = r.values["compute_ratio_h100_sxm"].value
    # worked example: 3,350 / 2,039 GB/s = 1.64x; 989.5 / 312 TFLOPS = 3.17x
    assert bw == pytest.approx(h.memory_bandwidth_gb_s / a.memory_bandwidth_gb_s, rel=1e-3)
    assert bw == pytest.approx(1.64, abs=0.01)
    assert comp == pytest.approx(3.17, abs=0.02)
    assert "1.6x" in r.headline and "3.2x" in r.headline
    assert "only NVIDIA H100 SXM5 80GB computes in FP8" in r.headline
    assert "the same models fit" in r.headline
    assert {row["accelerator"] for row in r.table or []} == {a.name, h.name}
    assert [ref.row for ref in r.refs] == ["a100-80gb-sxm", "h100-sxm"]


def test_a_slower_card_gets_a_ratio_below_one_and_memory_says_which_holds_more(catalog):
    r = compare_accelerators(["a100-40gb-sxm", "l40s"], catalog=catalog)
    assert r.values["bandwidth_ratio_l40s"].value < 1
    assert "more fits on one card" in r.headline


@pytest.mark.parametrize(
    "names, error",
    [
        (["h100-sxm"], InvalidInputError),
        (["h100-sxm", "h100-sxm"], InvalidInputError),
        ("h100-sxm", InvalidInputError),
        (["h100-sxm", ""], InvalidInputError),
        (["h100-sxm", "h20x"], UnknownNameError),
    ],
)
def test_bad_input_is_a_typed_error(catalog, names, error):
    with pytest.raises(error):
        compare_accelerators(names, catalog=catalog)
