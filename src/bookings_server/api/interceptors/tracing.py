"""Server interceptors for OpenTelemetry: a SERVER span per call, and its site.

Why not opentelemetry-instrumentation-grpc's server interceptor: its context wrapper passes
`abort_with_status` straight through, and every error of this server is answered that way
(api/status.py), so each failed call's span would say OK; nor does it see codes set after
the handler (a cancelled call, a passed deadline). This one follows the same conventions
(span name `service/method`, `rpc.system`, `rpc.service`, `rpc.method`,
`rpc.grpc.status_code`; status ERROR only for the server-side codes) and takes the final code
when grpc has terminated the call (call_end.py).

`TracingInterceptor` goes first in the chain: the parent context comes from the call's
metadata (W3C `traceparent`, through the configured propagators), the span is current while
every other interceptor and the handler run, so their log lines and the store's transaction
spans belong to it. Callbacks added inside (the access log's line) run in that context too.
`SiteAttributeInterceptor` goes right after auth: it adds the verified `bookings.site_id`.
Health and reflection are not traced (load balancers probe them every second). Metadata
values (the token) never go into a span.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from typing import Any, cast

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode

from bookings_server.api.auth.scopes import PUBLIC_PREFIXES
from bookings_server.api.context import current_principal
from bookings_server.api.interceptors.call_end import CallEnd, when_terminated
from bookings_server.api.interceptors.wrap import Behavior, Handler, wrap_handler
from bookings_server.observability.store_spans import without_store_spans

#: Codes for which a server span's status is ERROR (OpenTelemetry's gRPC conventions); the
#: others are the client's problem and leave the status unset.
_SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)
Attributes = dict[str, str]


class TracingInterceptor(grpc.ServerInterceptor):
    """Makes a SERVER span of every call to a registered method (but health and reflection)."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method.startswith(PUBLIC_PREFIXES):
            return handler
        name = method.lstrip("/")
        service, _, rpc = name.partition("/")
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": rpc}

        def traced(behavior: Behavior, streaming: bool) -> Behavior:
            return _traced(self._tracer, name, attributes, behavior, streaming)

        return wrap_handler(handler, traced)


class SiteAttributeInterceptor(grpc.ServerInterceptor):
    """Puts the verified principal's site on the call's span; place it right after auth."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(PUBLIC_PREFIXES):
            return handler
        return wrap_handler(handler, _with_site)


class _Span:
    """The span of one call: current while the behaviour runs, ended when grpc has
    terminated the call, with its final code."""

    def __init__(
        self,
        tracer: trace.Tracer,
        name: str,
        attributes: Attributes,
        context: grpc.ServicerContext,
        streaming: bool,
    ) -> None:
        parent = extract(_carrier(context))
        self._span = tracer.start_span(
            name, context=parent, kind=SpanKind.SERVER, attributes=attributes
        )
        current = trace.set_span_in_context(self._span, parent)
        # A stream's polls would hang thousands of store spans under this one.
        self._context = without_store_spans(current) if streaming else current
        self._end = CallEnd(context)
        when_terminated(context, self._finish)

    def enter(self) -> object:
        """Make the span current in this thread; returns the token for `exit`."""
        return otel_context.attach(self._context)

    def exit(self, token: object, *, normally: bool) -> None:
        self._end.ended(normally=normally)
        otel_context.detach(token)  # type: ignore[arg-type]

    def _finish(self) -> None:
        code = self._end.code()
        self._span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code in _SERVER_ERRORS:
            self._span.set_status(Status(StatusCode.ERROR, code.name))
        self._span.end()


def _traced(
    tracer: trace.Tracer, name: str, attributes: Attributes, behavior: Behavior, streaming: bool
) -> Behavior:
    if streaming:

        def streamed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            span = _Span(tracer, name, attributes, context, streaming=True)
            token = span.enter()
            normally = False
            try:
                yield from behavior(request, _callbacks_in_span(context))
                normally = True
            finally:
                span.exit(token, normally=normally)

        return streamed

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        span = _Span(tracer, name, attributes, context, streaming=False)
        token = span.enter()
        normally = False
        try:
            response = behavior(request, _callbacks_in_span(context))
            normally = True
            return response
        finally:
            span.exit(token, normally=normally)

    return unary


def _with_site(behavior: Behavior, streaming: bool) -> Behavior:
    if streaming:

        def streamed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            _tag_site()
            yield from behavior(request, context)

        return streamed

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        _tag_site()
        return behavior(request, context)

    return unary


def _tag_site() -> None:
    trace.get_current_span().set_attribute("bookings.site_id", current_principal().site_id)


def _carrier(context: grpc.ServicerContext) -> dict[str, str]:
    """The call's text metadata, for the propagators (they read `traceparent`, `tracestate`
    and `baggage`)."""
    return {
        key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)
    }


class _CallbacksInSpan:
    """The servicer context inner interceptors and the handler see: the call's own, except
    that the callbacks they add run in the call's context (and span), not in the empty one
    of grpc's thread."""

    __slots__ = ("_context",)

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def add_callback(self, callback: Callable[[], None]) -> bool:
        captured = contextvars.copy_context()
        added: bool = self._context.add_callback(lambda: captured.run(callback))
        return added


def _callbacks_in_span(context: grpc.ServicerContext) -> grpc.ServicerContext:
    return cast(grpc.ServicerContext, _CallbacksInSpan(context))
