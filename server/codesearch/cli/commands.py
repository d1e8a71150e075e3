"""One function per subcommand: turn the parsed flags into a request, have the work done
(`local`: in this process), and print the answer (`render`).

The work and the printing are apart on purpose: a subcommand that could ask a process
already indexing the folder (one indexer per root) swaps the `local.*` call for one that
asks it, and prints the same data the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from codesearch.cli import local, render
from codesearch.cli.arguments import SOURCE_FLAGS
from codesearch.cli.errors import CommandFailed, UsageError
from codesearch.cli.progress import ProgressBar
from codesearch.config import Settings
from codesearch.search import SearchFilters
from codesearch.workspace import IndexSummary, WorkspaceStatus
from codesearch.workspace.reports import index_report_json


def warn(message: str) -> None:
    print(f"codesearch: warning: {message}", file=sys.stderr)


def _settings(args: argparse.Namespace) -> Settings:
    """The flags as settings; a subcommand without a flag group gets its defaults."""
    defaults = Settings()
    return Settings(
        model=args.model,
        store_dir=args.cache_dir,
        backend=args.backend,
        batch_size=getattr(args, "batch_size", defaults.batch_size),
        max_file_size=getattr(args, "max_file_size", defaults.max_file_size),
        exclude=tuple(getattr(args, "exclude", ())),
        threads=getattr(args, "threads", defaults.threads),
        **{name: getattr(args, name) for name, _, _ in SOURCE_FLAGS.values()},
    )


def _folder(args: argparse.Namespace, path_flag: str = "path") -> local.Folder:
    return local.Folder(getattr(args, path_flag), _settings(args))


def _bar(args: argparse.Namespace) -> ProgressBar:
    """The progress bar on stderr; not with --json, whose readers are scripts."""
    return ProgressBar(sys.stderr, enabled=not getattr(args, "json", False))


def index(args: argparse.Namespace) -> int:
    with _bar(args) as bar:
        summary, status = local.index_folder(
            _folder(args), force=args.force, progress=bar, warn=warn
        )
    if args.json:
        print(render.json_text(index_report_json(summary, status)))
        return _endpoint_status(status, summary)
    print(render.summary_line(summary))
    if args.verbose:
        for line in render.problem_lines(status.problems):
            print(line)
    elif (hint := render.problems_hint(status.problems, status.root)) is not None:
        print(hint)
    return _endpoint_status(status, summary)


def _endpoint_status(status: WorkspaceStatus, summary: IndexSummary) -> int:
    """An embedding endpoint that is down: entities waiting for it make the run fail (the
    log said why, once); with nothing to embed, one warning and success."""
    if status.embedding_problem is None:
        return 0
    if summary.failed:
        return 1
    warn(status.embedding_problem)
    return 0


def search(args: argparse.Namespace) -> int:
    filters = SearchFilters(args.language, args.kind, args.glob)
    with _bar(args) as bar:
        hits = local.search_folder(
            _folder(args),
            args.query,
            limit=args.limit,
            filters=filters,
            update=not args.no_update,
            progress=bar,
            warn=warn,
        )
    notice = getattr(hits, "notice", None)
    if notice:
        print(f"codesearch: note: {notice}; ranked by keywords", file=sys.stderr)
    print(render.hits_json(hits) if args.json else render.hits_text(hits))
    return 0


def _parse_location(text: str) -> tuple[str, int]:
    file_part, sep, line_part = text.rpartition(":")
    if not sep or not file_part or not line_part.isdigit() or int(line_part) < 1:
        raise UsageError(f"expected FILE:LINE with a line number from 1, got {text!r}")
    return file_part, int(line_part)


def similar(args: argparse.Namespace) -> int:
    file, line = _parse_location(args.location)
    with _bar(args) as bar:
        hits = local.similar_to(
            _folder(args),
            file,
            line,
            limit=args.limit,
            update=not args.no_update,
            progress=bar,
            warn=warn,
        )
    print(render.hits_json(hits) if args.json else render.hits_text(hits))
    return 0


def status(args: argparse.Namespace) -> int:
    report = local.folder_status(_folder(args), warn=warn)
    print(render.json_text(report.to_json()) if args.json else render.status_text(report))
    return 0


def clear(args: argparse.Namespace) -> int:
    cleared = local.clear_folder(_folder(args), warn=warn)
    if cleared.had_index:
        print(f"Cleared the index of {cleared.root} (store {cleared.store})")
    else:
        print(f"{cleared.root} has no index to clear")
    if cleared.copies:
        print(f"Deleted {render.plural(len(cleared.copies), 'old copy', 'old copies')} of it:")
        for copy in cleared.copies:
            print(f"  {copy}")
    return 0


def serve(args: argparse.Namespace) -> int:
    from codesearch.lsp.server import serve as run_server

    if args.tcp is None:
        return run_server(log_level=args.log_level)
    host, port = args.tcp
    try:
        return run_server(tcp=(host, port), log_level=args.log_level)
    except OSError as exc:  # the port is taken, or the host is not one of this machine's
        raise CommandFailed(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def mcp(args: argparse.Namespace) -> int:
    from codesearch.mcp import serve as serve_mcp

    settings = _settings(args)
    return serve_mcp(args.path, settings, watch=not args.no_watch, log_level=args.log_level)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "index": index,
    "search": search,
    "similar": similar,
    "status": status,
    "clear": clear,
    "serve": serve,
    "mcp": mcp,
}
