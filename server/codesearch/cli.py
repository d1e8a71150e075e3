"""`codesearch index|search|similar|status|clear|serve|mcp`: the engine from a terminal."""

from __future__ import annotations

import os
import sys

# `python -m codesearch` puts the current folder first on sys.path, and the current folder
# is usually the user's project (editors start servers there): a json.py or numpy.py in it
# would be imported, and run, by the imports below. codesearch itself is imported already,
# so drop that entry first. Console scripts and `python -P` never add it.
try:
    if (
        not getattr(sys.flags, "safe_path", False)
        and getattr(getattr(sys.modules.get("__main__"), "__spec__", None), "name", "")
        == "codesearch.__main__"
        and sys.path
        and os.path.realpath(sys.path[0] or ".") == os.path.realpath(os.getcwd())
    ):
        del sys.path[0]
except OSError:  # the current folder was deleted: nothing can be imported from it
    pass

import argparse
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from codesearch import __version__
from codesearch.config import (
    DEFAULT_BACKEND,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_FILE_SIZE,
    LOG_LEVELS,
    Settings,
)
from codesearch.embedding.registry import BACKEND_NAMES
from codesearch.embedding.types import ModelLoadError
from codesearch.entities import ENTITY_KINDS
from codesearch.search import Hit, SearchFilters
from codesearch.store import StoreError
from codesearch.workspace import IndexProgress, IndexSummary, Workspace

log = logging.getLogger("codesearch")


class UsageError(Exception):
    """A bad flag or argument: one line to stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `minimum`, with a clear message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive = _whole_number(1)
_non_negative = _whole_number(0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="codesearch",
        description="Semantic code search over functions and classes, on your machine.",
    )
    parser.add_argument("--version", action="version", version=f"codesearch {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("--model", default="", help="model name or path (default: packaged)")
    common.add_argument("--cache-dir", default="", help="base folder for index stores")
    common.add_argument("--batch-size", type=_positive, default=DEFAULT_BATCH_SIZE)
    common.add_argument("--max-file-size", type=_positive, default=DEFAULT_MAX_FILE_SIZE)
    common.add_argument("--exclude", action="append", default=[], help="extra ignore glob")
    common.add_argument("--threads", type=_non_negative, default=0, help="0 = all cores")
    common.add_argument(
        "--backend",
        choices=list(BACKEND_NAMES),
        default=DEFAULT_BACKEND,
        help="onnx-int8 (quantised, about twice as fast on CPU; the default) or torch (fp32)",
    )
    common.add_argument("-v", "--verbose", action="count", default=0)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("index", parents=[common], help="index a folder (incremental)")
    p.add_argument("path", type=Path)
    p.add_argument("--force", action="store_true", help="re-embed everything")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("search", parents=[common], help="search by meaning or by name")
    p.add_argument("query")
    p.add_argument("--path", type=Path, default=Path("."))
    p.add_argument("--limit", type=_positive, default=10)
    p.add_argument("--language")
    p.add_argument("--kind", choices=ENTITY_KINDS)
    p.add_argument("--glob", help="only paths matching this glob")
    p.add_argument("--no-update", action="store_true", help="search the index as it is")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("similar", parents=[common], help="code similar to FILE:LINE")
    p.add_argument("location", help="FILE:LINE (1-based line)")
    p.add_argument("--path", type=Path, default=Path("."))
    p.add_argument("--limit", type=_positive, default=10)
    p.add_argument("--no-update", action="store_true")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("status", parents=[common], help="what is indexed")
    p.add_argument("--path", type=Path, default=Path("."))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("clear", parents=[common], help="delete a folder's index")
    p.add_argument("--path", type=Path, default=Path("."))

    p = sub.add_parser(
        "mcp", parents=[common], help="serve the index to coding agents over MCP (stdio)"
    )
    p.add_argument(
        "--path",
        type=Path,
        action="append",
        default=[],
        help="a folder to index and search (repeat for several; the client's roots are added)",
    )
    p.add_argument(
        "--no-watch", action="store_true", help="do not watch the folders for changes on disk"
    )
    p.add_argument("--log-level", default="info", choices=LOG_LEVELS, help="stderr log level")

    p = sub.add_parser("serve", help="run the language server (stdio)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        model=args.model,
        store_dir=args.cache_dir,
        batch_size=args.batch_size,
        max_file_size=args.max_file_size,
        exclude=tuple(args.exclude),
        threads=args.threads,
        backend=args.backend,
    )


def _open(args: argparse.Namespace, path: Path) -> Workspace:
    if not path.exists():
        raise UsageError(f"path does not exist: {path}")
    if not path.is_dir():
        raise UsageError(f"not a folder: {path}")
    workspace = Workspace(path, _settings(args)).open()
    recovered = workspace.store.recovered if workspace.store is not None else None
    if recovered:
        print(f"codesearch: warning: {recovered}", file=sys.stderr)
    return workspace


class ProgressBar:
    """A one-line progress bar on a terminal; silent when stderr is not a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.perf_counter()
        self._last = 0.0

    def __call__(self, progress: IndexProgress) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if progress.phase == "embedding" and now - self._last < 0.1 and progress.done:
            return
        self._last = now
        if progress.phase == "done":
            self.stream.write("\r\033[K")
        elif progress.phase == "embedding" and progress.total:
            width = 30
            filled = int(width * progress.done / progress.total)
            rate = progress.done / max(now - self.started, 1e-6)
            self.stream.write(
                f"\r\033[KIndexing [{'#' * filled}{'.' * (width - filled)}] "
                f"{progress.done}/{progress.total} entities ({rate:.0f}/s)"
            )
        else:
            self.stream.write(f"\r\033[K{progress.phase.capitalize()}...")
        self.stream.flush()


def _summary_line(summary: IndexSummary) -> str:
    line = (
        f"Indexed {summary.files} files, {summary.entities} entities "
        f"({summary.embedded} embedded, {summary.cached} cached, "
        f"{summary.unchanged} files unchanged, {summary.removed} removed"
    )
    if summary.failed:
        line += f", {summary.failed} failed"
    if summary.skipped:
        line += f", {summary.skipped} skipped"
    return line + f") in {summary.seconds:.1f}s"


def _print_hits(hits: Sequence[Hit], root: Path, as_json: bool) -> None:
    if as_json:
        print(json.dumps([h.to_json() for h in hits], indent=2))
        return
    if not hits:
        print("No results.")
        return
    if all(hit.weak for hit in hits):
        print("No strong match: these are the closest, but may not be what you asked for.")
    for number, hit in enumerate(hits, 1):
        weak = " (weak)" if hit.weak else ""
        print(
            f"{number:2}. {hit.path}:{hit.start_line}  {hit.kind} {hit.name}  ({hit.score:.4f})"
            + weak
        )
        if hit.signature:
            print(f"      {hit.signature[:120]}")
        if hit.matched:
            print(f"      matched: {', '.join(hit.matched)}")


def _update(workspace: Workspace, quiet: bool) -> IndexSummary:
    bar = ProgressBar(sys.stderr)
    bar.enabled = bar.enabled and not quiet
    return workspace.index(progress=bar)


def _parse_location(text: str) -> tuple[str, int]:
    file_part, sep, line_part = text.rpartition(":")
    if not sep or not file_part or not line_part.isdigit() or int(line_part) < 1:
        raise UsageError(f"expected FILE:LINE with a line number from 1, got {text!r}")
    return file_part, int(line_part)


def run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from codesearch.lsp.server import serve

        return serve(tcp=args.tcp, log_level=args.log_level)
    if args.command == "mcp":
        from codesearch.mcp import serve as serve_mcp

        return serve_mcp(
            args.path, _settings(args), watch=not args.no_watch, log_level=args.log_level
        )
    if args.command == "index":
        with _open(args, args.path) as workspace:
            bar = ProgressBar(sys.stderr)
            summary = workspace.index(force=args.force, progress=bar)
            if args.json:
                print(json.dumps(summary.to_json(), indent=2))
            else:
                print(_summary_line(summary))
            return 0
    if args.command == "search":
        filters = SearchFilters(args.language, args.kind, args.glob)
        with _open(args, args.path) as workspace:
            if not args.no_update:
                _update(workspace, args.json)
            hits = workspace.search(args.query, limit=args.limit, filters=filters)
            _print_hits(hits, workspace.root, args.json)
            return 0
    if args.command == "similar":
        file_part, line = _parse_location(args.location)
        with _open(args, args.path) as workspace:
            target = Path(file_part)
            if not target.is_absolute():
                target = (
                    (Path.cwd() / target)
                    if (Path.cwd() / target).exists()
                    else (workspace.root / target)
                )
            if workspace.relative(target) is None:
                raise UsageError(f"{file_part} is not inside {workspace.root}")
            if not args.no_update:
                _update(workspace, args.json)
            if workspace.entity_at(target, line) is None:
                raise UsageError(f"no indexed function or class at {file_part}:{line}")
            _print_hits(
                workspace.similar(target, line, limit=args.limit), workspace.root, args.json
            )
            return 0
    if args.command == "status":
        with _open(args, args.path) as workspace:
            status = workspace.status()
            if args.json:
                print(json.dumps(status, indent=2))
            else:
                counts = status["skipped"]
                skipped = sum(counts.values()) if isinstance(counts, dict) else 0
                print(
                    f"{status['root']}: {status['files']} files, {status['entities']} entities, "
                    f"{status['failed_files']} failed files, {status['failed_entities']} failed "
                    f"entities, {skipped} skipped; model {status['model']}; store {status['store']}"
                )
            return 0
    if args.command == "clear":
        with _open(args, args.path) as workspace:
            workspace.clear()
            print(f"Cleared the index of {workspace.root}")
            return 0
    raise UsageError(f"unknown command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"codesearch: error: {exc}", file=sys.stderr)
        return 2
    level = logging.WARNING - 10 * min(getattr(args, "verbose", 0), 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(args)
    except UsageError as exc:
        print(f"codesearch: error: {exc}", file=sys.stderr)
        return 2
    except (ModelLoadError, StoreError, FileNotFoundError, PermissionError) as exc:
        print(f"codesearch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("codesearch: interrupted; what was embedded is kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
