"""The Gradio app: chat with cited sources and plots, calculators, catalog, settings.

``create_app(advisor)`` builds the Blocks; ``launch(...)`` runs it. Analytics are off and
nothing is fetched from the internet at run time.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
from functools import partial
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from advisor.ui import handlers as h  # noqa: E402

from advisor.core import Advisor  # noqa: E402
from advisor.errors import AdvisorError  # noqa: E402

DTYPES = ["bf16", "fp8", "int8", "int4", "q4_k_m", "fp16", "fp32"]
CONCURRENCY = 8
ALL_INTERFACES = ("0.0.0.0", "::", "")
log = logging.getLogger("advisor.serve")


def _chat_tab(advisor: Advisor) -> None:
    answers = gr.State([])
    with gr.Row():
        with gr.Column(scale=3):
            verdict = gr.Markdown(h.VERDICT_PLACEHOLDER, elem_id="verdict")
            chatbot = gr.Chatbot(
                label="Advisor",
                height=560,
                sanitize_html=True,
                render_markdown=True,
                elem_id="chatbot",
            )
            box = gr.Textbox(
                placeholder="Ask about sizing, cost, cloud vs on-prem, hardware…",
                show_label=False,
                # one line: Enter sends, Shift+Enter starts a new line (the box grows to 8)
                lines=1,
                max_lines=8,
                elem_id="question",
            )
            with gr.Row():
                send = gr.Button("Ask", variant="primary", elem_id="ask")
                clear = gr.Button("Clear conversation")
                export = gr.DownloadButton("Export as Markdown")
            gr.Examples(h.EXAMPLES, inputs=box, label="Examples (data, training, inference)")
        with gr.Column(scale=2):
            plot = gr.Plot(label="Plot", elem_id="plot")
            sources = gr.Markdown("_Sources of the latest answer appear here._", elem_id="sources")
    outputs = [chatbot, answers, plot, sources, box, verdict]
    respond = partial(h.respond, advisor)
    send.click(respond, [box, chatbot, answers], outputs, api_name="chat")
    box.submit(respond, [box, chatbot, answers], outputs, api_name=False)
    clear.click(
        lambda: (
            [],
            [],
            None,
            "_Sources of the latest answer appear here._",
            "",
            h.VERDICT_PLACEHOLDER,
        ),
        None,
        outputs,
        api_name="clear",
    )
    export.click(h.export_conversation, answers, export)


def _calculators_tab() -> None:
    with gr.Tab("Inference memory"):
        with gr.Row():
            model = gr.Textbox("llama 3.1 70b", label="Model (name or size, e.g. 70B)")
            dtype = gr.Dropdown(DTYPES, value="bf16", label="Weights")
            ctx = gr.Number(8192, label="Context tokens", precision=0)
            acc = gr.Textbox("h100", label="Accelerator")
            count = gr.Number(None, label="Accelerators (blank = minimum)", precision=0)
        go = gr.Button("Compute", variant="primary")
        md, fig, report = gr.Markdown(), gr.Plot(), gr.File(label="Report (.md)")
        go.click(h.calc_inference_memory, [model, dtype, ctx, acc, count], [md, fig, report])
    with gr.Tab("Training time and cost"):
        with gr.Row():
            model = gr.Textbox("llama 3.1 8b", label="Model")
            tokens = gr.Number(1e12, label="Training tokens")
            acc = gr.Textbox("h100", label="Accelerator")
            deadline = gr.Number(None, label="Deadline (days)")
            method = gr.Dropdown(["full", "lora", "qlora"], value="full", label="Method")
            gpus = gr.Number(8, label="GPUs for the memory check", precision=0)
        go = gr.Button("Compute", variant="primary")
        md, fig, report = gr.Markdown(), gr.Plot(), gr.File(label="Report (.md)")
        go.click(h.calc_training, [model, tokens, acc, deadline, method, gpus], [md, fig, report])
    with gr.Tab("Serving capacity"):
        with gr.Row():
            model = gr.Textbox("llama 3.1 8b", label="Model")
            acc = gr.Textbox("l4", label="Accelerator")
            dtype = gr.Dropdown(DTYPES, value="fp8", label="Weights")
            rps = gr.Number(20, label="Target requests/s")
            prompt = gr.Number(1000, label="Prompt tokens", precision=0)
            output = gr.Number(250, label="Output tokens", precision=0)
        go = gr.Button("Compute", variant="primary")
        md, fig, report = gr.Markdown(), gr.Plot(), gr.File(label="Report (.md)")
        go.click(h.calc_serving, [model, acc, dtype, rps, prompt, output], [md, fig, report])
    with gr.Tab("Cost per million tokens"):
        with gr.Row():
            provider = gr.Dropdown(h.providers(), value="aws", label="Provider")
            instance = gr.Textbox("p5.48xlarge", label="Instance")
            model = gr.Textbox("llama 3.1 70b", label="Model (if no measured tokens/s)")
            tps = gr.Number(None, label="Measured output tokens/s (optional)")
            util = gr.Slider(0.05, 1.0, value=0.6, step=0.05, label="Utilization")
        go = gr.Button("Compute", variant="primary")
        md, fig, report = gr.Markdown(), gr.Plot(), gr.File(label="Report (.md)")
        go.click(h.calc_cost_per_m, [provider, instance, model, tps, util], [md, fig, report])
    with gr.Tab("On-prem TCO"):
        with gr.Row():
            server = gr.Textbox("hgx h100", label="Server")
            servers = gr.Number(4, label="Servers", precision=0)
            util = gr.Slider(0.05, 1.0, value=0.7, step=0.05, label="Utilization")
            years = gr.Number(4, label="Years")
            region = gr.Textbox("us", label="Electricity region")
            provider = gr.Dropdown(h.providers(), value="aws", label="Cloud")
            instance = gr.Textbox("p5.48xlarge", label="Cloud instance")
        go = gr.Button("Compute", variant="primary")
        md, fig, report = gr.Markdown(), gr.Plot(), gr.File(label="Report (.md)")
        go.click(
            h.calc_tco,
            [server, servers, util, years, region, provider, instance],
            [md, fig, report],
        )


def _catalog_tab() -> None:
    for kind in ("accelerators", "instances", "models"):
        with gr.Tab(kind.capitalize()):
            text = gr.Textbox(label="Filter", placeholder="e.g. h100, azure, sydney, moe")
            table = gr.Dataframe(h.catalog_table(kind), interactive=False, wrap=True)
            text.change(partial(h.catalog_table, kind), text, table)


def create_app(advisor: Advisor) -> gr.Blocks:
    # Gradio copies every file it serves into its cache: files older than a day are deleted,
    # checked hourly (and the cache is cleared when the server stops)
    with gr.Blocks(
        title="AI Infra Advisor", analytics_enabled=False, delete_cache=(3600, 86400)
    ) as app:
        gr.Markdown(
            "# AI Infra Advisor\nWhere and on what to run AI workloads. Numbers come "
            "from calculators over dated catalogs; guidance from cited guides."
        )
        with gr.Tab("Chat"):
            _chat_tab(advisor)
        with gr.Tab("Calculators"):
            _calculators_tab()
        with gr.Tab("Catalog"):
            _catalog_tab()
        with gr.Tab("Settings"):
            gr.Markdown(h.settings_markdown(advisor))
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=256)
    return app


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise AdvisorError(
            "Credentials must look like user:password.",
            hint="set ADVISOR_AUTH=user:password or --auth user:password.",
        )
    return user, password


def is_loopback(host: str) -> bool:
    """True when ``host`` is only reachable from this machine (127.0.0.0/8, ::1, a name
    that resolves to those alone); 0.0.0.0, :: and every other address are not."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return False  # Gradio will fail to bind it anyway; say so rather than stay silent
    return bool(found) and all(
        ipaddress.ip_address(str(addr).split("%")[0]).is_loopback for addr in found
    )


def exposure_warning(host: str, auth: str | None, share: bool = False) -> str | None:
    """What is wrong with serving on ``host`` without credentials, or None when nothing is."""
    if auth:
        return None
    fix = "Set --auth user:password (or ADVISOR_AUTH)"
    if share:
        return (
            "--share link publishes the web app on a public gradio.live address with no "
            f"login: anyone with the link can use it. {fix}."
        )
    if is_loopback(host):
        return None
    where = "every network interface" if host.strip() in ALL_INTERFACES else "a network address"
    return (
        f"The web app listens on {host or '0.0.0.0'} ({where}) with no login: anyone who can "
        f"reach this machine on that port can use it. {fix}, or bind to 127.0.0.1 (the "
        "default) behind a proxy that authenticates."
    )


def warn_if_exposed(host: str, auth: str | None, share: bool = False) -> str | None:
    """Log the exposure warning (logger ``advisor.serve``) and print it, loud, on stderr."""
    text = exposure_warning(host, auth, share)
    if text:
        log.warning(text)
        bar = "!" * 78
        sys.stderr.write(f"\n{bar}\nWARNING: {text}\n{bar}\n\n")
        sys.stderr.flush()
    return text


def launch(
    advisor: Advisor,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: str | None = None,
    share: bool = False,
    **kwargs: Any,
) -> None:
    warn_if_exposed(host, auth, share)
    app = create_app(advisor)
    app.launch(**launch_options(advisor, host=host, port=port, auth=auth, share=share), **kwargs)


def launch_options(
    advisor: Advisor, *, host: str, port: int, auth: str | None, share: bool
) -> dict[str, Any]:
    """The arguments of ``Blocks.launch``. Gradio keeps every session's state (a copy of the
    page's component config, the conversation's answers and history) until 10,000 sessions
    exist: measured 0.39 MB per session, so RSS grew without levelling off as new browsers
    came (issue 10); ``ADVISOR_MAX_SESSIONS`` keeps the most recently used ones."""
    return {
        "server_name": host,
        "server_port": port,
        "auth": parse_auth(auth),
        "share": share,
        "show_error": True,
        "quiet": True,
        "theme": offline_theme(),
        "state_session_capacity": advisor.settings.max_sessions,
    }


def offline_theme() -> gr.themes.Base:
    """The default theme with system fonts: the stock one loads Google Fonts at run time."""
    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "monospace"],
    )
