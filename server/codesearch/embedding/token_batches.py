"""Token-id batches for `Encoder.encode_ids`: the checks, order and padding every local
backend applies the same way, so their vectors agree for the same ids."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def check_rows(ids: Sequence[Sequence[int]], max_tokens: int, batch_size: int) -> None:
    """ValueError for a batch size below 1 or a row that is empty or outside the window:
    the model would fail on it (or cut it silently) in the middle of a batch."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    for row in ids:
        if not 0 < len(row) <= max_tokens:
            raise ValueError(f"token ids must number 1 to {max_tokens}, not {len(row)}")


def length_sorted_chunks(ids: Sequence[Sequence[int]], batch_size: int) -> Iterator[list[int]]:
    """Row indices in batches of similar length (little padding); the caller puts each
    batch's results back at these indices, so the output keeps the caller's order."""
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def pad(rows: list[Sequence[int]], pad_id: int) -> tuple[IntArray, IntArray]:
    """(input ids, attention mask), right-padded to the longest row, as tokenizers pad."""
    width = max(1, max(len(row) for row in rows))
    input_ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for r, row in enumerate(rows):
        input_ids[r, : len(row)] = row
        mask[r, : len(row)] = 1
    return input_ids, mask
