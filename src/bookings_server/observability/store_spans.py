"""What the store records: a span per transaction, the capacity lock's wait.

A transaction gets a span (`store.read` / `store.write`, kind CLIENT, `db.system.name`) only
as the child of a recording span, i.e. inside a traced call: the worker's rounds and the
health probes make no traces of their own. A streaming call turns store spans off for its
duration (`without_store_spans`): WatchBookingEvents polls every 150 ms for hours, which
would hang thousands of children under one span.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from bookings_server.observability.metrics import capacity_lock_wait_seconds
from bookings_server.observability.tracer import active_tracer

_NO_STORE_SPANS = otel_context.create_key("bookings.no_store_spans")


def without_store_spans(context: otel_context.Context) -> otel_context.Context:
    """`context`, in which transactions make no spans."""
    return otel_context.set_value(_NO_STORE_SPANS, True, context)


@contextmanager
def transaction_span(kind: str, dialect: str) -> Iterator[None]:
    """A `store.<kind>` span around the block, when the current call is traced."""
    tracer = active_tracer()
    if tracer is None or not _traced_here():
        yield
        return
    span = tracer.start_span(
        f"store.{kind}", kind=SpanKind.CLIENT, attributes={"db.system.name": dialect}
    )
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    except Exception as error:
        _failed(span, error)
        raise
    finally:
        otel_context.detach(token)
        span.end()


def capacity_lock_acquired(wait_s: float) -> None:
    """Record a capacity lock taken after `wait_s` seconds, on the metric and the span."""
    capacity_lock_wait_seconds.observe(wait_s)
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event("capacity lock acquired", {"bookings.lock.wait_s": wait_s})


def _traced_here() -> bool:
    if otel_context.get_value(_NO_STORE_SPANS):
        return False
    return trace.get_current_span().is_recording()


def _failed(span: trace.Span, error: Exception) -> None:
    """A rolled-back transaction: its error class and, for a domain error, its reason."""
    reason = getattr(error, "reason", None)
    span.set_attribute("error.type", type(error).__name__)
    span.set_status(Status(StatusCode.ERROR, str(reason) if reason else None))
