"""`advisor catalog import`: price feeds -> a diff of the catalog -> (with --write) new YAML.

The feeds are small samples in each feed's public format under ``tests/data/``: a SkyPilot
``vms.csv`` (Lambda, and GCP's VM-plus-GPU-rows layout), an AWS Price List EC2 offer file,
two Azure Retail Prices pages and a GCP Cloud Billing Catalog SKU list, each with a
malformed twin. Their figures exercise the diff; none of them is catalog data. Every test
imports into a copy of the shipped catalogs, measured from 2026-12-01; none needs a network.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest
import yaml
from advisor.tools.catalog import clear_cache, default_catalog_dir, load_catalog
from advisor.tools.errors import CatalogError, FeedError, InvalidInputError, UnknownNameError
from advisor.tools.priceimport import import_prices, read_feed, write_import
from typer.testing import CliRunner

from advisor.cli import app

DATA = Path(__file__).parent / "data"
LAMBDA = DATA / "skypilot" / "lambda" / "vms.csv"
TODAY = dt.date(2026, 12, 1)
runner = CliRunner()


@pytest.fixture
def cat(tmp_path) -> Path:
    """A private copy of the shipped catalogs (imports write here, never into the package)."""
    target = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), target)
    return target


def _without(cat: Path, provider: str, name: str) -> None:
    """Drop one instance row from the catalog copy: the feed samples name types the shipped
    catalog has since gained (g6e.2xlarge, NC80adis), and these tests are about a type the
    catalog lacks."""
    path = cat / f"instances-{provider}.yaml"
    data = yaml.safe_load(path.read_text())
    data["instances"] = [i for i in data["instances"] if i["name"] != name]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    clear_cache()


def _run(source, *locations, cat, **kw):
    kw.setdefault("today", TODAY)
    return import_prices(source, [str(p) for p in locations], catalog_dir=cat, **kw)


def _by(diffs, instance, region):
    return next(d for d in diffs if d.instance == instance and d.region == region)


def _skip(plan, instance_type):
    return next(s for s in plan.skipped if s.instance_type == instance_type)


# -- SkyPilot ---------------------------------------------------------------------------
def test_skypilot_diff_names_new_changed_removed_and_skipped(cat):
    plan = _run("skypilot", LAMBDA, cat=cat, as_of=dt.date(2026, 11, 30))
    assert plan.provider == "lambda"  # from the CSV's folder, catalogs/v8/<cloud>/vms.csv
    h100 = _by(plan.changed, "gpu_8x_h100_sxm5", "us-east-1")
    assert (h100.old, h100.new) == ({"on_demand": 31.92}, {"on_demand": 23.92})
    assert (h100.old_as_of, h100.new_as_of, h100.line) == (
        dt.date(2026, 9, 20),
        dt.date(2026, 11, 30),
        8,
    )
    assert "gpu_8x_h100_sxm5 us-east-1: on-demand $31.92 -> $23.92" in plan.to_text()
    # a region the known instance had no price for, and an instance the catalog lacks
    assert {(d.instance, d.region) for d in plan.new} == {
        ("gpu_8x_h100_sxm5", "us-west-1"),
        ("gpu_1x_a6000", "us-east-1"),
        ("gpu_1x_a6000", "us-west-1"),
    }
    row = plan.new_instances["gpu_1x_a6000"]
    assert (row["accelerator"], row["accelerator_count"], row["vcpus"], row["ram_gb"]) == (
        "rtx-a6000",
        1,
        14,
        100.0,
    )
    assert row["family"] == "a6000"  # as the catalogued gpu_4x_a6000 groups it
    assert {d.instance for d in plan.removed} == {
        "gpu_8x_b200_sxm6",
        "gpu_1x_b200_sxm6",
        "gpu_8x_a100_80gb_sxm4",
        "gpu_8x_a100",
    }
    assert len(plan.unchanged) == 4 and len(plan.redated) == 4
    assert "does not say 16 or 32 GB" in _skip(plan, "gpu_8x_v100").reason
    assert "'GH200' is not one this importer maps" in _skip(plan, "gpu_1x_gh200").reason
    assert "CPU-only" in _skip(plan, "cpu_4x_general").reason
    assert "region 'me-west-1' is not in instances-lambda.yaml" in _skip(plan, "1 row").reason
    assert not plan.written


def test_without_write_nothing_changes(cat):
    before = {p.name: p.read_bytes() for p in cat.glob("*.yaml")}
    result = runner.invoke(
        app, ["catalog", "import", "skypilot", str(LAMBDA), "--catalog-dir", str(cat)]
    )
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing written. Add --write to update instances-lambda.yaml." in result.output
    assert {p.name: p.read_bytes() for p in cat.glob("*.yaml")} == before
    assert not list(cat.glob(".*"))


def test_write_keeps_history_sources_dates_and_validates(cat):
    header = (cat / "instances-lambda.yaml").read_text().splitlines()[:2]
    plan = _run("skypilot", LAMBDA, cat=cat, as_of=dt.date(2026, 11, 30), write=True)
    assert plan.written
    text = (cat / "instances-lambda.yaml").read_text()
    assert text.splitlines()[:2] == header  # the comments at the top survive
    catalog = load_catalog(cat)  # the loader re-validates the whole folder
    inst = catalog.instance("lambda", "gpu_8x_h100_sxm5")
    east = next(p for p in inst.prices if p.region == "us-east-1")
    assert east.on_demand_usd_per_hour == 23.92
    assert east.as_of == dt.date(2026, 11, 30)
    assert str(east.source_url) in {str(s.url) for s in inst.sources}
    old = inst.price_history[-1]
    assert (old.date, old.region, old.on_demand_usd_per_hour) == (
        dt.date(2026, 9, 20),
        "us-east-1",
        31.92,
    )
    assert "$31.92" in old.note and "$23.92" in old.note
    assert {p.region for p in inst.prices} == {"us-east-1", "us-west-1"}
    added = catalog.instance("lambda", "gpu_1x_a6000")
    assert added.accelerator == "rtx-a6000" and added.as_of == dt.date(2026, 11, 30)
    # re-dated: the same figure, confirmed by the feed
    a10 = catalog.instance("lambda", "gpu_1x_a10").prices[0]
    assert (a10.on_demand_usd_per_hour, a10.as_of) == (1.29, dt.date(2026, 11, 30))
    # removed rows stay without --prune
    assert catalog.instance("lambda", "gpu_8x_b200_sxm6").prices[0].on_demand_usd_per_hour == 53.52
    assert "&id002" not in text  # dates are written as dates, not YAML aliases


def test_a_file_without_a_date_is_written_only_with_as_of(cat):
    """A saved SkyPilot CSV may be months old: dated today it could roll prices back."""
    plan = _run("skypilot", LAMBDA, cat=cat)
    assert plan.as_of == TODAY and "--write needs --as-of" in plan.to_text()
    before = (cat / "instances-lambda.yaml").read_bytes()
    with pytest.raises(InvalidInputError, match="carries no date") as err:
        write_import(plan)
    assert "pass --as-of" in str(err.value)
    assert (cat / "instances-lambda.yaml").read_bytes() == before


def test_a_second_import_of_the_same_feed_changes_nothing(cat):
    _run("skypilot", LAMBDA, cat=cat, as_of=dt.date(2026, 11, 30), write=True)
    before = (cat / "instances-lambda.yaml").read_bytes()
    again = _run("skypilot", LAMBDA, cat=cat, as_of=dt.date(2026, 11, 30), write=True)
    assert not again.changed and not again.new and not again.redated
    assert "Nothing to write" in again.to_text()
    assert (cat / "instances-lambda.yaml").read_bytes() == before


def test_prune_deletes_prices_the_feed_no_longer_lists(cat):
    _run("skypilot", LAMBDA, cat=cat, as_of=dt.date(2026, 11, 30), write=True, prune=True)
    catalog = load_catalog(cat)
    names = {i.name for i in catalog.instances if i.provider == "lambda"}
    assert "gpu_8x_b200_sxm6" not in names  # its only price was removed: the row goes too
    assert "gpu_1x_a10" in names


def test_an_older_feed_never_replaces_a_newer_price(cat):
    plan = _run("skypilot", LAMBDA, cat=cat, as_of=dt.date(2026, 1, 15))
    assert not plan.changed
    reason = _skip(plan, "gpu_8x_h100_sxm5").reason
    assert reason == "the catalogued price (2026-09-20) is newer than the feed (2026-01-15)"
    assert not plan.redated  # equal figures are not re-dated backwards either
    # a new region for a row whose prices are newer, and "removed", need a feed as new
    assert "older than the row's catalogued prices (2026-09-20)" in next(
        s.reason for s in plan.skipped if s.region == "us-west-1"
    )
    assert not plan.removed


def test_region_option_limits_the_import(cat):
    plan = _run("skypilot", LAMBDA, cat=cat, regions=["us-east-1"])
    assert {d.region for d in plan.new + plan.changed + plan.unchanged} == {"us-east-1"}
    with pytest.raises(UnknownNameError, match="us-eats-1"):
        _run("skypilot", LAMBDA, cat=cat, regions=["us-eats-1"])


def test_skypilot_malformed_row_is_a_file_line_error_and_writes_nothing(cat):
    before = (cat / "instances-lambda.yaml").read_bytes()
    bad = DATA / "skypilot" / "lambda-malformed.csv"
    with pytest.raises(FeedError) as err:
        _run("skypilot", bad, cat=cat, provider="lambda", write=True)
    assert str(err.value) == f"{bad}:5: column Price: 'n/a' is not a number"
    assert (cat / "instances-lambda.yaml").read_bytes() == before
    result = runner.invoke(
        app,
        ["catalog", "import", "skypilot", str(bad), "--provider", "lambda", "--write"]
        + ["--catalog-dir", str(cat)],
    )
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {bad}:5: column Price: 'n/a' is not a number"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", ":1: empty file"),
        ("InstanceType,Region\nx,us-east-1\n", ":1: no column Price in the header"),
        ("InstanceType,Price,Region\ngpu,1.0\n", ":2: 2 fields; the header has 3"),
        ("InstanceType,Price,Region\ngpu,-1,us-east-1\n", ":2: column Price: '-1' is not a price"),
    ],
)
def test_skypilot_format_errors(cat, tmp_path, text, message):
    path = tmp_path / "lambda" / "vms.csv"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(FeedError, match=message):
        _run("skypilot", path, cat=cat)


def test_skypilot_needs_the_cloud(cat, tmp_path):
    path = tmp_path / "vms.csv"
    shutil.copy(LAMBDA, path)
    with pytest.raises(InvalidInputError, match="pass --provider"):
        _run("skypilot", path, cat=cat)
    with pytest.raises(InvalidInputError, match="'runpod' is not catalogued"):
        _run("skypilot", path, cat=cat, provider="runpod")


def test_skypilot_gcp_adds_the_gpu_row_to_the_vm_row(cat):
    """a3-highgpu-8g in us-central1: VM $9.46006 + 8 x H100 $78.37241 = $87.83247; spot is the
    cheaper zone's VM ($2.5) + GPUs ($23.12) = $25.62."""
    plan = _run("skypilot", DATA / "skypilot" / "gcp" / "vms.csv", cat=cat)
    a3 = _by(plan.changed, "a3-highgpu-8g", "us-central1")
    assert a3.new["on_demand"] == 87.83247 and a3.new["spot"] == 25.62
    assert a3.computed and a3.kept == ("commit_1y", "commit_3y")
    tpu = _by(plan.changed, "tpu-v6e-8", "us-central1")  # a TPU slice is a row of its own
    assert (tpu.old["on_demand"], tpu.new["on_demand"], tpu.new["spot"]) == (21.6, 21.6, 4.35366)
    assert not tpu.computed
    assert "no 1 x A100 GPU row" in _skip(plan, "a2-highgpu-1g").reason
    assert "CPU-only" in _skip(plan, "n1-highmem-8").reason
    plan = _run("skypilot", DATA / "skypilot" / "gcp" / "vms.csv", cat=cat, as_of=TODAY, write=True)
    assert (
        "COMPUTED: its VM row plus its GPU row"
        in load_catalog(cat).instance("gcp", "a3-highgpu-8g").notes
    )


# -- AWS --------------------------------------------------------------------------------
AWS = DATA / "aws" / "ec2-offer-sample.json"


def test_aws_offer_file(cat):
    _without(cat, "aws", "g6e.2xlarge")
    plan = _run("aws", AWS, cat=cat)
    assert plan.as_of == dt.date(2026, 11, 20)  # the offer file's publicationDate
    p5 = _by(plan.changed, "p5.48xlarge", "us-east-1")  # Linux/Shared/NA/Used, not Windows
    assert p5.new == {
        "on_demand": 52.5,
        "commit_1y": 34.65,  # Standard, no upfront; not the convertible or partial upfront
        "commit_3y": 24.15,
        "spot": 17.6289,  # the offer file has no spot price: the catalogued one is kept
    }
    assert p5.kept == ("spot",)
    # an older file's location name ("Europe (Stockholm)") is matched to the region id
    assert _by(plan.unchanged, "p5.48xlarge", "eu-north-1").new_as_of == dt.date(2026, 11, 20)
    new = plan.new_instances["g6e.2xlarge"]  # the GPU is named by the catalogued g6e rows
    assert (new["accelerator"], new["accelerator_count"], new["vcpus"], new["ram_gb"]) == (
        "l40s",
        1,
        8,
        64.0,
    )
    assert (new["local_storage_gb"], new["local_storage_type"]) == (450.0, "nvme")
    assert "CPU-only" in _skip(plan, "m7i.large").reason
    assert _skip(plan, "1 row").region == "us-gov-west-1"
    plan = _run("aws", AWS, cat=cat, write=True)
    inst = load_catalog(cat).instance("aws", "p5.48xlarge")
    east = next(p for p in inst.prices if p.region == "us-east-1")
    assert (east.on_demand_usd_per_hour, east.spot_usd_per_hour) == (52.5, 17.6289)
    assert (inst.price_history[-1].on_demand_usd_per_hour, inst.price_history[-1].region) == (
        55.04,
        "us-east-1",
    )


def test_aws_malformed_price_names_the_line(cat):
    bad = DATA / "aws" / "ec2-offer-malformed.json"
    with pytest.raises(FeedError) as err:
        _run("aws", bad, cat=cat, write=True)
    line = err.value.line
    assert line is not None
    assert '"E3HZ5ZWZ4NJ8VXVB" : {' in bad.read_text().splitlines()[line - 1]
    assert "'58.89.28' is not a number" in str(err.value)


def test_aws_broken_json_names_the_line(cat, tmp_path):
    text = AWS.read_text().splitlines()
    text[40] = text[40] + " }}"  # stray braces in the middle of a product
    path = tmp_path / "index.json"
    path.write_text("\n".join(text))
    with pytest.raises(FeedError, match=rf"{path}:41: not valid JSON"):
        _run("aws", path, cat=cat)
    path.write_text('{"formatVersion": "v1.0", "terms": {}}')
    with pytest.raises(FeedError, match="not an AWS Price List offer file"):
        _run("aws", path, cat=cat)


# -- Azure ------------------------------------------------------------------------------
PAGES = [DATA / "azure" / "retail-prices-page1.json", DATA / "azure" / "retail-prices-page2.json"]


def test_azure_pages(cat):
    _without(cat, "azure", "Standard_NC80adis_H100_v5")
    plan = _run("azure", *PAGES, cat=cat, as_of=dt.date(2026, 11, 30))
    nd = _by(plan.changed, "Standard_ND96isr_H100_v5", "eastus")
    assert nd.old["on_demand"] == nd.new["on_demand"] == 98.32  # Windows and Low Priority left out
    assert (nd.old["spot"], nd.new["spot"]) == (18.169536, 19.6648)
    assert nd.kept == ("commit_1y", "commit_3y")  # reservation meters are whole-term prices
    nc = _by(plan.changed, "Standard_NC40ads_H100_v5", "eastus")
    assert (nc.old["on_demand"], nc.new["on_demand"]) == (6.98, 7.35)
    south = _by(plan.unchanged, "Standard_NC40ads_H100_v5", "southcentralus")
    assert (south.old_as_of, south.new_as_of) == (dt.date(2025, 6, 1), dt.date(2026, 11, 30))
    assert [(d.instance, d.region) for d in plan.new] == [("Standard_ND96isr_H200_v5", "westus3")]
    assert "gives no vCPUs, memory or GPU count" in _skip(plan, "Standard_NC80adis_H100_v5").reason
    assert _skip(plan, "1 row").region == "norwayeast"
    _run("azure", *PAGES, cat=cat, as_of=dt.date(2026, 11, 30), write=True)
    h200 = load_catalog(cat).instance("azure", "Standard_ND96isr_H200_v5")
    assert {p.region for p in h200.prices} == {"eastus2", "westus3"}


def test_azure_one_page_of_several_says_so(cat):
    plan = _run("azure", PAGES[0], cat=cat)
    assert any("NextPageLink" in n for n in plan.notes)


def test_azure_malformed_item_names_the_line(cat):
    bad = DATA / "azure" / "retail-prices-malformed.json"
    with pytest.raises(FeedError, match=rf"^{bad}:117: Items\[5\].retailPrice: '7,35' is not"):
        _run("azure", bad, cat=cat)


def test_azure_url_follows_next_page_links(cat, monkeypatch):
    """With a network, a URL works; here urlopen is a fake that serves the two sample pages."""
    page1 = json.loads(PAGES[0].read_text())
    page1["NextPageLink"] = "https://prices.azure.com/api/retail/prices?$skip=100"
    served = {
        "https://prices.azure.com/api/retail/prices": json.dumps(page1).encode(),
        page1["NextPageLink"]: PAGES[1].read_bytes(),
    }
    asked = []

    def fake_urlopen(url, timeout):
        asked.append((url, timeout))
        return io.BytesIO(served[url])

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    plan = _run("azure", "https://prices.azure.com/api/retail/prices", cat=cat)
    assert [u for u, _ in asked] == list(served)
    assert all(t > 0 for _, t in asked)
    assert ("Standard_ND96isr_H200_v5", "westus3") in {(d.instance, d.region) for d in plan.new}
    assert plan.url == "https://prices.azure.com/api/retail/prices"


# -- GCP --------------------------------------------------------------------------------
GCP = DATA / "gcp" / "compute-skus-sample.json"


def test_gcp_prices_a_vm_by_its_parts(cat):
    """a3-highgpu-8g, us-central1: 208 vCPU x $0.028996 + 1872 GiB x $0.001831
    + 8 x H100 $9.796550569 = 6.031168 + 3.427632 + 78.372405 = $87.831205."""
    plan = _run("gcp", GCP, cat=cat)
    assert plan.as_of == dt.date(2026, 11, 28)  # the SKUs' effectiveTime
    a3 = _by(plan.changed, "a3-highgpu-8g", "us-central1")
    assert a3.new["on_demand"] == 87.831205 and a3.computed
    assert a3.old["on_demand"] == 88.49
    # a3-highgpu-8g is offered in us-east4 (available_regions) but had no price there
    assert _by(plan.new, "a3-highgpu-8g", "us-east4").new["on_demand"] == 87.831205
    # the Americas SKUs bill in us-south1 too, where the catalog does not list a3-highgpu-8g
    assert ("a3-highgpu-8g", "us-south1") not in {(d.instance, d.region) for d in plan.new}
    # a2-highgpu-8g: 29.38708 computed against 29.3871 catalogued is one price, re-dated
    assert _by(plan.unchanged, "a2-highgpu-8g", "us-central1").new_as_of == plan.as_of
    # rows the feed cannot price are not "removed": TPU slices, a3-ultragpu, a4
    removed = {d.instance for d in plan.removed}
    assert not removed & {"tpu-v5e-8", "a3-ultragpu-8g", "a4-highgpu-8g"}
    _run("gcp", GCP, cat=cat, write=True)
    inst = load_catalog(cat).instance("gcp", "a3-highgpu-8g")
    assert "COMPUTED from its per-part SKUs" in (inst.notes or "")


def test_gcp_malformed_sku_names_the_line(cat):
    bad = DATA / "gcp" / "compute-skus-malformed.json"
    with pytest.raises(FeedError, match=rf"^{bad}:467: skus\[8\] has no serviceRegions"):
        _run("gcp", bad, cat=cat)


# -- writing safely ---------------------------------------------------------------------
def test_an_invalid_result_is_not_written(cat):
    """The new file is checked with the rest of the catalog before it replaces the old one."""
    plan = _run("skypilot", LAMBDA, cat=cat, as_of=TODAY)
    plan.new_instances["gpu_1x_a6000"]["prices"][0]["region"] = "moon-1"
    before = (cat / "instances-lambda.yaml").read_bytes()
    with pytest.raises(CatalogError, match="nothing written.*'moon-1' is not in regions"):
        write_import(plan)
    assert (cat / "instances-lambda.yaml").read_bytes() == before
    assert not list(cat.glob(".*.tmp"))


def test_price_history_and_source_url_are_checked_by_the_schema(cat):
    path = cat / "instances-lambda.yaml"
    data = yaml.safe_load(path.read_text())
    data["instances"][0]["prices"][0]["source_url"] = "https://example.com/not-a-source"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(CatalogError, match="source_url https://example.com/not-a-source"):
        load_catalog(cat)
    data["instances"][0]["prices"][0].pop("source_url")
    data["instances"][0]["price_history"] = [
        {"date": "2026-01-01", "note": "old", "region": "mars-1", "on_demand_usd_per_hour": 1.0}
    ]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(CatalogError, match="price_history.region: 'mars-1' is not in regions"):
        load_catalog(cat)


def test_unknown_feed_and_too_many_files(cat):
    with pytest.raises(InvalidInputError, match="Unknown price feed 'vantage'"):
        read_feed("vantage", ["x"], catalog_dir=cat)
    with pytest.raises(InvalidInputError, match="one file or URL"):
        read_feed("aws", [str(AWS), str(AWS)], catalog_dir=cat)
    with pytest.raises(InvalidInputError, match="No such feed file"):
        read_feed("aws", [str(DATA / "nope.json")], catalog_dir=cat)


def test_cli_json_lists_the_whole_diff(cat):
    result = runner.invoke(
        app, ["catalog", "import", "gcp", str(GCP), "--catalog-dir", str(cat), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["provider"] == "gcp" and data["as_of"] == "2026-11-28"
    assert {"changed", "new", "removed", "unchanged", "skipped"} <= set(data)
