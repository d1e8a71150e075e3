"""Bad input, end to end through the Workspace: every bad file gets a clear record of its
own (a manifest error, a deliberate skip, or a scan skip list entry), and the good files
beside it are indexed exactly as they are without it.

Reading and scanning have their own unit tests (tests/unit/test_reading.py, test_scan.py)
and the extractors their fuzz tests (tests/unit/test_parsing_fuzz.py); these put all the bad
input into one workspace, through the full index and the save path. The fake encoder
stands in for the model: the model is not what is tested here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.reliability.support import REPO, child_env
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.index import reading
from codesearch.lsp.convert import hit_to_json, uri_to_path
from codesearch.store import FileManifest
from codesearch.workspace import Workspace

GOOD = {
    "good/alpha.py": "def alpha_parser(text):\n    return text.split()\n",
    "good/beta.js": "function betaFormatter(value) {\n  return String(value);\n}\n",
    "good/gamma.go": "package gamma\n\nfunc GammaSum(a, b int) int {\n\treturn a + b\n}\n",
}
DEPTH = 300  # far past the parser's own nesting limit and Python's recursion limit


def _write(root: Path, rel: str, data: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", newline="")
    return path


def _bad_inputs(root: Path, outside: Path) -> dict[str, str]:
    """Create every bad input; returns rel path -> what record it must get."""
    expect: dict[str, str] = {}

    _write(root, "binary.py", b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 8)
    expect["binary.py"] = "skipped: binary"

    with open(root / "huge.py", "w", encoding="utf-8") as handle:  # 50 MB of real source
        line = "value_%07d = compute(%d)  # a generated line of source\n"
        block = "".join(line % (i, i) for i in range(10_000))
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(block)
    expect["huge.py"] = "scan: too_large"

    _write(
        root, "latin1.py", "def caf\u00e9():\n    return 'd\u00e9j\u00e0 vu'\n".encode("latin-1")
    )
    expect["latin1.py"] = "error: not valid UTF-8"
    _write(root, "truncated_utf8.py", "def f():\n    return '\u00e9'\n".encode()[:-3])
    expect["truncated_utf8.py"] = "error: not valid UTF-8"

    _write(
        root,
        "crlf_mixed.py",
        "def crlf_one():\r\n    return 1\r\n\ndef lf_two():\n    return 2\r\n",
    )
    expect["crlf_mixed.py"] = "entities: crlf_one@1-2 lf_two@4-5"

    lines = "".join(
        f"def many_{i}():\n" + "    x = 1\n" * 48 + "    return x\n" for i in range(2000)
    )
    _write(root, "many_lines.py", lines)
    assert lines.count("\n") == 100_000
    expect["many_lines.py"] = "entities: 2000"

    nested_py = "".join("    " * i + f"def level_{i}():\n" for i in range(DEPTH))
    _write(root, "deep_defs.py", nested_py + "    " * DEPTH + "return 1\n")
    expect["deep_defs.py"] = "indexed"
    _write(
        root,
        "deep_brackets.py",
        "x = " + "[" * 50_000 + "]" * 50_000 + "\n\ndef after_brackets():\n    return 2\n",
    )
    expect["deep_brackets.py"] = "entities: after_brackets@3-4"
    nested_js = "".join(f"function level{i}() {{\n" for i in range(DEPTH)) + "}\n" * DEPTH
    _write(root, "deep.js", nested_js)
    expect["deep.js"] = "indexed"
    _write(
        root,
        "deep_parens.js",
        "var x = "
        + "(" * 100_000
        + "1"
        + ")" * 100_000
        + ";\nfunction afterParens() { return 2; }\n",
    )
    expect["deep_parens.js"] = "entities: afterParens@2-2"

    _write(root, "empty.py", b"")
    expect["empty.py"] = "entities: 0"
    _write(root, "blank.ts", "\n\n   \n")
    expect["blank.ts"] = "entities: 0"
    _write(root, "bom_only.py", b"\xef\xbb\xbf")
    expect["bom_only.py"] = "entities: 0"

    os.symlink("loop_b.py", root / "loop_a.py")
    os.symlink("loop_a.py", root / "loop_b.py")
    expect["loop_a.py"] = expect["loop_b.py"] = "scan: unreadable"
    os.symlink("..", root / "good" / "parent_loop")  # a folder loop: never followed
    _write(outside, "secret.py", "def outside_secret():\n    return 'secret'\n")
    os.symlink(outside / "secret.py", root / "outside_link.py")
    os.symlink(outside, root / "outside_dir")
    expect["outside_link.py"] = expect["outside_dir"] = "scan: symlink_outside"

    os.mkfifo(root / "pipe.py")  # a reader that opens it blocking would hang forever
    expect["pipe.py"] = "scan: unreadable"
    with open(os.path.join(os.fsencode(root), b"bad_name_\xff.py"), "wb") as handle:
        handle.write(b"def bad_name():\n    return 1\n")
    expect["bad_name_\\xff.py"] = "scan: unreadable"

    _write(
        root,
        "my folder/\u00fcn\u00efc\u00f8d\u00e9 \u0444\u0430\u0439\u043b.py",
        "def spaced_unicode_path():\n    return 1\n",
    )
    expect["my folder/\u00fcn\u00efc\u00f8d\u00e9 \u0444\u0430\u0439\u043b.py"] = (
        "entities: spaced_unicode_path@1-2"
    )
    _write(
        root,
        "\u65e5\u672c\u8a9e/\u95a2\u6570.ts",
        "export function japaneseFolder(): number {\n  return 1;\n}\n",
    )
    expect["\u65e5\u672c\u8a9e/\u95a2\u6570.ts"] = "entities: japaneseFolder@1-3"
    return expect


def _stored(ws: Workspace) -> dict[str, FileManifest]:
    """The file records in the store: the truth (the in-memory copies keep no entity list)."""
    assert ws.store is not None
    return {m.path: m for m in ws.store.manifests()}


def _record(ws: Workspace, rel: str) -> str:
    """What the workspace says about one path, in the vocabulary of `expect`."""
    for reason, paths in ws.skipped_paths().items():
        if rel in paths:
            return f"scan: {reason}"
    manifest = _stored(ws).get(rel)
    if manifest is None:
        return "no record"
    if manifest.error:
        return f"error: {manifest.error}"
    if manifest.skipped:
        return f"skipped: {manifest.skipped}"
    return "entities: " + " ".join(
        f"{e.name}@{e.start_line}-{e.end_line}" for e in manifest.entities
    )


def _matches(record: str, expected: str) -> bool:
    if expected == "indexed":
        return record.startswith("entities: ")
    if expected.startswith("entities: ") and expected[10:].isdigit():
        count = int(expected[10:])
        return record.startswith("entities:") and len(record[10:].split()) == count
    return record.startswith(expected)


def _good_manifests(ws: Workspace) -> dict[str, Any]:
    stored = _stored(ws)
    return {p: stored[p].entities for p in GOOD}


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    for rel, text in GOOD.items():
        _write(root, rel, text)
    yield root, outside


def test_every_bad_input_gets_its_own_record_and_good_files_are_untouched(
    tree: tuple[Path, Path], tmp_path: Path, figures: dict[str, Any]
) -> None:
    root, outside = tree
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "clean") as ws:
        ws.index()
        clean = _good_manifests(ws)

    expect = _bad_inputs(root, outside)
    started = time.monotonic()
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "store") as ws:
        summary = ws.index()
        seconds = time.monotonic() - started
        records = {rel: _record(ws, rel) for rel in expect}
        wrong = {
            rel: (records[rel], want)
            for rel, want in expect.items()
            if not _matches(records[rel], want)
        }
        assert not wrong, json.dumps(wrong, indent=1, ensure_ascii=False)
        assert _good_manifests(ws) == clean  # no effect on the files beside them
        problems = {p.path: p for p in ws.problems()}
        errors = {path for path, problem in problems.items() if problem.error}
        assert errors == {r for r, want in expect.items() if want.startswith("error:")}
        names = {h.name for h in ws.search("outside secret", limit=50)}
        assert "outside_secret" not in names  # the link target was never read
        # the index can be used from the editor: URIs of odd paths round-trip
        for hit in ws.search("spaced unicode path", limit=5) + ws.search(
            "japanese folder", limit=5
        ):
            uri = hit_to_json(root, hit)["uri"]
            assert uri_to_path(uri) == root / hit.path and (root / hit.path).is_file()
        again = ws.index()
        # what failed is read again (issue 14, item 2); the rest is not touched
        assert again.parsed == len(errors) and again.embedded == 0
    assert seconds < 60, f"bad input made the index slow: {seconds:.1f}s"
    figures.update(
        inputs_tried=len(expect),
        records=len(records),
        good_entities_lost=0,
        seconds=round(seconds, 2),
        failed_files=summary.failed_files,
    )


def test_saving_each_bad_input_gives_the_same_record(
    tree: tuple[Path, Path], tmp_path: Path
) -> None:
    """The save path (index_paths) reaches the same verdicts one file at a time, scan
    skips included (a too-large file, a link leaving the root, a FIFO, an undecodable
    name): one selection answers for both."""
    root, outside = tree
    expect = _bad_inputs(root, outside)
    names = {"bad_name_\\xff.py": os.fsdecode(b"bad_name_\xff.py")}  # the name on disk
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "store") as ws:
        for rel in sorted(expect):
            if rel.startswith("loop_"):
                continue  # see test_saving_a_symlink_loop_keeps_the_other_saved_files
            ws.index_paths([root / names.get(rel, rel)])
        ws.index_paths([outside / "secret.py", Path("/etc/passwd"), root / "nope.py"])
        stored = _stored(ws)
        assert not any(p.startswith(("..", "/")) for p in stored)
        assert "outside_link.py" not in stored and "outside_dir" not in stored
        for rel, want in expect.items():
            if rel.startswith("loop_") or (root / rel).is_dir():
                continue  # a save names files; the scan reports a linked folder itself
            if want.startswith("scan: "):
                assert rel not in stored, rel  # never read
            assert _matches(_record(ws, rel), want), (rel, _record(ws, rel), want)


def test_files_vanishing_or_changing_while_read(
    tree: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = tree
    _write(root, "vanishes.py", "def vanishing():\n    return 1\n")
    _write(root, "keeps_changing.py", "def restless():\n    return 1\n")
    _write(root, "changes_once.py", "def edited_once():\n    return 1\n")
    real_read = reading._read_up_to
    changes = {"keeps_changing.py": 1000, "changes_once.py": 1}

    def read_then_edit(fd: int, limit: int) -> bytes:
        data = real_read(fd, limit)
        name = os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1]
        if changes.get(name, 0) > 0:
            changes[name] -= 1
            with open(root / name, "a", encoding="utf-8") as handle:
                handle.write(f"\n\ndef added_{changes[name]}():\n    return 2\n")
        return data

    real_source = reading.read_source

    def vanish_first(path: Path, *, max_file_size: int) -> reading.SourceFile:
        if path.name == "vanishes.py" and path.exists():
            path.unlink()  # gone between the scan and the read
        return real_source(path, max_file_size=max_file_size)

    monkeypatch.setattr(reading, "_read_up_to", read_then_edit)
    monkeypatch.setattr("codesearch.workspace.pipeline.read_source", vanish_first)
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "store") as ws:
        ws.index()
        assert _record(ws, "vanishes.py") == "error: file vanished before it could be read"
        assert _record(ws, "keeps_changing.py") == "error: changed while being read"
        assert _record(ws, "changes_once.py").split()[1:] == ["edited_once@1-2", "added_0@5-6"]
        for rel in GOOD:
            assert _record(ws, rel).startswith("entities: ") and "error" not in _record(ws, rel)
        monkeypatch.setattr(reading, "_read_up_to", real_read)
        ws.index()  # the next pass: the vanished file is dropped, the restless one indexed
        assert _record(ws, "vanishes.py") == "no record"
        assert _record(ws, "keeps_changing.py").startswith("entities: restless@1-2")


def test_saving_a_symlink_loop_keeps_the_other_saved_files(
    tree: tuple[Path, Path], tmp_path: Path
) -> None:
    root, _ = tree
    os.symlink("loop_b.py", root / "loop_a.py")
    os.symlink("loop_a.py", root / "loop_b.py")
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "store") as ws:
        ws.index()
        _write(root, "good/alpha.py", "def alpha_renamed(text):\n    return text\n")
        ws.index_paths([root / "loop_a.py", root / "good/alpha.py"])
        assert _record(ws, "good/alpha.py") == "entities: alpha_renamed@1-2"
        assert "loop_a.py" not in _stored(ws)


def test_index_paths_never_reads_through_a_symlinked_folder(
    tree: tuple[Path, Path], tmp_path: Path
) -> None:
    root, outside = tree
    _write(outside, "secret.py", "def outside_secret():\n    return 'secret'\n")
    os.symlink(outside, root / "outside_dir")
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "store") as ws:
        ws.index_paths([root / "outside_dir" / "secret.py"])
        assert "outside_dir/secret.py" not in _stored(ws)


def test_lone_carriage_returns_are_line_breaks(tmp_path: Path) -> None:
    """A lone CR (classic Mac) is a line break to editors and LSP; tree-sitter did not count
    it, so `def second` was read as nested in the line before and line numbers drifted."""
    root = tmp_path / "ws"
    _write(root, "old_mac.py", "def first():\r    return 1\r\rdef second():\r    return 2\r")
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "store") as ws:
        ws.index()
        assert _record(ws, "old_mac.py") == "entities: first@1-2 second@4-5"


# -- permissions: needs a user that file modes apply to ------------------------------------

_CHILD = """
import json, sys
from pathlib import Path
from codesearch.config import Settings
from codesearch.workspace import Workspace
from tests.support.fakes import FakeEncoder
root, store = Path(sys.argv[1]), Path(sys.argv[2])
with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=store) as ws:
    ws.index()
    print(json.dumps({
        "errors": {p.path: p.error for p in ws.problems()},
        "skipped": ws.skipped_paths(),
        "files": sorted(m.path for m in ws.store.manifests()),
    }))
"""


def _make_permission_tree(base: Path) -> Path:
    root = base / "ws"
    for rel, text in GOOD.items():
        _write(root, rel, text)
    _write(root, "secret_mode.py", "def hidden():\n    return 1\n").chmod(0)
    _write(root, "locked/inner.py", "def locked_inner():\n    return 1\n")
    (root / "locked").chmod(0)
    return root


def _without_permission_override(command: list[str], probe: Path) -> list[str]:
    """`command` as root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: modes apply again."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and util-linux setpriv is missing: file modes cannot apply")
    wrapped = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--", *command]
    check = subprocess.run(
        [*wrapped[: -len(command)], sys.executable, "-c", f"open({str(probe)!r}).read()"],
        capture_output=True,
        text=True,
        check=False,
    )
    if "PermissionError" not in check.stderr:
        pytest.skip(f"cannot drop the file-permission override here: {check.stderr[-300:]}")
    return wrapped


def test_unreadable_files_and_folders_are_recorded(tmp_path: Path) -> None:
    root = _make_permission_tree(tmp_path)
    try:
        if os.geteuid() != 0:
            with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "s") as ws:
                ws.index()
                result = {
                    "errors": {p.path: p.error for p in ws.problems()},
                    "skipped": ws.skipped_paths(),
                    "files": sorted(m.path for m in ws.store.manifests()),
                }
        else:
            # root reads everything: run the indexer as root without the capabilities that
            # override file modes (not a fake: the kernel refuses the reads)
            command = [sys.executable, "-c", _CHILD, str(root), str(tmp_path / "store")]
            done = subprocess.run(
                _without_permission_override(command, root / "secret_mode.py"),
                capture_output=True,
                text=True,
                env=child_env(),
                cwd=str(REPO),
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            result = json.loads(done.stdout)
    finally:
        (root / "locked").chmod(0o755)
    assert result["errors"] == {"secret_mode.py": "permission denied"}
    assert result["skipped"]["unreadable"] == ["locked"]
    assert set(GOOD) <= set(result["files"])


def test_a_file_made_readable_again_is_indexed_without_an_edit(tmp_path: Path) -> None:
    """Issue 14, item 2: `chmod 644` changes no mtime, yet the next run must read the file
    (it stayed "1 failed", its functions unsearchable, until someone touched it)."""
    root = _make_permission_tree(tmp_path)
    store = tmp_path / "store"
    secret = root / "secret_mode.py"
    try:
        if os.geteuid() != 0:
            with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=store) as ws:
                ws.index()
                errors = {p.path: p.error for p in ws.problems()}
        else:
            command = [sys.executable, "-c", _CHILD, str(root), str(store)]
            done = subprocess.run(
                _without_permission_override(command, secret),
                capture_output=True,
                text=True,
                env=child_env(),
                cwd=str(REPO),
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            errors = json.loads(done.stdout)["errors"]
    finally:
        (root / "locked").chmod(0o755)
    assert errors == {"secret_mode.py": "permission denied"}
    mtime = secret.stat().st_mtime_ns
    secret.chmod(0o644)
    assert secret.stat().st_mtime_ns == mtime
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=store) as ws:
        summary = ws.index()
        assert (summary.failed_files, summary.failed) == (0, 0)
        assert ws.problems() == []
        assert _record(ws, "secret_mode.py") == "entities: hidden@1-2"
        assert [hit.name for hit in ws.search("hidden", limit=1)] == ["hidden"]
