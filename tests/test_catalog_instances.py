"""Cloud instance sizes people name (p3.2xlarge, g4dn.2xlarge, Standard_NC6, ml.g4dn.2xlarge):
each resolves to exactly that size; a retired size is reported retired, never unknown and never
swapped for another; a SageMaker ``ml.*`` name gives the EC2 hardware without EC2's prices.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from advisor.tools import compare_options, get_instance, inference_memory, job_cost
from advisor.tools.catalog import clear_cache, default_catalog_dir, load_catalog
from advisor.tools.freshness import check_catalog
from advisor.tools.priceimport import import_prices
from advisor.tools.pricing import get_price
from advisor.tools.schema import Instance
from pydantic import ValidationError
from typer.testing import CliRunner

from advisor.cli import app
from advisor.dispatch import _instance_for
from advisor.errors import CatalogError, NoPriceError, UnknownNameError

# (provider, name typed, catalogued name, accelerator, count) for names seen in real questions
NAMED = [
    ("aws", "p3.2xlarge", "p3.2xlarge", "v100-16gb-sxm2", 1),
    ("aws", "p3.16xlarge", "p3.16xlarge", "v100-16gb-sxm2", 8),
    ("aws", "p3dn.24xlarge", "p3dn.24xlarge", "v100", 8),
    ("aws", "p2.xlarge", "p2.xlarge", "k80", 1),
    ("aws", "p2.16xlarge", "p2.16xlarge", "k80", 16),
    ("aws", "g4dn.2xlarge", "g4dn.2xlarge", "t4", 1),
    ("aws", "g4dn.metal", "g4dn.metal", "t4", 8),
    ("aws", "g5.2xlarge", "g5.2xlarge", "a10g", 1),
    ("aws", "g5.24xlarge", "g5.24xlarge", "a10g", 4),
    ("aws", "g6.24xlarge", "g6.24xlarge", "l4", 4),
    ("aws", "g6e.2xlarge", "g6e.2xlarge", "l40s", 1),
    ("aws", "inf1.xlarge", "inf1.xlarge", "inferentia1", 1),
    ("aws", "inf2.8xlarge", "inf2.8xlarge", "inferentia2", 1),
    ("aws", "trn1.2xlarge", "trn1.2xlarge", "trainium1", 1),
    ("azure", "Standard_NC6", "Standard_NC6", "k80", 1),
    ("azure", "NC6", "Standard_NC6", "k80", 1),
    ("azure", "Standard_NC6s_v3", "Standard_NC6s_v3", "v100-16gb-pcie", 1),
    ("azure", "NC12s_v2", "Standard_NC12s_v2", "p100-16gb-pcie", 2),
    ("azure", "Standard_ND24s", "Standard_ND24s", "p40", 4),
    ("azure", "Standard_NC64as_T4_v3", "Standard_NC64as_T4_v3", "t4", 4),
    ("azure", "NC96ads_A100_v4", "Standard_NC96ads_A100_v4", "a100-80gb-pcie", 4),
    ("azure", "Standard_NC80adis_H100_v5", "Standard_NC80adis_H100_v5", "h100-nvl", 2),
    ("azure", "ND40rs_v2", "Standard_ND40rs_v2", "v100", 8),
    ("azure", "Standard_NV72ads_A10_v5", "Standard_NV72ads_A10_v5", "a10", 2),
    ("gcp", "a2-highgpu-2g", "a2-highgpu-2g", "a100-40gb-sxm", 2),
    ("gcp", "a2-megagpu-16g", "a2-megagpu-16g", "a100-40gb-sxm", 16),
    ("gcp", "a2-ultragpu-1g", "a2-ultragpu-1g", "a100-80gb-sxm", 1),
    ("gcp", "a3-highgpu-1g", "a3-highgpu-1g", "h100-sxm", 1),
    ("gcp", "g2-standard-8", "g2-standard-8", "l4", 1),
    ("gcp", "g2-standard-96", "g2-standard-96", "l4", 8),
]
RETIRED = {  # name: (retired_on, successors as Microsoft's guide names them)
    "Standard_NC6": ("2023-09-06", []),
    "Standard_NC24r": ("2023-09-06", []),
    "Standard_NC6s_v2": ("2023-09-06", []),
    "Standard_ND6s": ("2023-09-06", []),
    "Standard_NC6s_v3": ("2025-09-30", ["Standard_NC24ads_A100_v4"]),
    "Standard_NC24s_v3": ("2025-09-30", ["Standard_NC96ads_A100_v4"]),
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    yield
    clear_cache()


@pytest.mark.parametrize(("provider", "typed", "name", "acc", "count"), NAMED)
def test_named_sizes_resolve_to_exactly_that_size(provider, typed, name, acc, count):
    inst = get_instance(provider, typed)
    assert (inst.name, inst.accelerator, inst.accelerator_count) == (name, acc, count)
    assert get_instance(None, typed).name == name  # without the provider too


def test_every_instance_row_is_sourced_priced_or_retired(catalog):
    by_provider: dict[str, int] = {}
    for inst in catalog.instances:
        by_provider[inst.provider] = by_provider.get(inst.provider, 0) + 1
        assert inst.sources and inst.as_of, inst.name
        if inst.is_retired:
            assert inst.retired_on and not inst.prices and not inst.available_regions, inst.name
        else:
            assert inst.prices, inst.name
        for other in inst.successors:
            assert not get_instance(inst.provider, other).is_retired
    # the completeness this catalog promises (README counts)
    assert by_provider["aws"] >= 59 and by_provider["azure"] >= 34 and by_provider["gcp"] >= 27


@pytest.mark.parametrize("name", sorted(RETIRED))
def test_a_retired_size_is_reported_retired(name):
    """Worked example: Standard_NC6 (1x K80) ended on 2023-09-06; asked for by name it is that
    row, marked retired, with its hardware; a price is refused with the reason, not
    answered with another size's price or 'unknown'."""
    retired_on, successors = RETIRED[name]
    inst = get_instance("azure", name)
    assert (inst.name, inst.status, inst.retired_on) == (name, "retired", retired_on)
    assert inst.successors == successors
    with pytest.raises(NoPriceError) as err:
        job_cost("azure", name, instance_hours=10)
    assert not isinstance(err.value, UnknownNameError)
    assert f"retired it on {retired_on}" in str(err.value)
    for succ in successors:
        assert succ in str(err.value)


def test_a_retired_size_still_sizes_its_hardware_with_a_warning():
    r = inference_memory("llama 3.1 8b", dtype="int4", instance="Standard_NC6", provider="azure")
    assert any("Standard_NC6 is retired" in w for w in r.warnings)


def test_retired_sizes_are_never_ranked_or_picked():
    ranked = compare_options("llama 3.1 8b", dtype="int4", top=1000)
    names = {row["instance"] for row in ranked.table or []}
    assert not names & set(RETIRED)
    cat = load_catalog()
    assert _instance_for(cat, "p40", "azure") is None  # ND (P40) is retired: nothing to rent
    assert _instance_for(cat, "k80", None) == ("aws", "p2.xlarge")  # p2 is still priced


@pytest.mark.parametrize(
    ("typed", "listed"),
    [
        ("Standard_NC6s", "Standard_NC6s_v3"),  # v2 or v3: asked, not picked
        ("NC24rs_v3", "Standard_NC24rs_v2"),  # not catalogued: never swapped for v2
        ("NC series", "Standard_NC6"),  # a family: its sizes, retired ones marked
        ("NCv3 series", "Standard_NC12s_v3"),
    ],
)
def test_near_and_family_names_get_a_did_you_mean_never_a_swap(typed, listed):
    with pytest.raises(UnknownNameError) as err:
        get_instance("azure", typed)
    assert listed in err.value.suggestions or listed in str(err.value)


def test_a_family_name_lists_its_sizes_and_marks_retired_ones():
    with pytest.raises(UnknownNameError) as err:
        get_instance("azure", "NC series")
    text = str(err.value)
    assert "names a family" in text and "Standard_NC6 (retired)" in text
    assert "Standard_NC4as_T4_v3" in text  # the NC family's current sizes too


# -- SageMaker ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("provider", "typed", "ec2"),
    [
        (None, "ml.g4dn.2xlarge", "g4dn.2xlarge"),
        ("aws", "ml.p2.xlarge", "p2.xlarge"),
        ("aws", "ML.G5.12XLARGE", "g5.12xlarge"),
        ("sagemaker", "g5.2xlarge", "g5.2xlarge"),
        ("amazon sagemaker", "ml.p3.2xlarge", "p3.2xlarge"),
    ],
)
def test_sagemaker_names_resolve_to_the_ec2_hardware(provider, typed, ec2):
    row = get_instance(provider, typed)
    hw = get_instance("aws", ec2)
    assert (row.name, row.hardware_of, row.provider) == (f"ml.{ec2}", ec2, "aws")
    for field in ("accelerator", "accelerator_count", "vcpus", "ram_gb", "local_storage_gb"):
        assert getattr(row, field) == getattr(hw, field), field
    assert row.prices == [] and "SageMaker" in (row.notes or "")
    assert any("sagemaker/pricing" in str(s.url) for s in row.sources)


def test_sagemaker_prices_are_not_ec2_prices():
    """ml.g4dn.2xlarge is the hardware of g4dn.2xlarge ($0.752/h on EC2 in us-east-1), but
    SageMaker bills its own rate: no tool may answer with the EC2 figure."""
    ec2 = get_price(get_instance("aws", "g4dn.2xlarge"), "us-east-1")
    assert ec2.usd_per_hour == 0.752
    with pytest.raises(NoPriceError) as err:
        get_price(get_instance("aws", "ml.g4dn.2xlarge"), "us-east-1")
    text = str(err.value)
    assert "ml.g4dn.2xlarge" in text and "g4dn.2xlarge" in text and "0.752" not in text
    with pytest.raises(NoPriceError):
        job_cost("sagemaker", "g4dn.2xlarge", instance_hours=10)


def test_sagemaker_memory_sizing_uses_the_hardware():
    r = inference_memory("llama 3.1 8b", dtype="bf16", instance="ml.g5.2xlarge", provider="aws")
    assert r.inputs.get("instance") in (None, "ml.g5.2xlarge") or "ml.g5.2xlarge" in str(r.refs)
    assert any(ref.row == "ml.g5.2xlarge" for ref in r.refs)


@pytest.mark.parametrize(
    ("typed", "hint"),
    [("ml.g5", "ml.g5.48xlarge"), ("ml.g5.3xlarge", "ml.g5.2xlarge"), ("ml.p9.xlarge", None)],
)
def test_unknown_sagemaker_names_get_a_did_you_mean(typed, hint):
    with pytest.raises(UnknownNameError) as err:
        get_instance("aws", typed)
    assert err.value.kind == "SageMaker instance"
    if hint:
        assert hint in err.value.suggestions


def test_ml_prefix_is_sagemaker_only_on_aws():
    with pytest.raises(UnknownNameError) as err:
        get_instance("azure", "ml.g4dn.xlarge")
    assert err.value.kind == "instance"


# -- schema and cross-checks --------------------------------------------------------------
def _row(**over):
    base = yaml.safe_load((default_catalog_dir() / "instances-azure.yaml").read_text())
    row = next(i for i in base["instances"] if i["name"] == "Standard_NC6")
    return {**row, **over}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"retired_on": None}, "needs retired_on"),
        ({"prices": [{"region": "eastus", "on_demand_usd_per_hour": 1.0}]}, "no current prices"),
        ({"status": "available"}, "retired_on is set"),
        ({"status": "available", "retired_on": None}, "at least one price"),
        ({"retired_on": "2023-13"}, "retired_on"),
    ],
)
def test_the_retired_marker_is_typed(change, message):
    with pytest.raises(ValidationError, match=message):
        Instance.model_validate(_row(**change))


def test_an_unquoted_yaml_date_is_read_as_the_day():
    assert Instance.model_validate(_row(retired_on=__import__("datetime").date(2023, 9, 6)))


@pytest.fixture
def cat(tmp_path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), target)
    return target


def test_a_successor_must_be_a_catalogued_current_size(cat):
    path = cat / "instances-azure.yaml"
    data = yaml.safe_load(path.read_text())
    row = next(i for i in data["instances"] if i["name"] == "Standard_NC6s_v3")
    row["successors"] = ["Standard_NC12"]  # retired itself
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(CatalogError, match="successors: 'Standard_NC12'"):
        load_catalog(cat)


def test_a_feed_never_prices_a_retired_size(cat, tmp_path):
    """The Azure Retail Prices API still listed NCv3 meters after the 2025-09-30 retirement."""
    csv = tmp_path / "azure" / "vms.csv"
    csv.parent.mkdir()
    csv.write_text(
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
        "Region\nStandard_NC6s_v3,V100,1,6,112,V100,3.06,0.565488,eastus\n"
    )
    plan = import_prices("skypilot", [str(csv)], catalog_dir=cat)
    assert not plan.changed and not plan.new
    skip = next(s for s in plan.skipped if s.instance_type == "Standard_NC6s_v3")
    assert "retired on 2025-09-30" in skip.reason


def test_retired_rows_are_not_stale_prices():
    report = check_catalog()
    stale = {r.row for f in report.files for r in f.rows if r.is_price and r.age_days > 365}
    assert not stale & set(RETIRED)


def test_catalog_list_shows_retired_rows():
    result = CliRunner().invoke(app, ["catalog", "list", "instances", "--provider", "azure"])
    assert result.exit_code == 0, result.output
    assert "retired 2023-09-06" in result.output
