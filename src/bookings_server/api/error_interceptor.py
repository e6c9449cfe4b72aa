"""Server interceptor that turns domain errors raised by handlers into statuses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc

from bookings_server.api.errors import abort_with
from bookings_server.api.rpc_handlers import Behavior, wrap_handler
from bookings_server.domain.errors import DomainError


class ErrorMappingInterceptor(grpc.ServerInterceptor):
    """Innermost interceptor: a DomainError anywhere in a handler aborts with its status."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        return wrap_handler(handler, _map_errors)


def _map_errors(behavior: Behavior, streaming: bool) -> Behavior:
    if streaming:

        def streamed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                yield from behavior(request, context)
            except DomainError as error:
                abort_with(context, error)

        return streamed

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behavior(request, context)
        except DomainError as error:
            abort_with(context, error)

    return unary
