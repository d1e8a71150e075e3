"""Which folders the MCP server holds: those given with `--path`, plus the client's roots.

`--path` roots stay for the life of the process. Client roots (`roots/list`, asked again on
`notifications/roots/list_changed`) come and go with the client's answer; a root that both
name stays. Every root held is indexed and, when this process indexes it itself, watched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from codesearch.service.api import IndexApi
from codesearch.service.watcher import FolderWatcher

log = logging.getLogger(__name__)


def uri_to_folder(uri: str) -> Path | None:
    """A local folder for a file:// root URI; None (logged) for anything else."""
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        log.warning("ignoring client root %s: only local file:// folders can be indexed", uri)
        return None
    folder = Path(unquote(parsed.path))
    if not folder.is_dir():
        log.warning("ignoring client root %s: not a folder", uri)
        return None
    return folder.resolve()


class RootSet:
    """The roots held, and the index and watcher kept in step with them."""

    def __init__(
        self, index: IndexApi, watcher: FolderWatcher | None, fixed: Sequence[Path]
    ) -> None:
        self._index = index
        self._watcher = watcher
        self._fixed = [Path(root).resolve() for root in fixed]
        self._from_client: set[Path] = set()
        self._lock = threading.Lock()
        for root in self._fixed:
            self._hold(root)

    @property
    def folders(self) -> list[Path]:
        """Every root held, `--path` roots first."""
        with self._lock:
            extra = sorted(self._from_client.difference(self._fixed))
            return [*self._fixed, *extra]

    def set_client_roots(self, folders: Iterable[Path]) -> None:
        """The client's roots now: hold the new ones, let go of those it no longer names."""
        wanted = set(folders)
        with self._lock:
            added = wanted - self._from_client - set(self._fixed)
            gone = self._from_client - wanted - set(self._fixed)
            self._from_client = wanted
        for root in sorted(gone):
            log.info("client root removed: %s", root)
            if self._watcher is not None:
                self._watcher.remove(root)
            self._index.remove_folder(root)
        for root in sorted(added):
            log.info("client root added: %s", root)
            self._hold(root)

    def _hold(self, root: Path) -> None:
        self._index.add_folder(root)
        if self._watcher is not None:
            self._watcher.add(root)
