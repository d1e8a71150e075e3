"""`codesearch index|search|similar|status|clear|serve`: the engine from a terminal or script.

`arguments` is the grammar (which flags each subcommand takes), `commands` one function per
subcommand, `local` the work each does in this process, `render` what they print,
`progress` the bar on the terminal, `errors` how they fail. `main` ties them together and
turns each kind of failure into one line on stderr and its exit status.
"""

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

import logging
from collections.abc import Sequence

from codesearch.cli.arguments import build_parser, help_pointer, parse
from codesearch.cli.commands import COMMANDS
from codesearch.cli.errors import CommandFailed, UsageError
from codesearch.embedding.remote import NOISY_LOGGERS
from codesearch.embedding.types import ModelLoadError
from codesearch.store import StoreError

__all__ = ["UsageError", "build_parser", "main"]


def _error(message: str) -> None:
    print(f"codesearch: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse(argv)
    except UsageError as exc:
        _error(str(exc))
        return 2
    level = logging.WARNING - 10 * min(getattr(args, "verbose", 0), 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for name in NOISY_LOGGERS:  # one line per HTTP request otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        _error(f"{exc} ({help_pointer(args.command)})")
        return 2
    except (CommandFailed, ModelLoadError, StoreError, FileNotFoundError, PermissionError) as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        # the progress bar cleared its line on the way out: this starts on a clean one
        print("codesearch: interrupted; what was embedded is kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
