"""Path arguments stay inside the workspace roots, however they are spelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesearch.confine import OutsideRootsError, confine


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path, Path]:
    app, lib, outside = tmp_path / "app", tmp_path / "lib", tmp_path / "outside"
    for folder in (app / "src", lib, outside):
        folder.mkdir(parents=True)
    (app / "src" / "main.py").write_text("")
    (lib / "util.py").write_text("")
    (lib / "main.py").write_text("")
    (outside / "secret.py").write_text("")
    (app / "escape.py").symlink_to(outside / "secret.py")
    (app / "inner.py").symlink_to(app / "src" / "main.py")
    return app, lib, outside


def test_relative_and_absolute_paths_inside_a_root(roots: tuple[Path, Path, Path]) -> None:
    app, lib, _ = roots
    assert confine("src/main.py", [app, lib]) == (app, app / "src" / "main.py")
    assert confine("util.py", [app, lib]) == (lib, lib / "util.py")
    assert confine(str(lib / "util.py"), [app, lib]) == (lib, lib / "util.py")
    assert confine("src/../src/main.py", [app]) == (app, app / "src" / "main.py")
    assert confine("inner.py", [app]) == (app, app / "src" / "main.py")  # a link kept inside
    assert confine("../lib/util.py", [app, lib]) == (lib, lib / "util.py")  # another root
    assert confine("new.py", [app]) == (app, app / "new.py")  # need not exist


@pytest.mark.parametrize(
    "raw",
    ["../outside/secret.py", "src/../../outside/secret.py", "escape.py", "/etc/passwd", "", " ",
     "a\x00b", "~/x.py"],
)  # fmt: skip
def test_anything_reaching_outside_is_refused(roots: tuple[Path, Path, Path], raw: str) -> None:
    app, _, outside = roots
    with pytest.raises(OutsideRootsError):
        confine(raw.replace("/outside", f"/{outside.name}"), [app])
    with pytest.raises(OutsideRootsError):
        confine(str(outside / "secret.py"), [app])


def test_a_name_in_several_roots_must_be_given_absolute(roots: tuple[Path, Path, Path]) -> None:
    app, lib, _ = roots
    (app / "main.py").write_text("")
    with pytest.raises(OutsideRootsError, match="several"):
        confine("main.py", [app, lib])
    assert confine(str(app / "main.py"), [app, lib]) == (app, app / "main.py")


def test_nested_roots_name_the_innermost(tmp_path: Path) -> None:
    outer, inner = tmp_path, tmp_path / "pkg"
    inner.mkdir()
    (inner / "a.py").write_text("")
    assert confine(str(inner / "a.py"), [outer, inner]) == (inner, inner / "a.py")
    assert confine("pkg/a.py", [outer, inner]) == (inner, inner / "a.py")


def test_no_roots_is_a_clear_error() -> None:
    with pytest.raises(OutsideRootsError, match="no workspace folder"):
        confine("a.py", [])
