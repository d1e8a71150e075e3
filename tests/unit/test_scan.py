"""Workspace scan and ignore rules, on real temporary trees."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from codesearch.index.scan import (
    SKIP_REASONS,
    IgnoreRules,
    ScanResult,
    scan_workspace,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")


def write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def can_list(folder: Path) -> bool:
    try:
        os.listdir(folder)
    except PermissionError:
        return False
    return True


def rels(result: ScanResult) -> list[str]:
    return [scanned.rel_path for scanned in result.files]


def test_selects_known_languages_sorted_with_stat_facts(tmp_path: Path) -> None:
    write(tmp_path, "src/b.py")
    write(tmp_path, "src/a.ts", "const a = 1;\n")
    write(tmp_path, "main.go", "package main\n")
    write(tmp_path, "README.md", "# hi\n")
    write(tmp_path, "data.json", "{}")

    result = scan_workspace(tmp_path)

    assert rels(result) == ["main.go", "src/a.ts", "src/b.py"]
    assert [f.language for f in result.files] == ["go", "typescript", "python"]
    first = result.files[0]
    info = os.stat(tmp_path / "main.go")
    assert first.abs_path == tmp_path / "main.go"
    assert (first.size, first.mtime_ns) == (info.st_size, info.st_mtime_ns)
    assert result.ignored == 2  # README.md and data.json: counted, not listed
    assert set(result.skipped) == set(SKIP_REASONS)
    assert all(paths == [] for paths in result.skipped.values())


def test_root_gitignore_in_a_folder_that_is_not_a_git_repo(tmp_path: Path) -> None:
    assert not (tmp_path / ".git").exists()
    write(tmp_path, ".gitignore", "# generated\n*_gen.py\nsecret/\n/top_only.py\n")
    write(tmp_path, "app.py")
    write(tmp_path, "api_gen.py")
    write(tmp_path, "pkg/more_gen.py")
    write(tmp_path, "secret/key.py")
    write(tmp_path, "top_only.py")
    write(tmp_path, "pkg/top_only.py")

    assert rels(scan_workspace(tmp_path)) == ["app.py", "pkg/top_only.py"]


def test_nested_gitignore_applies_only_below_its_folder(tmp_path: Path) -> None:
    write(tmp_path, "pkg/.gitignore", "local.py\n/anchored.py\n")
    for rel in ("local.py", "pkg/local.py", "pkg/sub/local.py", "other/local.py"):
        write(tmp_path, rel)
    write(tmp_path, "anchored.py")
    write(tmp_path, "pkg/anchored.py")
    write(tmp_path, "pkg/sub/anchored.py")

    assert rels(scan_workspace(tmp_path)) == [
        "anchored.py",
        "local.py",
        "other/local.py",
        "pkg/sub/anchored.py",
    ]


def test_negation_including_a_nested_file_overriding_the_root(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "gen/*\n!gen/keep.py\n*_pb2.py\nlogs/\n!logs/kept.py\n")
    write(tmp_path, "gen/drop.py")
    write(tmp_path, "gen/keep.py")
    write(tmp_path, "a_pb2.py")
    write(tmp_path, "proto/.gitignore", "!keep_pb2.py\n")
    write(tmp_path, "proto/keep_pb2.py")
    write(tmp_path, "proto/drop_pb2.py")
    write(tmp_path, "logs/kept.py")  # as in git, a file under an ignored folder stays ignored

    assert rels(scan_workspace(tmp_path)) == ["gen/keep.py", "proto/keep_pb2.py"]


def test_codesearchignore_hides_tracked_files_and_restores_git_ignored_ones(
    tmp_path: Path,
) -> None:
    write(tmp_path, ".gitignore", "generated.py\n")
    write(tmp_path, ".codesearchignore", "fixtures/\n!generated.py\n")
    write(tmp_path, "lib/.codesearchignore", "*_test.py\n")
    write(tmp_path, "generated.py")
    write(tmp_path, "fixtures/sample.py")
    write(tmp_path, "lib/core.py")
    write(tmp_path, "lib/core_test.py")
    write(tmp_path, "core_test.py")

    assert rels(scan_workspace(tmp_path)) == ["core_test.py", "generated.py", "lib/core.py"]


def test_git_info_exclude_is_honoured(tmp_path: Path) -> None:
    write(tmp_path, ".git/info/exclude", "scratch.py\n")
    write(tmp_path, ".git/hooks/hook.py")
    write(tmp_path, "scratch.py")
    write(tmp_path, "app.py")

    assert rels(scan_workspace(tmp_path)) == ["app.py"]


def test_extra_exclude_globs_win_over_ignore_files(tmp_path: Path) -> None:
    write(tmp_path, ".codesearchignore", "!docs/\n")
    write(tmp_path, "docs/conf.py")
    write(tmp_path, "cmd/main_test.go", "package main\n")
    write(tmp_path, "cmd/main.go", "package main\n")

    result = scan_workspace(tmp_path, exclude=["docs/", "*_test.go"])

    assert rels(result) == ["cmd/main.go"]


def test_invalid_exclude_glob_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid exclude glob"):
        IgnoreRules(tmp_path, exclude=["!"])
    with pytest.raises(TypeError):
        IgnoreRules(tmp_path, exclude="docs/")


def test_builtin_vendored_and_generated_folders_are_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "app.py")
    write(tmp_path, "node_modules/left-pad/index.js", "module.exports = 1;\n")
    write(tmp_path, "web/node_modules/x/index.js", "module.exports = 1;\n")
    write(tmp_path, ".venv/pyvenv.cfg", "home = /usr\n")
    write(tmp_path, ".venv/lib/site.py")
    write(tmp_path, "myenv/pyvenv.cfg", "home = /usr\n")
    write(tmp_path, "myenv/lib/mod.py")
    write(tmp_path, "env/settings.py")  # "env" is only skipped when it is a virtualenv
    write(tmp_path, "build/lib/copy.py")
    write(tmp_path, "pkg/__pycache__/mod.py")
    write(tmp_path, "pkg/mod.py")
    write(tmp_path, "pkg.egg-info/setup.py")
    write(tmp_path, "static/app.min.js", "var a=1;\n")
    write(tmp_path, "static/app.bundle.js", "var a=1;\n")
    write(tmp_path, "static/app.js", "var a = 1;\n")

    listed: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path: str) -> object:
        listed.append(os.path.relpath(path, tmp_path).replace(os.sep, "/"))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording_scandir)
    result = scan_workspace(tmp_path)
    monkeypatch.undo()

    assert rels(result) == ["app.py", "env/settings.py", "pkg/mod.py", "static/app.js"]
    never_entered = ("node_modules", "build", "pkg/__pycache__", "pkg.egg-info", "web/node_")
    assert not [p for p in listed if p.startswith(never_entered)]
    # A virtualenv is recognised by listing its top folder, never by walking into it.
    assert not [p for p in listed if p.startswith((".venv/", "myenv/"))]


def test_user_negation_brings_back_a_builtin_folder(tmp_path: Path) -> None:
    write(tmp_path, ".codesearchignore", "!build/\n")
    write(tmp_path, "build/tool.py")

    assert rels(scan_workspace(tmp_path)) == ["build/tool.py"]


def test_size_cap_records_too_large(tmp_path: Path) -> None:
    write(tmp_path, "big.py", "x" * 2001)
    write(tmp_path, "exact.py", "x" * 2000)

    result = scan_workspace(tmp_path, max_file_size=2000)

    assert rels(result) == ["exact.py"]
    assert result.skipped["too_large"] == ["big.py"]


@needs_symlinks
@pytest.mark.timeout(20)
def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    write(tmp_path, "pkg/mod.py")
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path / "pkg", target_is_directory=True)
    (tmp_path / "self").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")

    result = scan_workspace(tmp_path)

    assert rels(result) == ["pkg/mod.py"]
    assert result.skipped["unreadable"] == ["a.py", "b.py"]


@needs_symlinks
def test_symlinks_outside_the_root_are_recorded_and_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    outside = tmp_path / "elsewhere"
    write(outside, "stolen.py")
    write(outside, "lib/far.py")
    write(root, "real.py")
    (root / "stolen.py").symlink_to(outside / "stolen.py")
    (root / "far").symlink_to(outside / "lib", target_is_directory=True)
    (root / "alias.py").symlink_to(root / "real.py")

    result = scan_workspace(root)

    assert rels(result) == ["alias.py", "real.py"]  # a link inside the root is followed
    assert result.files[0].size == (root / "real.py").stat().st_size
    assert result.skipped["symlink_outside"] == ["far", "stolen.py"]


@needs_symlinks
def test_symlinked_folder_inside_the_root_is_not_followed(tmp_path: Path) -> None:
    write(tmp_path, "src/mod.py")
    (tmp_path / "linked").symlink_to(tmp_path / "src", target_is_directory=True)

    result = scan_workspace(tmp_path)

    assert rels(result) == ["src/mod.py"]
    assert all(paths == [] for paths in result.skipped.values())


@pytest.mark.skipif(sys.platform == "win32", reason="chmod cannot lock a folder on Windows")
def test_unreadable_folder_is_recorded_and_the_scan_goes_on(tmp_path: Path) -> None:
    write(tmp_path, "locked/inner.py")
    write(tmp_path, "open/mod.py")
    locked = tmp_path / "locked"
    locked.chmod(0)
    try:
        if IS_ROOT and can_list(locked):
            pytest.skip("running as root: a chmod 000 folder stays readable")
        result = scan_workspace(tmp_path)
    finally:
        locked.chmod(0o755)

    assert rels(result) == ["open/mod.py"]
    assert result.skipped["unreadable"] == ["locked"]


def test_spaces_and_non_ascii_names(tmp_path: Path) -> None:
    write(tmp_path, "my dir/ünïcødé file.py")
    write(tmp_path, "日本/コード.ts", "let a = 1;\n")
    write(tmp_path, ".gitignore", "my dir/skip me.py\n")
    write(tmp_path, "my dir/skip me.py")

    result = scan_workspace(tmp_path)

    assert rels(result) == ["my dir/ünïcødé file.py", "日本/コード.ts"]
    assert result.files[1].abs_path.read_text(encoding="utf-8") == "let a = 1;\n"


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux allows non-UTF-8 names")
def test_file_name_that_is_not_utf8_is_unreadable(tmp_path: Path) -> None:
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff.py"), "wb") as handle:
        handle.write(b"x = 1\n")

    result = scan_workspace(tmp_path)

    assert rels(result) == []
    assert result.skipped["unreadable"] == ["bad\\xff.py"]


def test_rules_object_is_refreshed_by_each_scan(tmp_path: Path) -> None:
    write(tmp_path, "a.py")
    write(tmp_path, "pkg/b.py")
    rules = IgnoreRules(tmp_path)
    assert rels(scan_workspace(tmp_path, rules=rules)) == ["a.py", "pkg/b.py"]

    write(tmp_path, "pkg/.gitignore", "b.py\n")

    assert rels(scan_workspace(tmp_path, rules=rules)) == ["a.py"]
    assert rules.is_ignored("pkg/b.py")


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        scan_workspace(tmp_path / "missing")
    with pytest.raises(ValueError, match="IgnoreRules"):
        scan_workspace(tmp_path, exclude=["x"], rules=IgnoreRules(tmp_path))
    with pytest.raises(ValueError, match="rules are for"):
        scan_workspace(tmp_path, rules=IgnoreRules(tmp_path / "other"))


def test_is_ignored_for_single_paths(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "dist-local/\n*.log.py\n")
    write(tmp_path, "pkg/.gitignore", "private/\n!keep.log.py\n")
    write(tmp_path, "tools/venv-x/pyvenv.cfg", "home = /usr\n")
    rules = IgnoreRules(tmp_path, exclude=["docs/**"])

    assert not rules.is_ignored("src/app.py")
    assert rules.is_ignored("dist-local/app.py")  # ignored parent folder
    assert rules.is_ignored("dist-local", is_dir=True)
    assert not rules.is_ignored("dist-local")  # a file of that name: "dist-local/" is dirs-only
    assert rules.is_ignored("a/b/trace.log.py")
    assert not rules.is_ignored("pkg/keep.log.py")  # nested negation, read lazily
    assert rules.is_ignored("pkg/private/deep/x.py")
    assert not rules.is_ignored("private/x.py")  # nested rules stay below their folder
    assert rules.is_ignored("node_modules/a/b.js")
    assert rules.is_ignored("web/build/out.js")
    assert rules.is_ignored("lib/jquery.min.js")
    assert rules.is_ignored("tools/venv-x/lib/mod.py")
    assert rules.is_ignored("docs/conf.py")
    assert rules.is_ignored("../elsewhere.py")
    assert rules.is_ignored("/etc/passwd.py")
    assert not rules.is_ignored("./src/../src/app.py")
    assert not rules.is_ignored("")


def test_is_ignored_sees_edits_after_invalidate(tmp_path: Path) -> None:
    rules = IgnoreRules(tmp_path)
    assert not rules.is_ignored("pkg/gen.py")

    write(tmp_path, "pkg/.gitignore", "gen.py\n")
    assert IgnoreRules.is_ignore_file("pkg/.gitignore")
    rules.invalidate("pkg")

    assert rules.is_ignored("pkg/gen.py")
    (tmp_path / "pkg" / ".gitignore").unlink()
    rules.invalidate()
    assert not rules.is_ignored("pkg/gen.py")


def test_ignore_file_with_bom_crlf_and_bad_lines(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_bytes(b"\xef\xbb\xbfgen.py\r\n!\r\n\\\r\nold/\r\n")
    write(tmp_path, "gen.py")
    write(tmp_path, "old/x.py")
    write(tmp_path, "app.py")

    assert rels(scan_workspace(tmp_path)) == ["app.py"]
