"""One answer to "is this path indexable, and under which relative path?": the full scan
and a single saved file must reach the same verdict on every kind of path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from codesearch.index.scan import ScannedFile, SkippedFile
from codesearch.workspace.selection import Selection, Verdict

MAX = 2000


def write(root: Path, rel: str, text: str = "def f():\n    return 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def scan_verdict(selection: Selection, rel: str) -> Verdict:
    """What the full scan says of one path: selected, skipped (with reason) or nothing."""
    result = selection.scan()
    for scanned in result.files:
        if scanned.rel_path == rel:
            return scanned
    for reason, paths in result.skipped.items():
        if rel in paths:
            return SkippedFile(rel, reason)
    return None


def summary(verdict: Verdict) -> tuple[str, ...]:
    if isinstance(verdict, ScannedFile):
        return ("index", verdict.rel_path, str(verdict.size), verdict.language)
    if isinstance(verdict, SkippedFile):
        return ("skip", verdict.rel_path, verdict.reason)
    return ("none",)


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    write(root, "src/app.py")
    write(root, ".gitignore", "ignored/\n*.gen.py\n")
    write(root, "ignored/skip.py")
    write(root, "src/model.gen.py")
    write(root, "README.md", "# not a language we index\n")
    write(root, "big.py", "x = 1\n" * 1000)  # over MAX
    write(root, "node_modules/lib/index.js", "function x() {}\n")
    write(root, "tools/env/pyvenv.cfg", "home = /usr\n")
    write(root, "tools/env/lib/site.py")
    write(outside, "secret.py")
    write(outside, "pkg/deep.py")
    os.symlink(outside / "secret.py", root / "leaves.py")  # a file link leaving the root
    os.symlink(root / "src" / "app.py", root / "alias.py")  # a file link inside the root
    os.symlink(root / "src", root / "linked_src", target_is_directory=True)  # folder link in
    os.symlink(outside / "pkg", root / "linked_out", target_is_directory=True)  # folder link out
    os.symlink(root / "missing.py", root / "dangling.py")
    os.mkfifo(root / "pipe.py")
    return root, outside


CASES = [
    "src/app.py",  # an ordinary file
    "ignored/skip.py",  # under an ignored folder
    "src/model.gen.py",  # ignored by pattern
    "README.md",  # a language we do not index
    "big.py",  # over the size cap
    "node_modules/lib/index.js",  # a built-in skip
    "tools/env/lib/site.py",  # inside a virtualenv
    "leaves.py",  # a link leaving the root
    "alias.py",  # a link staying inside
    "linked_src/app.py",  # through a folder link that stays inside: the scan never enters it
    "linked_out/deep.py",  # through a folder link that leaves the root
    "dangling.py",  # a link to nothing
    "pipe.py",  # a FIFO named like source
    "nowhere/none.py",  # does not exist
]


@pytest.mark.parametrize("rel", CASES)
def test_single_path_agrees_with_the_full_scan(tree: tuple[Path, Path], rel: str) -> None:
    root, _ = tree
    selection = Selection(root, (), MAX)
    assert summary(selection.select(rel)) == summary(scan_verdict(selection, rel))


def test_the_verdicts_themselves(tree: tuple[Path, Path]) -> None:
    root, _ = tree
    selection = Selection(root, (), MAX)
    verdicts = {
        rel: summary(selection.select(rel))[0:1] + summary(selection.select(rel))[2:3]
        for rel in CASES
    }
    assert verdicts == {
        "src/app.py": ("index", "22"),
        "ignored/skip.py": ("none",),
        "src/model.gen.py": ("none",),
        "README.md": ("none",),
        "big.py": ("skip", "too_large"),
        "node_modules/lib/index.js": ("none",),
        "tools/env/lib/site.py": ("none",),
        "leaves.py": ("skip", "symlink_outside"),
        "alias.py": ("index", "22"),
        "linked_src/app.py": ("none",),
        "linked_out/deep.py": ("none",),
        "dangling.py": ("skip", "unreadable"),
        "pipe.py": ("skip", "unreadable"),
        "nowhere/none.py": ("none",),
    }


def test_an_undecodable_name_is_reported_the_same_way(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    raw = os.path.join(os.fsencode(root), b"bad_\xff.py")
    with open(raw, "wb") as handle:
        handle.write(b"def f():\n    return 1\n")
    selection = Selection(root, (), MAX)
    rel = os.fsdecode(b"bad_\xff.py")
    assert selection.select(rel) == SkippedFile("bad_\\xff.py", "unreadable")
    assert selection.scan().skipped["unreadable"] == ["bad_\\xff.py"]


def test_exclude_globs_apply_to_both(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write(root, "docs/conf.py")
    selection = Selection(root, ("docs/",), MAX)
    assert selection.select("docs/conf.py") is None
    assert selection.scan().files == []


def test_relative_paths(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write(root, "pkg/mod.py")
    selection = Selection(root, (), MAX)
    assert selection.relative(root / "pkg" / "mod.py") == "pkg/mod.py"
    assert selection.relative(str(root / "pkg" / ".." / "pkg" / "mod.py")) == "pkg/mod.py"
    assert selection.relative(root / "new file.py") == "new file.py"  # need not exist yet
    assert selection.relative("pkg/mod.py") == "pkg/mod.py"  # relative to the root
    assert selection.relative(tmp_path / "other.py") is None
    assert selection.relative(tmp_path / "ws-sibling" / "a.py") is None
    assert selection.relative(root) is None
    assert selection.relative(root / ".." / "x.py") is None


def test_relative_accepts_another_spelling_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write(root, "pkg/mod.py")
    alias = tmp_path / "alias"
    alias.symlink_to(root, target_is_directory=True)
    assert Selection(root, (), MAX).relative(alias / "pkg" / "mod.py") == "pkg/mod.py"
    assert Selection(alias, (), MAX).relative(root / "pkg" / "mod.py") == "pkg/mod.py"
    # named inside the root, but read through a link leaving it: named, never selected
    write(tmp_path, "outside.py")
    (root / "sneaky.py").symlink_to(tmp_path / "outside.py")
    selection = Selection(root, (), MAX)
    assert selection.relative(root / "sneaky.py") == "sneaky.py"
    assert selection.select("sneaky.py") == SkippedFile("sneaky.py", "symlink_outside")


def test_nothing_behind_a_folder_link_leaving_the_root_is_read(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not even its ignore files: the save path once read them while asking whether a file
    behind the link was ignored."""
    from codesearch.index import scan

    root, outside = tree
    write(outside, "pkg/.gitignore", "*.tmp\n")
    read: list[str] = []
    real_read = scan._read_ignore_file

    def spy(path: str) -> Any:
        read.append(path)
        return real_read(path)

    monkeypatch.setattr(scan, "_read_ignore_file", spy)
    selection = Selection(root, (), MAX)
    assert selection.select("linked_out/deep.py") is None
    assert not [p for p in read if str(outside) in p or "linked_out" in p]
