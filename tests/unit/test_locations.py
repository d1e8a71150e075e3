"""Where the caches live: stores and models outside the workspace, moved by the variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesearch.locations import (
    CACHE_DIR_ENV,
    MODELS_DIR_ENV,
    models_dir,
    user_cache_dir,
    workspace_store_dir,
)


def test_models_dir_variable_wins_over_the_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "stores"))
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "models"))
    assert models_dir() == tmp_path / "models"
    monkeypatch.delenv(MODELS_DIR_ENV)
    assert models_dir() == tmp_path / "stores" / "models"
    monkeypatch.delenv(CACHE_DIR_ENV)
    assert models_dir() == user_cache_dir() / "models"


def test_each_root_gets_its_own_store_outside_the_workspace(tmp_path: Path) -> None:
    base = tmp_path / "stores"
    first = workspace_store_dir(tmp_path / "a" / "proj", base)
    second = workspace_store_dir(tmp_path / "b" / "proj", base)
    assert first.parent == second.parent == base
    assert first != second  # same folder name, other root
    assert first.name.startswith("proj-")
    assert workspace_store_dir(tmp_path / "a" / "proj" / ".." / "proj", base) == first
    assert workspace_store_dir(tmp_path / "odd name!", base).name.startswith("odd_name_-")
    assert workspace_store_dir(tmp_path / "a" / "proj").parent == user_cache_dir()
