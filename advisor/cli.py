"""The ``advisor`` command line.

``advisor calc <tool> [options] [--json]`` runs any calculator; its options are generated
from the tool function's signature, so the CLI never restates a tool's parameters.
``advisor catalog list|show`` browses the catalogs. User mistakes print one line.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
import typing
from collections.abc import Callable
from typing import Any, Union

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from advisor.errors import AdvisorError

app = typer.Typer(
    name="advisor",
    help="AI Infra Advisor: size, price and place AI workloads (cloud or on-prem).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
calc_app = typer.Typer(
    help="Run a calculator. `advisor calc TOOL --help` lists its options.", no_args_is_help=True
)
catalog_app = typer.Typer(help="Browse the catalogs.", no_args_is_help=True)
app.add_typer(calc_app, name="calc")
app.add_typer(catalog_app, name="catalog")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(exc: AdvisorError) -> typing.NoReturn:
    err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
    raise typer.Exit(code=2)


def _cli_type(annotation: Any) -> Any:
    """Map a tool annotation to something typer understands."""
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(__import__("advisor.tools", fromlist=["x"])))  # noqa: S307
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            inner = _cli_type(args[0])
            return typing.Optional[inner] if optional else inner  # noqa: UP045
        return typing.Optional[str] if optional else str  # noqa: UP045 (ModelRef etc.)
    if origin is list:
        return typing.Optional[list[str]]  # noqa: UP045
    if annotation in (str, int, float, bool):
        return annotation
    return str


def _coerce_model(value: Any) -> Any:
    return value


def _tool_command(name: str, func: Callable[..., Any]) -> None:
    sig = inspect.signature(func)
    hints = typing.get_type_hints(func)
    params = []
    for p in sig.parameters.values():
        if p.name == "catalog" or p.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        ann = _cli_type(hints.get(p.name, str))
        if p.default is inspect.Parameter.empty:
            default: Any = typer.Argument(..., help=p.name)
        else:
            flag = "--" + p.name.replace("_", "-")
            if ann is bool:
                default = typer.Option(p.default, f"{flag}/--no-{flag[2:]}")
            else:
                default = typer.Option(p.default, flag)
        params.append(
            inspect.Parameter(
                p.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann
            )
        )
    params.append(
        inspect.Parameter(
            "as_json",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(False, "--json", help="Print JSON."),
            annotation=bool,
        )
    )

    def command(**kwargs: Any) -> None:
        as_json = kwargs.pop("as_json")
        kwargs = {k: v for k, v in kwargs.items() if not (isinstance(v, list) and not v)}
        for key in ("model",):
            if key in kwargs and isinstance(kwargs[key], str):
                kwargs[key] = kwargs[key]
        try:
            result = func(**kwargs)
        except AdvisorError as exc:
            _fail(exc)
        if as_json:
            out.print_json(result.model_dump_json())
        else:
            out.print(Markdown(result.to_markdown()))

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = inspect.getdoc(func)
    calc_app.command(name=name.replace("_", "-"))(command)


def _register_tools() -> None:
    from advisor import tools

    for name in (
        "inference_memory",
        "training_estimate",
        "training_memory",
        "serving_estimate",
        "job_cost",
        "cost_per_million_tokens",
        "compare_options",
        "onprem_tco",
        "break_even",
        "energy_estimate",
        "storage_estimate",
    ):
        _tool_command(name, getattr(tools, name))


_register_tools()


@calc_app.command("decide")
def calc_decide(
    urgency: int = typer.Option(3, min=1, max=5, help="How soon must it run (5 = weeks)."),
    skills: int = typer.Option(3, min=1, max=5, help="In-house cluster skills."),
    lead_time_tolerance: int = typer.Option(3, min=1, max=5),
    cost_predictability: int = typer.Option(3, min=1, max=5),
    utilization: int = typer.Option(3, min=1, max=5, help="Sustained utilization."),
    control: int = typer.Option(3, min=1, max=5),
    sovereignty: int = typer.Option(3, min=1, max=5),
    lock_in_aversion: int = typer.Option(3, min=1, max=5),
    horizon: int = typer.Option(3, min=1, max=5, help="Years the workload runs (5 = 3+)."),
    elasticity: int = typer.Option(3, min=1, max=5),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Score qualitative factors (1-5 each, 3 = neutral) into cloud / on-prem / hybrid."""
    from advisor.tools import decide

    answers = {k: v for k, v in locals().items() if k != "as_json" and k != "decide" and v != 3}
    try:
        result = decide(**answers)
    except AdvisorError as exc:
        _fail(exc)
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        out.print(Markdown(result.to_markdown()))


KINDS = ("accelerators", "instances", "models", "servers")


def _rows(kind: str) -> list[Any]:
    from advisor.tools import load_catalog

    cat = load_catalog()
    key = kind.rstrip("s") + "s"
    if key not in KINDS:
        raise AdvisorError(
            f"Unknown catalog kind {kind!r}.", hint=f"use one of: {', '.join(KINDS)}."
        )
    return list(cat.onprem.servers if key == "servers" else getattr(cat, key))


_COLUMNS = {
    "accelerators": [
        "id",
        "name",
        "vendor",
        "kind",
        "memory_gb",
        "memory_bandwidth_gb_s",
        "bf16_tflops",
        "fp8_tflops",
        "tdp_w",
        "as_of",
    ],
    "instances": [
        "provider",
        "name",
        "accelerator",
        "accelerator_count",
        "vcpus",
        "ram_gb",
        "on_demand",
        "region",
        "as_of",
    ],
    "models": [
        "id",
        "name",
        "params_b",
        "active_params_b",
        "layers",
        "kv_heads",
        "attention",
        "max_context",
        "as_of",
    ],
    "servers": ["id", "name", "accelerator", "accelerator_count", "price_usd", "power_kw", "as_of"],
}


@catalog_app.command("list")
def catalog_list(
    kind: str = typer.Argument(..., help="accelerators | instances | models | servers"),
    provider: str = typer.Option(None, "--provider", help="Filter instances by provider."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List catalog rows with their as_of dates."""
    try:
        rows = _rows(kind)
    except AdvisorError as exc:
        _fail(exc)
    key = kind.rstrip("s") + "s"
    if provider and key == "instances":
        rows = [r for r in rows if r.provider == provider.lower()]
    if as_json:
        out.print_json(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    table = Table(title=f"{key} ({len(rows)})")
    cols = _COLUMNS[key]
    for c in cols:
        table.add_column(c, no_wrap=c in ("id", "name", "provider"))
    for r in rows:
        data = r.model_dump()
        if key == "instances":
            data["on_demand"] = r.prices[0].on_demand_usd_per_hour
            data["region"] = r.prices[0].region
        table.add_row(*["" if data.get(c) is None else str(data.get(c)) for c in cols])
    wide = Console(soft_wrap=True, width=max(out.width, 180))
    wide.print(table)


@catalog_app.command("show")
def catalog_show(
    kind: str = typer.Argument(..., help="accelerator | instance | model | server"),
    name: str = typer.Argument(..., help="What people type: 'h100', 'p5', 'llama 3 70b'."),
    provider: str = typer.Option(None, "--provider", help="Instance provider (aws, azure, gcp)."),
) -> None:
    """Show one catalog row in full, with its sources."""
    from advisor.tools import load_catalog

    cat = load_catalog()
    key = kind.rstrip("s")
    try:
        if key == "accelerator":
            row: Any = cat.accelerator(name)
        elif key == "model":
            row = cat.model(name)
        elif key == "instance":
            row = cat.instance(provider, name)
        elif key == "server":
            row = cat.server(name)
        else:
            raise AdvisorError(
                f"Unknown catalog kind {kind!r}.",
                hint="use accelerator, instance, model or server.",
            )
    except AdvisorError as exc:
        _fail(exc)
    import yaml

    out.print(yaml.safe_dump(row.model_dump(mode="json"), sort_keys=False, allow_unicode=True))


@app.command("bench")
def bench(
    what: str = typer.Argument("tools", help="What to benchmark: tools."),
    runs: int = typer.Option(200, "--runs", min=5, help="Calls per measurement."),
) -> None:
    """Print timing figures (p50/p95) against the targets; not a pass/fail test."""
    from advisor.bench import bench_tools

    if what != "tools":
        _fail(AdvisorError(f"Unknown benchmark {what!r}.", hint="use: tools."))
    table = Table(title=f"advisor bench {what}")
    for col in ("measurement", "runs", "p50 ms", "p95 ms", "target ms", "meets target"):
        table.add_column(col)
    for t in bench_tools(runs):
        table.add_row(
            t.name,
            str(t.runs),
            f"{t.p50_ms:.3f}",
            f"{t.p95_ms:.3f}",
            "" if t.target_ms is None else f"< {t.target_ms:g}",
            "" if t.ok is None else ("yes" if t.ok else "NO"),
        )
    Console(width=max(out.width, 120)).print(table)


@app.command("version")
def version() -> None:
    """Print the version."""
    from advisor import __version__

    out.print(__version__)


def main() -> None:
    try:
        app()
    except AdvisorError as exc:  # pragma: no cover - commands catch their own
        err.print(f"error: {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
