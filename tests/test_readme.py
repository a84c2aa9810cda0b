"""README examples are executed, so the docs cannot rot."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from advisor.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


def test_python_examples_run(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path))
    blocks = _blocks("python")
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102
    assert "H100" in capsys.readouterr().out


def test_cli_examples_run(tmp_path):
    """Every `advisor ...` line in the README runs (user paths point into a temp folder)."""
    runner = CliRunner()
    docs = tmp_path / "runbooks"
    docs.mkdir()
    (docs / "a.md").write_text("# Runbook\n\nDrain nodes before upgrades.\n")
    env = {"ADVISOR_DATA_DIR": str(tmp_path / "data"), "ADVISOR_LLM_BACKEND": "none"}
    commands = [
        line
        for block in _blocks("bash")
        for line in block.splitlines()
        if line.startswith("advisor ")
    ]
    assert len(commands) >= 10
    for line in commands:
        line = line.replace("~/docs/runbooks", str(docs)).replace(
            "artifacts/eval", str(tmp_path / "eval")
        )
        args = shlex.split(line, comments=True)[1:]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, (line, result.output)
