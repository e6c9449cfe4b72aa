"""`bookings serve` exports its spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

The receiver is a real OTLP/gRPC trace service (the collector's protocol, from
opentelemetry-proto) on a free port; the server is a real `bookings serve` process.
"""

from __future__ import annotations

import json
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from bookings.v1 import bookings_service_pb2, bookings_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2
from server_process import bookings_serve

from bookings_server.observability.tracer import tracing_from_environment

GET = "bookings.v1.BookingsService/GetBooking"


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """Keeps every span exported to it, with its resource's attributes."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict[str, str], trace_pb2.Span]] = []
        self._lock = threading.Lock()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        with self._lock:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend((resource, span) for span in scope_spans.spans)
        return trace_service_pb2.ExportTraceServiceResponse()

    def named(self, name: str, timeout: float = 20.0) -> tuple[dict[str, str], trace_pb2.Span]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [(r, s) for r, s in self.spans if s.name == name]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no span {name} exported; got {[s.name for _, s in self.spans]}")


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, int]]:
    servicer = Receiver()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, port
    server.stop(grace=None)


def test_serve_exports_each_calls_span_to_the_otlp_endpoint(
    tmp_path: Path, receiver: tuple[Receiver, int]
) -> None:
    collector, collector_port = receiver
    server = bookings_serve(
        tmp_path / "data",
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector_port}",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        },
    )
    try:
        port = server.port()
        trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel, pytest.raises(grpc.RpcError):
            bookings_service_pb2_grpc.BookingsServiceStub(channel).GetBooking(
                bookings_service_pb2.GetBookingRequest(booking_id="b-1"),
                metadata=[("traceparent", f"00-{trace_id}-{parent_id}-01")],
                timeout=10,
            )

        resource, span = collector.named(GET)
        server.send(signal.SIGTERM)
        assert server.wait() == 0
    finally:
        server.stop()

    assert resource["service.name"] == "bookings"
    assert (span.trace_id.hex(), span.parent_span_id.hex()) == (trace_id, parent_id)
    assert span.kind == trace_pb2.Span.SPAN_KIND_SERVER
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["rpc.grpc.status_code"].int_value == grpc.StatusCode.UNAUTHENTICATED.value[0]
    access = [json.loads(line) for line in server.stderr if '"bookings.access"' in line]
    (line,) = [entry for entry in access if entry["method"] == f"/{GET}"]
    assert (line["trace_id"], line["span_id"]) == (trace_id, span.span_id.hex())


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_TRACES_EXPORTER": "none"},
    ],
    ids=["no endpoint", "sdk disabled", "no exporter"],
)
def test_tracing_stays_off_unless_an_endpoint_is_set_and_nothing_turns_it_off(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert tracing_from_environment() is None


def test_the_service_is_named_bookings_unless_otel_service_name_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "bookings-eu")
    provider = tracing_from_environment()
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "bookings-eu"
    finally:
        provider.shutdown()
