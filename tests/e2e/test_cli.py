"""The installed `codesearch` command, end to end, on a multi-language folder."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from codesearch import contract
from codesearch.cli.arguments import build_parser, subcommand_parsers
from codesearch.locations import workspace_store_dir

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
        (["search", "x", "--path", str(root), "--bogus"], "see `codesearch search --help`"),
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


# -- the command line itself (issue 14, items 9 and 10) ---------------------------------------


def _help_blocks(text: str) -> dict[str, str]:
    """Each option's block of `--help` output (its line and the indented lines under it)."""
    blocks: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        found = re.match(r"^  (-[-\w]+|\w[\w:]*)", line)
        if found:
            current = found[1]
            blocks[current] = line
        elif current and line.startswith("    "):
            blocks[current] += " " + line.strip()
        else:
            current = ""
    return blocks


def test_every_flag_says_what_it_does_and_its_default() -> None:
    top = run("--help")
    assert top.returncode == 0 and "codesearch COMMAND --help" in top.stdout
    parsers = subcommand_parsers(build_parser())
    assert set(parsers) == {"index", "search", "similar", "status", "clear", "serve", "mcp"}
    for name, parser in parsers.items():
        shown = run(name, "--help")
        assert shown.returncode == 0, shown.stderr
        blocks = _help_blocks(shown.stdout)
        for action in parser._actions:
            if action.dest == "help":
                continue
            key = action.option_strings[0] if action.option_strings else action.metavar
            block = blocks.get(str(key if key else action.dest), "")
            words = block.split(None, 1)[1] if " " in block.strip() else ""
            assert action.help and len(words) > 10, (name, key, block)
            # a flag that takes a value, or is counted (-v), has a default to state
            counted = isinstance(action, argparse._CountAction)
            stated = action.option_strings and (action.nargs != 0 or counted)
            if stated and action.dest != "version":
                assert "default" in block, (name, key, block)


def test_flags_that_do_nothing_for_a_command_are_refused_pointing_to_its_help(
    tmp_path: Path,
) -> None:
    result = run("status", "--path", str(tmp_path), "--batch-size", "8")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "--batch-size" in lines[0] and "see `codesearch status --help`" in lines[0]


def test_language_and_kind_are_checked_in_any_case(indexed: tuple[Path, dict[str, str]]) -> None:
    root, env = indexed
    wrong = run("search", "cache", "--path", str(root), "--language", "cobol", env=env)
    lines = wrong.stderr.strip().splitlines()
    assert wrong.returncode == 2 and len(lines) == 1, wrong.stderr
    assert "'cobol'" in lines[0] and "python, " in lines[0] and "go, " in lines[0]
    assert "see `codesearch search --help`" in lines[0]
    args = ("--path", str(root), "--json", "--no-update")
    found = run("search", "cache", "--language", "Go", "--kind", "FUNCTION", *args, env=env)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits and {(h["language"], h["kind"]) for h in hits} == {("go", "function")}


def test_bad_tcp_addresses_are_one_line() -> None:
    for address in ("foo", "127.0.0.1:99999", ":2087", "127.0.0.1:port"):
        result = run("serve", "--tcp", address)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, (address, result.stderr)
        assert "HOST:PORT" in lines[0] and "Traceback" not in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--tcp", f"127.0.0.1:{port}", "--log-level", "error")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0]


# -- what status and index say (issue 14, items 4, 6, 7 and 8) ---------------------------------


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_a_folder_never_indexed_is_said_to_be_so_and_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "never indexed"
    root.mkdir()
    (root / "a.py").write_text("def alpha():\n    return 1\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {"CODESEARCH_CACHE_DIR": str(cache)}
    status = run("status", "--path", str(root), env=env)
    assert status.returncode == 0, status.stderr
    assert "not indexed yet" in status.stdout and "codesearch index '" in status.stdout
    as_json = json.loads(run("status", "--path", str(root), "--json", env=env).stdout)
    assert as_json["indexed"] is False and as_json["files"] == 0
    assert as_json["last_indexed"] is None
    searched = run("search", "alpha", "--path", str(root), "--no-update", env=env)
    assert searched.returncode == 1 and "not indexed yet" in searched.stderr
    cleared = run("clear", "--path", str(root), env=env)
    assert cleared.returncode == 0 and "no index to clear" in cleared.stdout
    assert _tree(cache) == []  # the cache folder is as it was: nothing created


def test_status_names_every_failed_and_skipped_file_and_index_agrees(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "good.py").write_text("def alpha():\n    return 1\n")
    (root / "big.py").write_text("x = 1\n" * 1000)
    (root / "data.py").write_bytes(b"\x00\x01 binary")
    env = {"CODESEARCH_CACHE_DIR": str(tmp_path / "cache")}
    small = ("--max-file-size", "4096")
    first = run("index", str(root), *small, env=env)
    assert first.returncode == 0, first.stderr
    assert "2 skipped" in first.stdout and "codesearch status --path" in first.stdout
    verbose = run("index", str(root), "-v", *small, env=env)
    assert "big.py: larger than --max-file-size" in verbose.stdout
    assert "data.py: binary" in verbose.stdout

    index = json.loads(run("index", str(root), "--json", *small, env=env).stdout)
    status = json.loads(run("status", "--path", str(root), "--json", env=env).stdout)
    assert list(index) == [f.name for f in contract.INDEX_REPORT_FIELDS]
    assert list(status) == [f.name for f in contract.STATUS_REPORT_FIELDS]
    for field in contract.CONTENTS_FIELDS:
        assert index[field.name] == status[field.name], field.name
    assert status["skipped"] == {"binary": 1, "too_large": 1}
    assert status["skipped_files"] == [
        {"path": "big.py", "reason": "too_large"},
        {"path": "data.py", "reason": "binary"},
    ]
    assert status["failed_files"] == [] and status["failed_entities"] == []
    assert status["indexed"] is True and status["last_indexed"].startswith("20")
    assert status["store_bytes"] > 0

    text = run("status", "--path", str(root), env=env).stdout
    assert "2 skipped files:" in text and "big.py: larger than --max-file-size" in text
    assert re.search(r"last indexed 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d \(just now\)", text), text
    assert re.search(r"store .* \(\d+(\.\d)? (KiB|MiB)\)", text), text


def _damage(root: Path, env: dict[str, str]) -> None:
    store = workspace_store_dir(root, env["CODESEARCH_CACHE_DIR"])
    (store / "cache.db").write_bytes(random.Random(7).randbytes(8192))


def test_a_damaged_store_is_reported_truthfully_by_each_command(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "tools.py").write_text("def tool_alpha():\n    return 1\n")
    cache = tmp_path / "cache"
    env = {"CODESEARCH_CACHE_DIR": str(cache)}
    assert run("index", str(root), env=env).returncode == 0
    rebuild = f"`codesearch index {root}` builds a new one"

    _damage(root, env)
    searched = run("search", "tool alpha", "--path", str(root), "--no-update", env=env)
    warning, error = searched.stderr.strip().splitlines()
    assert searched.returncode == 1 and "moved to" in warning and rebuild in warning
    assert "being built" not in searched.stderr and "not indexed yet" in error

    _damage(root, env)
    status = run("status", "--path", str(root), env=env)
    assert status.returncode == 0 and rebuild in status.stderr, status.stderr
    assert "not indexed yet" in status.stdout

    _damage(root, env)
    updated = run("search", "tool alpha", "--path", str(root), "--json", env=env)
    assert updated.returncode == 0 and "a new index is being built" in updated.stderr
    assert json.loads(updated.stdout)[0]["name"] == "tool_alpha"

    store = workspace_store_dir(root, cache)
    copies = [p for p in cache.iterdir() if p.name.startswith(store.name + ".corrupt-")]
    assert len(copies) == 1, _tree(cache)  # three damages, the newest copy kept

    cleared = run("clear", "--path", str(root), env=env)
    assert cleared.returncode == 0, cleared.stderr
    assert "Cleared the index of" in cleared.stdout and "Deleted 1 old copy" in cleared.stdout
    assert str(copies[0]) in cleared.stdout and not copies[0].exists()
    assert [p.name for p in cache.iterdir()] == [store.name]
    assert "not indexed yet" in run("status", "--path", str(root), env=env).stdout
