"""Unit tests for goodjob_pg.pools: the ``--queues`` pool syntax."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goodjob_pg.pools import PoolSpec, parse_queues, validate_queue_name


def test_goodjob_example() -> None:
    pools = parse_queues("mice:2;elephants,mice:1;*", default_threads=5)
    assert pools == (
        PoolSpec("mice", 2),
        PoolSpec("elephants,mice", 1),
        PoolSpec("*", 5),
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("*", (PoolSpec("*", 7),)),
        ("*:3", (PoolSpec("*", 3),)),
        ("a,b", (PoolSpec("a,b", 7),)),
        ("+a,b:2", (PoolSpec("+a,b", 2),)),
        ("-a,b:1", (PoolSpec("-a,b", 1),)),
        (" a , b : 4 ; * ", (PoolSpec("a,b", 4), PoolSpec("*", 7))),
        ("default", (PoolSpec("default", 7),)),
        ("q-1.x_y", (PoolSpec("q-1.x_y", 7),)),
    ],
)
def test_valid_specs(spec: str, expected: tuple[PoolSpec, ...]) -> None:
    assert parse_queues(spec, default_threads=7) == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a;;b", "empty pool"),
        ("a;", "empty pool"),
        (":3", "has no queues"),
        ("a:0", "invalid thread count '0'"),
        ("a:-1", "invalid thread count '-1'"),
        ("a:x", "invalid thread count 'x'"),
        ("a:", "invalid thread count ''"),
        ("a:1:2", "more than one ':'"),
        ("a,,b", "empty queue name"),
        ("a,", "empty queue name"),
        ("+", "lists no queue"),
        ("-", "lists no queue"),
        ("*,a", "invalid queue name '*'"),
        ("-*", "invalid queue name '*'"),
        ("a b", "invalid queue name 'a b'"),
        ("a,-b", "invalid queue name '-b'"),
        ("+a,+b", "invalid queue name '+b'"),
        ("a,b,a", "repeats a queue"),
        ("x" * 129, "longer than 128"),
    ],
)
def test_invalid_specs(spec: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=r"queues|queue name|thread") as info:
        parse_queues(spec, default_threads=5)
    assert fragment in str(info.value)


def test_message_quotes_the_whole_string() -> None:
    with pytest.raises(ValueError) as info:
        parse_queues("mice:2;ele phants", default_threads=5)
    assert "'mice:2;ele phants'" in str(info.value)


def test_bad_default_threads() -> None:
    with pytest.raises(ValueError, match="max_threads"):
        parse_queues("*", default_threads=0)


def test_not_a_string() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parse_queues(None, default_threads=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("selector", "queue", "expected"),
    [
        ("*", "anything", True),
        ("a,b", "a", True),
        ("a,b", "c", False),
        ("+a,b", "b", True),
        ("+a,b", "ab", False),
        ("-a,b", "a", False),
        ("-a,b", "c", True),
        ("mice", "mice", True),
        ("mice", "mic", False),
    ],
)
def test_matches(selector: str, queue: str, expected: bool) -> None:
    (pool,) = parse_queues(selector, default_threads=1)
    assert pool.matches(queue) is expected


def test_mode_and_names() -> None:
    assert PoolSpec("*", 1).mode == "*"
    assert PoolSpec("*", 1).names == ()
    assert PoolSpec("+a,b", 1).mode == "only"
    assert PoolSpec("+a,b", 1).names == ("a", "b")
    assert PoolSpec("-a", 1).mode == "except"
    assert PoolSpec("-a", 1).names == ("a",)


def test_validate_queue_name() -> None:
    assert validate_queue_name("mice") == "mice"
    with pytest.raises(ValueError, match="invalid queue name"):
        validate_queue_name("a:b")


_names = st.text(alphabet="abcxyz_-.0123456789", min_size=1, max_size=10).filter(
    lambda s: not s.startswith("-")
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "+", "-", "*"]),
            st.lists(_names, min_size=1, max_size=4, unique=True),
            st.one_of(st.none(), st.integers(min_value=1, max_value=50)),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_round_trip(pools: list[tuple[str, list[str], int | None]]) -> None:
    parts = []
    expected = []
    for prefix, names, threads in pools:
        queues = "*" if prefix == "*" else prefix + ",".join(names)
        parts.append(queues if threads is None else f"{queues}:{threads}")
        expected.append(PoolSpec(queues, threads or 3))
    assert parse_queues(";".join(parts), default_threads=3) == tuple(expected)
