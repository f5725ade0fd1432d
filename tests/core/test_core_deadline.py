"""``_core._deadline``: fixing, nesting and applying a request's total deadline."""

from __future__ import annotations

from typing import Iterator

import pytest

from httpcore._core import _deadline
from httpcore._core._exceptions import ConnectTimeout, ReadTimeout


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(_deadline, "monotonic", fake)
    yield fake


def test_without_total_nothing_is_set(clock: FakeClock) -> None:
    assert _deadline.enter({"read": 1.0}) is None
    assert _deadline.current() is None
    assert _deadline.bound(3.0, ReadTimeout) == 3.0
    assert _deadline.bound(None, ReadTimeout) is None
    assert _deadline.leaves_time_for(1e9)


def test_bound_is_the_smaller_of_timeout_and_what_is_left(clock: FakeClock) -> None:
    token = _deadline.enter({"total": 10.0})
    try:
        assert _deadline.current() == 60.0
        assert _deadline.bound(3.0, ReadTimeout) == 3.0
        assert _deadline.bound(None, ReadTimeout) == 10.0
        clock.now = 58.0
        assert _deadline.bound(3.0, ReadTimeout) == 2.0
        assert _deadline.leaves_time_for(1.5) and not _deadline.leaves_time_for(2.5)
        clock.now = 60.0
        with pytest.raises(ConnectTimeout, match="total timeout ran out"):
            _deadline.bound(3.0, ConnectTimeout)
    finally:
        _deadline.leave(token)
    assert _deadline.current() is None


def test_a_nested_request_keeps_the_earlier_deadline(clock: FakeClock) -> None:
    outer = _deadline.enter({"total": 10.0})
    try:
        # A later layer of the same request: its own deadline would be later, so none is set.
        clock.now = 51.0
        assert _deadline.enter({"total": 10.0}) is None
        assert _deadline.current() == 60.0
        # A shorter one inside it wins until it is left.
        inner = _deadline.enter({"total": 2.0})
        assert inner is not None and _deadline.current() == 53.0
        _deadline.leave(inner)
        assert _deadline.current() == 60.0
    finally:
        _deadline.leave(outer)


def test_scope_and_reapply(clock: FakeClock) -> None:
    with _deadline.scope({"timeout": {"total": 1.0}}):
        assert _deadline.current() == 51.0
    assert _deadline.current() is None
    with _deadline.scope({}):
        assert _deadline.current() is None
    token = _deadline.reapply(70.0)
    assert _deadline.current() == 70.0
    _deadline.leave(token)
    assert _deadline.reapply(None) is None and _deadline.current() is None


@pytest.mark.parametrize("total", ["1", True, [1.0]])
def test_a_total_that_is_not_a_number_is_a_type_error(total: object) -> None:
    with pytest.raises(TypeError, match="'total' timeout"):
        _deadline.enter({"total": total})
    assert _deadline.current() is None
