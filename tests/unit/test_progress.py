"""What an index run shows while it runs (issue 14, item 11): the events the pipeline sends,
and the terminal bar drawn from them, on a fake terminal.

The bar used to reach 100% and start again (`138/138`, then `170/684`: the entity total
grows while parsing runs ahead of the model), showed `(0/s)` before anything was embedded,
left the Ctrl-C message on its own line, and said "Loading model..." for the half minute of
the first load's one-time export.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from tests.support.fakes import FakeEncoder

from codesearch.cli.progress import ProgressBar
from codesearch.config import Settings
from codesearch.workspace import IndexProgress, ModelLoader, Workspace

CLEAR = "\r\033[K"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frames(terminal: FakeTerminal) -> list[str]:
    """What the line showed, redraw by redraw."""
    return [frame for frame in terminal.getvalue().split(CLEAR) if frame]


def embedding(
    done: int, total: int, files_done: int, files_parsed: int, embedded: int
) -> IndexProgress:
    return IndexProgress("embedding", done, total, files_done, 684, files_parsed, embedded)


def test_the_bar_never_moves_back_and_its_total_never_changes() -> None:
    terminal, clock = FakeTerminal(), Clock()
    bar = ProgressBar(terminal, clock=clock)
    # as a real run reports: parsing gets ahead in spurts, the entity total grows with it
    run = [
        embedding(32, 138, 0, 40, 32),
        embedding(64, 138, 0, 40, 64),
        embedding(138, 138, 40, 40, 138),  # the first chunk: all entities found so far
        embedding(170, 684, 40, 200, 170),  # parsing got ahead: the total jumped
        embedding(684, 684, 200, 200, 684),
        embedding(900, 2400, 200, 684, 900),
        embedding(2400, 2400, 684, 684, 2400),
    ]
    for event in run:
        clock.now += 0.5
        bar(event)
    shown = frames(terminal)
    assert len(shown) == len(run)
    percents = [int(m[1]) for m in (re.search(r"(\d+)%", f) for f in shown) if m]
    assert len(percents) == len(run), shown
    assert percents == sorted(percents), shown  # never moves back
    assert max(percents[:-1]) < 100 and percents[-1] == 100, shown
    assert all("in 684 files" in frame for frame in shown), shown
    totals = [m[1] for m in (re.search(r" \d+/(~?\d+) entities", f) for f in shown) if m]
    assert len(totals) == len(shown), shown
    assert all(t.startswith("~") for t in totals[:-2]), totals  # estimated while parsing
    assert totals[-2:] == ["2400", "2400"], totals  # exact once every file is parsed


def test_the_rate_counts_embedded_entities_and_waits_to_be_meaningful() -> None:
    terminal, clock = FakeTerminal(), Clock()
    bar = ProgressBar(terminal, clock=clock)
    bar(IndexProgress("loading model", 0, 0))
    clock.now += 30  # a slow model load is not embedding time
    bar(embedding(500, 1000, 0, 684, 0))  # cached entities: done, but nothing embedded
    clock.now += 0.5
    bar(embedding(532, 1000, 0, 684, 32))
    clock.now += 1.5
    bar(embedding(832, 1000, 300, 684, 332))
    shown = frames(terminal)
    assert not any("/s)" in frame for frame in shown[:-1]), shown
    assert "(166/s)" in shown[-1], shown  # 332 embedded in 2 s: cached ones do not count
    assert "(0/s)" not in terminal.getvalue()


def test_an_interrupt_leaves_a_clean_line_for_the_message() -> None:
    terminal, clock = FakeTerminal(), Clock()
    with pytest.raises(KeyboardInterrupt), ProgressBar(terminal, clock=clock) as bar:
        bar(embedding(32, 138, 0, 40, 32))
        raise KeyboardInterrupt
    assert terminal.getvalue().endswith(CLEAR)


def test_the_first_load_says_it_prepares_the_model_once() -> None:
    terminal = FakeTerminal()
    bar = ProgressBar(terminal)
    bar(IndexProgress("preparing model", 0, 0, expected_s=30.0))
    assert frames(terminal) == ["Preparing the model for this machine (one time, ~30 s)..."]


def test_nothing_is_drawn_off_a_terminal_or_for_json() -> None:
    plain = io.StringIO()
    ProgressBar(plain)(embedding(32, 138, 0, 40, 32))
    terminal = FakeTerminal()
    with ProgressBar(terminal, enabled=False) as bar:
        bar(embedding(32, 138, 0, 40, 32))
    assert plain.getvalue() == "" and terminal.getvalue() == ""


def _folder(root: Path, files: int) -> Path:
    root.mkdir()
    for number in range(files):
        body = "".join(f"def f{number}_{i}():\n    return {i}\n\n" for i in range(number % 5 + 1))
        (root / f"m{number}.py").write_text(body)
    return root


def _loader(preparation: float | None) -> ModelLoader:
    return ModelLoader("fake-model", "fake", FakeEncoder, lambda: preparation)


@pytest.mark.parametrize(
    ("preparation", "phase"), [(None, "loading model"), (25.0, "preparing model")]
)
def test_the_run_says_whether_the_model_loads_or_is_prepared_first(
    tmp_path: Path, preparation: float | None, phase: str
) -> None:
    root = _folder(tmp_path / "ws", 3)
    events: list[IndexProgress] = []
    loader = _loader(preparation)
    with Workspace(root, Settings(), model_loader=loader, store_dir=tmp_path / "s") as ws:
        ws.index(progress=events.append)
        model_phases = [e for e in events if "model" in e.phase]
        assert [(e.phase, e.expected_s) for e in model_phases] == [(phase, preparation or 0.0)]
        (root / "m0.py").write_text("def changed():\n    return 0\n")
        events.clear()
        ws.index(progress=events.append)  # loaded now: nothing more to say about it
        assert not [e for e in events if "model" in e.phase]


def test_a_run_parsing_ahead_reports_files_and_embedded_entities(tmp_path: Path) -> None:
    root = _folder(tmp_path / "ws", 120)  # many files: parsed ahead on a helper thread
    events: list[IndexProgress] = []
    settings = Settings(batch_size=8)
    with Workspace(root, settings, encoder=FakeEncoder(), store_dir=tmp_path / "s") as ws:
        summary = ws.index(progress=events.append)
    steps = [e for e in events if e.phase == "embedding"]
    assert steps and {e.files_total for e in steps} == {120}
    assert all(e.files_done <= e.files_parsed <= e.files_total for e in steps)
    assert [e.embedded for e in steps] == sorted(e.embedded for e in steps)
    assert steps[-1].embedded == summary.embedded == summary.entities
    assert steps[-1].fraction() == 1.0 and steps[-1].done == summary.entities
