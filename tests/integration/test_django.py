"""Django: settings, migrate, enqueue inside transaction.atomic(), and the worker command.

Django is configured once for this module, on a database created empty so
that ``manage.py migrate`` is what installs the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django
import psycopg
import pytest
from django.conf import settings

from tests.plugins.database import (
    PGHOST,
    PGPORT,
    PGUSER,
    SESSION_DB,
    create_database,
    drop_database,
    url_for,
)

Conn = psycopg.Connection[Any]
DBNAME = f"{SESSION_DB}_django"


@pytest.fixture(scope="module")
def django_db() -> Iterator[str]:
    from django.core.management import call_command
    from django.db import connections

    create_database(DBNAME)
    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": DBNAME,
                "USER": PGUSER,
                "HOST": PGHOST,
                "PORT": str(PGPORT),
            }
        },
        INSTALLED_APPS=["django_tasks", "goodjob_pg.contrib.django", "tests.django_app"],
        TASKS={
            "default": {
                "BACKEND": "goodjob_pg.contrib.django.tasks_backend.GoodjobBackend",
                "QUEUES": [],  # any queue name
            }
        },
        GOODJOB={"WORKER": {"poll_interval": 0.5}},
        USE_TZ=True,
    )
    django.setup()
    try:
        call_command("migrate", verbosity=0)
        yield url_for(DBNAME)
    finally:
        from goodjob_pg.contrib.django import app

        app.close()
        connections.close_all()
        drop_database(DBNAME)


@pytest.fixture
def conn(django_db: str) -> Iterator[Conn]:
    with psycopg.connect(django_db, autocommit=True) as conn:
        conn.execute("drop table if exists runs")
        conn.execute("create table runs (tag text not null)")
        conn.execute("truncate goodjob_jobs, goodjob_executions")
        yield conn


def test_migrate_installs_the_sql_schema_once(conn: Conn) -> None:
    from django.core.management import call_command

    versions = conn.execute("select version from goodjob_migrations order by 1").fetchall()
    assert versions and versions[0] == ("0001",)
    applied = conn.execute("select name from django_migrations where app = 'goodjob_pg'")
    assert applied.fetchall() == [("0001_initial",)]
    call_command("migrate", verbosity=0)  # nothing left to do
    assert conn.execute("select count(*) from goodjob_migrations").fetchone() == (len(versions),)


def test_settings_give_the_database_and_the_connection(django_db: str) -> None:
    from django.db import connections
    from django.test import override_settings

    from goodjob_pg.contrib.django import app
    from goodjob_pg.contrib.django.settings import database_url, get_app

    assert get_app() is app
    assert psycopg.conninfo.conninfo_to_dict(app.database_url) == {
        "dbname": DBNAME,
        "user": PGUSER,
        "host": PGHOST,
        "port": str(PGPORT),
    }
    assert app.enqueue_connection is not None
    assert app.enqueue_connection() is connections["default"]
    with override_settings(GOODJOB={"DATABASE_URL": "postgresql:///x"}):
        assert database_url() == "postgresql:///x"
    with (
        override_settings(GOODJOB={"DATABSE": "other"}),
        pytest.raises(ValueError, match="DATABSE"),
    ):
        database_url()


def test_enqueue_joins_transaction_atomic(conn: Conn) -> None:
    from django.db import connection, transaction

    from goodjob_pg.contrib.django import app
    from tests.django_app.tasks import record

    with pytest.raises(RuntimeError), transaction.atomic():
        record.enqueue("rolled back")
        raise RuntimeError("the view failed")
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("insert into runs (tag) values ('order saved')")
        record.enqueue("committed")
        assert conn.execute("select count(*) from goodjob_jobs").fetchone() == (0,)
    record.enqueue("autocommit")  # outside atomic(): Django's autocommit, at once
    assert app.drain() == 2 and app.drain() == 0
    tags = sorted(r[0] for r in conn.execute("select tag from runs"))
    assert tags == ["autocommit", "committed", "order saved"]


def test_worker_command_runs_committed_jobs(conn: Conn) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from tests.django_app.tasks import record

    with transaction.atomic():
        record.enqueue("by the worker")
    call_command("goodjob_worker", "--queues", "*:2", "--idle-timeout", "1")
    assert conn.execute("select tag from runs").fetchall() == [("by the worker",)]
    state = conn.execute("select state from goodjob_jobs").fetchall()
    assert state == [("succeeded",)]


def test_django_tasks_backend_maps_the_fields_and_joins_atomic(conn: Conn) -> None:
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone
    from django_tasks import TaskResultStatus

    from goodjob_pg.contrib.django import app
    from tests.django_app.tasks import urgent, with_context

    with pytest.raises(RuntimeError), transaction.atomic():
        urgent.enqueue("rolled back")
        raise RuntimeError
    with transaction.atomic():
        result = urgent.enqueue("committed")
        later = urgent.using(run_after=timezone.now() + timedelta(hours=1)).enqueue("later")
    context_result = with_context.enqueue("ctx")
    assert result.status == TaskResultStatus.READY
    rows = conn.execute(
        "select id::text, task, queue, priority, state from goodjob_jobs order by created_at"
    ).fetchall()
    assert rows == [
        (result.id, "tests.django_app.tasks.urgent", "mail", -50, "queued"),
        (later.id, "tests.django_app.tasks.urgent", "mail", -50, "scheduled"),
        (context_result.id, "tests.django_app.tasks.with_context", "default", 0, "queued"),
    ]
    assert app.drain() == 2
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL and result.attempts == 1
    assert urgent.get_result(later.id).status == TaskResultStatus.READY
    tags = sorted(r[0] for r in conn.execute("select tag from runs"))
    assert tags == ["committed", f"ctx attempt=1 id={context_result.id}"]


def test_the_worker_command_finds_django_tasks() -> None:
    from goodjob_pg import App
    from goodjob_pg.contrib.django.tasks_backend import register_django_tasks

    with App() as fresh:
        assert register_django_tasks(fresh, ["tasks"]) == 2
        assert {"tests.django_app.tasks.urgent", "tests.django_app.tasks.with_context"} <= set(
            fresh.tasks
        )


def test_inline_mode_runs_a_job_when_atomic_commits(conn: Conn) -> None:
    from django.db import transaction

    from goodjob_pg.contrib.django import app
    from goodjob_pg.testing import inline
    from tests.django_app.tasks import record

    def tags() -> list[str]:
        return [r[0] for r in conn.execute("select tag from runs order by tag")]

    with inline(app):
        with pytest.raises(RuntimeError), transaction.atomic():
            record.enqueue("rolled back")
            raise RuntimeError
        with transaction.atomic():
            record.enqueue("on commit")
            assert tags() == []
        assert tags() == ["on commit"]
        record.enqueue("autocommit")
        assert tags() == ["autocommit", "on commit"]
