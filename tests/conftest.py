"""Shared fixtures. Unit tests never call a real language model or the network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ["ADVISOR_LLM_BACKEND"] = os.environ.get("ADVISOR_TEST_LLM_BACKEND", "none")


@pytest.fixture(autouse=True)
def _block_real_model_calls(request, monkeypatch):
    """Unit tests never load a real language model; tests marked `llm` may."""
    if request.node.get_closest_marker("llm"):
        return
    from advisor import llm

    def blocked(*args, **kwargs):
        raise RuntimeError("real model calls are blocked in unit tests (mark the test 'llm')")

    monkeypatch.setattr(llm.LocalLlamaCpp, "_model", blocked)
    monkeypatch.setattr(llm.OpenAICompatible, "chat_model", blocked)


@pytest.fixture(scope="session")
def real_kb(tmp_path_factory):
    """The real guides indexed once with the real embedding model, in a temp dir."""
    from advisor.config import Settings
    from advisor.kb import KnowledgeBase

    kb = KnowledgeBase.from_settings(Settings(data_dir=tmp_path_factory.mktemp("real-kb")))
    kb.build()
    return kb


@pytest.fixture(scope="session")
def app_server(real_kb):
    """`advisor serve` in its own process on the real index: backend none, default host."""
    from advisor.load import running_app

    env = {"ADVISOR_DATA_DIR": str(real_kb.settings.data_dir), "ADVISOR_LLM_BACKEND": "none"}
    with running_app(env=env) as app:
        yield app


@pytest.fixture
def app_url(app_server) -> str:
    return app_server.url


@pytest.fixture(scope="session")
def catalog():
    from advisor.tools import load_catalog

    return load_catalog()


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped catalogs, for tests that break a row."""
    from advisor.tools.catalog import default_catalog_dir

    dest = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), dest)
    return dest
