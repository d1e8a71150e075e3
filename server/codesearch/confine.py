"""Path arguments confined to the workspace roots.

A client (an agent, a script) names files by a path it was given or made up. Whatever the
spelling (relative to a root, absolute, with `..`, through a symlink), the file it reaches
must lie inside one of the roots the server holds, or the request is refused: the index is
not a way to read the rest of the disk. Paths are compared after resolving symlinks, so a
link inside a root that points outside it is outside.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


class OutsideRootsError(ValueError):
    """A path argument that is empty, malformed, or reaches outside every root."""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def confine(raw: str, roots: Sequence[Path]) -> tuple[Path, Path]:
    """(root, resolved absolute path) for a path argument, or OutsideRootsError.

    A relative path is taken relative to each root; when it exists in several roots the
    caller must say which (an absolute path). The innermost root wins for nested roots.
    """
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise OutsideRootsError("the path is empty")
    if "\x00" in text:
        raise OutsideRootsError("the path contains a NUL character")
    if not roots:
        raise OutsideRootsError("no workspace folder is open")
    real_roots = sorted(
        {os.path.realpath(root): root for root in roots}.items(), key=lambda r: -len(r[0])
    )
    given = Path(os.path.expanduser(text))
    if given.is_absolute():
        real = os.path.realpath(given)
        if not any(_inside(real, real_root) for real_root, _ in real_roots):
            raise OutsideRootsError(f"{text} is outside the workspace folders ({_names(roots)})")
    else:
        reached = [os.path.realpath(os.path.join(real_root, given)) for real_root, _ in real_roots]
        inside = list(dict.fromkeys(
            path for path in reached if any(_inside(path, r) for r, _ in real_roots)
        ))  # fmt: skip
        if not inside:
            raise OutsideRootsError(f"{text} leads outside the workspace folders ({_names(roots)})")
        existing = [path for path in inside if os.path.exists(path)]
        if len(existing) > 1:
            raise OutsideRootsError(
                f"{text} exists in several workspace folders ({', '.join(existing)}): "
                "give an absolute path"
            )
        real = (existing or inside)[0]
    root = next(root for real_root, root in real_roots if _inside(real, real_root))
    return root, Path(real)


def _names(roots: Sequence[Path]) -> str:
    return ", ".join(str(root) for root in roots)
