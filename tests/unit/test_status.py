"""The status tracker on its own: typed states, counts summed per root, what gets sent."""

from __future__ import annotations

from codesearch.service.status import MIN_INTERVAL_S, ServiceStatus, State, StatusTracker
from codesearch.workspace import CatalogCounts


class FakeClock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def counts(files: int, entities: int, failed_files: int = 0, failed_entities: int = 0,
           **skipped: int) -> CatalogCounts:  # fmt: skip
    return CatalogCounts(files, entities, failed_files, failed_entities, dict(skipped))


def test_snapshot_sums_every_root_and_says_what_the_editor_reads() -> None:
    tracker = StatusTracker()
    tracker.add_embedded(7)
    status = tracker.snapshot(
        [counts(3, 10, 1, 2, too_large=1), counts(2, 5, 0, 1, binary=2, unreadable=1)],
        pending=4,
        model="m",
        paused=True,
    )
    assert status == ServiceStatus(State.STARTING, 15, 5, 4, 4, 4, "m", None, None, 7, True)
    assert status.to_json() == {
        "state": "starting",
        "entities": 15,
        "files": 5,
        "pending": 4,
        "failed": 4,
        "skipped": 4,
        "model": "m",
        "lastError": None,
        "progress": None,
        "embeddedTotal": 7,
        "paused": True,
        "sharedCache": None,
        "notice": None,
    }


def test_an_error_is_reported_once_and_cleared_by_a_good_run() -> None:
    tracker = StatusTracker()
    assert tracker.fail("model missing") is True
    assert tracker.fail("model missing") is False  # the same message: not said twice
    assert tracker.state is State.ERROR and tracker.last_error == "model missing"
    assert tracker.recover() is True
    assert tracker.state is State.INDEXING and tracker.last_error is None
    assert tracker.recover() is False  # not in error: nothing to recover from
    assert tracker.fail("model missing") is True  # after recovery it is news again


def test_new_settings_make_an_old_error_worth_saying_again() -> None:
    tracker = StatusTracker()
    tracker.fail("bad store")
    tracker.forget_reported_error()
    assert tracker.fail("bad store") is True


def test_progress_is_part_of_the_status() -> None:
    tracker = StatusTracker()
    tracker.set_state(State.INDEXING)
    tracker.progress = (5, 20)
    status = tracker.snapshot([], 0, "m")
    assert status.to_json()["progress"] == {"done": 5, "total": 20}
    assert status.to_json()["state"] == "indexing"


def test_what_is_sent_unchanged_repeats_and_indexing_bursts_are_thinned() -> None:
    clock = FakeClock()
    tracker = StatusTracker(clock)
    idle = tracker.snapshot([counts(1, 1)], 0, "m")
    assert tracker.should_send(idle)
    assert not tracker.should_send(idle)  # nothing changed
    assert tracker.should_send(idle, force=True)  # a state change is always sent
    tracker.set_state(State.INDEXING)
    assert tracker.should_send(tracker.snapshot([counts(1, 1)], 0, "m"), force=True)
    first = tracker.snapshot([counts(1, 2)], 0, "m")
    assert not tracker.should_send(first)  # 0 s after the last one sent
    clock.now += MIN_INTERVAL_S
    assert tracker.should_send(first)
    second = tracker.snapshot([counts(1, 3)], 0, "m")
    assert not tracker.should_send(second)  # indexing: at most every MIN_INTERVAL_S
    clock.now += MIN_INTERVAL_S
    assert tracker.should_send(second)
    tracker.set_state(State.IDLE)
    clock.now += 0.01
    assert tracker.should_send(tracker.snapshot([counts(1, 3)], 0, "m"))  # idle: not thinned
