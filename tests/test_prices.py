"""gpu_prices: rental prices from the real instance catalogs, cheapest per GPU-hour first."""

from __future__ import annotations

import pytest
from advisor.tools.prices import accelerator_family, gpu_prices
from advisor.tools.pricing import HOURS_PER_MONTH

from advisor.errors import InvalidInputError, UnknownNameError


def test_family_strips_memory_and_form_factor():
    assert accelerator_family("a100-80gb-sxm") == "a100"
    assert accelerator_family("h100-sxm") == "h100"
    assert accelerator_family("rtx-4090") == "rtx-4090"


def test_a_card_named_without_its_memory_matches_every_variant(catalog):
    r = gpu_prices("a100", provider="gcp", catalog=catalog)
    accs = {row["accelerators"].split(" x ", 1)[1] for row in r.table or []}
    assert {"NVIDIA A100 40GB SXM4", "NVIDIA A100 80GB SXM4"} <= accs
    per_gpu = [row["usd_per_gpu_hour"] for row in r.table or []]
    assert per_gpu == sorted(per_gpu)
    assert all(row["provider"] == "gcp" for row in r.table or [])


def test_the_cheapest_row_is_priced_from_the_catalog(catalog):
    r = gpu_prices("t4", provider="aws", catalog=catalog)
    inst = catalog.instance("aws", r.table[0]["instance"])
    hourly = inst.prices[0].on_demand_usd_per_hour
    assert r["usd_per_hour"] == pytest.approx(hourly)
    assert r["usd_per_accelerator_hour"] == pytest.approx(hourly / inst.accelerator_count)
    assert r["monthly_usd"] == pytest.approx(hourly * HOURS_PER_MONTH)  # 730 h
    assert str(inst.as_of) in r.headline or str(inst.prices[0].as_of) in r.headline


def test_geography_picks_each_instance_at_its_cheapest_region_there(catalog):
    r = gpu_prices("h100", geography="eu", catalog=catalog)
    eu = {reg.id for reg in catalog.regions if reg.geography == "eu"}
    assert r.table and all(row["region"] in eu for row in r.table)
    assert "in Europe" in r.headline


def test_a_named_instance_in_an_unpriced_region_shows_where_it_is_priced(catalog):
    inst = catalog.instance("aws", "p5.48xlarge")
    priced = {p.region for p in inst.prices}
    missing = next(r.id for r in catalog.regions if r.provider == "aws" and r.id not in priced)
    r = gpu_prices(instance="p5.48xlarge", provider="aws", region=missing, catalog=catalog)
    assert {row["region"] for row in r.table or []} == priced
    assert any(missing in w and "no catalogued price" in w for w in r.warnings)


def test_spot_prices_and_bad_input(catalog):
    r = gpu_prices("t4", pricing="spot", catalog=catalog)
    assert "spot" in r.headline
    with pytest.raises(InvalidInputError):
        gpu_prices("t4", pricing="free", catalog=catalog)
    with pytest.raises(InvalidInputError):
        gpu_prices("t4", geography="mars", catalog=catalog)
    with pytest.raises(UnknownNameError):
        gpu_prices("h20x", catalog=catalog)
    with pytest.raises(UnknownNameError):
        gpu_prices("h100", provider="hetzner", catalog=catalog)


def test_a_retired_instance_says_so_and_names_no_price(catalog):
    inst = catalog.instance("azure", "Standard_NC6")
    assert inst.is_retired
    r = gpu_prices(instance="Standard_NC6", provider="azure", catalog=catalog)
    assert f"was retired by azure on {inst.retired_on}" in r.headline
    assert "$" not in r.headline and not r.values


def test_a_sagemaker_name_never_gets_the_ec2_price_as_its_own(catalog):
    r = gpu_prices(instance="ml.g4dn.2xlarge", provider="aws", catalog=catalog)
    ec2 = catalog.instance("aws", "g4dn.2xlarge").prices[0].on_demand_usd_per_hour
    assert "not SageMaker's rate" in r.headline
    assert r["ec2_usd_per_hour"] == pytest.approx(ec2)
    assert "usd_per_hour" not in r.values and "monthly_usd" not in r.values


def test_the_router_keeps_the_sagemaker_name(catalog):
    from advisor.route import Router

    spec = Router(catalog).route("how can we deploy a quantized model on ml.g4dn.2xlarge?")
    assert spec.instance == "ml.g4dn.2xlarge" and spec.provider == "aws"
    assert Router(catalog).route("g4dn.2xlarge price").instance == "g4dn.2xlarge"


def test_with_no_card_named_only_gpus_are_listed(catalog):
    r = gpu_prices(provider="aws", top=50, catalog=catalog)
    kinds = {
        catalog.accelerator(catalog.instance("aws", row["instance"]).accelerator).kind
        for row in r.table or []
    }
    assert kinds == {"gpu"}
    assert "Cheapest on-demand GPU instance on aws" in r.headline


def test_two_providers_named_get_the_cheapest_of_each(catalog):
    r = gpu_prices("h100", providers=["lambda", "aws"], catalog=catalog)
    assert "by provider: lambda " in r.headline and "; aws " in r.headline
    assert {row["provider"] for row in r.table or []} <= {"lambda", "aws"}
    with pytest.raises(UnknownNameError):
        gpu_prices("h100", providers=["lambda", "hetzner"], catalog=catalog)
