#!/usr/bin/env python3
"""A stand-in OpenTelemetry collector for the benchmarks: accepts OTLP/gRPC trace exports on a
free port, counts their spans and drops them.

Prints `port N` once serving; on SIGTERM prints `spans N` (spans received) and exits.
"""

from __future__ import annotations

import signal
import threading
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


class CountingTraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans = 0
        self._lock = threading.Lock()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, _context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        received = sum(
            len(scope.spans)
            for resource in request.resource_spans
            for scope in resource.scope_spans
        )
        with self._lock:
            self.spans += received
        return trace_service_pb2.ExportTraceServiceResponse()


def main() -> None:
    service = CountingTraceService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(service, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"port {port}", flush=True)
    stop.wait()
    server.stop(grace=1).wait()
    print(f"spans {service.spans}", flush=True)


if __name__ == "__main__":
    main()
