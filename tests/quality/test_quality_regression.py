"""Search quality must not regress: a fixed slice of the benchmark, real model, end to end.

The 85 held-out docstring queries of `requests` (pinned wheel, fetched from PyPI on first
use) are searched with `Workspace.search` in a copy of the project without docstrings or
comments. The test fails if MRR@10 falls more than the stated tolerance below the value
recorded in regression_slice.json. Re-record deliberately with
`python -m benchmarks.quality.regression --record`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.quality.regression import PROJECT, slice_mrr

from codesearch.config import Settings
from codesearch.embedding.types import Encoder

pytestmark = pytest.mark.slow

SLICE = json.loads((Path(__file__).parent / "regression_slice.json").read_text())


def test_mrr_on_the_fixed_slice_stays_within_tolerance(
    shipped_model: Encoder, tmp_path: Path
) -> None:
    assert SLICE["project"] == PROJECT
    assert SLICE["backend"] == Settings().backend  # recorded with the shipped default
    queries = SLICE["queries"]
    assert len(queries) >= 30
    result = slice_mrr(queries, shipped_model, tmp_path)
    assert not result.missing_targets, (
        f"slice targets gone from the corpus: {result.missing_targets}"
    )
    floor = SLICE["recorded_mrr@10"] - SLICE["tolerance"]
    misses = [q["text"] for q, p in zip(queries, result.positions, strict=True) if p is None]
    assert result.mrr >= floor, (
        f"MRR@10 {result.mrr:.4f} < {floor:.4f} (recorded {SLICE['recorded_mrr@10']}, "
        f"tolerance {SLICE['tolerance']}); not in the top 10: {misses}"
    )
