"""Server interceptor for the go-grpc-prometheus metrics and the service's own counters.

Placed right after the access log, outside every interceptor that can end a call (decode,
auth, rate limits, deadline, errors), it counts the call when grpc has terminated it: the
code is then the one the client got (call_end.py). Calls to methods the server does not have
are not counted: their names come from clients and would make the labels unbounded.
What the answers did to bookings is counted by booking_metrics.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from prometheus_client import Counter, Histogram

from bookings_server.api.interceptors.booking_metrics import observe_refusal, observe_response
from bookings_server.api.interceptors.call_end import CallEnd, when_terminated
from bookings_server.api.interceptors.wrap import Behavior, Handler, wrap_handler
from bookings_server.observability import metrics


@dataclass
class _MethodSeries:
    """The series of one method, resolved once (label lookups cost more than increments)."""

    labels: tuple[str, str, str]
    started: Counter
    handling: Histogram
    handled: dict[grpc.StatusCode, Counter] = field(default_factory=dict)

    @classmethod
    def of(cls, method: str, handler: Handler) -> _MethodSeries:
        service, _, name = method.lstrip("/").partition("/")
        labels = (_grpc_type(handler), service, name)
        return cls(
            labels,
            metrics.grpc_started.labels(*labels),
            metrics.grpc_handling_seconds.labels(*labels),
        )

    def finished(self, code: grpc.StatusCode, seconds: float) -> None:
        handled = self.handled.get(code)
        if handled is None:
            handled = self.handled[code] = metrics.grpc_handled.labels(*self.labels, code.name)
        handled.inc()
        self.handling.observe(seconds)


class MetricsInterceptor(grpc.ServerInterceptor):
    """Counts every call to a registered method, by type, service, method and final code."""

    def __init__(self) -> None:
        self._series: dict[str, _MethodSeries] = {}

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        series = self._series.get(method)
        if series is None:
            series = self._series[method] = _MethodSeries.of(method, handler)
        return wrap_handler(
            handler, lambda behavior, streaming: _measured(method, series, behavior, streaming)
        )


def _measured(method: str, series: _MethodSeries, behavior: Behavior, streaming: bool) -> Behavior:
    if streaming:

        def streamed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            call = _started(series, context)
            normally = False
            try:
                yield from behavior(request, context)
                normally = True
            except Exception:
                observe_refusal(context)
                raise
            finally:
                call.ended(normally=normally)

        return streamed

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        since_ns = time.time_ns()
        call = _started(series, context)
        normally = False
        try:
            response = behavior(request, context)
            normally = True
        except Exception:
            observe_refusal(context)
            raise
        finally:
            call.ended(normally=normally)
        observe_response(method, response, since_ns)
        return response

    return unary


def _started(series: _MethodSeries, context: grpc.ServicerContext) -> CallEnd:
    """Count the call as started; it is counted as handled when grpc terminates it."""
    series.started.inc()
    call = CallEnd(context)
    began = time.perf_counter()
    when_terminated(context, lambda: series.finished(call.code(), time.perf_counter() - began))
    return call


def _grpc_type(handler: Handler) -> str:
    """go-grpc-prometheus's grpc_type: unary, client_stream, server_stream or bidi_stream."""
    if handler.request_streaming:
        return "bidi_stream" if handler.response_streaming else "client_stream"
    return "server_stream" if handler.response_streaming else "unary"
