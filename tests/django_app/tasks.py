"""Tasks on the default Django App; they record runs with Django's own connection."""

from __future__ import annotations

from django.db import connection
from django_tasks import TaskContext
from django_tasks import task as django_task

from goodjob_pg.contrib.django import app


@app.task(name="django.record")
def record(tag: str) -> None:
    """Insert ``tag`` into ``runs`` with the ORM's connection (in the worker's thread)."""
    with connection.cursor() as cur:
        cur.execute("insert into runs (tag) values (%s)", [tag])


@django_task(priority=50, queue_name="mail")
def urgent(tag: str) -> None:
    """A task of Django's Tasks framework (the django-tasks backport here)."""
    record(tag)


@django_task(takes_context=True)
def with_context(context: TaskContext, tag: str) -> None:
    """Records the attempt and result id Django's TaskContext carries."""
    record(f"{tag} attempt={context.attempt} id={context.task_result.id}")
