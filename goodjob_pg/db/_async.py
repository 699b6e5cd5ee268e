"""The SQL an async caller runs on its own psycopg ``AsyncConnection`` or ``AsyncCursor``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Unpack
from uuid import UUID

from ._core import AsyncExecutor, aone, atranslated
from ._runner import ENQUEUE_MANY, EnqueueFields, enqueue_many_spec, enqueue_statement


@atranslated
async def aenqueue(
    conn: AsyncExecutor,
    task: str,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    **options: Unpack[EnqueueFields],
) -> UUID | None:
    """:func:`goodjob_pg.db.enqueue` on an async connection or cursor (joins its transaction)."""
    job_id: UUID | None = await aone(conn, *enqueue_statement(task, args, kwargs, **options))
    return job_id


@atranslated
async def aenqueue_many(conn: AsyncExecutor, jobs: Sequence[dict[str, Any]]) -> list[UUID | None]:
    """:func:`goodjob_pg.db.enqueue_many` on an async connection or cursor."""
    cur = await conn.execute(ENQUEUE_MANY, (enqueue_many_spec(jobs),))
    return [row[0] for row in await cur.fetchall()]
