"""Argument checks at enqueue: JSON-ability with a path, and signature binding."""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import json
from collections import OrderedDict
from typing import Any

import pytest

from goodjob_pg.serialization import bind_arguments, check_arguments, check_json, dumps


class Color(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**70),
        1.5,
        "",
        "é",
        [],
        (),
        {},
        [1, "a", None, [2.0, {"k": (True,)}]],
        OrderedDict(a=1),
    ],
)
def test_json_values_pass(value: Any) -> None:
    check_json(value, "x")
    assert json.loads(dumps(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((datetime.date(2024, 1, 1),), {}, "argument args[0] has type datetime.date"),
        ((1, [2, {"x": b"raw"}]), {}, "argument args[1][1]['x'] has type bytes"),
        ((), {"a": {"b": [float("nan")]}}, "argument kwargs['a']['b'][0] is nan"),
        ((), {"a": float("inf")}, "argument kwargs['a'] is inf"),
        ((), {"a": {1: 2}}, "argument kwargs['a'] has a key 1 of type int"),
        (({1, 2},), {}, "argument args[0] has type set"),
        ((decimal.Decimal("1.0"),), {}, "has type decimal.Decimal"),
        ((Color.RED,), {}, "argument args[0] has type tests.unit.test_serialization.Color"),
        ((object(),), {}, "has type object, which is not JSON"),
    ],
)
def test_non_json_is_a_type_error_naming_the_path(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError) as info:
        check_arguments(args, kwargs)
    assert message in str(info.value)


def test_cycle_is_refused() -> None:
    value: list[Any] = [1]
    value.append(value)
    with pytest.raises(TypeError, match=r"argument args\[0\]\[1\] contains itself"):
        check_arguments((value,), {})


def test_shared_reference_is_not_a_cycle() -> None:
    shared = {"a": 1}
    check_arguments(([shared, shared],), {"again": shared})


def test_dumps_is_compact_and_keeps_unicode() -> None:
    assert dumps({"a": (1, 2), "é": "ü"}) == '{"a":[1,2],"é":"ü"}'


def test_bind_arguments_names_the_task() -> None:
    def f(a: int, *, b: int = 0) -> None: ...

    sig = inspect.signature(f)
    bind_arguments(sig, "t", (1,), {"b": 2})
    with pytest.raises(
        TypeError, match=r"task 't' cannot take these arguments: missing a required"
    ):
        bind_arguments(sig, "t", (), {})
    with pytest.raises(TypeError, match="unexpected keyword argument 'c'"):
        bind_arguments(sig, "t", (1,), {"c": 3})
    with pytest.raises(TypeError, match="too many positional arguments"):
        bind_arguments(sig, "t", (1, 2), {})
