"""The concurrency configuration: checks, keys and the SQL definition."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from goodjob_pg.concurrency import NO_CONCURRENCY, Concurrency
from goodjob_pg.tasks import TaskOptions


def test_definition_maps_throttles_to_count_and_period() -> None:
    c = Concurrency.build(
        {
            "total_limit": 1,
            "perform_limit": 2,
            "enqueue_throttle": (10, 60),
            "perform_throttle": [3, timedelta(hours=1)],
        }
    )
    assert c.definition() == {
        "total_limit": 1,
        "enqueue_limit": None,
        "perform_limit": 2,
        "enqueue_throttle_limit": 10,
        "enqueue_throttle_period": timedelta(seconds=60),
        "perform_throttle_limit": 3,
        "perform_throttle_period": timedelta(hours=1),
    }
    assert c.describe() == "total_limit=1, enqueue_throttle=(10, 60.0)"


def test_keys() -> None:
    assert Concurrency.build({"perform_limit": 1}).key_for("t", [], {}) == "t"
    assert Concurrency.build({"perform_limit": 1, "key": "fixed"}).key_for("t", [], {}) == "fixed"
    by_arg = Concurrency.build(
        {"total_limit": 1, "key": lambda args, kwargs: f"{args[0]}-{kwargs['x']}"}
    )
    assert by_arg.key_for("t", [7], {"x": 1}) == "7-1"
    off = Concurrency.build({"perform_limit": 1, "key": None})
    assert not off.enabled and off.key_for("t", [], {}) is None
    assert set(off.definition().values()) == {None}
    assert not Concurrency.build({}).enabled, "a key without limits controls nothing"
    with pytest.raises(TypeError, match="returned 7, not a str"):
        Concurrency.build({"total_limit": 1, "key": lambda args, kwargs: 7}).key_for("t", [], {})


@pytest.mark.parametrize(
    ("config", "error", "match"),
    [
        ({"perform_limit": 0}, ValueError, "perform_limit must be at least 1, not 0"),
        ({"total_limit": True}, TypeError, "total_limit must be an int"),
        ({"enqueue_throttle": 5}, TypeError, r"enqueue_throttle must be a \(count, seconds\) pair"),
        ({"perform_throttle": (1, 0)}, ValueError, "period must be positive seconds"),
        ({"perform_throttle": (0, 10)}, ValueError, "perform_throttle count must be at least 1"),
        ({"perform_throttle": (1, "10")}, TypeError, "period must be seconds"),
        ({"perfom_limit": 1}, ValueError, "unknown concurrency option"),
        ({"perform_limit": 1, "key": 5}, TypeError, "key must be a str, a callable or None"),
        ({"perform_limit": 1, "key": ""}, ValueError, "key must be 1 to 255 characters"),
    ],
)
def test_bad_configuration(config: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Concurrency.build(config)


def test_task_options_carry_concurrency() -> None:
    assert TaskOptions.build("t").concurrency is NO_CONCURRENCY
    assert TaskOptions.build("t", concurrency={"perform_limit": 1}).concurrency.perform_limit == 1
    with pytest.raises(TypeError, match="concurrency must be a dict"):
        TaskOptions.build("t", concurrency=[("perform_limit", 1)])  # type: ignore[arg-type]
