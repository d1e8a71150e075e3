"""The MCP face: `codesearch mcp` serves the index to coding agents over stdio.

`server` builds the MCP server and its tools, `shapes` their output schemas and text,
`roots` the folders held. `serve` runs one process that holds its roots itself: an
IndexService indexes them and a FolderWatcher keeps them fresh as files change on disk.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from codesearch.config import Settings
from codesearch.mcp.roots import RootSet
from codesearch.mcp.server import create_server, folders_from_args
from codesearch.service import IndexService
from codesearch.service.log_listener import LogListener
from codesearch.service.watcher import FolderWatcher

__all__ = ["serve"]


def serve(
    paths: Sequence[Path], settings: Settings, *, watch: bool = True, log_level: str = "info"
) -> int:
    """Serve MCP on stdio until the client closes it, holding `paths` and the client's roots."""
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    folders = folders_from_args(paths)
    service = IndexService(settings.with_env_defaults(), LogListener())
    watcher = FolderWatcher(service) if watch else None
    try:
        roots = RootSet(service, watcher, folders)
        create_server(service, roots).run("stdio")
    finally:
        if watcher is not None:
            watcher.close()
        service.shutdown()
    return 0
