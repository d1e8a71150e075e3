"""A ServiceListener for processes with no editor to tell: events go to the log (stderr).

`codesearch mcp` uses it (its stdout carries the protocol); so can any other process that
holds roots without a user interface of its own.
"""

from __future__ import annotations

import logging
from pathlib import Path

from codesearch.service import ProgressEvent, ServiceStatus
from codesearch.workspace import FileProblem

log = logging.getLogger("codesearch.service")


class LogListener:
    """The service's events, logged to stderr (stdout carries the protocol)."""

    def on_status(self, status: ServiceStatus) -> None:
        log.debug("status %s", status.to_json())

    def on_progress(self, event: ProgressEvent) -> None:
        if event.kind != "report":
            log.info("%s (%d/%d)", event.message, event.done, event.total)

    def on_problems(self, root: Path, problems: dict[str, FileProblem | None]) -> None:
        for path, problem in sorted(problems.items()):
            if problem is not None:
                log.info("%s: %s", root / path, problem.error or "some entities failed")

    def on_error(self, message: str) -> None:
        log.error("%s", message)

    def on_warning(self, message: str) -> None:
        log.warning("%s", message)
