"""OpenTelemetry tracing of a real server, recorded with the SDK's in-memory exporter.

A call carrying W3C trace context (`traceparent`) continues the client's trace: one SERVER
span per call, child of the client's span, with the method, the final code and the site,
never the token; the store's transaction is a child span of it, with the capacity lock as an
event; log lines written inside carry the span's ids. Export over OTLP from `bookings serve`
is in test_tracing_export.py.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence

import grpc
import pytest
from booking_helpers import BookingEnv, booking_env, class_booking, failure
from bookings.v1 import bookings_service_pb2 as pb
from conftest import AuthMetadata, StartServer
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bookings_server.logs import JsonFormatter
from bookings_server.observability.tracer import disable_tracing, enable_tracing

CREATE = "bookings.v1.BookingsService/CreateBooking"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the servers the test starts, into memory."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    enable_tracing(provider)
    yield memory
    disable_tracing()
    provider.shutdown()


@pytest.fixture
def env(
    exporter: InMemorySpanExporter,
    sqlite_url: str,
    start_server: StartServer,
    auth_metadata: AuthMetadata,
) -> Iterator[BookingEnv]:
    with booking_env(sqlite_url, start_server, auth_metadata) as environment:
        yield environment


AccessLines = Callable[[], list[dict[str, object]]]


@pytest.fixture
def access_lines() -> Iterator[AccessLines]:
    """The access log's lines so far, as `bookings serve` writes them (JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bookings.access")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


def the_line_of(access_lines: AccessLines, method: str) -> dict[str, object]:
    """The access-log line of the one call to `method`, once written (in a callback that may
    run just after the client has its answer)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in access_lines() if line.get("method") == method]
        if lines or time.monotonic() > deadline:
            (line,) = lines
            return line
        time.sleep(0.02)


class ClientTrace:
    """A client's span, as the `traceparent` metadata it sends (W3C trace context)."""

    def __init__(self) -> None:
        self.trace_id = int.from_bytes(secrets.token_bytes(16), "big")
        self.span_id = int.from_bytes(secrets.token_bytes(8), "big")

    def metadata(self) -> list[tuple[str, str]]:
        return [("traceparent", f"00-{self.trace_id:032x}-{self.span_id:016x}-01")]


def finished(
    exporter: InMemorySpanExporter, done: Callable[[Sequence[ReadableSpan]], bool]
) -> Sequence[ReadableSpan]:
    """The spans, once `done` says they are all there: a server span ends in grpc's callback,
    which may run just after the client has its answer."""
    deadline = time.monotonic() + 10
    spans = exporter.get_finished_spans()
    while not done(spans) and time.monotonic() < deadline:
        time.sleep(0.02)
        spans = exporter.get_finished_spans()
    return spans


def server_spans(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.kind is SpanKind.SERVER and s.name == name]


def has_server_span(name: str) -> Callable[[Sequence[ReadableSpan]], bool]:
    return lambda spans: bool(server_spans(spans, name))


def test_a_create_booking_continues_the_clients_trace_with_a_server_span(
    env: BookingEnv, exporter: InMemorySpanExporter
) -> None:
    client = ClientTrace()
    visitor = env.visitor()
    visitor.metadata = [*visitor.metadata, *client.metadata()]

    visitor.create(class_booking(env.catalog.session, env.catalog.class_service))

    (span,) = server_spans(finished(exporter, has_server_span(CREATE)), CREATE)
    assert span.context.trace_id == client.trace_id
    assert span.parent is not None and span.parent.is_remote
    assert span.parent.span_id == client.span_id
    assert dict(span.attributes or {}) == {
        "rpc.system": "grpc",
        "rpc.service": "bookings.v1.BookingsService",
        "rpc.method": "CreateBooking",
        "rpc.grpc.status_code": 0,
        "bookings.site_id": "site-a",
    }
    assert span.status.status_code is StatusCode.UNSET


def test_the_store_transaction_is_a_child_span_with_the_capacity_lock_as_an_event(
    env: BookingEnv, exporter: InMemorySpanExporter
) -> None:
    client = ClientTrace()
    visitor = env.visitor()
    visitor.metadata = [*visitor.metadata, *client.metadata()]

    visitor.create(class_booking(env.catalog.session, env.catalog.class_service))

    spans = finished(exporter, has_server_span(CREATE))
    (server,) = server_spans(spans, CREATE)
    children = [
        s for s in spans if s.parent is not None and s.parent.span_id == server.context.span_id
    ]
    writes = [s for s in children if s.name == "store.write"]
    assert len(writes) == 1
    (write,) = writes
    assert write.context.trace_id == client.trace_id
    assert write.kind is SpanKind.CLIENT
    assert dict(write.attributes or {}) == {"db.system.name": "sqlite"}
    assert [event.name for event in write.events] == ["capacity lock acquired"]
    assert float(write.events[0].attributes["bookings.lock.wait_s"]) >= 0  # type: ignore[index, arg-type]
    assert all(s.name.startswith("store.") for s in children)


def test_a_span_never_holds_the_token(env: BookingEnv, exporter: InMemorySpanExporter) -> None:
    visitor = env.visitor()
    token = visitor.metadata[0][1].removeprefix("Bearer ")

    visitor.create(class_booking(env.catalog.session, env.catalog.class_service))

    spans = finished(exporter, has_server_span(CREATE))
    texts = [str(dict(s.attributes or {})) + str([e.attributes for e in s.events]) for s in spans]
    assert spans and not any(token in text or "Bearer" in text for text in texts)


def test_a_refused_call_has_its_code_and_no_error_status_when_the_client_erred(
    env: BookingEnv, exporter: InMemorySpanExporter
) -> None:
    assert failure(lambda: env.visitor().get("no-such-booking")).code == grpc.StatusCode.NOT_FOUND
    stub = env.visitor().stub
    with pytest.raises(grpc.RpcError):
        stub.GetBooking(pb.GetBookingRequest(booking_id="x"), timeout=10)  # no token

    get = "bookings.v1.BookingsService/GetBooking"
    spans = server_spans(finished(exporter, lambda s: len(server_spans(s, get)) == 2), get)
    by_code = {s.attributes["rpc.grpc.status_code"]: s for s in spans}  # type: ignore[index]
    assert set(by_code) == {grpc.StatusCode.NOT_FOUND.value[0], 16}
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)
    assert by_code[5].attributes["bookings.site_id"] == "site-a"  # type: ignore[index]
    assert "bookings.site_id" not in (by_code[16].attributes or {})  # not authenticated


def test_a_store_failure_is_an_error_on_the_server_span_and_the_store_span(
    exporter: InMemorySpanExporter,
    sqlite_url: str,
    start_server: StartServer,
    auth_metadata: AuthMetadata,
) -> None:
    with booking_env(
        sqlite_url, lambda **o: start_server(max_call_seconds=0.3, **o), auth_metadata
    ) as env:
        holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            request = class_booking(env.catalog.session, env.catalog.class_service)
            assert failure(lambda: env.visitor().create(request)).reason == "STORE_BUSY"
        finally:
            holder.rollback()
            holder.close()

    spans = finished(exporter, has_server_span(CREATE))
    (server,) = server_spans(spans, CREATE)
    (write,) = [s for s in spans if s.name == "store.write"]
    assert server.attributes["rpc.grpc.status_code"] == 14  # type: ignore[index]
    assert (server.status.status_code, server.status.description) == (
        StatusCode.ERROR,
        "UNAVAILABLE",
    )
    assert (write.status.status_code, write.status.description) == (StatusCode.ERROR, "STORE_BUSY")


def test_the_access_log_line_carries_the_ids_of_the_calls_span(
    env: BookingEnv, exporter: InMemorySpanExporter, access_lines: AccessLines
) -> None:
    client = ClientTrace()
    visitor = env.visitor()
    visitor.metadata = [*visitor.metadata, *client.metadata()]

    visitor.create(class_booking(env.catalog.session, env.catalog.class_service))
    (span,) = server_spans(finished(exporter, has_server_span(CREATE)), CREATE)

    line = the_line_of(access_lines, f"/{CREATE}")
    assert (line["trace_id"], line["span_id"]) == (
        f"{client.trace_id:032x}",
        f"{span.context.span_id:016x}",
    )


def test_health_checks_make_no_spans(env: BookingEnv, exporter: InMemorySpanExporter) -> None:
    health_pb2_grpc.HealthStub(env.channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    env.visitor().create(class_booking(env.catalog.session, env.catalog.class_service))

    spans = finished(exporter, has_server_span(CREATE))
    assert [s.name for s in spans if s.kind is SpanKind.SERVER] == [CREATE]


def test_an_event_stream_has_its_server_span_but_no_span_per_poll(
    env: BookingEnv, exporter: InMemorySpanExporter
) -> None:
    owner = env.client()
    stream = owner.stub.WatchBookingEvents(
        pb.WatchBookingEventsRequest(), metadata=owner.metadata, timeout=20
    )
    env.client().create(class_booking(env.catalog.session, env.catalog.class_service))
    next(stream)
    time.sleep(0.5)  # a few polls
    stream.cancel()

    watch = "bookings.v1.BookingsService/WatchBookingEvents"
    spans = finished(exporter, has_server_span(watch))
    (span,) = server_spans(spans, watch)
    assert span.attributes["rpc.grpc.status_code"] == 1  # type: ignore[index]  # CANCELLED
    under_watch = [s for s in spans if s.parent and s.parent.span_id == span.context.span_id]
    assert under_watch == []


def test_without_tracing_log_lines_carry_no_trace_ids(
    sqlite_url: str,
    start_server: StartServer,
    auth_metadata: AuthMetadata,
    access_lines: AccessLines,
) -> None:
    with booking_env(sqlite_url, start_server, auth_metadata) as env:
        env.visitor().create(class_booking(env.catalog.session, env.catalog.class_service))

        line = the_line_of(access_lines, f"/{CREATE}")

    assert line["code"] == "OK"
    assert "trace_id" not in line and "span_id" not in line
