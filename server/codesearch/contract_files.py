"""Files generated from the contract: the extension's TypeScript copy, the parts of its
manifest that describe settings and activation, PROTOCOL.md's tables and the extension
README's settings table.

`python -m codesearch.contract_files` (or `make contract`) writes them; `--check` exits 1
naming each stale file. tests/unit/test_contract.py runs the same comparison.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesearch import contract
from codesearch.config import CLIENT_SETTINGS, LOG_LEVELS, SERVER_SETTINGS, SETTINGS
from codesearch.config import SettingSpec as Setting
from codesearch.contract import Command, Field
from codesearch.embedding.registry import BACKEND_NAMES

REPO_ROOT = Path(__file__).resolve().parents[2]
TS_PATH = Path("vscode-extension/src/logic/contract.ts")
MANIFEST_PATH = Path("vscode-extension/package.json")
PROTOCOL_PATH = Path("server/codesearch/lsp/PROTOCOL.md")
EXTENSION_README_PATH = Path("vscode-extension/README.md")
GENERATED_BY = "`make contract` (python -m codesearch.contract_files)"


@dataclass(frozen=True)
class GeneratedFile:
    path: Path  # relative to the repository root
    text: str


# -- TypeScript ----------------------------------------------------------------------------
def _ts_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ts_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _ts_str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_ts_value(v) for v in value) + "]"
    raise TypeError(f"no TypeScript literal for {value!r}")


def _ts_tuple(name: str, values: Iterable[str], doc: str) -> list[str]:
    items = ", ".join(_ts_str(v) for v in values)
    return [f"/** {doc} */", f"export const {name} = [{items}] as const;"]


def _ts_interface(name: str, fields: Iterable[Field], doc: str) -> list[str]:
    lines = [f"/** {doc} */", f"export interface {name} {{"]
    for f in fields:
        lines.append(f"  /** {f.description} */")
        lines.append(f"  {f.name}{'?' if f.optional else ''}: {f.type};")
    lines.append("}")
    return lines


def _setting_ts_type(spec: Setting) -> str:
    return {"boolean": "boolean", "string": "string", "integer": "number", "array": "string[]"}[
        spec.type
    ]


def _command_key(command: Command) -> str:
    return command.id.removeprefix(contract.CONFIG_SECTION + ".")


def render_typescript() -> str:
    out: list[str] = [
        "/**",
        " * The client/server contract, generated from server/codesearch/contract.py and",
        f" * config.py by {GENERATED_BY}.",
        " * Do not edit: tests/unit/test_contract.py fails when this file is stale.",
        " * Pure: no `vscode` import.",
        " */",
        "",
        f"export const CONFIG_SECTION = {_ts_str(contract.CONFIG_SECTION)};",
        "",
        "/** The server's custom status notification. */",
        f"export const STATUS_NOTIFICATION = {_ts_str(contract.STATUS_NOTIFICATION)};",
        "",
        *_ts_tuple("SERVER_STATES", contract.SERVER_STATES, "States of the server's status."),
        "export type ServerState = (typeof SERVER_STATES)[number];",
        "",
        *_ts_tuple("ENTITY_KINDS", contract.ENTITY_KINDS, "Kinds of entity the server indexes."),
        "export type EntityKind = (typeof ENTITY_KINDS)[number];",
        "",
        "/** LSP SymbolKind name of each entity kind; other kinds show as DEFAULT_SYMBOL_KIND. */",
        "export const SYMBOL_KINDS: Readonly<Record<string, string>> = {",
        *(f"  {kind}: {_ts_str(name)}," for kind, name in contract.SYMBOL_KINDS.items()),
        "};",
        f"export const DEFAULT_SYMBOL_KIND = {_ts_str(contract.DEFAULT_SYMBOL_KIND)};",
        "",
        "/** Commands the server answers through `workspace/executeCommand`. */",
        "export const ServerCommand = {",
    ]
    for command in contract.COMMANDS:
        out.append(f"  /** {command.summary} */")
        out.append(f"  {_command_key(command)}: {_ts_str(command.id)},")
    out += [
        "} as const;",
        "",
        f"export const DEFAULT_LIMIT = {contract.DEFAULT_LIMIT};",
        f"export const MAX_LIMIT = {contract.MAX_LIMIT};",
        "",
        *_ts_interface("Position", contract.POSITION_FIELDS, "A position in a file."),
        "",
        "/** A range in a file, 0-based. */",
        "export interface Range {",
        "  start: Position;",
        "  end: Position;",
        "}",
        "",
        *_ts_interface(
            "StatusPayload",
            contract.STATUS_FIELDS,
            f"The `{contract.STATUS_NOTIFICATION}` payload.",
        ),
        "",
        *_ts_interface("Hit", contract.HIT_FIELDS, "One search result."),
        "",
    ]
    for command in contract.COMMANDS:
        if command.arguments_type:
            doc = f"The argument of `{command.id}`."
            out += [*_ts_interface(command.arguments_type, command.arguments, doc), ""]
    out += [
        *_ts_interface(
            "ReindexResult",
            contract.REINDEX_RESULT_FIELDS,
            f"The result of `{contract.REINDEX.id}`.",
        ),
        "",
        "/** The settings the server reads (initializationOptions, workspace/configuration). */",
        "export interface ServerSettings {",
    ]
    for spec in SERVER_SETTINGS:
        out.append(f"  {spec.key}: {_setting_ts_type(spec)};")
    out += [
        "}",
        "",
        "export const SERVER_SETTING_DEFAULTS: Readonly<ServerSettings> = Object.freeze({",
    ]
    for spec in SERVER_SETTINGS:
        out.append(f"  {spec.key}: {_ts_value(spec.default)},")
    out += [
        "});",
        "",
        *_ts_tuple(
            "SERVER_SETTING_KEYS", (s.key for s in SERVER_SETTINGS), "Keys the server reads."
        ),
        *_ts_tuple(
            "CLIENT_SETTING_KEYS",
            (s.key for s in CLIENT_SETTINGS),
            "Keys the extension reads itself; the server never sees them.",
        ),
        *_ts_tuple(
            "RESTART_SETTING_KEYS",
            (s.key for s in CLIENT_SETTINGS if s.restarts_server),
            "Client keys that shape the server's command line: a change restarts it.",
        ),
        *_ts_tuple("LOG_LEVELS", LOG_LEVELS, "Values of `codesearch.logLevel`."),
        *_ts_tuple("BACKENDS", BACKEND_NAMES, "Values of `codesearch.backend`."),
        "",
        *_ts_tuple("INDEXED_EXTENSIONS", contract.INDEXED_EXTENSIONS, "Indexed file extensions."),
        *_ts_tuple("LANGUAGES", contract.LANGUAGES, "Values of a search's `language` filter."),
        f"export const SOURCE_GLOB = {_ts_str(contract.SOURCE_GLOB)};",
        f"export const IGNORE_FILES_GLOB = {_ts_str(contract.IGNORE_FILES_GLOB)};",
        "",
    ]
    return "\n".join(out)


# -- the extension's manifest ----------------------------------------------------------------
def manifest_property(spec: Setting) -> dict[str, Any]:
    """The `contributes.configuration` entry of one setting."""
    prop: dict[str, Any] = {"type": spec.type}
    if spec.type == "array":
        prop["items"] = {"type": "string"}
    if spec.enum:
        prop["enum"] = list(spec.enum)
    if spec.enum_descriptions:
        prop["enumDescriptions"] = list(spec.enum_descriptions)
    prop["default"] = list(spec.default) if isinstance(spec.default, list | tuple) else spec.default
    if spec.minimum is not None:
        prop["minimum"] = spec.minimum
    if spec.maximum is not None:
        prop["maximum"] = spec.maximum
    prop["scope"] = spec.scope
    prop["markdownDescription"] = spec.description
    return prop


def activation_events() -> list[str]:
    """Start in a window that holds code the server indexes (and on any of the commands,
    which VS Code adds by itself for contributed commands)."""
    return [f"workspaceContains:{contract.SOURCE_GLOB}"]


def render_manifest(current: str) -> str:
    data = json.loads(current)
    data["activationEvents"] = activation_events()
    configuration = data.setdefault("contributes", {}).setdefault("configuration", {})
    configuration["properties"] = {
        f"{contract.CONFIG_SECTION}.{spec.key}": manifest_property(spec) for spec in SETTINGS
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# -- PROTOCOL.md ---------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_type(spec: Setting) -> str:
    if spec.enum:
        return " \\| ".join(f'`"{v}"`' for v in spec.enum)
    base = {"boolean": "bool", "string": "string", "integer": "int", "array": "string[]"}
    text = base[spec.type]
    if spec.minimum is not None and spec.maximum is not None:
        text += f" ({spec.minimum}..{spec.maximum})"
    return text


def settings_table() -> str:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for spec in SERVER_SETTINGS:
        default = json.dumps(spec.default)
        rows.append(
            f"| `{spec.key}` | {_md_type(spec)} | `{default}` | {_md_cell(spec.description)} |"
        )
    return "\n".join(rows)


def status_block() -> str:
    lines = ["```", "{"]
    for f in contract.STATUS_FIELDS:
        type_text = (
            " | ".join(f'"{s}"' for s in contract.SERVER_STATES)
            if f.type == "ServerState"
            else f.type
        )
        lines.append(f'  "{f.name}": {type_text},  // {f.description}')
    lines += ["}", "```"]
    return "\n".join(lines)


def _md_field_type(f: Field) -> str:
    if f.type == "EntityKind":
        return " \\| ".join(f'`"{k}"`' for k in contract.ENTITY_KINDS)
    return f"`{f.type}`"


def _md_fields(fields: Iterable[Field]) -> list[str]:
    return [
        f"- `{f.name}`{' (optional)' if f.optional else ''}: {_md_field_type(f)}, {f.description}"
        for f in fields
    ]


def commands_section() -> str:
    lines: list[str] = []
    for command in contract.COMMANDS:
        lines += [
            "",
            f"### `{command.id}` -> `{command.result}`",
            command.summary.capitalize() + ".",
        ]
        if command.arguments:
            lines += ["", "Argument object:", *_md_fields(command.arguments)]
        else:
            lines += ["", "No argument."]
    lines += ["", "### Result shapes", "", "`Hit`:", *_md_fields(contract.HIT_FIELDS)]
    lines += ["", "`ReindexResult`:", *_md_fields(contract.REINDEX_RESULT_FIELDS)]
    lines += ["", "`Position`:", *_md_fields(contract.POSITION_FIELDS)]
    return "\n".join(lines[1:])


def extension_settings_table() -> str:
    rows = ["| Setting | Default | Meaning |", "|---|---|---|"]
    for spec in SETTINGS:
        key = f"{contract.CONFIG_SECTION}.{spec.key}"
        rows.append(f"| `{key}` | `{json.dumps(spec.default)}` | {_md_cell(spec.description)} |")
    return "\n".join(rows)


def _section(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- contract:{name} .*?-->\n)(.*?)(<!-- /contract:{name} -->)", re.DOTALL
    )


def _fill_sections(path: Path, current: str, sections: dict[str, str]) -> str:
    """`current` with the text between each `<!-- contract:NAME -->` pair replaced."""
    text = current
    for name, body in sections.items():
        match = _section(name).search(text)
        if match is None:
            raise ValueError(f"{path} lacks the <!-- contract:{name} --> markers")
        text = text[: match.start(2)] + body + "\n" + text[match.end(2) :]
    return text


def render_protocol(current: str) -> str:
    sections = {
        "settings": settings_table(),
        "status": status_block(),
        "commands": commands_section(),
    }
    return _fill_sections(PROTOCOL_PATH, current, sections)


def render_extension_readme(current: str) -> str:
    return _fill_sections(EXTENSION_README_PATH, current, {"settings": extension_settings_table()})


# -- all of them -----------------------------------------------------------------------------
def generated_files(root: Path = REPO_ROOT) -> list[GeneratedFile]:
    """What each generated file should hold, given the current contract."""
    manifest = (root / MANIFEST_PATH).read_text(encoding="utf-8")
    protocol = (root / PROTOCOL_PATH).read_text(encoding="utf-8")
    readme = (root / EXTENSION_README_PATH).read_text(encoding="utf-8")
    return [
        GeneratedFile(TS_PATH, render_typescript()),
        GeneratedFile(MANIFEST_PATH, render_manifest(manifest)),
        GeneratedFile(PROTOCOL_PATH, render_protocol(protocol)),
        GeneratedFile(EXTENSION_README_PATH, render_extension_readme(readme)),
    ]


def stale_files(root: Path = REPO_ROOT) -> list[Path]:
    stale = []
    for generated in generated_files(root):
        target = root / generated.path
        if not target.is_file() or target.read_text(encoding="utf-8") != generated.text:
            stale.append(generated.path)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.root)
        for path in stale:
            print(f"{path} is stale: run `make contract`", file=sys.stderr)
        return 1 if stale else 0
    for generated in generated_files(args.root):
        target = args.root / generated.path
        if not target.is_file() or target.read_text(encoding="utf-8") != generated.text:
            target.write_text(generated.text, encoding="utf-8")
            print(f"wrote {generated.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
