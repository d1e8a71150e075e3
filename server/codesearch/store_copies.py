"""Copies of a store that were moved aside (damaged, another model, another store format):
how they are named, and how many of them are kept.

A store that cannot be used is renamed, never deleted, so a user can look at it or take it
back. Kept forever, though, they pile up in the cache folder (one per damage, one per model
switch). So only the newest copy of each kind is kept per store: the last damaged store is
the one worth looking at, the last store of another model the one a user might switch back
to. Pruned whenever a store is opened or moved aside; `codesearch clear` removes them all.
Counting copies rather than their age keeps the bound whatever the pace: a store that is
damaged every day and one switched between models every minute both keep three at most.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

KINDS = ("corrupt", "old-model", "old-schema")  # the tags StoreDamaged gives
KEEP_PER_KIND = 1
_STAMP = "%Y%m%d-%H%M%S"
_COPY_NAME = re.compile(r"^(?P<kind>[a-z-]+?)-(?P<stamp>\d{8}-\d{6})(?:-(?P<number>\d+))?$")


@dataclass(frozen=True)
class SetAsideCopy:
    path: Path
    kind: str
    order: tuple[str, int]  # (time stamp, same-second number): larger is newer


def copy_target(directory: Path, kind: str) -> Path:
    """A free name beside `directory` for a copy of this kind: `<name>.<kind>-<time>[-n]`."""
    stamp = time.strftime(_STAMP)
    target = directory.with_name(f"{directory.name}.{kind}-{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = directory.with_name(f"{directory.name}.{kind}-{stamp}-{number}")
    return target


def set_aside_copies(directory: Path) -> list[SetAsideCopy]:
    """The copies of the store at `directory` that lie beside it, oldest first."""
    prefix = directory.name + "."
    found: list[SetAsideCopy] = []
    try:
        entries = list(directory.parent.iterdir())
    except OSError:
        return []
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = _COPY_NAME.match(entry.name[len(prefix) :])
        if match is None or match["kind"] not in KINDS:
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue  # not something a store move made: never touched
        order = (match["stamp"], int(match["number"] or 1))
        found.append(SetAsideCopy(entry, match["kind"], order))
    return sorted(found, key=lambda copy: copy.order)


def prune_copies(directory: Path, keep: int = KEEP_PER_KIND) -> list[Path]:
    """Delete all but the newest `keep` copies of each kind; returns what was deleted."""
    by_kind: dict[str, list[SetAsideCopy]] = {}
    for copy in set_aside_copies(directory):
        by_kind.setdefault(copy.kind, []).append(copy)
    doomed = [c.path for copies in by_kind.values() for c in copies[: max(0, len(copies) - keep)]]
    return _delete(doomed)


def remove_copies(directory: Path) -> list[Path]:
    """Delete every moved-aside copy of the store at `directory` (`codesearch clear`)."""
    return _delete([copy.path for copy in set_aside_copies(directory)])


def _delete(paths: list[Path]) -> list[Path]:
    deleted: list[Path] = []
    for path in paths:
        try:
            shutil.rmtree(path)
        except FileNotFoundError:
            continue  # another process pruned it first
        except OSError as exc:
            log.warning("could not delete the old index copy %s: %s", path, exc)
            continue
        log.info("deleted the old index copy %s", path)
        deleted.append(path)
    return deleted
