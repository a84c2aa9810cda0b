"""The CLI: every calculator is reachable, output is readable or JSON, mistakes are one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from advisor.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    "args",
    [
        ["calc", "inference-memory", "llama 3.1 8b", "--accelerator", "l4"],
        ["calc", "training-estimate", "llama 3.1 8b", "1e12", "--accelerator", "h100"],
        ["calc", "training-memory", "llama 3.1 8b", "--method", "qlora"],
        ["calc", "serving-estimate", "llama 3.1 8b", "h100", "--target-requests-per-s", "10"],
        ["calc", "job-cost", "aws", "p5", "--accelerator-hours", "1000"],
        ["calc", "cost-per-million-tokens", "aws", "p5", "--tokens-per-s", "2000"],
        ["calc", "compare-options", "llama 3.1 70b", "--providers", "aws", "--top", "3"],
        ["calc", "onprem-tco", "--server", "hgx h100", "--num-servers", "4"],
        ["calc", "break-even", "--utilization", "0.5"],
        ["calc", "energy-estimate", "1000"],
        ["calc", "storage-estimate", "--dataset-tokens", "1e12", "--model", "llama 3.1 70b"],
        ["calc", "decide", "--utilization", "5", "--horizon", "5"],
    ],
)
def test_every_tool_runs_and_prints_json(args):
    text = run(*args)
    assert text.exit_code == 0, text.output
    assert "Sources" in text.output or "Recommendation" in text.output
    as_json = run(*args, "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["values"] and data["headline"]


def test_user_mistake_is_one_line_and_exit_2():
    result = run("calc", "inference-memory", "llama 3 70b", "--accelerator", "H10")
    assert result.exit_code == 2
    assert "Did you mean" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["catalog", "list", "gizmos"], "Unknown catalog kind 'gizmos'."),
        (["catalog", "show", "gizmo", "x"], "Unknown catalog kind 'gizmo'."),
        (["catalog", "show", "accelerator", "zzqx"], "Run `advisor catalog list accelerators`"),
        (["catalog", "check", "--today", "soon"], "--today 'soon' is not a date."),
        (["search", "x", "--mode", "fuzzy"], "Unknown mode 'fuzzy'."),
        (["ask", "hi", "--backend", "gpt"], "Unknown backend 'gpt'."),
        (["bench", "nothing"], "Unknown benchmark 'nothing'."),
        (["serve", "--share", "public"], "Unknown --share value 'public'."),
        (
            ["calc", "job-cost", "aws", "p5.48xlarge", "--instance-hours", "1", "--region", "x-1"],
            "Unknown region for p5.48xlarge 'x-1'. It is offered and priced in: us-east-1",
        ),
    ],
)
def test_every_command_turns_a_user_mistake_into_one_error_line(args, says):
    """One handler at the root converts AdvisorError for every command and sub-command."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
    assert "Traceback" not in result.output


def test_catalog_list_and_show():
    listed = run("catalog", "list", "accelerators")
    assert listed.exit_code == 0 and "h100-sxm" in listed.output
    listed = run("catalog", "list", "instances", "--provider", "gcp", "--json")
    rows = json.loads(listed.stdout)
    assert rows and {r["provider"] for r in rows} == {"gcp"}
    shown = run("catalog", "show", "model", "llama 3 70b")
    assert shown.exit_code == 0 and "kv_heads: 8" in shown.output
    bad = run("catalog", "show", "model", "llama 9")
    assert bad.exit_code == 2 and "Unknown model" in bad.output


def test_console_script_entry_point():
    """The installed `advisor` script works in a subprocess (no traceback on a mistake)."""
    proc = subprocess.run(
        [sys.executable, "-m", "advisor.cli", "calc", "training-estimate", "8b", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "tokens must be greater than 0" in proc.stderr
    assert "Traceback" not in proc.stderr
