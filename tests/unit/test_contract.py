"""The client/server contract is declared once (codesearch.contract, config.SETTINGS); these
tests fail when the extension, its manifest, PROTOCOL.md or the server's own code drift
from it. Fix a failure by editing the declaration and running `make contract`."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from codesearch import cli, contract
from codesearch.config import SERVER_SETTINGS, SETTINGS, Settings, parse_settings
from codesearch.contract_files import (
    REPO_ROOT,
    activation_events,
    generated_files,
    manifest_property,
    stale_files,
)
from codesearch.entities import ENTITY_KINDS
from codesearch.lsp.commands import reindex_result
from codesearch.lsp.convert import hit_to_json
from codesearch.search import Hit
from codesearch.service import ServiceStatus
from codesearch.workspace import IndexSummary

EXTENSION = REPO_ROOT / "vscode-extension"
SRC = EXTENSION / "src"


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    return data


def test_generated_files_are_up_to_date() -> None:
    assert stale_files() == [], "stale: run `make contract`"


def test_a_changed_declaration_makes_the_generated_files_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staleness check itself can fail: a new default shows up in every copy."""
    for generated in generated_files():
        target = tmp_path / generated.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(generated.text, encoding="utf-8")
    assert stale_files(tmp_path) == []
    changed = tuple(
        dataclasses.replace(s, default=64) if s.key == "batchSize" else s for s in SETTINGS
    )
    monkeypatch.setattr("codesearch.contract_files.SETTINGS", changed)
    monkeypatch.setattr(
        "codesearch.contract_files.SERVER_SETTINGS", tuple(s for s in changed if s.field)
    )
    assert {str(p) for p in stale_files(tmp_path)} == {
        "vscode-extension/src/logic/contract.ts",
        "vscode-extension/package.json",
        "server/codesearch/lsp/PROTOCOL.md",
        "vscode-extension/README.md",
    }


def test_manifest_settings_match_the_declarations_field_by_field() -> None:
    props = manifest()["contributes"]["configuration"]["properties"]
    assert list(props) == [f"codesearch.{s.key}" for s in SETTINGS]
    for spec in SETTINGS:
        prop = props[f"codesearch.{spec.key}"]
        expected = manifest_property(spec)
        for name in ("type", "default", "scope", "enum", "minimum", "maximum", "items"):
            assert prop.get(name) == expected.get(name), f"codesearch.{spec.key}: {name}"
        assert prop["markdownDescription"] == spec.description, spec.key
        assert len(prop.get("enumDescriptions", spec.enum)) == len(spec.enum), spec.key


def test_settings_defaults_and_limits_are_what_the_server_parses() -> None:
    defaults = Settings()
    declared = {s.field for s in SERVER_SETTINGS}
    assert declared == {f.name for f in dataclasses.fields(Settings)} - {"extra"}
    for spec in SERVER_SETTINGS:
        value = getattr(defaults, str(spec.field))
        assert (list(value) if isinstance(value, tuple) else value) == spec.default, spec.key
        settings, errors = parse_settings({spec.key: spec.default})
        assert errors == [], spec.key
        if spec.minimum is not None:
            _, errors = parse_settings({spec.key: spec.minimum - 1})
            assert errors and spec.key in errors[0], spec.key
            _, errors = parse_settings({spec.key: spec.minimum})
            assert errors == [], spec.key
        if spec.maximum is not None:
            _, errors = parse_settings({spec.key: spec.maximum + 1})
            assert errors and spec.key in errors[0], spec.key
        for value in spec.enum:
            settings, errors = parse_settings({spec.key: value})
            assert errors == [] and getattr(settings, str(spec.field)) == value
        if spec.enum:
            _, errors = parse_settings({spec.key: "no-such-value"})
            assert errors and all(v in errors[0] for v in spec.enum)
    client_only = {s.key.split(".")[0]: None for s in SETTINGS if not s.read_by_server}
    assert parse_settings(client_only)[1] == []  # the extension's own keys are no error
    # only a setting the server never reads can shape its command line
    assert not [s.key for s in SERVER_SETTINGS if s.restarts_server]


def test_palette_commands_are_contributed_and_registered_by_the_extension() -> None:
    contributed = {c["command"]: c for c in manifest()["contributes"]["commands"]}
    ids_ts = (SRC / "commands" / "ids.ts").read_text(encoding="utf-8")
    for command in contract.COMMANDS:
        for entry in command.palette:
            assert entry.id in contributed, entry.id
            assert contributed[entry.id]["title"] == entry.title, entry.id
            assert contributed[entry.id]["category"] == "Codesearch", entry.id
            assert f"'{entry.id}'" in ids_ts, f"{entry.id} missing from src/commands/ids.ts"
    assert not set(contributed) & {c.id for c in contract.COMMANDS}  # the client registers those


def test_activation_follows_the_indexed_extensions() -> None:
    events = manifest()["activationEvents"]
    assert events == activation_events()
    assert "onStartupFinished" not in events and "*" not in events
    glob = events[0].removeprefix("workspaceContains:")
    assert sorted(re.fullmatch(r"\*\*/\*\.\{(.*)\}", glob).group(1).split(",")) == sorted(  # type: ignore[union-attr]
        contract.INDEXED_EXTENSIONS
    )


def test_extension_code_takes_the_contract_from_the_generated_module() -> None:
    """No server command id, status notification or setting default is typed twice."""
    literals = [c.id for c in contract.COMMANDS] + [contract.STATUS_NOTIFICATION]
    for path in SRC.rglob("*.ts"):
        if path.name == "contract.ts":
            continue
        text = path.read_text(encoding="utf-8")
        for literal in literals:
            assert f"'{literal}'" not in text, f"{path.relative_to(REPO_ROOT)} repeats {literal}"
    for name in ("settings.ts", "protocol.ts", "status.ts"):
        text = (SRC / "logic" / name).read_text(encoding="utf-8")
        assert re.search(r"from '\./contract'", text), f"logic/{name} must import ./contract"
    settings_ts = (SRC / "logic" / "settings.ts").read_text(encoding="utf-8")
    assert "1048576" not in settings_ts and "'onnx-int8'" not in settings_ts


def test_status_payload_has_exactly_the_declared_fields() -> None:
    status = ServiceStatus("idle", 1, 1, 0, 0, 0, "m", None, (1, 2), 3, True)
    assert list(status.to_json()) == [f.name for f in contract.STATUS_FIELDS]


def test_hits_and_reindex_results_have_exactly_the_declared_fields(tmp_path: Path) -> None:
    hit = Hit("a.py", "f", "function", "python", 1, 2, 0, 0, "def f():", 0.5, 0.4, 0.1, ())
    assert list(hit_to_json(tmp_path, hit)) == [f.name for f in contract.HIT_FIELDS]
    result = reindex_result([IndexSummary(files=2, entities=5, embedded=3, seconds=0.1234), None])
    assert list(result) == [f.name for f in contract.REINDEX_RESULT_FIELDS]
    assert (result["files"], result["embedded"], result["seconds"]) == (2, 3, 0.123)


def test_entity_kinds_come_from_one_list() -> None:
    assert contract.ENTITY_KINDS is ENTITY_KINDS
    parser = cli.build_parser()
    for kind in ENTITY_KINDS:
        assert parser.parse_args(["search", "q", "--kind", kind]).kind == kind
    with pytest.raises(cli.UsageError):
        parser.parse_args(["search", "q", "--kind", "no-such-kind"])
    contract_ts = (SRC / "logic" / "contract.ts").read_text(encoding="utf-8")
    kinds = ", ".join(f"'{k}'" for k in ENTITY_KINDS)
    assert f"ENTITY_KINDS = [{kinds}] as const" in contract_ts


def test_the_service_states_are_the_declared_ones() -> None:
    from codesearch.contract import SERVER_STATES
    from codesearch.service import State

    assert tuple(state.value for state in State) == SERVER_STATES


def _cli_status(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """`index --json` and `status --json` payloads of a folder with a skipped file, a
    failed entity and a failed file."""
    from tests.support.fakes import FakeEncoder

    from codesearch.store import FileManifest
    from codesearch.workspace import Workspace
    from codesearch.workspace.reports import index_report_json

    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("def alpha():\n    return 1\n\ndef poison():\n    return 2\n")
    (root / "b.py").write_bytes(b"\x00binary")
    encoder = FakeEncoder(fail_on="poison")
    with Workspace(root, Settings(), encoder=encoder, store_dir=tmp_path / "store") as ws:
        summary = ws.index()
        assert ws.catalog is not None  # a file that failed as a whole, as the pipeline writes it
        ws.catalog.commit([FileManifest("c.py", 1, 1, "", "python", error="unreadable")], [[]])
        status = ws.status()
    return index_report_json(summary, status), status.to_json()


def test_index_and_status_json_have_exactly_the_declared_fields(tmp_path: Path) -> None:
    index, status = _cli_status(tmp_path)
    assert list(index) == [f.name for f in contract.INDEX_REPORT_FIELDS]
    assert list(status) == [f.name for f in contract.STATUS_REPORT_FIELDS]
    shared = [f.name for f in contract.CONTENTS_FIELDS]
    assert {k: index[k] for k in shared} == {k: status[k] for k in shared}
    assert status["skipped"] == {"binary": 1}
    assert status["skipped_files"] == [{"path": "b.py", "reason": "binary"}]
    assert status["failed_files"] == [{"path": "c.py", "reason": "unreadable"}]
    (entity,) = status["failed_entities"]
    assert list(entity) == [f.name for f in contract.MISSING_ENTITY_FIELDS]
    assert (entity["path"], entity["name"], entity["line"]) == ("a.py", "poison", 4)
    for item in status["skipped_files"] + status["failed_files"]:
        assert list(item) == [f.name for f in contract.MISSING_FILE_FIELDS]


def test_the_readme_documents_every_json_field() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    fields = {*contract.INDEX_REPORT_FIELDS, *contract.STATUS_REPORT_FIELDS}
    fields |= {*contract.MISSING_FILE_FIELDS, *contract.MISSING_ENTITY_FIELDS}
    missing = sorted(f.name for f in fields if f"`{f.name}`" not in readme)
    assert not missing, f"README.md does not document: {missing}"
