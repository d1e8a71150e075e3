"""The per-file debouncer on its own, on a fake clock: bursts coalesce, other keys keep
their own clocks, keys due together go together. No sleeping: time moves when told."""

from __future__ import annotations

from codesearch.debounce import Debouncer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make(delay: float = 0.3) -> tuple[FakeClock, Debouncer[str]]:
    clock = FakeClock()
    return clock, Debouncer(delay, clock)


def test_a_key_is_due_only_after_a_quiet_delay() -> None:
    clock, debouncer = make()
    debouncer.touch("a.py")
    assert debouncer.next_due() == 100.3
    clock.advance(0.29)
    assert debouncer.pop_due() == []
    clock.advance(0.01)
    assert debouncer.pop_due() == ["a.py"]
    assert debouncer.pending == 0 and debouncer.next_due() is None


def test_burst_of_touches_is_handed_over_once() -> None:
    clock, debouncer = make()
    for _ in range(20):
        debouncer.touch("a.py")
        clock.advance(0.1)  # each save restarts the wait: never quiet for 0.3 s
        assert debouncer.pop_due() == []
    clock.advance(0.2)
    assert debouncer.pop_due() == ["a.py"]
    clock.advance(10)
    assert debouncer.pop_due() == []


def test_newer_touch_restarts_only_its_own_wait() -> None:
    clock, debouncer = make()
    debouncer.touch("a.py")
    clock.advance(0.2)
    debouncer.touch("b.py")
    clock.advance(0.1)
    assert debouncer.pop_due() == ["a.py"]  # b.py is 0.2 s from due: not in the grace
    assert debouncer.pending == 1
    clock.advance(0.2)
    assert debouncer.pop_due() == ["b.py"]


def test_keys_due_within_the_grace_window_go_together() -> None:
    clock, debouncer = make()
    debouncer.touch("a.py")
    clock.advance(0.04)
    debouncer.touch("b.py")  # due 0.04 s after a.py: inside the 0.05 s grace
    clock.advance(0.26)
    assert sorted(debouncer.pop_due()) == ["a.py", "b.py"]


def test_cancel_drops_a_pending_key() -> None:
    clock, debouncer = make()
    debouncer.touch("a.py")
    debouncer.touch("c.py")
    debouncer.cancel("c.py")
    clock.advance(0.3)
    assert debouncer.pop_due() == ["a.py"]


def test_pop_all_hands_over_everything_and_close_refuses_more() -> None:
    _, debouncer = make()
    debouncer.touch("a.py")
    debouncer.touch("b.py")
    assert sorted(debouncer.pop_all()) == ["a.py", "b.py"] and debouncer.pending == 0
    debouncer.close()
    debouncer.touch("c.py")
    assert debouncer.pending == 0 and debouncer.next_due() is None
