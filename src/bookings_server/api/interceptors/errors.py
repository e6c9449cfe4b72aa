"""Innermost interceptor: every exception a handler raises becomes a status with details.

A DomainError answers with its own code and details. Anything else is a bug: the client gets
INTERNAL with a generic message and the call id, and the traceback goes to the log under that
call id, so no exception text (paths, SQL, driver messages) ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from bookings_server.api.interceptors.wrap import Behavior, Handler, servicer_code, wrap_handler
from bookings_server.api.status import abort_with
from bookings_server.domain.errors import DomainError, Internal
from bookings_server.logs import current_call_id

log = logging.getLogger("bookings.errors")


class ErrorMappingInterceptor(grpc.ServerInterceptor):
    """Maps domain errors to their statuses and unexpected exceptions to INTERNAL."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        return wrap_handler(
            handler, lambda behavior, streaming: _mapped(method, behavior, streaming)
        )


def _mapped(method: str, behavior: Behavior, streaming: bool) -> Behavior:
    if streaming:

        def streamed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                yield from behavior(request, context)
            # Catch-all on purpose: any unexpected error becomes INTERNAL (logged, with a call id)
            # instead of grpc's bare UNKNOWN.
            except Exception as error:  # noqa: BLE001
                if _client_gone(context):
                    return  # a cancelled stream (its request iterator raises): nobody to answer
                abort_with(context, _as_domain_error(error, method, context))

        return streamed

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behavior(request, context)
        # Catch-all on purpose, as above.
        except Exception as error:  # noqa: BLE001
            abort_with(context, _as_domain_error(error, method, context))

    return unary


def _client_gone(context: grpc.ServicerContext) -> bool:
    """The client cancelled the call or its deadline passed: the error is the call's end,
    not a bug."""
    return not context.is_active()


def _as_domain_error(error: Exception, method: str, context: grpc.ServicerContext) -> DomainError:
    """`error` itself when a client caused it; else a generic INTERNAL, logged with its traceback.

    An exception raised by `context.abort` (grpc's own, after the status is set) passes through.
    """
    if isinstance(error, DomainError):
        return error
    if servicer_code(context) is not None:
        raise error
    call_id = current_call_id.get() or "unknown"
    log.error(
        "unexpected error in %s",
        method,
        exc_info=error,
        extra={"method": method, "call_id": call_id},
    )
    return Internal(f"internal error; quote call id {call_id} when reporting it", call_id=call_id)
