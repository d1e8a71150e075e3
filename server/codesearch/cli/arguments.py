"""The command line's grammar: the subcommands, the flags each one takes, and their checks.

Flags come in groups, and a subcommand takes only the groups that do something for it:
`status` reads the index and never embeds, so it has no --batch-size. Every flag's help
says what it does and its default (tests/e2e/test_cli.py walks every --help to check).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from codesearch import __version__
from codesearch.cli.errors import UsageError
from codesearch.config import (
    DEFAULT_BACKEND,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_FILE_SIZE,
    LOG_LEVELS,
    SERVER_SETTINGS,
    validator_for,
)
from codesearch.embedding.registry import BACKEND_NAMES
from codesearch.entities import ENTITY_KINDS
from codesearch.parsing.languages import SUPPORTED_LANGUAGES

PROG = "codesearch"
DEFAULT_LIMIT = 10


def help_pointer(command: str | None) -> str:
    """Where to read about a subcommand's flags (or the tool's, without one)."""
    return f"see `{PROG} {command} --help`" if command else f"see `{PROG} --help`"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} ({help_pointer(self.prog.removeprefix(PROG).strip())})")


# -- argument types: each turns a bad value into one clear line -------------------------------
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


def _one_of(choices: Sequence[str], what: str) -> Callable[[str], str]:
    """An argparse type: one of `choices`, in any case; the error lists them all."""

    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {text!r} (choose from {', '.join(choices)})"
            )
        return value

    return parse


def host_port(text: str) -> tuple[str, int]:
    """`HOST:PORT` with a port from 1 to 65535 (an IPv6 host in brackets: [::1]:2087)."""
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT with a port from 1 to 65535, got {text!r}"
        )
    return host, int(port)


# -- flag groups -------------------------------------------------------------------------------
def _folder(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--path",
        type=Path,
        default=Path("."),
        help="the folder whose index to use (default: the current folder)",
    )


def _store_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("index store")
    group.add_argument(
        "--cache-dir",
        default="",
        metavar="DIR",
        help="the folder that holds the index stores, one per folder indexed "
        "(default: $CODESEARCH_CACHE_DIR, else the user cache folder)",
    )


def _model_flags(parser: argparse.ArgumentParser, *, embeds: bool) -> None:
    group = parser.add_argument_group("model")
    purpose = "embed with" if embeds else "the index was built with (its store is checked)"
    group.add_argument(
        "--model",
        default="",
        metavar="NAME_OR_PATH",
        help=f"the model to {purpose}: a sentence-transformers name or a local folder "
        "(default: the packaged all-MiniLM-L6-v2, offline)",
    )
    group.add_argument(
        "--backend",
        type=_one_of(BACKEND_NAMES, "backend"),
        default=DEFAULT_BACKEND,
        metavar="{" + ",".join(BACKEND_NAMES) + "}",
        help="how the model runs: onnx-int8 (quantised, about twice as fast on a CPU) or "
        f"torch (fp32, as packaged) (default: {DEFAULT_BACKEND})",
    )
    if embeds:
        group.add_argument(
            "--threads",
            type=_non_negative,
            default=0,
            metavar="N",
            help="CPU threads the model may use (default: 0, every core)",
        )


# flag -> (Settings field, metavar, help); each flag is also a setting and is checked as one
SOURCE_FLAGS = {
    "--embed-url": (
        "embed_url",
        "URL",
        "embed with an OpenAI-compatible endpoint instead of the local model: its API base, "
        "e.g. http://gpu-box:8080/v1 (default: $CODESEARCH_EMBED_URL, else the local model); "
        "the API key is read from $CODESEARCH_EMBED_API_KEY",
    ),
    "--embed-model": (
        "embed_model",
        "NAME",
        "the model name the endpoint serves (default: $CODESEARCH_EMBED_MODEL)",
    ),
    "--embed-api-key-env": (
        "embed_api_key_env",
        "VAR",
        "the environment variable that holds the API key (default: CODESEARCH_EMBED_API_KEY)",
    ),
    "--embed-batch-size": ("embed_batch_size", "N", "texts per request to the endpoint"),
    "--embed-concurrency": ("embed_concurrency", "N", "requests in flight to the endpoint"),
    "--shared-cache": (
        "shared_cache",
        "URL",
        "a team's shared vector cache: redis://host:6379/0, rediss:// or unix:///socket "
        "(default: $CODESEARCH_SHARED_CACHE, else none); only content hashes and vectors go "
        "there",
    ),
    "--shared-cache-prefix": (
        "shared_cache_prefix",
        "PREFIX",
        "a team's namespace in the shared cache (default: $CODESEARCH_SHARED_CACHE_PREFIX)",
    ),
}


def _source_flags(parser: argparse.ArgumentParser) -> None:
    """Where vectors come from: an embedding endpoint and a shared cache, each flag checked
    as its setting is (config.SETTINGS), with its default from there."""
    specs = {spec.field: spec for spec in SERVER_SETTINGS}
    group = parser.add_argument_group("embedding endpoint and shared cache")
    for flag, (name, metavar, text) in SOURCE_FLAGS.items():
        spec = specs[name]
        default = f" (default: {spec.default})" if spec.type == "integer" else ""
        group.add_argument(
            flag,
            dest=name,
            default=spec.default,
            metavar=metavar,
            type=_setting_type(validator_for(spec), spec.type == "integer"),
            help=text + default,
        )


def _setting_type(check: Callable[[object], object], number: bool) -> Callable[[str], object]:
    """An argparse type from a setting's check; its message never repeats the value (a URL
    may hold a password)."""

    def parse(text: str) -> object:
        try:
            return check(int(text) if number else text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _indexing_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("indexing")
    group.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"texts per model call (default: {DEFAULT_BATCH_SIZE})",
    )
    group.add_argument(
        "--max-file-size",
        type=_positive,
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="BYTES",
        help="files larger than this are skipped, and listed as skipped "
        f"(default: {DEFAULT_MAX_FILE_SIZE} bytes, 1 MiB)",
    )
    group.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out paths matching this gitignore-style glob; repeat for more "
        "(default: none beyond .gitignore and .codesearchignore)",
    )


def _verbosity(parser: argparse.ArgumentParser, extra: str = "") -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help=f"{extra}log what happens; -vv for debug detail (default: warnings only)",
    )


def _log_level(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        type=_one_of(LOG_LEVELS, "log level"),
        default="info",
        metavar="{" + ",".join(LOG_LEVELS) + "}",
        help="what the server logs to stderr (default: info)",
    )


def _json(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def _no_update(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-update",
        action="store_true",
        help="use the index as it is, without bringing it up to date first",
    )


def _limit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"hits to show (default: {DEFAULT_LIMIT})",
    )


# -- the parser --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Semantic code search over functions and classes, on your machine.",
        epilog=f"Each command has its own help: `{PROG} COMMAND --help`.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "index",
        help="index a folder (incremental)",
        description="Index a folder: only files changed since the last run are read again.",
    )
    p.add_argument("path", type=Path, help="the folder to index")
    p.add_argument("--force", action="store_true", help="read and embed every file again")
    _json(p, "the summary (with every failed and skipped file)")
    _store_flags(p)
    _model_flags(p, embeds=True)
    _source_flags(p)
    _indexing_flags(p)
    _verbosity(p, "name each failed and skipped file; ")

    p = sub.add_parser(
        "search",
        help="search by meaning or by name",
        description="Search a folder's code by meaning and by name, best "
        "first. Brings the index up to date first.",
    )
    p.add_argument("query", help="what to look for: words, a question, or an identifier")
    _folder(p)
    _limit(p)
    p.add_argument(
        "--language",
        type=_one_of(SUPPORTED_LANGUAGES, "language"),
        metavar="LANG",
        help=f"only this language, one of {', '.join(SUPPORTED_LANGUAGES)} (default: all)",
    )
    p.add_argument(
        "--kind",
        type=_one_of(ENTITY_KINDS, "kind"),
        metavar="KIND",
        help=f"only this kind of entity, one of {', '.join(ENTITY_KINDS)} (default: all)",
    )
    p.add_argument(
        "--glob",
        metavar="GLOB",
        help="only paths matching this glob, relative to the folder, e.g. 'src/*' "
        "(default: all paths)",
    )
    _no_update(p)
    _json(p, "the hits")
    _store_flags(p)
    _model_flags(p, embeds=True)
    _source_flags(p)
    _indexing_flags(p)
    _verbosity(p)

    p = sub.add_parser(
        "similar",
        help="code similar to the function at FILE:LINE",
        description="Find code that does what the function or class at FILE:LINE does.",
    )
    p.add_argument(
        "location",
        metavar="FILE:LINE",
        help="a file (relative to the current folder or to --path) and a line in it, from 1",
    )
    _folder(p)
    _limit(p)
    _no_update(p)
    _json(p, "the hits")
    _store_flags(p)
    _model_flags(p, embeds=True)
    _source_flags(p)
    _indexing_flags(p)
    _verbosity(p)

    p = sub.add_parser(
        "status",
        help="what is indexed, and what failed or was skipped",
        description="Show what is indexed for a folder, when, the store's "
        "size, and each failed and skipped file with its reason. Reads the "
        "index only: never indexes, and writes nothing for a folder never "
        "indexed.",
    )
    _folder(p)
    _json(p, "the status (with every failed and skipped file)")
    _store_flags(p)
    _model_flags(p, embeds=False)
    _source_flags(p)
    _verbosity(p)

    p = sub.add_parser(
        "clear",
        help="delete a folder's index",
        description="Delete a folder's index, and the old copies of it that "
        "were moved aside (damaged, another model).",
    )
    _folder(p)
    _store_flags(p)
    _model_flags(p, embeds=False)
    _source_flags(p)
    _verbosity(p)

    p = sub.add_parser(
        "mcp",
        help="serve the index to coding agents over MCP (stdio)",
        description="Serve search to coding agents over the Model Context Protocol, on "
        "stdio: tools search_code, find_similar and index_status. Indexes the folders "
        "given and the client's roots, and keeps them fresh by watching the disk.",
    )
    p.add_argument(
        "--path",
        type=Path,
        action="append",
        default=[],
        help="a folder to index and search; repeat for several (default: none beyond the "
        "client's roots)",
    )
    p.add_argument(
        "--no-watch",
        action="store_true",
        help="do not watch the folders for changes on disk (default: watch them)",
    )
    _log_level(p)
    _store_flags(p)
    _model_flags(p, embeds=True)
    _source_flags(p)
    _indexing_flags(p)

    p = sub.add_parser(
        "serve",
        help="run the language server",
        description="Run the language server, on stdio unless --tcp is given.",
    )
    p.add_argument(
        "--tcp",
        type=host_port,
        metavar="HOST:PORT",
        help="listen on TCP instead of stdio, e.g. 127.0.0.1:2087 (default: stdio)",
    )
    _log_level(p)
    return parser


def subcommand_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's own parser, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse a command line; raises UsageError naming the subcommand's own help.

    argparse reports a flag a subcommand does not know from the top-level parser, whose
    message would point at `codesearch --help`: such flags are handed back to the
    subcommand's parser to report instead.
    """
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        subcommand_parsers(parser)[args.command].error(
            f"unrecognized arguments: {' '.join(extras)}"
        )
    return args
