"""Shared fixtures: an isolated store folder for every test, and the real model once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from codesearch.config import SERVER_SETTINGS
from codesearch.embedding.remote import API_KEY_ENV
from codesearch.locations import CACHE_DIR_ENV, MODELS_DIR_ENV

REMOTE_ENV = [API_KEY_ENV, *(s.env for s in SERVER_SETTINGS if s.env)]

FIXTURES = Path(__file__).parent / "fixtures"

# Never write to the user's real cache folder from a test, nor reach the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One int8 export for the whole run (servers started by tests inherit it): every test's
    store is fresh, but exporting the model again for each would only cost time."""
    preset = os.environ.get(MODELS_DIR_ENV)
    folder = Path(preset) if preset else tmp_path_factory.mktemp("models")
    os.environ[MODELS_DIR_ENV] = str(folder)
    yield folder
    if preset is None:
        os.environ.pop(MODELS_DIR_ENV, None)


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    cache = tmp_path_factory.mktemp("store")
    monkeypatch.setenv(CACHE_DIR_ENV, str(cache))
    # a developer's own endpoint or team cache must not turn every test into a remote one
    for name in REMOTE_ENV:
        monkeypatch.delenv(name, raising=False)
    return cache


@pytest.fixture(scope="session")
def model():  # type: ignore[no-untyped-def]
    """The real default model (all-MiniLM-L6-v2 from the packaged weights), loaded once."""
    from codesearch.embedding.registry import load_encoder

    return load_encoder(backend="torch")


@pytest.fixture(scope="session")
def shipped_model():  # type: ignore[no-untyped-def]
    """The model as shipped: the packaged weights on the default backend (int8), loaded once."""
    from codesearch.config import DEFAULT_BACKEND
    from codesearch.embedding.registry import load_encoder

    return load_encoder(backend=DEFAULT_BACKEND)


@pytest.fixture
def workspace_copy(tmp_path: Path) -> Iterator[Path]:
    """A private copy of the multi-language fixture workspace, free to edit."""
    target = tmp_path / "ws"
    shutil.copytree(FIXTURES / "workspace", target)
    yield target
