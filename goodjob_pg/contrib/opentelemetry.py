"""OpenTelemetry tracing: a producer span per enqueue, a consumer span per attempt, linked.

::

    from goodjob_pg.contrib.opentelemetry import instrument

    instrument(app)                      # in the enqueuing processes and in the workers

Needs ``opentelemetry-api`` (``pip install goodjob-pg[opentelemetry]``) and,
to export anything, an SDK configured by the application. Spans follow the
OpenTelemetry messaging semantic conventions:

- enqueue: ``send <queue>``, kind PRODUCER, with ``messaging.system``
  ``goodjob``, ``messaging.operation.type``/``.name`` ``send``,
  ``messaging.destination.name`` (the queue), ``messaging.message.id`` (the
  job id) and ``goodjob.task``. Its W3C trace context (the global propagator's
  fields, ``traceparent`` and ``tracestate``) is stored with the job, in
  ``goodjob_jobs.trace_context``, in the same statement as the enqueue;
- each attempt: ``process <queue>``, kind CONSUMER, a child of the enqueue's
  context and linked to it, with ``messaging.operation.type``/``.name``
  ``process`` and ``goodjob.job.attempt``. A task exception is recorded on it
  and sets its status to ERROR.

A worker reads a job's trace context with one extra query per attempt (only
when instrumented). Jobs enqueued without instrumentation (or from SQL
without ``goodjob_set_trace_context``) start a new trace in the worker.
``instrument`` keeps the App's existing ``around_job``, ``around_enqueue``
and ``on_error`` hooks and runs them inside the spans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, TracerProvider

from .. import __version__, db
from ..jobs import Job
from ..registry import App

__all__ = ["instrument"]

SYSTEM = "goodjob"


def instrument(app: App, tracer_provider: TracerProvider | None = None) -> None:
    """Trace ``app``'s enqueues and job runs (idempotent).

    Parameters:
        app: the App to instrument.
        tracer_provider: where spans go; default the global provider.
    """
    if getattr(app, "_goodjob_otel", False):
        return
    tracer = trace.get_tracer("goodjob_pg", __version__, tracer_provider=tracer_provider)
    app.around_enqueue = _producer(tracer, app.around_enqueue)
    app.around_job = _consumer(tracer, app, app.around_job)
    app.on_error = _on_error(app.on_error)
    app._goodjob_otel = True  # type: ignore[attr-defined]


def _producer(
    tracer: trace.Tracer,
    inner: Callable[[str, dict[str, Any]], AbstractContextManager[object]] | None,
) -> Callable[[str, dict[str, Any]], AbstractContextManager[object]]:
    @contextmanager
    def around_enqueue(name: str, options: dict[str, Any]) -> Iterator[None]:
        queue = options.get("queue") or "default"
        attributes = {
            "messaging.system": SYSTEM,
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
            "messaging.destination.name": queue,
            "messaging.message.id": str(options["id"]),
            "goodjob.task": name,
        }
        with ExitStack() as stack:
            stack.enter_context(
                tracer.start_as_current_span(
                    f"send {queue}", kind=SpanKind.PRODUCER, attributes=attributes
                )
            )
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            options["trace_context"] = carrier or None
            if inner is not None:
                stack.enter_context(inner(name, options))
            yield

    return around_enqueue


def _consumer(
    tracer: trace.Tracer, app: App, inner: Callable[[Job], AbstractContextManager[object]] | None
) -> Callable[[Job], AbstractContextManager[object]]:
    @contextmanager
    def around_job(job: Job) -> Iterator[None]:
        with app.connection() as conn:
            carrier = db.get_trace_context(conn, job.id)
        parent = propagate.extract(carrier) if carrier else None
        links = []
        if parent is not None:
            sent = trace.get_current_span(parent).get_span_context()
            if sent.is_valid:
                links.append(Link(sent))
        attributes: dict[str, str | int] = {
            "messaging.system": SYSTEM,
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": job.queue,
            "messaging.message.id": str(job.id),
            "goodjob.task": job.task,
            "goodjob.job.attempt": job.attempts,
        }
        with ExitStack() as stack:
            stack.enter_context(
                tracer.start_as_current_span(
                    f"process {job.queue}",
                    context=parent,
                    kind=SpanKind.CONSUMER,
                    links=links,
                    attributes=attributes,
                )
            )
            if inner is not None:
                stack.enter_context(inner(job))
            yield

    return around_job


def _on_error(
    inner: Callable[[BaseException, Job], object] | None,
) -> Callable[[BaseException, Job], object]:
    def on_error(exc: BaseException, job: Job) -> None:
        span = trace.get_current_span()
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        if inner is not None:
            inner(exc, job)

    return on_error
