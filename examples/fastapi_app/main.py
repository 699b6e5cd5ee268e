"""FastAPI + goodjob-pg: an order and its shipping job commit together, or neither does.

Run the API and a worker (``GOODJOB_DATABASE_URL`` names the database)::

    uvicorn examples.fastapi_app.main:api
    goodjob-pg run --app examples.fastapi_app.main:jobs

The API opens its own ``AsyncConnectionPool`` in the lifespan handler; each
request takes one connection, and the job is enqueued with ``aenqueue`` on
it, inside the request's transaction. The worker is a separate process.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from goodjob_pg import App
from goodjob_pg.migrations import apply_migrations

DATABASE_URL = os.environ.get(
    "GOODJOB_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

jobs = App(DATABASE_URL)


class OrderIn(BaseModel):
    """The request body."""

    item: str
    quantity: int = 1


@jobs.task(name="example.ship_order", queue="shipping")
def ship_order(order_id: int, order: OrderIn) -> None:
    """Mark the order shipped (a Pydantic model arrives as a model)."""
    with jobs.connection() as conn:
        conn.execute(
            "update orders set shipped = true where id = %s and item = %s", (order_id, order.item)
        )


@asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[None]:
    """Install the schema, then keep an async pool open while the API runs."""
    apply_migrations(DATABASE_URL)
    async with AsyncConnectionPool(DATABASE_URL, min_size=1, max_size=4) as pool:
        async with pool.connection() as conn:
            await conn.execute(
                "create table if not exists orders (id serial primary key, item text not null,"
                " quantity int not null, shipped boolean not null default false)"
            )
        api.state.pool = pool
        yield


api = FastAPI(lifespan=lifespan)


@api.post("/orders", status_code=201)
async def create_order(order: OrderIn, request: Request) -> dict[str, int]:
    """Insert the order and enqueue its shipping job in the same transaction."""
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(
            "insert into orders (item, quantity) values (%s, %s) returning id",
            (order.item, order.quantity),
        )
        row = await cur.fetchone()
        assert row is not None
        order_id: int = row[0]
        await ship_order.options(connection=conn).aenqueue(order_id, order)
        if order.quantity <= 0:  # rolls back the order and its job together
            raise HTTPException(status_code=422, detail="quantity must be positive")
    return {"id": order_id}
