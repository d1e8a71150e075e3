"""Where codesearch's caches live: the one module that answers it.

Two kinds of cache, both outside the user's workspace so indexing never writes into a
repository: one store per workspace root, and the models derived from a packaged model
(the int8 export), shared by every store.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

CACHE_DIR_ENV = "CODESEARCH_CACHE_DIR"  # base folder of the stores (and of the models)
MODELS_DIR_ENV = "CODESEARCH_MODELS_DIR"  # where derived models (the int8 export) are cached


def user_cache_dir() -> Path:
    """The platform's per-user cache folder for codesearch (e.g. ~/.cache/codesearch)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("codesearch", appauthor=False))


def workspace_store_dir(root: Path, base: str | Path | None = None) -> Path:
    """One folder per workspace root, outside the workspace: `<base>/<name>-<hash>`.

    `base` is the stores' folder a setting names; empty means the user cache folder.
    """
    resolved = root.resolve()
    digest = hashlib.blake2b(str(resolved).encode(), digest_size=6).hexdigest()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", resolved.name)[:40] or "root"
    parent = Path(base).expanduser() if base else user_cache_dir()
    return parent / f"{name}-{digest}"


def models_dir() -> Path:
    """`$CODESEARCH_MODELS_DIR`, else `$CODESEARCH_CACHE_DIR/models`, else the user cache's.

    The models folder has its own variable so that many stores (one per test, say) can share
    one export instead of each paying for it.
    """
    models = os.environ.get(MODELS_DIR_ENV, "").strip()
    if models:
        return Path(models).expanduser()
    return cache_base() / "models"


def cache_base() -> Path:
    """`$CODESEARCH_CACHE_DIR`, else the user cache folder: where the stores and the files
    every store shares (derived models, remote models' probe vectors) live."""
    base = os.environ.get(CACHE_DIR_ENV, "").strip()
    return Path(base).expanduser() if base else user_cache_dir()
