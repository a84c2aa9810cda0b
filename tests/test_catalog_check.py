"""`advisor catalog check`: stale price rows per file, rows without sources, announced parts.

The synthetic catalog below is measured from 2026-12-01 with the default 365-day threshold:
a storage tier dated 2025-06-30 is 519 days old (stale), one dated 2026-10-01 is 61 days old
(fresh); an accelerator dated 2016 is a spec row and never stale.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap

import pytest
from advisor.tools.freshness import check_catalog
from typer.testing import CliRunner

from advisor.cli import app

runner = CliRunner()
TODAY = dt.date(2026, 12, 1)

ACCELERATORS = """\
schema_version: 1
accelerators:
  - id: old-gpu
    name: Old GPU
    vendor: Example
    kind: gpu
    memory_gb: 16
    memory_type: GDDR5
    memory_bandwidth_gb_s: 300
    fp32_tflops: 10
    sources: [{title: "Old datasheet", url: "https://example.com/old"}]
    as_of: 2016-05-27
  - id: next-gpu
    name: Next GPU
    vendor: Example
    kind: gpu
    memory_gb: 288
    memory_type: HBM4
    memory_bandwidth_gb_s: 20000
    fp4_tflops: 50000
    status: announced
    sources: [{title: "Keynote", url: "https://example.com/keynote"}]
    as_of: 2026-03-16
"""

STORAGE = """\
schema_version: 1
tiers:
  - provider: aws
    id: old-tier
    name: Old object tier
    tier: object
    usd_per_gb_month: 0.023
    sources: [{title: "Old price page", url: "https://example.com/s3"}]
    as_of: 2025-06-30
  - provider: aws
    id: new-tier
    name: New object tier
    tier: object
    usd_per_gb_month: 0.02
    sources: [{title: "New price page", url: "https://example.com/s3-new"}]
    as_of: 2026-10-01
egress:
  - provider: aws
    usd_per_gb: 0.09
    sources: [{title: "Egress page", url: "https://example.com/egress"}]
    as_of: 2026-10-01
"""


@pytest.fixture
def tiny_catalog(tmp_path):
    (tmp_path / "accelerators.yaml").write_text(ACCELERATORS)
    (tmp_path / "storage.yaml").write_text(STORAGE)
    return tmp_path


def test_synthetic_catalog_reports_the_stale_row_and_the_announced_part(tiny_catalog):
    report = check_catalog(tiny_catalog, today=TODAY)
    assert [(r.file, r.row, r.age_days) for r in report.stale] == [
        ("storage.yaml", "old-tier", 519)
    ]
    acc = next(f for f in report.files if f.file == "accelerators.yaml")
    assert acc.announced == ["next-gpu"]
    assert acc.stale(365) == []  # a 2016 datasheet is old, not stale
    assert not report.clean


def test_threshold_moves_the_line(tiny_catalog):
    assert check_catalog(tiny_catalog, today=TODAY, max_age_days=519).clean
    assert not check_catalog(tiny_catalog, today=TODAY, max_age_days=518).clean
    stale = check_catalog(tiny_catalog, today=TODAY, max_age_days=60).stale
    assert [r.row for r in stale] == ["old-tier", "new-tier", "aws"]  # oldest first


def test_cli_exit_codes_on_the_synthetic_catalog(tiny_catalog):
    args = ["catalog", "check", "--catalog-dir", str(tiny_catalog), "--today", "2026-12-01"]
    stale = runner.invoke(app, args)
    assert stale.exit_code == 1, stale.output
    assert "STALE tiers/old-tier: as of 2025-06-30 (519 days)" in stale.output
    assert "announced, not shipping: next-gpu" in stale.output
    clean = runner.invoke(app, [*args, "--max-age-days", "600"])
    assert clean.exit_code == 0, clean.output
    assert "Result: clean." in clean.output


def test_cli_json(tiny_catalog):
    r = runner.invoke(
        app,
        ["catalog", "check", "--catalog-dir", str(tiny_catalog), "--today", "2026-12-01", "--json"],
    )
    data = json.loads(r.output)
    storage = next(f for f in data["files"] if f["file"] == "storage.yaml")
    assert storage["stale"] == [
        {"section": "tiers", "row": "old-tier", "as_of": "2025-06-30", "age_days": 519}
    ]
    assert data["clean"] is False


def test_broken_file_is_exit_2_with_one_line(tiny_catalog):
    (tiny_catalog / "storage.yaml").write_text(textwrap.dedent(STORAGE).replace("0.023", "-1"))
    r = runner.invoke(app, ["catalog", "check", "--catalog-dir", str(tiny_catalog)])
    assert r.exit_code == 2
    assert "storage.yaml" in r.output and "old-tier" in r.output


def test_bad_today_is_exit_2():
    r = runner.invoke(app, ["catalog", "check", "--today", "yesterday"])
    assert r.exit_code == 2


def test_real_catalogs():
    """Every shipped file is checked; every row has sources; Rubin and MI455X are announced."""
    report = check_catalog(today=TODAY)
    names = {f.file for f in report.files}
    assert {"accelerators.yaml", "models.yaml", "onprem.yaml", "storage.yaml"} <= names
    assert any(n.startswith("instances-") for n in names)
    assert report.missing_sources == []
    acc = next(f for f in report.files if f.file == "accelerators.yaml")
    assert {"rubin", "mi455x"} <= set(acc.announced)
    onprem = next(f for f in report.files if f.file == "onprem.yaml")
    fresh = {r.row for r in onprem.rows if r.age_days <= 365}
    # rows refreshed for issue 12 are within a year of the catalog's date
    assert {"hgx-h100-8", "hgx-h200-8", "hgx-b300-8", "rtx-pro-6000-8"} <= fresh
    assert "us-primary-markets" in fresh
    # the exit status follows the report: stale rows exist in the shipped catalogs today
    r = runner.invoke(app, ["catalog", "check", "--today", "2026-12-01"])
    assert r.exit_code == (0 if report.clean else 1)
