"""One registry of calculators: every reader agrees with it, and it lists every calculator."""

from __future__ import annotations

import inspect
import typing

from advisor.tools.registry import CALCULATORS
from advisor.tools.result import ToolResult
from typer.testing import CliRunner

from advisor import tools
from advisor.cli import app
from advisor.dispatch import TOOL_FUNCS
from advisor.toolcalling import MODEL_TOOLS


def test_every_public_calculator_is_registered():
    public = {
        name
        for name in tools.__all__
        if inspect.isfunction(getattr(tools, name))
        and typing.get_type_hints(getattr(tools, name)).get("return") is ToolResult
    }
    assert public == set(CALCULATORS)


def test_readers_agree_with_the_registry():
    assert set(TOOL_FUNCS) == set(CALCULATORS)
    assert all(TOOL_FUNCS[n] is c.func for n, c in CALCULATORS.items())
    assert set(MODEL_TOOLS) == {n for n, c in CALCULATORS.items() if c.model_callable}
    for name, calc in CALCULATORS.items():
        takes = "catalog" in inspect.signature(calc.func).parameters
        assert takes == calc.takes_catalog, name


def test_the_cli_has_a_command_for_each_calculator():
    help_text = CliRunner().invoke(app, ["calc", "--help"]).output
    for name in CALCULATORS:
        assert name.replace("_", "-") in help_text, name
