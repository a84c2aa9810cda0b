"""Shared fixtures. Unit tests never call a real language model or the network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


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
