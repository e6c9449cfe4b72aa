"""How a call ended: the final status code, once grpc has finished the call.

Read in a callback of the call's termination (`context.add_callback`), it is the code the
client got, whichever interceptor set it: an abort anywhere in the chain, the errors
interceptor's mapping, a client that went away (CANCELLED) or whose deadline passed.
The access log applies the same rules (access_log.py).
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from bookings_server.api.interceptors.wrap import servicer_code


class CallEnd:
    """One call being served; `ended` when its behaviour returns or raises."""

    __slots__ = ("_context", "_outcome")

    def __init__(self, context: grpc.ServicerContext) -> None:
        self._context = context
        #: None while running, then "returned", "raised" or "cancelled".
        self._outcome: str | None = None

    def ended(self, *, normally: bool) -> None:
        if not self._context.is_active():
            self._outcome = "cancelled"
        else:
            self._outcome = "returned" if normally else "raised"

    def code(self) -> grpc.StatusCode:
        """The final code; call it once the call has terminated."""
        explicit = servicer_code(self._context)
        if explicit is not None:
            return explicit
        if self._outcome == "returned":
            return grpc.StatusCode.OK
        if self._outcome == "raised":
            return grpc.StatusCode.UNKNOWN
        remaining = self._context.time_remaining()
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED


def when_terminated(context: grpc.ServicerContext, callback: Callable[[], None]) -> None:
    """Run `callback` when the call terminates (at once if it already has)."""
    if not context.add_callback(callback):
        callback()
