"""The ``advisor`` command line.

``advisor calc <tool> [options] [--json]`` runs any calculator; its options are generated
from the tool function's signature, so the CLI never restates a tool's parameters.
``advisor catalog list|show`` browses the catalogs, ``advisor catalog check`` reports their
age and ``advisor catalog import`` brings instance prices up to date from a public price feed.
User mistakes print one line.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table
from typer.core import TyperGroup

from advisor.errors import AdvisorError, UnknownNameError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _cli_text(exc: AdvisorError) -> str:
    """The error as the CLI prints it: hints that name CLI commands are added here.

    The calculators raise with neutral hints (they are called from the API and the UI too);
    only the CLI knows that ``advisor catalog list`` shows what is catalogued.
    """
    listed = {"accelerator", "instance", "model", "server"}  # what `catalog list` shows
    if isinstance(exc, UnknownNameError) and not exc.suggestions and exc.kind in listed:
        return f"{exc.message} Run `advisor catalog list {exc.kind}s` to see what is catalogued."
    return str(exc)


class _UserErrors(TyperGroup):
    """The root command: a user mistake raised anywhere below it is converted here, once.

    It prints one ``error: ...`` line (with the CLI's hint) on stderr and exits 2; any other
    exception is a bug and keeps its traceback.
    """

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click Context
        try:
            return super().invoke(ctx)
        except AdvisorError as exc:
            err.print(f"[red]error:[/red] {_cli_text(exc)}", markup=True, highlight=False)
            raise typer.Exit(code=2) from None


app = typer.Typer(
    cls=_UserErrors,
    name="advisor",
    help="AI Infra Advisor: size, price and place AI workloads (cloud or on-prem).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
calc_app = typer.Typer(
    help="Run a calculator. `advisor calc TOOL --help` lists its options.", no_args_is_help=True
)
catalog_app = typer.Typer(help="Browse and check the catalogs.", no_args_is_help=True)
app.add_typer(calc_app, name="calc")
app.add_typer(catalog_app, name="catalog")


def _tool_command(name: str, func: Callable[..., Any]) -> None:
    from advisor.toolcalling import tool_parameters

    params = []
    for p in tool_parameters(func):
        ann = p.annotation
        if typing.get_origin(ann) is list:
            ann = typing.Optional[ann]  # noqa: UP045 - typer needs the None default spelled out
        if p.default is inspect.Parameter.empty:
            default: Any = typer.Argument(..., help=p.name)
        else:
            flag = "--" + p.name.replace("_", "-")
            if ann is bool:
                default = typer.Option(p.default, f"{flag}/--no-{flag[2:]}")
            else:
                default = typer.Option(p.default, flag)
        params.append(p.replace(default=default, annotation=ann))
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
        result = func(**kwargs)
        if as_json:
            out.print_json(result.model_dump_json())
        else:
            out.print(Markdown(result.to_markdown()))

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = inspect.getdoc(func)
    calc_app.command(name=name.replace("_", "-"))(command)


def _register_tools() -> None:
    from advisor.tools.registry import CALCULATORS

    for name, calc in CALCULATORS.items():
        if calc.generic_cli:
            _tool_command(name, calc.func)


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
    result = decide(**answers)
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
    rows = _rows(kind)
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
        if key == "instances" and r.prices:
            data["on_demand"] = r.prices[0].on_demand_usd_per_hour
            data["region"] = r.prices[0].region
        elif key == "instances":
            data["region"] = f"retired {r.retired_on}" if r.is_retired else "not priced"
        table.add_row(*["" if data.get(c) is None else str(data.get(c)) for c in cols])
    wide = Console(soft_wrap=True, width=max(out.width, 180))
    wide.print(table)


@catalog_app.command("show")
def catalog_show(
    kind: str = typer.Argument(..., help="accelerator | instance | model | server"),
    name: str = typer.Argument(..., help="What people type: 'h100', 'p5', 'llama 3 70b'."),
    provider: str = typer.Option(
        None, "--provider", help="Instance provider (aws, gcp, lambda...)."
    ),
) -> None:
    """Show one catalog row in full, with its sources."""
    from advisor.tools import load_catalog

    cat = load_catalog()
    key = kind.rstrip("s")
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
    import yaml

    out.print(yaml.safe_dump(row.model_dump(mode="json"), sort_keys=False, allow_unicode=True))


@catalog_app.command("check")
def catalog_check(
    max_age_days: int = typer.Option(
        365, "--max-age-days", min=0, help="A price row older than this many days is stale."
    ),
    directory: Path = typer.Option(
        None, "--catalog-dir", help="Another catalog folder (default: the shipped catalogs)."
    ),
    today: str = typer.Option(
        None, "--today", help="Date to measure ages from, YYYY-MM-DD (default: today)."
    ),
    show_all: bool = typer.Option(False, "--all", help="List every row's age, oldest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Report, per catalog file, stale price rows, rows without sources and announced parts.

    Price rows: instances (oldest regional price), on-prem and storage rows.

    Spec rows (accelerators, models) are listed by --all but are never stale.

    Exit codes: 0 clean; 1 stale price rows or rows without sources; 2 a broken catalog file.
    """
    import datetime as dt

    from advisor.tools.freshness import check_catalog

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise AdvisorError(f"--today {today!r} is not a date.", hint="use YYYY-MM-DD.") from None
    report = check_catalog(directory, max_age_days=max_age_days, today=day)
    if as_json:
        out.print_json(json.dumps(report.to_dict(), default=str))
    else:
        _print_check(report, show_all)
    raise typer.Exit(code=0 if report.clean else 1)


@catalog_app.command("import")
def catalog_import(
    source: str = typer.Argument(..., help="skypilot | aws | azure | gcp"),
    locations: list[str] = typer.Argument(
        ..., help="The feed: a file or URL (Azure: one or more pages)."
    ),
    write: bool = typer.Option(
        False, "--write", help="Write the updated YAML (default: print the diff only)."
    ),
    region: list[str] = typer.Option(
        None, "--region", help="Only this catalogued region (repeat for more)."
    ),
    provider: str = typer.Option(
        None, "--provider", help="SkyPilot: the cloud the CSV is for (default: its folder)."
    ),
    as_of: str = typer.Option(
        None, "--as-of", help="Date of the feed, YYYY-MM-DD (default: its own date, else today)."
    ),
    prune: bool = typer.Option(
        False, "--prune", help="With --write, delete catalogued prices the feed does not list."
    ),
    directory: Path = typer.Option(
        None, "--catalog-dir", help="Another catalog folder (default: the shipped catalogs)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the whole diff as JSON."),
) -> None:
    """Import instance prices from a public price feed: print the diff; --write applies it.

    Feeds: SkyPilot catalog CSVs (vms.csv), the AWS Price List EC2 offer file, Azure Retail
    Prices API pages, GCP Cloud Billing Catalog SKUs. A malformed feed is an error naming
    its file and line, and nothing is written.
    """
    import datetime as dt

    from advisor.tools.priceimport import import_prices

    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise AdvisorError(f"--as-of {as_of!r} is not a date.", hint="use YYYY-MM-DD.") from None
    plan = import_prices(
        source,
        locations,
        catalog_dir=directory,
        provider=provider,
        regions=region or None,
        as_of=day,
        write=write,
        prune=prune,
    )
    if as_json:
        out.print_json(json.dumps(plan.to_dict(), default=str))
    else:
        out.print(plan.to_text(), highlight=False, markup=False)


def _print_check(report: Any, show_all: bool) -> None:
    out.print(
        f"Catalog check of {report.directory} on {report.today}: price rows older than "
        f"{report.max_age_days} days are stale.",
        highlight=False,
    )
    for f in report.files:
        stale = f.stale(report.max_age_days)
        oldest = min((r.as_of for r in f.rows), default=None)
        out.print(
            f"{f.file}: {len(f.rows)} rows, oldest {oldest}, {len(stale)} stale, "
            f"{len(f.missing_sources)} without sources, {len(f.announced)} announced",
            highlight=False,
        )
        rows = sorted(f.rows, key=lambda r: r.as_of) if show_all else stale
        for r in rows:
            mark = "STALE " if r in stale else ""
            out.print(
                f"  {mark}{r.section}/{r.row}: as of {r.as_of} ({r.age_days} days)",
                highlight=False,
            )
        for m in f.missing_sources:
            out.print(f"  NO SOURCES {m}", highlight=False)
        for a in f.announced:
            out.print(f"  announced, not shipping: {a}", highlight=False)
    verdict = "clean" if report.clean else f"{len(report.stale)} stale price rows"
    if report.missing_sources:
        verdict += f", {len(report.missing_sources)} rows without sources"
    out.print(f"Result: {verdict}.", highlight=False)


@app.command("bench")
def bench(
    what: str = typer.Argument(
        "tools",
        help="What to benchmark: tools (with cold starts) | cold | retrieval | answers | load.",
    ),
    runs: int = typer.Option(200, "--runs", min=5, help="Calls per measurement."),
    backend: str = typer.Option(
        None, "--backend", help="answers: local | openai | none; load: none unless given"
    ),
    duration: float = typer.Option(120.0, "--duration", min=1, help="load: seconds per run."),
    clients: int = typer.Option(20, "--clients", min=1, max=500, help="load: concurrent users."),
    target: str = typer.Option("both", "--target", help="load: app | api | both."),
) -> None:
    """Print timing figures (p50/p95) against the targets; not a pass/fail test."""
    from advisor.bench import GUIDANCE_QUESTION, bench_cold, bench_retrieval, bench_tools

    load_at_start = os.getloadavg() if hasattr(os, "getloadavg") else ()
    if what not in ("tools", "cold", "retrieval", "answers", "load"):
        raise AdvisorError(
            f"Unknown benchmark {what!r}.", hint="use: tools, cold, retrieval, answers, load."
        )
    if backend and backend not in ("local", "openai", "none"):
        raise AdvisorError(f"Unknown backend {backend!r}.", hint="use local, openai or none.")
    if what == "load":
        if target not in ("app", "api", "both"):
            raise AdvisorError(f"Unknown load target {target!r}.", hint="use app, api or both.")
        _bench_load(backend or "none", duration, clients, target)
        return
    table = Table(title=f"advisor bench {what}")
    for col in ("measurement", "runs", "p50 ms", "p95 ms", "target ms", "meets target"):
        table.add_column(col)
    timings = []
    if what == "retrieval":
        timings, facts = bench_retrieval(min(runs, 100))
        parts = ", ".join(
            f"{k.removeprefix('build ').removesuffix(' s')} {v:.1f} s"
            for k, v in facts.items()
            if k.startswith("build ")
        )
        missing = int(facts["chunks_embedded"])
        out.print(
            f"full index build {facts['index_build_s']:.1f} s "
            f"({facts['index_build_cpu_s']:.1f} CPU s) for {facts['chunks']:.0f} chunks, "
            f"{missing} embedded, the rest from the shipped vectors (target < 10 s; {parts}); "
            f"unchanged re-index {facts['noop_reindex_s']:.2f} s; first query of a new "
            f"knowledge base (read cache, NumPy encoder) {facts['first_query_s']:.2f} s; "
            f"peak RSS {facts['peak_rss_mb']:.0f} MB (target < 1,536 MB)"
        )
        if "scratch_build_s" in facts:
            out.print(
                f"without shipped vectors: torch model load {facts['model_load_s']:.1f} s, "
                f"then a full build {facts['scratch_build_s']:.1f} s (embedding "
                f"{facts['scratch_embed_s']:.1f} s); peak RSS {facts['scratch_rss_mb']:.0f} MB"
            )
        if missing:
            err.print(
                f"[yellow]warning:[/yellow] {missing} chunks of the guides have no shipped "
                "vector, so every full build embeds them: run `python -m advisor.shipped` "
                "and commit knowledge/vectors/."
            )
    elif what == "answers":
        from advisor.bench import bench_answers

        timings, facts = bench_answers(backend or "local")
        out.print(
            f"cold `advisor ask {GUIDANCE_QUESTION!r} --backend {backend or 'local'}` (new "
            f"process, index present, p50 of 3): {facts['cold_ask_s']:.1f} s (range "
            f"{facts['cold_ask_min_s']:.1f}-{facts['cold_ask_max_s']:.1f} s; target < 15 s); "
            f"peak RSS of this process {facts['peak_rss_mb']:.0f} MB (target < 2,560 MB)"
        )
    elif what == "tools":
        timings = bench_tools(runs)
    if timings:
        for t in timings:
            table.add_row(
                t.name,
                str(t.runs),
                f"{t.p50_ms:.3f}",
                f"{t.p95_ms:.3f}",
                "" if t.target_ms is None else f"< {t.target_ms:g}",
                "" if t.ok is None else ("yes" if t.ok else "NO"),
            )
        Console(width=max(out.width, 120)).print(table)
    if what in ("tools", "cold"):
        _print_cold(bench_cold(runs=3))
    _print_load(load_at_start)


def _print_load(at_start: tuple[float, ...]) -> None:
    """Other processes on the same cores slow llama.cpp most: say how busy the machine was."""
    if at_start:
        now = os.getloadavg()
        out.print(
            f"load average (1 min) {at_start[0]:.1f} at the start, {now[0]:.1f} at the end, "
            f"on {os.cpu_count()} cores",
            highlight=False,
        )


def _bench_load(backend: str, duration: float, clients: int, target: str = "both") -> None:
    """The app in its own process (``advisor serve``) under gradio_client sessions, then the
    Python API from threads; both on the index in ADVISOR_DATA_DIR."""
    from advisor.load import api_load, app_load, running_app

    reports = []
    if target in ("app", "both"):
        err.print(f"Web app: {clients} chat sessions for {duration:g} s (backend {backend})…")
        try:
            with running_app(["--backend", backend]) as server:
                reports.append(app_load(server.url, server.proc.pid, clients, duration))
        except RuntimeError as exc:
            raise AdvisorError(str(exc), hint="run `advisor serve` by hand to see why.") from exc
    if target in ("api", "both"):
        err.print(f"Python API: {clients} threads for {duration:g} s…")
        reports.append(api_load(_advisor(backend), clients, duration))
    table = Table(title=f"advisor bench load: {clients} clients, {duration:g} s, backend {backend}")
    for col in (
        "target",
        "requests",
        "failed",
        "p50 s",
        "p95 s",
        "answers/s",
        "RSS start MB",
        "RSS end MB",
        "peak RSS MB",
    ):
        table.add_column(col)
    for r in reports:
        table.add_row(
            r.target,
            str(r.requests),
            str(r.failures),
            f"{r.p50_s:.2f}",
            f"{r.p95_s:.2f}",
            f"{r.per_s:.1f}",
            f"{r.rss_start_mb:.0f}",
            f"{r.rss_end_mb:.0f}",
            f"{r.peak_rss_mb:.0f}",
        )
    Console(width=max(out.width, 140)).print(table)
    out.print(
        "RSS: the server process (web app) or this process (API); start = after start-up and "
        "one warm-up answer."
    )
    for r in reports:
        timeline = ", ".join(f"{t:.0f} s {mb:.0f}" for t, mb in r.rss_timeline())
        out.print(f"RSS over time ({r.target}), MB: {timeline}", highlight=False)
    for r in reports:
        for message in r.failure_messages:
            err.print(f"[yellow]failed ({r.target}):[/yellow] {message}", highlight=False)
    if any(r.failures for r in reports):
        raise typer.Exit(code=1)


def _print_cold(rows: list[Any]) -> None:
    table = Table(title="cold start: a new `advisor` process (index present, files cached)")
    for col in ("command", "runs", "wall s (p50)", "peak RSS MB", "target", "meets target"):
        table.add_column(col)
    for r in rows:
        target = " and ".join(
            t
            for t in (
                f"<= {r.target_s:g} s" if r.target_s is not None else "",
                f"<= {r.target_rss_mb:g} MB" if r.target_rss_mb is not None else "",
            )
            if t
        )
        ok = "" if r.ok is None else ("yes" if r.ok else "NO")
        if not r.ok_exit:
            ok = "FAILED (exit status)"
        table.add_row(r.name, str(r.runs), f"{r.wall_s:.2f}", f"{r.peak_rss_mb:.0f}", target, ok)
    Console(width=max(out.width, 120)).print(table)
    out.print(cold_start_conditions(), highlight=False)


def cold_start_conditions() -> str:
    """What the cold-start figures depend on besides the code: bytecode and catalog caches."""
    from advisor.tools.catalog import yaml_cache_dir

    bytecode = (
        "off (PYTHONDONTWRITEBYTECODE is set: modules edited since their .pyc are recompiled "
        "at every start)"
        if os.environ.get("PYTHONDONTWRITEBYTECODE")
        else "on"
    )
    folder = yaml_cache_dir()
    catalog = "off (ADVISOR_CACHE_DIR=off)" if folder is None else f"on ({folder})"
    return f"bytecode cache {bytecode}; parsed-catalog cache {catalog}"


index_app = typer.Typer(
    help="Build the knowledge-base index, or add your own documents.", invoke_without_command=True
)
app.add_typer(index_app, name="index")
eval_app = typer.Typer(help="Run offline evaluations.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


def _knowledge_base() -> Any:
    from advisor.config import Settings
    from advisor.kb import KnowledgeBase

    return KnowledgeBase.from_settings(Settings())


def _progress_bar(label: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn(f"[bold]{label}[/bold] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=False,
    )


@index_app.callback()
def index(
    ctx: typer.Context,
    rebuild: bool = typer.Option(False, "--rebuild", help="Drop the guides index first."),
) -> None:
    """Index the curated guides (incremental: unchanged guides are skipped)."""
    if ctx.invoked_subcommand is not None:
        return
    kb = _knowledge_base()
    with _progress_bar("Indexing") as bar:
        task = bar.add_task("", total=len(kb.guides()))

        def tick(label: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=label)

        report = kb.build(rebuild=rebuild, progress=tick)
    s = report.sync
    out.print(
        f"{report.guides} guides, {report.chunks} chunks in the index: {len(s.added)} added, "
        f"{len(s.replaced)} changed, {len(s.repaired)} repaired, {len(s.removed)} removed, "
        f"{s.unchanged} unchanged."
    )
    for problem in report.guide_errors:
        err.print(f"[yellow]skipped:[/yellow] {problem}", highlight=False)


@index_app.command("add")
def index_add(
    paths: list[Path] = typer.Argument(..., help="Files or folders (md, txt, html, pdf)."),
) -> None:
    """Add your own documents to a separate collection (cited as user-supplied)."""
    kb = _knowledge_base()
    with _progress_bar("Adding") as bar:
        task = bar.add_task("", total=None)

        def tick(label: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=label)

        report = kb.add_documents(list(paths), progress=tick)
    out.print(f"{len(report.added)} document(s), {report.chunks} chunks added.")
    for problem in report.errors:
        err.print(f"[yellow]skipped:[/yellow] {problem}", highlight=False)
    if report.errors and not report.added:
        raise typer.Exit(code=2)


@app.command("search")
def search(
    query: str = typer.Argument(..., help="A question or keywords."),
    k: int = typer.Option(5, "--k", min=1, max=50),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid | bm25 | dense"),
    stage: list[str] = typer.Option(None, "--stage", help="Filter: data, training, inference."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search the knowledge base and show passages with their scores."""
    if mode not in ("hybrid", "bm25", "dense"):
        raise AdvisorError(f"Unknown mode {mode!r}.", hint="use hybrid, bm25 or dense.")
    kb = _knowledge_base()
    res = kb.search(query, k, mode=mode, stages=stage or None)
    if as_json:
        from dataclasses import asdict

        out.print_json(json.dumps(asdict(res)))
        return
    state = "covered" if res.covered else "NOT covered by the knowledge base"
    out.print(f"confidence {res.confidence:.2f} ({state})")
    for w in res.warnings:
        err.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    for n, p in enumerate(res.passages, start=1):
        tag = " [user document]" if p.user_supplied else ""
        out.print(
            f"\n[{n}] {p.title} > {p.section}{tag}  (score {p.score:.4f}, "
            f"bm25 {p.bm25 or 0:.2f}, dense {p.dense or 0:.2f})",
            highlight=False,
            markup=False,
        )
        body = p.text.split("\n", 1)[-1]
        out.print(body[:400] + ("..." if len(body) > 400 else ""), highlight=False, markup=False)


@eval_app.command("all")
def eval_all(
    out_dir: Path = typer.Option(Path("artifacts/eval"), "--out", help="Report folder."),
    backend: str = typer.Option(
        "none,local", "--backend", help="Comma-separated backends to compare: none, local, openai."
    ),
) -> None:
    """Tools, retrieval, citations and answers (with baselines); exits 1 if a threshold misses."""
    _run_evals("all", backend, out_dir)


@eval_app.command("tools")
def eval_tools(
    out_dir: Path = typer.Option(Path("artifacts/eval"), "--out", help="Report folder."),
) -> None:
    """Numeric accuracy against published figures, directly and through Advisor.ask."""
    _run_evals("tools", "none", out_dir)


@eval_app.command("answers")
def eval_answers(
    out_dir: Path = typer.Option(Path("artifacts/eval"), "--out", help="Report folder."),
    backend: str = typer.Option("none", "--backend", help="Comma-separated backends."),
) -> None:
    """End-to-end answers: key facts, citations, numbers, declines, injections, latency."""
    _run_evals("answers", backend, out_dir)


@eval_app.command("real")
def eval_real(
    out_dir: Path = typer.Option(Path("artifacts/eval"), "--out", help="Report folder."),
    backend: str = typer.Option("none", "--backend", help="Comma-separated backends."),
) -> None:
    """Questions people asked in public: dev and held-out pass rates (also part of answers)."""
    _run_evals("real", backend, out_dir)


def _run_evals(which: str, backend: str, out_dir: Path) -> None:
    from advisor.config import Settings
    from advisor.evals.run import run_evals

    backends = [b.strip() for b in backend.split(",") if b.strip()]
    bad = [b for b in backends if b not in ("none", "local", "openai")]
    if bad or not backends:
        raise AdvisorError(f"Unknown backend(s) {bad}.", hint="use none, local or openai.")
    with _progress_bar("Evaluating") as bar:
        task = bar.add_task("", total=None)
        text, ok = run_evals(
            which,
            backends,
            out_dir,
            Settings(),
            progress=lambda label, d, t: bar.update(task, completed=d, total=t, description=label),
        )
    out.print(Markdown(text.split("### Failures")[0].split("## Misclassified")[0]))
    out.print(
        f"Report: {out_dir / 'report.md'}, {out_dir / 'report.json'}, {out_dir / 'scores.png'}"
    )
    if not ok:
        raise typer.Exit(code=1)


@eval_app.command("retrieval")
def eval_retrieval(
    out_dir: Path = typer.Option(Path("artifacts/eval"), "--out", help="Report folder."),
    cases: Path = typer.Option(None, "--cases", help="Another retrieval YAML file."),
) -> None:
    """Hybrid vs BM25-only vs dense-only: hit/recall@1,3,5, MRR, nDCG@5; writes a report."""
    from advisor.evals.retrieval import load_set, run_retrieval_eval, write_report
    from advisor.retrieve import COVERAGE_THRESHOLD

    kb = _knowledge_base()
    kb.ensure_index()
    data = load_set(cases)
    with _progress_bar("Evaluating") as bar:
        task = bar.add_task("", total=None)
        report = run_retrieval_eval(
            kb.retriever.search,
            data,
            threshold=COVERAGE_THRESHOLD,
            progress=lambda d, t: bar.update(task, completed=d, total=t),
        )
    md, js = write_report(report, out_dir)
    out.print(Markdown(report.to_markdown().split("## Failures")[0]))
    out.print(f"Report: {md} and {js}")


def _advisor(backend: str | None) -> Any:
    from advisor.config import Settings
    from advisor.core import Advisor

    overrides = {"llm_backend": backend} if backend else {}
    return Advisor.from_settings(Settings(**overrides))


@app.command("ask")
def ask(
    question: str = typer.Argument(..., help="Your question, in plain English."),
    backend: str = typer.Option(None, "--backend", help="local | openai | none"),
    as_json: bool = typer.Option(False, "--json", help="Print the full Answer as JSON."),
) -> None:
    """Ask one question; numbers come from the calculators, guidance from cited guides."""
    if backend and backend not in ("local", "openai", "none"):
        raise AdvisorError(f"Unknown backend {backend!r}.", hint="use local, openai or none.")
    advisor = _advisor(backend)
    if as_json:
        answer = advisor.ask(question)
        out.print_json(answer.model_dump_json())
        return
    final = None
    for item in advisor.stream(question):
        if isinstance(item, str):
            sys.stdout.write(item)
            sys.stdout.flush()
        else:
            final = item
    sys.stdout.write("\n")
    for w in final.warnings if final else []:
        err.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


@app.command("chat")
def chat(
    backend: str = typer.Option(None, "--backend", help="local | openai | none"),
) -> None:
    """A conversation in the terminal; follow-ups inherit the earlier questions' details."""
    advisor = _advisor(backend)
    history: list[Any] = []
    out.print("AI Infra Advisor. Ask a question; an empty line or Ctrl-D quits.")
    while True:
        try:
            question = input("\n> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question or question in ("exit", "quit"):
            break
        try:
            final = None
            for item in advisor.stream(question, history):
                if isinstance(item, str):
                    sys.stdout.write(item)
                    sys.stdout.flush()
                else:
                    final = item
            if final is not None:
                history.append(final)
        except AdvisorError as exc:  # one question's mistake does not end the conversation
            err.print(f"[red]error:[/red] {_cli_text(exc)}", highlight=False)


@eval_app.command("citations")
def eval_citations(
    out_dir: Path = typer.Option(Path("artifacts/eval"), "--out", help="Report folder."),
    threshold: float = typer.Option(None, "--threshold", help="Override the threshold."),
) -> None:
    """Verifier precision/recall on the labelled (sentence, passage) set; suggests a threshold."""
    from advisor.config import Settings
    from advisor.embeddings import SentenceTransformerEmbedder
    from advisor.evals.citations import load_citation_set, run_citation_eval
    from advisor.verify import Verifier

    settings = Settings()
    embedder = SentenceTransformerEmbedder(settings.embedding_model, device=settings.device)
    verifier = Verifier(
        embedder, threshold if threshold is not None else settings.support_threshold
    )
    report = run_citation_eval(verifier, load_citation_set())
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "citations_report.md").write_text(report.to_markdown(), encoding="utf-8")
    (out_dir / "citations_report.json").write_text(report.to_json(), encoding="utf-8")
    out.print(Markdown(report.to_markdown().split("## Misclassified")[0]))
    out.print(f"Report: {out_dir / 'citations_report.md'}")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (127.0.0.1 = local)."),
    port: int = typer.Option(7860, "--port", min=1, max=65535),
    auth: str = typer.Option(None, "--auth", help="user:password (or ADVISOR_AUTH)."),
    share: str = typer.Option("never", "--share", help="never | link (a public Gradio link)."),
    backend: str = typer.Option(None, "--backend", help="local | openai | none"),
) -> None:
    """Start the web app (chat, calculators, catalog) on embedded defaults."""
    if share not in ("never", "link"):
        raise AdvisorError(f"Unknown --share value {share!r}.", hint="use never or link.")
    advisor = _advisor(backend)
    if advisor.kb.store.count() == 0:
        with _progress_bar("Building the index") as bar:
            task = bar.add_task("", total=None)
            advisor.kb.ensure_index(
                progress=lambda label, d, t: bar.update(
                    task, completed=d, total=t, description=label
                )
            )
    else:
        report = advisor.kb.build()  # incremental: guides changed by an upgrade
        if report.sync.changed:
            n = len(report.sync.added) + len(report.sync.replaced)
            err.print(f"Index updated: {n} new or changed guide(s) indexed.")
    if advisor.llm is not None and hasattr(advisor.llm, "start_loading"):
        # loaded once per process, in the background: the server answers verdicts at once,
        # and the first answer that needs the model waits for the load to finish
        err.print("Loading the language model in the background…")
        advisor.llm.start_loading()
    from advisor.ui.app import launch, parse_auth

    credentials = auth or advisor.settings.auth
    parse_auth(credentials)
    out.print(f"AI Infra Advisor on http://{host}:{port} (Ctrl-C stops it)")
    launch(advisor, host=host, port=port, auth=credentials, share=share == "link")


@app.command("version")
def version() -> None:
    """Print the version."""
    from advisor import __version__

    out.print(__version__)


def main() -> None:
    app()  # user mistakes are converted once, by the root command (_UserErrors)


if __name__ == "__main__":
    main()
