"""The rooms' import rules: ``advisor.tools`` (tools/) is the bottom layer and stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import advisor.tools.errors
import pytest
from typer.testing import CliRunner

import advisor.errors
from advisor.cli import app

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def _absolute_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in one source file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _outside_tools(module: str) -> bool:
    in_advisor = module == "advisor" or module.startswith("advisor.")
    return in_advisor and not (module == "advisor.tools" or module.startswith("advisor.tools."))


def test_the_walk_sees_what_it_must_reject():
    """The rule itself: a guard that cannot fail proves nothing."""
    assert _outside_tools("advisor.errors") and _outside_tools("advisor")
    assert _outside_tools("advisor.toolcalling")  # a prefix of "advisor.tools", still outside
    assert not _outside_tools("advisor.tools") and not _outside_tools("advisor.tools.result")
    assert not _outside_tools("yaml")


@pytest.mark.parametrize("path", sorted(TOOLS.glob("*.py")), ids=lambda p: p.name)
def test_tools_import_nothing_from_advisor_outside_advisor_tools(path):
    bad = [
        f"{path.name}:{line} imports {mod}"
        for line, mod in _absolute_imports(path)
        if _outside_tools(mod)
    ]
    assert not bad, "; ".join(bad)


def test_advisor_errors_reexports_the_same_classes():
    for name in ("AdvisorError", "InvalidInputError", "UnknownNameError", "CatalogError"):
        assert getattr(advisor.errors, name) is getattr(advisor.tools.errors, name)


def test_tool_hints_are_neutral_and_the_cli_adds_its_command():
    """A name with no close match: the tools say so; only the CLI names `advisor catalog list`."""
    exc = advisor.tools.errors.UnknownNameError("accelerator", "zzqx", [])
    assert "advisor" not in str(exc) and "advisor" not in (exc.hint or "")
    result = CliRunner().invoke(app, ["catalog", "show", "accelerator", "zzqx"])
    assert result.exit_code == 2
    assert (
        "Unknown accelerator 'zzqx'. Run `advisor catalog list accelerators` to see what is "
        "catalogued." in result.output
    )
