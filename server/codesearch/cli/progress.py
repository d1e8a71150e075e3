"""The one-line progress display of an index run on a terminal (silent when stderr is not
one): which phase, how far, and how fast the model embeds.

The entity total of a run grows while parsing runs ahead of the model, so the bar follows
`IndexProgress.fraction()` (the total extrapolated over the files still to parse) and never
moves back; an entity total still estimated is shown as such (`~2200`). The rate
counts entities the model embedded (not the cached ones) over the time since embedding
began, and shows once there is a second of it to measure. Used as a context manager, the
bar clears its line when the run ends, however it ends (Ctrl-C included), so whatever is
printed next starts on a clean line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from codesearch.workspace import IndexProgress

BAR_WIDTH = 30
MIN_INTERVAL_S = 0.1  # redraws at most this often
RATE_AFTER_S = 1.0  # the rate is shown once embedding ran this long
_CLEAR = "\r\033[K"

PHASE_TEXT = {
    "scanning": "Scanning the folder...",
    "parsing": "Reading changed files...",
    "loading model": "Loading the model...",
}


def preparing_text(expected_s: float) -> str:
    estimate = f", ~{expected_s:.0f} s" if expected_s >= 1 else ""
    return f"Preparing the model for this machine (one time{estimate})..."


class ProgressBar:
    """Draws IndexProgress events on one terminal line."""

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self._clock = clock
        self._drawn = False  # something is on the line
        self._last_draw = float("-inf")
        self._fraction = 0.0
        self._rate_start: tuple[float, int] | None = None  # (time, embedded) at the first batch

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.clear()

    def clear(self) -> None:
        """Empty the bar's line (the cursor stays at its start)."""
        if self._drawn:
            self._write(_CLEAR)
            self._drawn = False

    def __call__(self, progress: IndexProgress) -> None:
        if not self.enabled:
            return
        if progress.phase == "done":
            self.clear()
            return
        if progress.phase == "embedding":
            self._embedding(progress)
            return
        if progress.phase == "preparing model":
            text = preparing_text(progress.expected_s)
        else:
            text = PHASE_TEXT.get(progress.phase, progress.phase.capitalize() + "...")
        self._draw(text)

    def _embedding(self, progress: IndexProgress) -> None:
        now = self._clock()
        if self._rate_start is None:
            self._rate_start = (now, progress.embedded)
        self._fraction = max(self._fraction, progress.fraction())
        finished = progress.total_known and progress.done >= progress.total
        if now - self._last_draw < MIN_INTERVAL_S and not finished:
            return
        filled = int(BAR_WIDTH * self._fraction)
        total = f"{'' if progress.total_known else '~'}{progress.estimated_total()}"
        text = (
            f"Indexing [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"{int(self._fraction * 100):3d}%  {progress.done}/{total} entities "
            f"in {progress.files_total} file{'' if progress.files_total == 1 else 's'}"
        )
        rate = self._rate(now, progress.embedded)
        if rate is not None:
            text += f" ({rate:.0f}/s)"
        self._draw(text, now)

    def _rate(self, now: float, embedded: int) -> float | None:
        """Entities embedded per second since the first batch; None until meaningful."""
        if self._rate_start is None:
            return None
        started, before = self._rate_start
        seconds = now - started
        if seconds < RATE_AFTER_S or embedded <= before:
            return None
        return (embedded - before) / seconds

    def _draw(self, text: str, now: float | None = None) -> None:
        self._last_draw = self._clock() if now is None else now
        self._write(_CLEAR + text)
        self._drawn = True

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
