"""The call's deadline, for the store: the client's gRPC deadline, capped by the server's maximum.

A unary call without a deadline (or with a longer one) gets `max_call_seconds`, so a hung
database costs it that much at most, never a worker thread for minutes. A stream may follow
events for hours: it keeps the client's deadline only, and the store bounds each of its
transactions by the same maximum (store/database.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc

from bookings_server.api.interceptors.wrap import Behavior, Handler, wrap_handler
from bookings_server.domain.deadline import Deadline, current_deadline, deadline_scope, earliest


class DeadlineInterceptor(grpc.ServerInterceptor):
    """Makes each call's deadline the current one (domain/deadline.py) while it is served."""

    def __init__(self, max_call_seconds: float) -> None:
        self._max_call_seconds = max_call_seconds

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        return wrap_handler(handler, self._bounded)

    def _bounded(self, behavior: Behavior, streaming: bool) -> Behavior:
        if streaming:

            def streamed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                current_deadline.set(client_deadline(context))
                try:
                    yield from behavior(request, context)
                finally:
                    current_deadline.set(None)

            return streamed

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            with deadline_scope(earliest(client_deadline(context), self._max_call_seconds)):
                return behavior(request, context)

        return unary


#: grpcio reports a call without a deadline as one about 2^63 ns away.
_NO_DEADLINE_S = 1e9


def client_deadline(context: grpc.ServicerContext) -> Deadline | None:
    """The deadline the client set, or None."""
    remaining = context.time_remaining()
    if remaining is None or remaining >= _NO_DEADLINE_S:
        return None
    return Deadline.after(remaining)
