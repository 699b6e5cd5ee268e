"""OpenTelemetry: producer and consumer spans, linked through the job's stored trace context."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from goodjob_pg import App, Job, current_job
from goodjob_pg.contrib.opentelemetry import instrument

Conn = psycopg.Connection[Any]


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


def test_enqueue_and_runs_are_linked_across_the_database(
    db_url: str, db_conn: Conn, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    wrapped: list[str] = []

    @contextlib.contextmanager
    def around(job: Job) -> Iterator[None]:
        wrapped.append(job.task)  # an existing hook keeps working, inside the span
        yield

    with App(db_url, around_job=around) as app:
        instrument(app, provider)
        instrument(app, provider)  # idempotent

        @app.task(name="mail.send", queue="mail", retry_backoff=("constant", 0))
        def send(to: str) -> None:
            if to == "flaky" and current_job().attempt == 1:
                raise ConnectionError("smtp down")

        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("POST /signup"):
            ok_id = send.enqueue("a@example.com")
            flaky_id = send.enqueue("flaky")
        row = db_conn.execute("select trace_context from goodjob_jobs where id = %s", (ok_id,))
        (stored,) = row.fetchone() or (None,)
        assert set(stored) >= {"traceparent"}
        assert app.drain() == 3  # ok, flaky (fails), flaky again (backoff 0 s)

    spans = {(s.name, s.kind): s for s in exporter.get_finished_spans() if s.name != "POST /signup"}
    sent = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]
    runs = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert {name for name, _ in spans} == {"send mail", "process mail"}
    request = next(s for s in exporter.get_finished_spans() if s.name == "POST /signup")
    assert len(sent) == 2 and len(runs) == 3
    by_id = {s.attributes["messaging.message.id"]: s for s in sent if s.attributes}
    producer = by_id[str(ok_id)]
    assert producer.parent is not None and producer.parent.span_id == request.context.span_id
    assert dict(producer.attributes or {}) == {
        "messaging.system": "goodjob",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": "mail",
        "messaging.message.id": str(ok_id),
        "goodjob.task": "mail.send",
    }
    assert stored["traceparent"].split("-")[2] == f"{producer.context.span_id:016x}"

    for run in runs:
        attributes = dict(run.attributes or {})
        origin = by_id[attributes["messaging.message.id"]]
        assert run.context.trace_id == origin.context.trace_id  # one trace, request to run
        assert run.parent is not None and run.parent.span_id == origin.context.span_id
        assert [link.context.span_id for link in run.links] == [origin.context.span_id]
        assert attributes["messaging.operation.type"] == "process"
        assert attributes["messaging.destination.name"] == "mail"
    failed = [r for r in runs if r.status.status_code is StatusCode.ERROR]
    assert [dict(r.attributes or {})["goodjob.job.attempt"] for r in failed] == [1]
    assert failed[0].attributes and failed[0].attributes["messaging.message.id"] == str(flaky_id)
    assert [e.name for e in failed[0].events] == ["exception"]
    assert failed[0].status.description == "ConnectionError: smtp down"
    assert wrapped == ["mail.send"] * 3


def test_a_job_from_sql_starts_its_own_trace(
    db_url: str, db_conn: Conn, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    with App(db_url) as app:
        instrument(app, provider)

        @app.task(name="t")
        def t() -> None: ...

        db_conn.execute("select goodjob_enqueue(task => 't')")
        assert app.drain() == 1
    (run,) = exporter.get_finished_spans()
    assert run.name == "process default" and run.parent is None and not run.links
