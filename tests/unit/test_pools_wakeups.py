"""Unit tests for goodjob_pg.wakeups.RunTimeCache (the pools' wake-up cache)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from goodjob_pg.pools import PoolSpec
from goodjob_pg.wakeups import RunTimeCache, to_timestamp


def test_next_due_respects_selector_and_cursor() -> None:
    cache = RunTimeCache(100)
    cache.add("mice", 10.0)
    cache.add("elephants", 5.0)
    cache.add("mice", 20.0)
    assert cache.next_due(PoolSpec("*", 1).matches, 0.0) == 5.0
    assert cache.next_due(PoolSpec("mice", 1).matches, 0.0) == 10.0
    assert cache.next_due(PoolSpec("mice", 1).matches, 10.0) == 20.0
    assert cache.next_due(PoolSpec("-mice", 1).matches, 5.0) is None
    assert cache.next_due(PoolSpec("other", 1).matches, 0.0) is None


def test_duplicates_are_ignored() -> None:
    cache = RunTimeCache(10)
    assert cache.add("q", 1.0)
    assert not cache.add("q", 1.0)
    assert len(cache) == 1


def test_bounded_keeps_earliest_and_flags_overflow() -> None:
    cache = RunTimeCache(3)
    for t in (5.0, 1.0, 3.0):
        cache.add("a", t)
    assert not cache.overflowed
    assert cache.add("b", 2.0)  # evicts 5.0
    assert not cache.add("b", 9.0)  # later than everything kept
    assert cache.overflowed
    assert len(cache) == 3
    everything = PoolSpec("*", 1).matches
    seen = []
    cursor = 0.0
    while (t := cache.next_due(everything, cursor)) is not None:
        seen.append(t)
        cursor = t
    assert seen == [1.0, 2.0, 3.0]


def test_prune_and_reload_signal() -> None:
    cache = RunTimeCache(4)
    cache.load([("a", float(t)) for t in range(6)])
    assert cache.overflowed and len(cache) == 4
    assert not cache.needs_reload()
    assert cache.prune(2.5) == 3
    assert len(cache) == 1
    assert cache.needs_reload()
    cache.clear_overflow()
    assert not cache.needs_reload()


def test_zero_size_disables() -> None:
    cache = RunTimeCache(0)
    assert not cache.add("a", 1.0)
    assert cache.next_due(PoolSpec("*", 1).matches, 0.0) is None


def test_to_timestamp() -> None:
    assert to_timestamp(datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC)) == 10.0


@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 50)), max_size=60),
    st.integers(1, 20),
)
def test_matches_a_sorted_model(items: list[tuple[str, int]], size: int) -> None:
    cache = RunTimeCache(size)
    cache.load((q, float(t)) for q, t in items)
    model = sorted(set((float(t), q) for q, t in items))
    # The cache keeps the earliest `size` times among the distinct ones.
    kept = sorted((t for t, _ in model))[:size]
    assert len(cache) == min(size, len(model))
    everything = PoolSpec("*", 1).matches
    got = []
    cursor = -1.0
    while (t := cache.next_due(everything, cursor)) is not None:
        got.append(t)
        cursor = t
    assert got == sorted(set(kept))
