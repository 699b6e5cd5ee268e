"""Rich arguments through the real database: Python and SQL enqueuers, inline runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pydantic
import pytest

from goodjob_pg import App

Conn = psycopg.Connection[Any]


@dataclasses.dataclass
class Line:
    sku: str
    price: Decimal


class Order(pydantic.BaseModel):
    id: UUID
    placed: datetime
    lines: list[str]


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    with App(db_url, execution_mode="inline") as app:
        yield app


def test_rich_arguments_arrive_as_they_left(app: App, db_conn: Conn) -> None:
    seen: list[Any] = []

    @app.task(name="ship")
    def ship(order: Order, lines: list[Line], on: date, *, ref: UUID | None = None) -> None:
        seen.append((order, lines, on, ref))

    order = Order(id=uuid4(), placed=datetime(2026, 11, 24, 9, tzinfo=UTC), lines=["a"])
    lines = [Line("a", Decimal("9.99"))]
    ref = uuid4()
    job_id = ship.enqueue(order, lines, date(2026, 12, 1), ref=ref)
    assert seen == [(order, lines, date(2026, 12, 1), ref)]
    row = db_conn.execute("select args, kwargs from goodjob_jobs where id = %s", (job_id,))
    assert row.fetchone() == (
        [
            {"id": str(order.id), "placed": "2026-11-24T09:00:00Z", "lines": ["a"]},
            [{"sku": "a", "price": "9.99"}],
            "2026-12-01",
        ],
        {"ref": str(ref)},
    )


def test_another_language_enqueues_with_plain_json(app: App, db_conn: Conn) -> None:
    seen: list[Any] = []

    @app.task(name="bill")
    def bill(amount: Decimal, due: datetime, customer: UUID) -> None:
        seen.append((amount, due, customer))

    customer = uuid4()
    db_conn.execute(
        "select goodjob_enqueue(task => 'bill', args => %s::jsonb)",
        (f'["12.30", "2026-11-24T09:00:00Z", "{customer}"]',),
    )
    # The same job with a value that does not decode is discarded, not retried.
    bad = db_conn.execute(
        "select goodjob_enqueue(task => 'bill', args => '[\"x\", \"nope\", null]')"
    ).fetchone()
    assert bad is not None
    assert app.perform_inline() == 2
    assert seen == [(Decimal("12.30"), datetime(2026, 11, 24, 9, tzinfo=UTC), customer)]
    state = db_conn.execute("select state, last_error from goodjob_jobs where id = %s", bad)
    discarded, error = state.fetchone() or (None, None)
    assert discarded == "discarded"
    assert "cannot take the job's arguments: argument args[0] cannot be decoded" in error


def test_what_cannot_be_encoded_fails_at_enqueue(app: App, db_conn: Conn) -> None:
    @app.task
    def f(x: Any) -> None: ...

    with pytest.raises(TypeError, match=r"argument args\[0\]\['k'\] has type set"):
        f.enqueue({"k": {1}})
    assert db_conn.execute("select count(*) from goodjob_jobs").fetchone() == (0,)
