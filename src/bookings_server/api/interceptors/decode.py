"""Server interceptor that answers undecodable or unstorable requests with INVALID_ARGUMENT.

grpcio deserializes the request before any handler runs and answers a DecodeError with
INTERNAL ("Exception deserializing request!"), which RELIABILITY.md forbids. The deserializer
cannot abort the call (it has no context), so the wrapped deserializer returns a `Rejected`
marker instead of raising, and the wrapped behaviour aborts with its error when it receives
one: MALFORMED_REQUEST for bytes that do not decode, a field violation for text with NUL
characters (api/request_text.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from bookings_server.api.interceptors.request_text import check_text
from bookings_server.api.interceptors.wrap import Behavior, Handler, replace_handler, wrap_handler
from bookings_server.api.status import abort_with
from bookings_server.domain.errors import InvalidArgument

Deserializer = Callable[[bytes], Any]


@dataclass(frozen=True)
class Rejected:
    """Stands in for a request message that must not reach the handler."""

    error: InvalidArgument


class DecodeErrorInterceptor(grpc.ServerInterceptor):
    """Turns undecodable or unstorable requests into INVALID_ARGUMENT; place it before auth."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        tolerant = replace_handler(
            handler,
            request_deserializer=_tolerant(
                handler.request_deserializer, handler_call_details.method
            ),
        )

        def guard(behavior: Behavior, _response_streaming: bool) -> Behavior:
            return _guard(behavior, request_streaming=handler.request_streaming)

        return wrap_handler(tolerant, guard)


def _tolerant(deserialize: Deserializer, method: str) -> Deserializer:
    def deserialize_or_mark(data: bytes) -> Any:
        try:
            request = deserialize(data)
        except DecodeError:
            # protobuf's own text names its internals; the client gets a fixed message.
            return Rejected(
                InvalidArgument(
                    f"the request bytes are not a valid protobuf message for {method}",
                    reason="MALFORMED_REQUEST",
                )
            )
        try:
            check_text(request)
        except InvalidArgument as error:
            return Rejected(error)
        return request

    return deserialize_or_mark


def _guard(behavior: Callable[..., Any], *, request_streaming: bool) -> Callable[..., Any]:
    if request_streaming:

        def streamed_requests(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
            return behavior(_checked(requests, context), context)

        return streamed_requests

    def single_request(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, Rejected):
            abort_with(context, request.error)
        return behavior(request, context)

    return single_request


def _checked(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
    for request in requests:
        if isinstance(request, Rejected):
            abort_with(context, request.error)
        yield request
