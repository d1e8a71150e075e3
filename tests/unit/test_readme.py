"""The README's instructions work as written (issue 14, items 10 and 15): the command they
use can be found, the flags they name exist on the commands they name, the editor snippets
say which versions they need, and the Node version is the one package.json asks for."""

from __future__ import annotations

import json
import re
from pathlib import Path

from codesearch.cli.arguments import build_parser, subcommand_parsers

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end >= 0 else None]


def _flags_of(command: str) -> set[str]:
    parser = subcommand_parsers(build_parser())[command]
    return {option for action in parser._actions for option in action.option_strings}


def test_the_node_version_is_the_one_package_json_asks_for() -> None:
    engines = json.loads((REPO / "package.json").read_text(encoding="utf-8"))["engines"]
    wanted = engines["node"].removeprefix(">=")
    assert f"Node {wanted}+" in README
    assert not re.search(r"Node (?!" + re.escape(wanted) + r"\+)\d+(\.\d+)?\+", README)


def test_the_readme_says_how_to_run_codesearch_before_using_it() -> None:
    setup = _section("Set up")
    assert ". .venv/bin/activate" in setup
    assert "pipx install ." in setup or "pip install --user ." in setup
    assert README.index(". .venv/bin/activate") < README.index("\ncodesearch index PATH")


def test_make_search_ends_by_saying_how_to_run_codesearch() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nsearch:", 1)[1].split("\n\n", 1)[0]
    last = [line.strip() for line in recipe.splitlines() if line.strip()][-2:]
    assert any("activate" in line and line.startswith("@echo") for line in last), last


def test_every_flag_the_usage_names_belongs_to_its_command() -> None:
    usage = _section("Usage")
    block = usage.split("```sh\n", 1)[1].split("```", 1)[0]
    command = ""
    checked = 0
    for line in block.splitlines():
        found = re.match(r"codesearch (\w+)", line)
        if found:
            command = found[1]
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-v)\b", line):
            assert flag in _flags_of(command), f"`codesearch {command}` has no {flag}"
            checked += 1
    assert checked >= 10
    indexing = usage.split("Indexing flags", 1)[1].split("\n\n", 1)[0]
    for flag in set(re.findall(r"`(--[a-z][a-z-]*)", indexing)):
        for name in ("index", "search", "similar"):
            assert flag in _flags_of(name), f"`codesearch {name}` has no {flag}"


def test_the_neovim_snippets_say_which_versions_they_need() -> None:
    editor = _section("Editor")
    assert "Neovim 0.8" in editor and "vim.lsp.start(" in editor
    assert "Neovim 0.7" in editor
    assert "vim.lsp.start_client(" in editor and "vim.lsp.buf_attach_client(" in editor
    assert "vim.lsp.config(" in editor and "vim.lsp.enable(" in editor
