"""Decide which files of a workspace get indexed.

The scan only reads the tree: it never follows directory symlinks (so loops are impossible),
never writes, and prunes ignored folders before descending into them, so a workspace with a
huge ``node_modules`` costs one ``stat`` of that folder, not a walk of it.

Ignore rules, lowest precedence first (a later source that matches a path decides it):

1. built-in skips for vendored, generated and tool folders (``node_modules``, ``build``, ...)
   and minified bundles; a folder that holds a ``pyvenv.cfg`` is a virtualenv and is always
   skipped;
2. ``.git/info/exclude``;
3. ``.gitignore`` files, each relative to its own folder, deeper files winning;
4. ``.codesearchignore`` files (same syntax and nesting), so a user can hide tracked files
   from search, or bring back files that git ignores, without touching ``.gitignore``;
5. the ``exclude`` globs from the settings (gitignore syntax, relative to the root).

As in git, nothing below an ignored folder can be re-included.
"""

from __future__ import annotations

import logging
import os
import posixpath
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

from codesearch.parsing.languages import language_for_path

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_SIZE = 1_048_576

SKIP_TOO_LARGE = "too_large"
SKIP_SYMLINK_OUTSIDE = "symlink_outside"
SKIP_UNREADABLE = "unreadable"
SKIP_REASONS: tuple[str, ...] = (SKIP_TOO_LARGE, SKIP_SYMLINK_OUTSIDE, SKIP_UNREADABLE)

GITIGNORE = ".gitignore"
CODESEARCHIGNORE = ".codesearchignore"
IGNORE_FILE_NAMES: tuple[str, ...] = (GITIGNORE, CODESEARCHIGNORE)
VENV_MARKER = "pyvenv.cfg"

# Folders that hold vendored, generated or tool-owned files: indexing them drowns real code.
BUILTIN_SKIP_DIRS: frozenset[str] = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "vendor",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        "dist",
        "build",
        "target",
        "out",
        ".next",
        ".nuxt",
        "coverage",
        ".idea",
        ".vscode-test",
    }
)
BUILTIN_SKIP_DIR_SUFFIXES: tuple[str, ...] = (".egg-info",)
BUILTIN_SKIP_FILE_SUFFIXES: tuple[str, ...] = (".min.js", ".bundle.js")


@dataclass(frozen=True)
class ScannedFile:
    """One file the scan selected for indexing; size and mtime come from the same stat."""

    rel_path: str  # posix, relative to the root
    abs_path: Path
    size: int
    mtime_ns: int
    language: str


def _empty_skipped() -> dict[str, list[str]]:
    return {reason: [] for reason in SKIP_REASONS}


@dataclass
class ScanResult:
    """Selected files, sorted by ``rel_path``, plus what was left out and why.

    ``skipped`` always holds every reason of :data:`SKIP_REASONS` (possibly with an empty list),
    so callers can report them without key checks. Ignored entries and files in languages we do
    not index are only counted in ``ignored`` (an ignored folder counts once): listing them
    would be huge and useless.
    """

    files: list[ScannedFile] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=_empty_skipped)
    ignored: int = 0


@dataclass(frozen=True)
class _Layers:
    """The ignore files in force inside one folder: ``(prefix, spec)`` pairs, root first.

    ``prefix`` is the folder of the ignore file relative to the root, with a trailing slash
    ("" for the root), so a path is made relative to it by slicing.
    """

    git: tuple[tuple[str, GitIgnoreSpec], ...] = ()
    own: tuple[tuple[str, GitIgnoreSpec], ...] = ()


_NO_LAYERS = _Layers()
_DirSpecs = tuple[GitIgnoreSpec | None, GitIgnoreSpec | None]


def _has_patterns(spec: GitIgnoreSpec) -> bool:
    # Blank lines and comments compile to null patterns (include is None); skip such files.
    return any(pattern.include is not None for pattern in spec.patterns)


def _compile_lenient(lines: list[str], source: str) -> GitIgnoreSpec | None:
    """Compile ignore-file lines; git silently skips lines it cannot parse, and so do we."""
    try:
        spec = GitIgnoreSpec.from_lines(lines)
    except Exception:
        good: list[str] = []
        for line in lines:
            try:
                GitIgnoreSpec.from_lines([line])
            except Exception:
                log.debug("ignoring invalid pattern %r in %s", line, source)
            else:
                good.append(line)
        spec = GitIgnoreSpec.from_lines(good)
    return spec if _has_patterns(spec) else None


def _read_ignore_file(path: str) -> GitIgnoreSpec | None:
    """Parse one ignore file; a missing or unreadable file simply contributes no rules."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:  # a folder named .gitignore, permissions, ...
        log.debug("cannot read ignore file %s: %s", path, exc)
        return None
    return _compile_lenient(lines, path)


def _normalise_rel(rel_path: str) -> list[str] | None:
    """Split a root-relative path into parts; None when it points outside the root."""
    if os.sep != "/":
        rel_path = rel_path.replace(os.sep, "/")
    if rel_path.startswith("/"):
        return None
    norm = posixpath.normpath(rel_path)
    if norm == ".":
        return []
    if norm == ".." or norm.startswith("../"):
        return None
    return norm.split("/")


def _is_builtin_skip(name: str, is_dir: bool) -> bool:
    if is_dir:
        return name in BUILTIN_SKIP_DIRS or name.endswith(BUILTIN_SKIP_DIR_SUFFIXES)
    return name.endswith(BUILTIN_SKIP_FILE_SUFFIXES)


class IgnoreRules:
    """Ignore rules of one workspace root: answers "is this path ignored?" for scans and saves.

    Ignore files are read lazily for :meth:`is_ignored` and cached per folder; a full scan
    re-reads every ignore file it meets and refreshes the cache. When an ignore file is
    created, edited or deleted outside a scan, call :meth:`invalidate`.
    """

    def __init__(self, root: Path | str, exclude: Sequence[str] = ()) -> None:
        self._root = Path(os.path.abspath(root))
        self._root_str = str(self._root)
        self._exclude = self._compile_exclude(exclude)
        self._info_exclude: GitIgnoreSpec | None = None
        self._dir_specs: dict[str, _DirSpecs] = {}
        self._load_info_exclude()

    @property
    def root(self) -> Path:
        return self._root

    @staticmethod
    def _compile_exclude(exclude: Sequence[str]) -> GitIgnoreSpec | None:
        """Settings globs must be valid: a typo there should be reported, not ignored."""
        if isinstance(exclude, str):
            raise TypeError("exclude must be a sequence of globs, not a single string")
        lines = list(exclude)
        for glob in lines:
            try:
                GitIgnoreSpec.from_lines([glob])
            except Exception as exc:
                raise ValueError(f"invalid exclude glob {glob!r}: {exc}") from exc
        spec = GitIgnoreSpec.from_lines(lines)
        return spec if _has_patterns(spec) else None

    def _load_info_exclude(self) -> None:
        self._info_exclude = _read_ignore_file(
            os.path.join(self._root_str, ".git", "info", "exclude")
        )

    def invalidate(self, rel_dir: str | None = None) -> None:
        """Forget the cached ignore files of one folder (root-relative), or of all folders."""
        if rel_dir is None:
            self._dir_specs.clear()
            self._load_info_exclude()
            return
        parts = _normalise_rel(rel_dir)
        if parts is None:
            return
        prefix = "".join(part + "/" for part in parts)
        self._dir_specs.pop(prefix, None)
        if prefix == "" or prefix == ".git/":
            self._load_info_exclude()

    @staticmethod
    def is_ignore_file(rel_path: str) -> bool:
        """Whether a changed file is one whose edit should trigger :meth:`invalidate`."""
        return posixpath.basename(rel_path.replace(os.sep, "/")) in IGNORE_FILE_NAMES

    # -- per-folder ignore files -------------------------------------------------------------

    def _read_dir_specs(self, prefix: str, names: set[str] | None) -> _DirSpecs:
        """Read the ignore files of folder ``prefix``; ``names`` (a listing) saves failed opens."""
        folder = os.path.join(self._root_str, prefix) if prefix else self._root_str
        specs: list[GitIgnoreSpec | None] = []
        for file_name in IGNORE_FILE_NAMES:
            if names is not None and file_name not in names:
                specs.append(None)
            else:
                specs.append(_read_ignore_file(os.path.join(folder, file_name)))
        result: _DirSpecs = (specs[0], specs[1])
        self._dir_specs[prefix] = result
        return result

    def _child_layers(self, prefix: str, parent: _Layers, names: set[str] | None) -> _Layers:
        """Layers in force inside folder ``prefix``; reads its ignore files unless cached."""
        if names is None and prefix in self._dir_specs:
            git_spec, own_spec = self._dir_specs[prefix]
        else:
            git_spec, own_spec = self._read_dir_specs(prefix, names)
        if git_spec is None and own_spec is None:
            return parent
        return _Layers(
            git=(*parent.git, (prefix, git_spec)) if git_spec is not None else parent.git,
            own=(*parent.own, (prefix, own_spec)) if own_spec is not None else parent.own,
        )

    # -- decisions ---------------------------------------------------------------------------

    def _decide(self, rel: str, name: str, is_dir: bool, layers: _Layers) -> bool:
        """Whether one entry is ignored, judged by the rules in force in its folder only."""
        probe = rel + "/" if is_dir else rel
        if self._exclude is not None:
            verdict = self._exclude.check_file(probe).include
            if verdict is not None:
                return verdict
        for group in (layers.own, layers.git):
            for prefix, spec in reversed(group):
                verdict = spec.check_file(probe[len(prefix) :]).include
                if verdict is not None:
                    return verdict
        if self._info_exclude is not None:
            verdict = self._info_exclude.check_file(probe).include
            if verdict is not None:
                return verdict
        return _is_builtin_skip(name, is_dir)

    def is_ignored(self, rel_path: str, is_dir: bool = False) -> bool:
        """Whether a root-relative path is ignored, itself or through any parent folder.

        Paths that point outside the root count as ignored. Languages are not considered here:
        a ``README.md`` is not ignored, it is simply not a language we index.
        """
        parts = _normalise_rel(rel_path)
        if parts is None:
            return True
        layers = self._child_layers("", _NO_LAYERS, None)
        prefix = ""
        last = len(parts) - 1
        for index, name in enumerate(parts):
            entry_is_dir = is_dir or index < last
            rel = prefix + name
            if self._decide(rel, name, entry_is_dir, layers):
                return True
            if entry_is_dir:
                if os.path.isfile(os.path.join(self._root_str, rel, VENV_MARKER)):
                    return True
                prefix = rel + "/"
                if index < last:
                    layers = self._child_layers(prefix, layers, None)
        return False


# -- one file's verdict: shared by the full scan and the single-file path --------------------


@dataclass(frozen=True)
class SkippedFile:
    """A file left out on purpose, with its reason (one of SKIP_REASONS)."""

    rel_path: str
    reason: str


def is_within(path: str, root: str) -> bool:
    """Whether an absolute path is ``root`` or below it (plain string comparison)."""
    base = root if root.endswith(os.sep) else root + os.sep
    return path == root or path.startswith(base)


def printable_name(rel: str) -> str | None:
    """None when ``rel`` is valid Unicode; else an escaped form for reports.

    Names that are not valid UTF-8 decode to lone surrogates, which cannot be sent to the
    editor or stored as text, so such files cannot be indexed.
    """
    if rel.isascii():
        return None
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def judge_file(
    rel: str,
    path: str,
    language: str,
    read_stat: Callable[[], os.stat_result],
    max_file_size: int,
) -> ScannedFile | SkippedFile:
    """The last checks of a file that is not ignored and not a folder: it exists as a
    regular file (``read_stat`` follows links) and is within the size cap."""
    try:
        info = read_stat()
    except OSError:  # vanished, dangling or looping symlink, permissions
        return SkippedFile(rel, SKIP_UNREADABLE)
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device named like a source file
        return SkippedFile(rel, SKIP_UNREADABLE)
    if info.st_size > max_file_size:
        return SkippedFile(rel, SKIP_TOO_LARGE)
    return ScannedFile(rel, Path(path), info.st_size, info.st_mtime_ns, language)


# -- the scan ----------------------------------------------------------------------------------


def scan_workspace(
    root: Path,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    exclude: Sequence[str] = (),
    rules: IgnoreRules | None = None,
) -> ScanResult:
    """Walk ``root`` and return the files to index, sorted by ``rel_path``.

    ``exclude`` builds the rules when ``rules`` is None; pass one or the other. A folder that
    cannot be listed, or a file that vanishes mid-scan, is recorded under "unreadable" and the
    scan goes on. Raises NotADirectoryError when ``root`` is not an existing folder.
    """
    root_abs = Path(os.path.abspath(root))
    if not root_abs.is_dir():
        raise NotADirectoryError(f"workspace root is not a folder: {root_abs}")
    if rules is None:
        rules = IgnoreRules(root_abs, exclude)
    else:
        if exclude:
            raise ValueError("pass exclude globs to IgnoreRules, not with rules=")
        if rules.root != root_abs:
            raise ValueError(f"rules are for {rules.root}, not for {root_abs}")
        rules._load_info_exclude()
    real_root = os.path.realpath(root_abs)

    result = ScanResult()
    files = result.files
    outside = result.skipped[SKIP_SYMLINK_OUTSIDE]
    unreadable = result.skipped[SKIP_UNREADABLE]
    ignored = 0

    # Each item: (absolute folder, its root-relative prefix with trailing slash, parent layers).
    stack: list[tuple[str, str, _Layers]] = [(str(root_abs), "", _NO_LAYERS)]
    while stack:
        folder, prefix, parent_layers = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            log.debug("cannot list %s: %s", folder, exc)
            unreadable.append(prefix.rstrip("/") or ".")
            continue
        names = {entry.name for entry in entries}
        if prefix and VENV_MARKER in names:
            ignored += 1
            continue
        layers = rules._child_layers(prefix, parent_layers, names)

        for entry in entries:
            name = entry.name
            rel = prefix + name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()  # follows symlinks; a loop raises ELOOP
            except OSError:
                is_link, is_dir = True, False
            language = None if is_dir else language_for_path(name)
            if not is_dir and language is None:
                ignored += 1
                continue
            if rules._decide(rel, name, is_dir, layers):
                ignored += 1
                continue
            escaped = printable_name(rel)
            if escaped is not None:
                unreadable.append(escaped)
                continue

            if is_link:
                # Directory symlinks are never followed (no loops, no double indexing); file
                # symlinks are followed only when they land inside the root.
                if not is_within(os.path.realpath(entry.path), real_root):
                    outside.append(rel)
                    continue
                if is_dir:
                    ignored += 1
                    continue
            elif is_dir:
                stack.append((entry.path, rel + "/", layers))
                continue

            assert language is not None  # only directories have none, and they never get here
            verdict = judge_file(rel, entry.path, language, entry.stat, max_file_size)
            if isinstance(verdict, SkippedFile):
                result.skipped[verdict.reason].append(rel)
            else:
                files.append(verdict)

    files.sort(key=lambda scanned: scanned.rel_path)
    for paths in result.skipped.values():
        paths.sort()
    result.ignored = ignored
    return result
