"""The December 2026 catalog growth: new accelerators, announced parts, GPU-cloud providers.

Announced parts (vendor target figures, not shipping) answer lookups with a warning but are
never recommended, priced or ranked; new providers work wherever a provider is accepted.
"""

from __future__ import annotations

import pytest
import yaml
from advisor.tools import (
    compare_options,
    cost_per_million_tokens,
    energy_estimate,
    get_accelerator,
    inference_memory,
    job_cost,
    load_catalog,
)
from advisor.tools.catalog import clear_cache

from advisor.errors import AdvisorError, CatalogError, InvalidInputError, UnknownNameError

NEW_PROVIDERS = ("lambda", "coreweave", "nebius")
ANNOUNCED = ("rubin", "mi455x")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("B300", "b300"),
        ("HGX B300", "b300"),
        ("GB300", "gb300"),
        ("GB300 NVL72", "gb300"),
        ("MI355X", "mi355x"),
        ("AMD Instinct MI355X", "mi355x"),
        ("MI350X", "mi350x"),
        ("TPU v7", "tpu-v7"),
        ("Ironwood", "tpu-v7"),
        ("TPU7x", "tpu-v7"),
        ("Trainium3", "trainium3"),
        ("Gaudi 3 PCIe", "gaudi3-pcie"),
        ("gaudi 3", "gaudi3"),  # the OAM part stays the OAM part
        ("RTX PRO 6000 Server Edition", "rtx-pro-6000-server"),
        ("RTX PRO 6000 Workstation Edition", "rtx-pro-6000-workstation"),
        ("Vera Rubin NVL144", "rubin"),
        ("MI400", "mi455x"),
        ("B200", "b200"),  # the neighbours are untouched
        ("TPU v6e", "tpu-v6e"),
        ("H20", "h20"),
    ],
)
def test_new_names_resolve_to_exactly_that_row(catalog, typed, expected):
    assert catalog.accelerator(typed).id == expected


@pytest.mark.parametrize("typed", ["B30", "MI35", "MI355", "TPU v8", "RTX PRO 6000", "GB30"])
def test_near_names_are_not_substituted(catalog, typed):
    """A close name gets a did-you-mean, never another product ("mi355" is not the MI355X;
    "RTX PRO 6000" names two editions, so it asks which)."""
    with pytest.raises(UnknownNameError):
        catalog.accelerator(typed)


def test_rtx_pro_6000_suggests_both_editions(catalog):
    with pytest.raises(UnknownNameError) as err:
        catalog.accelerator("RTX PRO 6000")
    text = str(err.value)
    assert "Server Edition" in text and "Workstation Edition" in text


def test_status_and_availability_fields(catalog):
    by_id = {a.id: a for a in catalog.accelerators}
    for acc_id in ANNOUNCED:
        assert by_id[acc_id].status == "announced"
    assert by_id["b300"].status == "ga" and by_id["h100-sxm"].status == "ga"  # the default
    assert by_id["mi355x"].available == "2025-10"
    assert by_id["tpu-v7"].tdp_w is None  # not published: left empty, never estimated


def test_announced_parts_are_never_rented_or_served(catalog):
    announced = {a.id for a in catalog.accelerators if a.is_announced}
    assert announced >= set(ANNOUNCED)
    assert not [i.name for i in catalog.instances if i.accelerator in announced]
    assert not [s.id for s in catalog.onprem.servers if s.accelerator in announced]


def test_an_instance_of_an_announced_part_is_a_catalog_error(catalog_copy):
    path = catalog_copy / "instances-lambda.yaml"
    data = yaml.safe_load(path.read_text())
    data["instances"][0]["accelerator"] = "rubin"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    clear_cache()
    try:
        with pytest.raises(CatalogError, match="announced, not shipping"):
            load_catalog(catalog_copy)
    finally:
        clear_cache()


def test_bigger_accelerator_alternatives_skip_announced_parts():
    """Llama 3.1 405B in bf16 does not fit one 288 GB B300: the "use a bigger accelerator"
    alternatives must not offer the 432 GB MI455X, which is announced, not shipping."""
    r = inference_memory("llama 3.1 405b", accelerator="b300", num_accelerators=1)
    assert r.values["fits"].value is False
    labels = " ".join(a.label + a.detail for a in r.alternatives)
    assert "MI455X" not in labels and "Rubin" not in labels


def test_lookup_of_an_announced_part_answers_with_a_warning():
    acc = get_accelerator("rubin")
    assert acc.memory_gb == 288
    r = inference_memory("llama 3.1 70b", accelerator="rubin")
    assert any("announced, not shipping" in w for w in r.warnings), r.warnings
    shipping = inference_memory("llama 3.1 70b", accelerator="b300")
    assert not any("announced" in w for w in shipping.warnings)


def test_rankings_never_list_announced_parts():
    r = compare_options("llama 3.1 70b", dtype="fp8", top=1000)
    names = {row["accelerators"] for row in r.table or []}
    assert names and not any("Rubin" in n or "MI455X" in n for n in names)


@pytest.mark.parametrize("provider", NEW_PROVIDERS)
def test_new_provider_rows_load_with_region_and_date(catalog, provider):
    rows = [i for i in catalog.instances if i.provider == provider]
    assert len(rows) >= 8
    regions = {r.id for r in catalog.regions if r.provider == provider}
    for inst in rows:
        assert inst.prices and inst.as_of and inst.sources
        assert {p.region for p in inst.prices} <= regions
        assert all(p.price_basis == "on_demand" for p in inst.prices)


@pytest.mark.parametrize(
    ("provider", "instance", "per_gpu"),
    [
        ("lambda", "gpu_8x_b200_sxm6", 6.69),
        ("coreweave", "cw-hgx-h100-8x", 49.24 / 8),
        ("nebius", "gpu-h100-sxm_8gpu-128vcpu-1600gb", 4.50),
    ],
)
def test_new_provider_works_in_cost_tools(provider, instance, per_gpu):
    """1,000 GPU-hours = 125 instance-hours of an 8-GPU instance = 1,000 x per-GPU price."""
    r = job_cost(provider, instance, accelerator_hours=1000)
    assert r["cost_usd"] == pytest.approx(1000 * per_gpu, rel=1e-6)
    per_m = cost_per_million_tokens(provider, instance, tokens_per_s=2000)
    assert per_m["usd_per_million_tokens"] > 0
    ranked = compare_options("llama 3.1 8b", providers=[provider])
    assert {row["provider"] for row in ranked.table or []} == {provider}


def test_provider_aliases(catalog):
    assert catalog.instance("Lambda Labs", "gpu_1x_a10").provider == "lambda"
    with pytest.raises(UnknownNameError):
        catalog.instance("vultr", "gpu_1x_a10")


def test_nebius_keeps_its_price_history(catalog):
    inst = catalog.instance("nebius", "gpu-b200-sxm_8gpu-160vcpu-1792gb")
    assert inst.prices[0].on_demand_usd_per_hour == pytest.approx(8 * 8.50)
    assert [h.date.isoformat() for h in inst.price_history] == ["2026-10-01"]


def test_energy_needs_a_published_tdp():
    with pytest.raises(InvalidInputError, match="no published TDP"):
        energy_estimate(1000, "tpu v7")
    assert energy_estimate(1000, "mi355x")["energy_kwh"] > 0


def test_only_fp8_parts_ask_for_fp8():
    """The MI355X's sources give fp8/fp4 peaks only: bf16 serving is a fixable error."""
    from advisor.tools import serving_estimate

    with pytest.raises(AdvisorError, match="no catalogued bf16 throughput"):
        serving_estimate("llama 3.1 8b", "mi355x", dtype="bf16")
    assert serving_estimate("llama 3.1 8b", "mi355x", dtype="fp8")["tokens_per_s"] > 0


def test_ui_offers_every_catalogued_provider():
    from advisor.ui.handlers import providers

    assert set(NEW_PROVIDERS) <= set(providers())
    assert {"aws", "azure", "gcp"} <= set(providers())
