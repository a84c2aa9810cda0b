"""The shipped catalogs: validation, sanity of every row, lookups and their errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from advisor.tools import get_accelerator, get_instance, get_model, get_server, load_catalog
from advisor.tools.catalog import clear_cache

from advisor.errors import CatalogError, UnknownNameError

REQUIRED_ACCELERATORS = [
    "t4",
    "a10g",
    "l4",
    "l40s",
    "a100-40gb-sxm",
    "a100-80gb-sxm",
    "a100-40gb-pcie",
    "a100-80gb-pcie",
    "h100-sxm",
    "h100-pcie",
    "h100-nvl",
    "h200",
    "b200",
    "gb200",
    "rtx-4090",
    "mi250x",
    "mi300x",
    "mi325x",
    "gaudi2",
    "gaudi3",
    "tpu-v5e",
    "tpu-v5p",
    "tpu-v6e",
    "inferentia2",
    "trainium1",
    "trainium2",
]


def test_catalog_sizes(catalog):
    assert len(catalog.accelerators) >= 24
    assert len([m for m in catalog.models if m.kind == "llm"]) >= 30
    assert {i.provider for i in catalog.instances} >= {"aws", "azure", "gcp"}
    assert len(catalog.onprem.servers) >= 4
    kinds = {a.kind for a in catalog.accelerators}
    assert kinds >= {"gpu", "tpu", "asic", "cpu", "npu"}


@pytest.mark.parametrize("acc_id", REQUIRED_ACCELERATORS)
def test_required_accelerators_present(catalog, acc_id):
    assert catalog.accelerator(acc_id).id == acc_id


def test_every_row_is_sourced_and_dated(catalog):
    today = dt.date.today()
    rows = [
        *catalog.accelerators,
        *catalog.instances,
        *catalog.models,
        *catalog.onprem.servers,
        *catalog.onprem.electricity,
        *catalog.onprem.colocation,
        *catalog.onprem.network,
        *catalog.storage.tiers,
        *catalog.storage.egress,
    ]
    for row in rows:
        assert row.sources, row
        assert dt.date(2015, 1, 1) <= row.as_of <= today, (row, row.as_of)


def test_accelerator_rows_are_plausible(catalog):
    for a in catalog.accelerators:
        if a.kind == "cpu":
            continue
        # Dense bf16 of a datacenter accelerator is between 8 and 5,000 TFLOPS; fp8 is 1x
        # (Gaudi 3's matrix engines) to 2x bf16: a 4x ratio would mean a sparse figure slipped in.
        # Exception: Trainium3, whose dense MXFP8 (2,517) is 3.75x its dense BF16 (671) per
        # AWS's Neuron architecture page (its sparse BF16 is the 2,517 figure).
        if a.bf16_tflops:
            assert 8 <= a.bf16_tflops <= 5000, a.id
            if a.fp8_tflops:
                top = 3.8 if a.id == "trainium3" else 2.6
                assert 0.99 <= a.fp8_tflops / a.bf16_tflops <= top, a.id
        # Memory and bandwidth within what shipping parts have: from 8 GB / 68 GB/s (Apple
        # M1, Jetson Orin Nano) to 512 GB of unified memory (M3 Ultra) and 16 TB/s; announced
        # HBM4 parts (MI455X 19.6 TB/s) up to 25 TB/s.
        assert 8 <= a.memory_gb <= 512, a.id
        assert 50 <= a.memory_bandwidth_gb_s <= (25000 if a.is_announced else 16000), a.id


def test_instance_rows_are_plausible(catalog):
    for i in catalog.instances:
        for p in i.prices:
            per_acc = p.on_demand_usd_per_hour / max(1, i.accelerator_count)
            assert 0.05 <= per_acc <= 30, (i.name, p.region, per_acc)
        if i.accelerator:
            acc = catalog.accelerator(i.accelerator)
            assert i.accelerator_count >= 1
            assert acc.kind != "cpu"


def test_model_rows_are_consistent(catalog):
    for m in catalog.models:
        # Attention projections fit inside the parameter count.
        attn = m.layers * m.hidden_size * m.head_dim * (m.attention_heads + 2 * m.kv_heads)
        assert attn < m.params_b * 1e9, m.id
        assert m.active_params_b <= m.params_b


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("h100", "h100-sxm"),
        ("H100 SXM5 80GB", "h100-sxm"),
        ("NVIDIA H100", "h100-sxm"),
        ("a100", "a100-80gb-sxm"),
        ("mi300x", "mi300x"),
        ("trillium", "tpu-v6e"),
    ],
)
def test_accelerator_lookup_accepts_what_people_type(typed, expected):
    assert get_accelerator(typed).id == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("llama 3 70b", "llama-3-70b"),
        ("Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("deepseek v3", "deepseek-v3"),
        ("gpt-oss 120b", "gpt-oss-120b"),
    ],
)
def test_model_lookup(typed, expected):
    assert get_model(typed).id == expected


def test_instance_lookup_by_family_alias():
    assert get_instance("aws", "p5").name == "p5.48xlarge"
    assert get_instance("amazon", "p5.48xlarge").provider == "aws"


def test_server_lookup():
    assert get_server("dgx h100").accelerator == "h100-sxm"


def test_unknown_accelerator_suggests_close_names():
    with pytest.raises(UnknownNameError) as info:
        get_accelerator("H10")
    message = str(info.value)
    assert "Did you mean" in message
    assert "H100" in message


def test_unknown_model_suggests():
    with pytest.raises(UnknownNameError) as info:
        get_model("lama 3.1 8b")
    assert "Llama 3.1 8B" in str(info.value)


def test_unknown_provider():
    with pytest.raises(UnknownNameError, match="provider"):
        get_instance("ibm", "p5")


def test_instance_region_without_price_is_an_error():
    with pytest.raises(UnknownNameError):
        get_instance("aws", "p5", region="mars-1")


def _break_row(path: Path, section: str, index: int, field: str, value: object) -> None:
    data = yaml.safe_load(path.read_text())
    data[section][index][field] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_bad_row_names_file_row_and_field(catalog_copy):
    _break_row(catalog_copy / "accelerators.yaml", "accelerators", 2, "memory_gb", -5)
    clear_cache()
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    message = str(info.value)
    assert "accelerators.yaml" in message
    assert "accelerators[2]" in message
    assert "memory_gb" in message


def test_unknown_field_is_rejected(catalog_copy):
    _break_row(catalog_copy / "models.yaml", "models", 0, "paramz_b", 8)
    clear_cache()
    with pytest.raises(CatalogError, match="paramz_b"):
        load_catalog(catalog_copy)


def test_instance_pointing_at_unknown_accelerator(catalog_copy):
    path = catalog_copy / "instances-aws.yaml"
    data = yaml.safe_load(path.read_text())
    idx = next(n for n, i in enumerate(data["instances"]) if i["accelerator"])
    data["instances"][idx]["accelerator"] = "h9000"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    clear_cache()
    with pytest.raises(CatalogError, match="h9000"):
        load_catalog(catalog_copy)


def test_invalid_yaml_is_reported(catalog_copy):
    (catalog_copy / "onprem.yaml").write_text("servers: [unclosed\n")
    clear_cache()
    with pytest.raises(CatalogError, match="onprem.yaml"):
        load_catalog(catalog_copy)


def test_wrong_schema_version(catalog_copy):
    path = catalog_copy / "storage.yaml"
    data = yaml.safe_load(path.read_text())
    data["schema_version"] = 99
    path.write_text(yaml.safe_dump(data))
    clear_cache()
    with pytest.raises(CatalogError, match="schema_version"):
        load_catalog(catalog_copy)


@pytest.mark.parametrize(
    "name",
    ["accelerators.yaml", "models.yaml", "instances-aws.yaml", "onprem.yaml", "storage.yaml"],
)
def test_truncated_file_is_a_clear_error_naming_file_and_line(catalog_copy, name):
    """A file cut mid-write (or empty) fails at load with the file and where, never a traceback
    from deep inside a calculator."""
    path = catalog_copy / name
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2 + 7], encoding="utf-8")
    clear_cache()
    try:
        load_catalog(catalog_copy)
    except CatalogError as exc:
        assert name in str(exc)
    else:  # a cut that happens to land between rows leaves valid YAML: rows are then missing
        pytest.fail("a truncated catalog loaded without an error")
    finally:
        clear_cache()
    path.write_text("", encoding="utf-8")
    with pytest.raises(CatalogError, match=name.replace(".", r"\.")):
        load_catalog(catalog_copy)
    clear_cache()


def test_parsed_catalog_files_are_cached_by_content_and_a_bad_cache_is_ignored(
    tmp_path, monkeypatch
):
    """The parsed YAML is kept in the cache folder under a hash of the file's bytes: the
    second load reads it, an edit is parsed afresh, and a corrupt cache entry is re-parsed,
    never trusted."""
    import shutil

    from advisor.tools import catalog as c

    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "catalog"
    shutil.copytree(c.default_catalog_dir(), src)
    c.clear_cache()
    first = c.load_catalog(src)
    entries = sorted((tmp_path / "cache" / "yaml").glob("*.pickle"))
    assert len(entries) >= 10
    for e in entries:
        e.write_bytes(b"not a pickle")  # corrupt: parsed again from the YAML
    c.clear_cache()
    assert c.load_catalog(src).accelerator("h100").id == first.accelerator("h100").id
    path = src / "accelerators.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("name: NVIDIA H100 SXM5 80GB", "name: Renamed H100", 1), "utf-8")
    c.clear_cache()
    assert c.load_catalog(src).accelerator("h100-sxm").name == "Renamed H100"
    c.clear_cache()
