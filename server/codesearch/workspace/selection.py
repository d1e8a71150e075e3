"""Which files of a workspace root get indexed, and under which relative path.

One answer for the full scan and for a single saved file: both go through the same ignore
rules and the same per-file checks (index/scan.py's `judge_file`), so a save never indexes a
file the next full pass would drop, nor drops one it would index. Before this module the
save path, the scan and the service each had their own answer, and they disagreed on files
under a symlinked folder, links leaving the root, FIFOs, undecodable names and files over
the size cap.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Sequence
from pathlib import Path

from codesearch.index.scan import (
    SKIP_SYMLINK_OUTSIDE,
    SKIP_UNREADABLE,
    IgnoreRules,
    ScannedFile,
    ScanResult,
    SkippedFile,
    is_within,
    judge_file,
    printable_name,
    scan_workspace,
)
from codesearch.parsing.languages import language_for_path

# What `select` says of one path: index it, leave it out on purpose (counted as skipped),
# or None: not a file to index at all (ignored, another language, gone, reached through a
# symlinked folder, outside the root); a manifest it had is dropped.
Verdict = ScannedFile | SkippedFile | None


class Selection:
    """The indexable files of one root: the full scan, one path, and relative paths."""

    def __init__(self, root: Path, exclude: Sequence[str], max_file_size: int) -> None:
        self.root = Path(os.path.abspath(root))
        self.max_file_size = max_file_size
        self.rules = IgnoreRules(self.root, exclude)
        self._root_str = str(self.root)
        self._real_root = os.path.realpath(self.root)

    def scan(self) -> ScanResult:
        """Every indexable file under the root, and what was left out and why."""
        return scan_workspace(self.root, max_file_size=self.max_file_size, rules=self.rules)

    def relative(self, path: Path | str) -> str | None:
        """The root-relative posix path that names `path`, or None outside the root.

        By name: the file need not exist (a deletion). A path that reaches the root through
        another spelling (a symlinked parent folder of the root) is named too; whether the
        file may be read is `select`'s question, not this one's.
        """
        candidate = os.fspath(path)
        if not os.path.isabs(candidate):
            candidate = os.path.join(self._root_str, candidate)
        absolute = os.path.abspath(candidate)
        rel = _inside(absolute, self._root_str)
        if rel is None:
            parent, name = os.path.split(absolute)
            real_parent = os.path.realpath(parent)
            rel = _inside(os.path.join(real_parent, name), self._real_root)
        return rel

    def select(self, rel: str) -> Verdict:
        """The scan's verdict on one root-relative path, reached without a walk.

        Checks: language; no symlinked folder on the way (the scan never follows folder
        links, and nothing behind one is read); then in the scan's order: ignore rules, a
        printable name, a symlink leaving the root, a regular file, the size cap.
        """
        language = language_for_path(rel)
        if language is None:
            return None
        absolute = os.path.join(self._root_str, rel)
        folder = posixpath.dirname(rel)
        if folder and os.path.realpath(os.path.dirname(absolute)) != os.path.join(
            self._real_root, folder
        ):
            # a symlinked folder on the way: the scan never walks into it, and nothing
            # behind it is read (not even its ignore files)
            return None
        if self.rules.is_ignored(rel):
            return None
        escaped = printable_name(rel)
        if escaped is not None:
            return SkippedFile(escaped, SKIP_UNREADABLE)
        try:
            info = os.lstat(absolute)
        except OSError:
            return None  # gone (or its folder cannot be listed: the scan reports the folder)
        if stat.S_ISLNK(info.st_mode):
            if not is_within(os.path.realpath(absolute), self._real_root):
                return SkippedFile(rel, SKIP_SYMLINK_OUTSIDE)
            try:
                if stat.S_ISDIR(os.stat(absolute).st_mode):
                    return None  # a link to a folder: never followed
            except OSError:
                pass  # dangling or looping: judge_file says unreadable
        elif stat.S_ISDIR(info.st_mode):
            return None
        return judge_file(rel, absolute, language, lambda: os.stat(absolute), self.max_file_size)


def _inside(path: str, root: str) -> str | None:
    """`path` relative to `root` in posix form when strictly inside it, else None."""
    base = root if root.endswith(os.sep) else root + os.sep
    if not path.startswith(base) or len(path) == len(base):
        return None
    rel = path[len(base) :]
    return rel.replace(os.sep, "/") if os.sep != "/" else rel
