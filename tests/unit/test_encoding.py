"""Rich arguments: encoded to language-neutral JSON at enqueue, decoded by type hints."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, Optional
from uuid import UUID

import pydantic
import pytest

from goodjob_pg.decoding import plan_for
from goodjob_pg.serialization import dumps, prepare_arguments

WHEN = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
ID = UUID("6f1c0e3a-9b2d-4c7e-8f10-123456789abc")


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Shipment:
    id: UUID
    at: datetime
    price: Decimal
    stops: list[Point]
    note: str | None = None
    parent: Shipment | None = None
    computed: int = dataclasses.field(default=0, init=False)


class Customer(pydantic.BaseModel):
    name: str
    since: date
    tags: list[str] = []


def handler(
    when: datetime,
    day: date,
    at: time,
    id: UUID,
    amount: Decimal,
    shipment: Shipment,
    customer: Customer,
    maybe: Optional[UUID] = None,  # noqa: UP045 (the old spelling must work too)
    many: list[Point] | None = None,
    by_name: dict[str, Decimal] | None = None,
    pair: tuple[Point, int] | None = None,
    tagged: Annotated[date, "meta"] | None = None,
    raw: Any = None,
    *rest: UUID,
    **extra: datetime,
) -> None: ...


def round_trip(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    plain_args, plain_kwargs = prepare_arguments(args, kwargs)
    text = dumps([list(plain_args), plain_kwargs])
    loaded_args, loaded_kwargs = json.loads(text)
    plan = plan_for(handler)
    assert plan is not None
    return plan.apply(loaded_args, loaded_kwargs)


def test_the_encoding_is_language_neutral() -> None:
    shipment = Shipment(ID, WHEN, Decimal("12.50"), [Point(1, 2)])
    args, kwargs = prepare_arguments(
        (WHEN, date(2026, 11, 24), time(9, 30), ID, Decimal("1E+2"), shipment),
        {"customer": Customer(name="Ada", since=date(2020, 1, 2))},
    )
    assert list(args) == [
        "2026-11-24T09:30:15.123456+01:00",
        "2026-11-24",
        "09:30:00",
        "6f1c0e3a-9b2d-4c7e-8f10-123456789abc",
        "1E+2",
        {
            "id": str(ID),
            "at": "2026-11-24T09:30:15.123456+01:00",
            "price": "12.50",
            "stops": [{"x": 1, "y": 2}],
            "note": None,
            "parent": None,
            "computed": 0,
        },
    ]
    assert kwargs == {"customer": {"name": "Ada", "since": "2020-01-02", "tags": []}}


def test_rich_values_round_trip_through_json() -> None:
    parent = Shipment(ID, WHEN, Decimal("0.1"), [])
    shipment = Shipment(ID, WHEN, Decimal("12.50"), [Point(1, 2), Point(3, 4)], "n", parent)
    customer = Customer(name="Ada", since=date(2020, 1, 2), tags=["vip"])
    args = (WHEN, date(2026, 1, 1), time(23, 59, 1), ID, Decimal("-3.14159"), shipment, customer)
    kwargs: dict[str, Any] = {
        "maybe": ID,
        "many": [Point(5, 6)],
        "by_name": {"a": Decimal("1.10")},
        "pair": (Point(7, 8), 9),
        "tagged": date(2027, 2, 3),
        "raw": WHEN,
        "later": datetime(2030, 1, 1, tzinfo=UTC),
    }
    out_args, out_kwargs = round_trip(args, kwargs)
    assert out_args == list(args)
    assert out_kwargs == {
        **kwargs,
        "pair": [Point(7, 8), 9],  # containers stay JSON lists
        "raw": WHEN.isoformat(),  # no hint: the JSON value
    }
    assert out_args[5].parent == parent and out_args[5].stops[1] == Point(3, 4)
    assert round_trip((*args, None, None, None, None, None, None, ID, ID), {})[0][-2:] == [ID, ID]


def test_other_languages_may_send_numbers_and_z() -> None:
    plan = plan_for(handler)
    assert plan is not None
    args, _ = plan.apply(["2026-11-24T09:00:00Z", "2026-11-24", "09:00", str(ID), 12.5], {})
    assert args[0] == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert args[4] == Decimal("12.5")


def test_plain_arguments_are_not_copied_and_plain_tasks_have_no_plan() -> None:
    args, kwargs = (1, [2]), {"k": {"v": None}}
    assert prepare_arguments(args, kwargs) == (args, kwargs)
    assert prepare_arguments(args, kwargs)[0] is args

    def plain(a: int, b: list[str], c: dict[str, Any], *rest: int, **kw: str) -> None: ...

    assert plan_for(plain) is None
    assert plan_for(lambda a, b: None) is None


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((1j,), {}, "argument args[0] has type complex, which is not JSON; job arguments must"),
        (([Point(1, 2), {1, 2}],), {}, "argument args[0][1] has type set"),
        ((Shipment(ID, WHEN, Decimal("NaN"), []),), {}, "argument args[0].price is Decimal('NaN')"),
        ((), {"a": {WHEN: 1}}, "has a key datetime.datetime(2026"),
        ((), {"a": [float("inf"), ID]}, "argument kwargs['a'][0] is inf"),
        ((b"x", ID), {}, "argument args[0] has type bytes"),
    ],
)
def test_what_cannot_be_encoded_is_a_type_error_at_enqueue(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError) as info:
        prepare_arguments(args, kwargs)
    assert message in str(info.value)


def test_a_value_that_does_not_decode_names_the_argument() -> None:
    plan = plan_for(handler)
    assert plan is not None
    with pytest.raises(ValueError, match=r"argument args\[0\] cannot be decoded"):
        plan.apply(["not a date"], {})
    with pytest.raises(ValueError, match=r"argument kwargs\['customer'\] cannot be decoded"):
        plan.apply([], {"customer": {"name": "Ada"}})


def test_an_unresolvable_hint_passes_json_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    def f(a: Missing, b: datetime) -> None:  # type: ignore[name-defined]  # noqa: F821
        ...

    with caplog.at_level("WARNING", logger="goodjob_pg.decoding"):
        plan = plan_for(f)
    assert plan is not None
    assert plan.apply(["x", "2026-01-01T00:00:00+00:00"], {}) == (
        ["x", datetime(2026, 1, 1, tzinfo=UTC)],
        {},
    )
    assert [r.action for r in caplog.records] == ["type_hint_unresolved"]  # type: ignore[attr-defined]
    assert "'Missing'" in caplog.records[0].getMessage()
