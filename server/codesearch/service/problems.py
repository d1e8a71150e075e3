"""Which diagnostics to publish after an index run: a pure diff, tested on its own."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from codesearch.workspace import FileProblem


def problems_update(
    before: Collection[str], now: Mapping[str, FileProblem], changed: Collection[str]
) -> dict[str, FileProblem | None]:
    """Diagnostics to send: path -> its problem, or None to clear the path's diagnostics.

    `before`: paths that had a problem before the run; `now`: problems after it;
    `changed`: paths the run wrote or removed. A problem is (re)sent when it is new or its
    file changed; a path whose problem went away is cleared; the rest stays as published.
    """
    update: dict[str, FileProblem | None] = {}
    for path in set(changed) | set(before) | set(now):
        problem = now.get(path)
        if problem is not None and (path in changed or path not in before):
            update[path] = problem
        elif problem is None and path in before:
            update[path] = None
    return update
