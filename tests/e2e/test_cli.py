"""The installed `codesearch` command, end to end, on a multi-language folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workspace"


def codesearch_command() -> str:
    script = Path(sys.executable).parent / "codesearch"
    found = str(script) if script.exists() else shutil.which("codesearch")
    assert found, "the codesearch console script is not installed"
    return found


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [codesearch_command(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("cli") / "my project"  # a space in the path on purpose
    shutil.copytree(FIXTURE, root)
    env = {"CODESEARCH_CACHE_DIR": str(tmp_path_factory.mktemp("cli-store"))}
    result = run("index", str(root), "--json", env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["files"] == 6 and summary["embedded"] == summary["entities"] >= 15
    return root, env


def test_natural_language_query_finds_the_right_function_first(
    indexed: tuple[Path, dict[str, str]],
) -> None:
    root, env = indexed
    queries = {
        "retry failed uploads": ("retry_failed_upload", "uploader/upload.py"),
        "hash a user's password": ("HashPassword", "services/cache.go"),
        "format a date as year month day": ("formatIsoDay", "web/date_format.ts"),
        "matrix product": ("Matrix.multiply", "native/matrix.rs"),
    }
    for query, (name, path) in queries.items():
        result = run("search", query, "--path", str(root), "--json", "--limit", "3", env=env)
        assert result.returncode == 0, result.stderr
        hits = json.loads(result.stdout)
        assert hits[0]["name"] == name and hits[0]["path"] == path, (query, hits[0])
        assert set(hits[0]) >= {
            "path",
            "name",
            "kind",
            "language",
            "start_line",
            "end_line",
            "score",
        }


def test_search_output_for_people_and_filters(indexed: tuple[Path, dict[str, str]]) -> None:
    root, env = indexed
    result = run("search", "retry failed uploads", "--path", str(root), env=env)
    assert result.returncode == 0
    assert "uploader/upload.py:10  function retry_failed_upload" in result.stdout
    result = run("search", "cache", "--path", str(root), "--language", "go", "--json", env=env)
    assert {h["language"] for h in json.loads(result.stdout)} == {"go"}


def test_search_updates_the_index_first(indexed: tuple[Path, dict[str, str]]) -> None:
    root, env = indexed
    (root / "web" / "slug.js").write_text(
        "// Turn a title into a URL slug.\nfunction slugify(title) {\n"
        "  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-');\n}\n"
    )
    result = run("search", "make a url slug from a title", "--path", str(root), "--json", env=env)
    assert json.loads(result.stdout)[0]["name"] == "slugify"


def test_similar_and_status(indexed: tuple[Path, dict[str, str]]) -> None:
    root, env = indexed
    result = run(
        "similar", "uploader/upload.py:12", "--path", str(root), "--json", cwd=root, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "retry_failed_upload" not in [h["name"] for h in json.loads(result.stdout)]
    status = json.loads(run("status", "--path", str(root), "--json", env=env).stdout)
    assert status["files"] >= 6 and status["entities"] >= 15
    assert status["store"].startswith(env["CODESEARCH_CACHE_DIR"])


def test_errors_are_one_clear_line_and_non_zero(
    indexed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, env = indexed
    cases = [
        (["index", str(tmp_path / "missing")], "path does not exist"),
        (["search", "x", "--path", str(root), "--limit", "zero"], "expected a whole number"),
        (["search", "x", "--path", str(root), "--bogus"], "unrecognized arguments"),
        (["similar", "nofile", "--path", str(root)], "FILE:LINE"),
        (["similar", "uploader/upload.py:2", "--path", str(root)], "no indexed function"),
        (
            ["search", "x", "--path", str(root), "--model", str(tmp_path / "nomodel")],
            "does not exist",
        ),
    ]
    for args, expected in cases:
        result = run(*args, env=env)
        assert result.returncode != 0, args
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and expected in lines[0], (args, result.stderr)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the store folder should be")
    result = run("index", str(root), "--cache-dir", str(blocked), env=env)
    assert result.returncode == 1 and "index store" in result.stderr
