"""The Codesearch language server: `create_server` wires the features, `serve` runs one.

One module per feature area, each registering its handlers: `lifecycle` (initialize,
settings, shutdown), `files` (saves, watched files, workspace folders), `symbols`
(`workspace/symbol`) and `commands` (`workspace/executeCommand`). Handlers return at once;
the state they share is the `CodesearchServer` they are given. Each `create_server()` is a
fresh server with its own state, so tests run several in one process.
"""

from __future__ import annotations

import logging
import sys

from codesearch.config import LOG_LEVELS
from codesearch.embedding.remote import NOISY_LOGGERS
from codesearch.lsp import commands, files, lifecycle, symbols
from codesearch.lsp.language_server import CodesearchServer, ServiceFactory, default_service

FEATURES = (lifecycle, files, symbols, commands)


def create_server(service_factory: ServiceFactory = default_service) -> CodesearchServer:
    """A new server with every feature registered; `service_factory` lets tests choose the
    encoder behind it."""
    server = CodesearchServer(service_factory)
    for feature in FEATURES:
        feature.register(server)
    return server


def serve(*, tcp: tuple[str, int] | None = None, log_level: str = "info") -> int:
    """Run a server until the client says exit (stdio) or forever (TCP on (host, port));
    OSError when the TCP address cannot be listened on."""
    if log_level not in LOG_LEVELS:
        raise ValueError(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
    level = getattr(logging, log_level.upper())
    # force: the CLI configured logging already (at WARNING), which made --log-level a no-op
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    # pygls logs every message it sends at INFO: worth it only when debugging the protocol
    logging.getLogger("pygls").setLevel(
        level if level <= logging.DEBUG else max(level, logging.WARNING)
    )
    for name in NOISY_LOGGERS:  # httpx logs every embedding request at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    server = create_server()
    if tcp is not None:
        server.start_tcp(*tcp)
    else:
        server.start_io()
    return 0
