"""Safety: workspace code is never run, nothing outside the workspace roots is read, the
store is private (0700), and the default model needs no network.

The server and the CLI run with an audit hook (a sitecustomize on PYTHONPATH, Python's
sys.addaudithook) that logs every file open and folder listing, every compile/exec of a
file under the workspace, and refuses (and logs) every network call. The workspace holds
modules named like what codesearch imports (json.py, numpy.py, ...) and the files a tool
might run (setup.py, conftest.py, sitecustomize.py, ...): each would leave a marker file if
it ever ran. The processes run from inside the workspace, the worst case for imports.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.reliability.rawlsp import RawServer
from tests.reliability.support import CLI, FIXTURE, REPO

from codesearch.locations import workspace_store_dir

pytestmark = pytest.mark.slow

AUDIT_HOOK = """
import os, socket, sys

_log = open(os.environ["CODESEARCH_TEST_AUDIT"], "a", buffering=1, encoding="utf-8",
            errors="backslashreplace")
_watch = os.environ["CODESEARCH_TEST_WATCH"]
_NET = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
        "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg", "socket.bind"}


def _path(value):
    try:
        return os.fsdecode(os.fspath(value))
    except TypeError:
        return None


def _hook(event, args):
    if event in ("open", "os.scandir", "os.listdir") and args:
        path = _path(args[0])
        if path:
            _log.write("read\\t%s\\t%s\\n" % (path, os.path.realpath(path)))
    elif event == "exec" and args:
        name = getattr(args[0], "co_filename", "") or ""
        if name.startswith(_watch):
            _log.write("exec\\t%s\\n" % name)
    elif event == "compile" and len(args) > 1:
        name = _path(args[1]) or ""
        if name.startswith(_watch):
            _log.write("compile\\t%s\\n" % name)
    elif event in _NET:
        sock = args[0] if args else None
        if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg") and \\
                getattr(sock, "family", None) == socket.AF_UNIX:
            return
        _log.write("net\\t%s\\t%r\\n" % (event, args[1:]))
        raise OSError("network access refused by the codesearch safety test: " + event)


sys.addaudithook(_hook)
"""

EVIL_PY = """import pathlib
pathlib.Path({marker!r}, {name!r}).write_text("this file was run")


def {function}():
    return "{name} was read, parsed and indexed, never run"
"""
EVIL_NAMES = [
    "json.py", "argparse.py", "logging.py", "numpy.py", "torch.py", "diskcache.py",
    "platformdirs.py", "pathspec.py", "tree_sitter.py", "setup.py",
    "conftest.py", "sitecustomize.py", "usercustomize.py", "__init__.py", "__main__.py",
    "evil_pkg/__init__.py",
]  # fmt: skip
# `python -m codesearch` run from a folder that holds a codesearch.py (or a codesearch/
# package) runs that file instead of codesearch: no code of ours runs, so nothing of ours can
# refuse. Launchers must use the console script, `python -P`, or another working folder (the
# VS Code extension starts the server outside the workspace). The console script is tested
# with such a file below.
SHADOW = "codesearch.py"


def _function_name(rel: str) -> str:
    return "evil_" + rel.replace("/", "_").replace(".py", "").strip("_") + "_helper"


def _make_world(top: Path) -> tuple[Path, Path, Path, Path]:
    root = top / "ws"
    shutil.copytree(FIXTURE, root)
    markers = top / "markers"
    markers.mkdir()
    for rel in EVIL_NAMES:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(EVIL_PY.format(marker=str(markers), name=rel, function=_function_name(rel)))
    (root / "postinstall.js").write_text(
        f"require('fs').writeFileSync({str(markers / 'postinstall.js')!r}, 'ran');\n"
        "function evilPostinstallHelper() { return 1; }\n"
    )
    (root / "package.json").write_text('{"scripts": {"postinstall": "node postinstall.js"}}\n')
    outside = top / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("def outside_secret():\n    return 'never read'\n")
    os.symlink(outside / "secret.py", root / "leak.py")
    os.symlink(outside, root / "leak_dir")
    hooks = top / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(AUDIT_HOOK)
    return root, markers, outside, hooks


def _env(hooks: Path, audit: Path, root: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "HF_", "TRANSFORMERS_")) and k != "PYTHONPATH"
    }
    env.update(
        PYTHONPATH=f"{hooks}{os.pathsep}{REPO}",
        CODESEARCH_TEST_AUDIT=str(audit),
        CODESEARCH_TEST_WATCH=str(root),
        **extra,
    )
    return env


def _audit(audit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"read": [], "exec": [], "compile": [], "net": []}
    for line in audit.read_text(encoding="utf-8").splitlines():
        kind, _, rest = line.partition("\t")
        found[kind].append(rest)
    return found


def _check_audit(audit: Path, root: Path, outside: Path) -> dict[str, int]:
    found = _audit(audit)
    assert found["read"], "the audit hook did not run"
    outside_reads = [r for r in found["read"] if str(outside) in r]
    assert not outside_reads, outside_reads[:5]
    assert not found["exec"] and not found["compile"], found["exec"][:5] + found["compile"][:5]
    assert not found["net"], found["net"][:5]
    inside = [r for r in found["read"] if r.startswith(str(root))]
    assert inside, "the workspace was never read"
    return {"reads": len(found["read"]), "workspace_reads": len(inside)}


def _unshare_net() -> list[str]:
    """`unshare -rn` (a new network namespace with no interfaces) where the kernel allows it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, check=False)
    return [unshare, "-rn"] if probe.returncode == 0 else []


def test_the_cli_runs_offline_from_inside_the_workspace_and_runs_none_of_it(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    root, markers, outside, hooks = _make_world(tmp_path)
    audit = tmp_path / "cli-audit.log"
    base = tmp_path / "cache"
    env = _env(hooks, audit, root)
    netns = _unshare_net()
    console = Path(sys.executable).parent / "codesearch"
    script = [str(console)] if console.exists() else CLI
    runs = [
        [*netns, *CLI, "search", "json helper", "--path", ".", "--cache-dir", str(base), "--json"],
        [*netns, *script, "status", "--path", ".", "--cache-dir", str(base), "--json"],
    ]  # fmt: skip
    outputs = []
    for number, command in enumerate(runs):
        if number == 1 and console.exists():  # the console script cannot be shadowed
            (root / SHADOW).write_text(
                EVIL_PY.format(marker=str(markers), name=SHADOW, function="shadow_helper")
            )
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outputs.append(done.stdout)
    assert list(markers.iterdir()) == []
    assert '"evil_json_helper"' in outputs[0]  # indexed, then found: read, never run
    assert '"entities": ' in outputs[1]
    store = workspace_store_dir(root, base)
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    counts = _check_audit(audit, root, outside)
    figures.update(
        network="unshare -rn + audit hook" if netns else "audit hook only",
        network_attempts=0,
        workspace_files_that_would_run=len(EVIL_NAMES) + 1,
        markers_created=0,
        outside_reads=0,
        store_mode="0700",
        **counts,
    )


def test_the_server_runs_none_of_the_workspace_and_reads_only_inside_it(
    tmp_path: Path, figures: dict[str, Any]
) -> None:
    root, markers, outside, hooks = _make_world(tmp_path)
    audit = tmp_path / "server-audit.log"
    base = tmp_path / "cache"
    env = _env(hooks, audit, root, CODESEARCH_CACHE_DIR=str(base))
    server = RawServer(env, cwd=root)
    try:
        server.initialize([root])
        status = server.wait_idle()
        assert status["lastError"] is None
        hits = server.command("codesearch.search", {"query": "evil json helper", "limit": 50})
        names = {h["name"] for h in hits["result"]}
        assert {_function_name(rel) for rel in ("json.py", "setup.py", "conftest.py")} <= names
        assert "outside_secret" not in names
        for target in (outside / "secret.py", root / "leak.py", root / "leak_dir" / "secret.py"):
            server.notify("textDocument/didSave", {"textDocument": {"uri": target.as_uri()}})
            server.notify(
                "workspace/didChangeWatchedFiles",
                {"changes": [{"uri": target.as_uri(), "type": 2}]},
            )
        reply = server.command(
            "codesearch.findSimilar",
            {"uri": (outside / "secret.py").as_uri(), "position": {"line": 0, "character": 0}},
        )
        assert "error" in reply
        mark = len(server.statuses)
        (root / "json.py").write_text(
            (root / "json.py").read_text() + "\n\ndef added():\n    return 1\n"
        )
        server.notify(
            "textDocument/didSave", {"textDocument": {"uri": (root / "json.py").as_uri()}}
        )
        time.sleep(0.5)  # past the save debounce
        after = server.wait_idle(mark)
        assert after["entities"] == status["entities"] + 1  # json.py's new function, no more
        hits = server.command("codesearch.search", {"query": "outside secret", "limit": 50})
        assert "outside_secret" not in {h["name"] for h in hits["result"]}
        assert server.shutdown() == 0
    finally:
        server.kill()
    assert list(markers.iterdir()) == []
    assert stat.S_IMODE(workspace_store_dir(root, base).stat().st_mode) == 0o700
    counts = _check_audit(audit, root, outside)
    figures.update(markers_created=0, outside_reads=0, network_attempts=0, **counts)
