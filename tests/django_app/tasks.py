"""Tasks on the default Django App; they record runs with Django's own connection."""

from __future__ import annotations

from django.db import connection

from goodjob_pg.contrib.django import app


@app.task(name="django.record")
def record(tag: str) -> None:
    """Insert ``tag`` into ``runs`` with the ORM's connection (in the worker's thread)."""
    with connection.cursor() as cur:
        cur.execute("insert into runs (tag) values (%s)", [tag])
