"""Outermost server interceptor: one structured access-log line per call.

The line is written when the call terminates (grpc's `add_callback`), so it has the final
status code even for aborted, failed and cancelled calls. It holds the method, status code,
duration, a fresh call id and the peer address; never metadata values, tokens or payloads.

It runs on every call, so it does no more than the line needs (issue 16; figures in the
report that closed it): the call id is 64 random bits from a generator of its own rather than
a uuid4 (a system call per id); the record is built and handed to the handlers directly, not
through `Logger.info`, which would also look up the caller's source file and line by walking
the stack for fields no line shows; and when INFO is off for `bookings.access` a call only
gets its id (errors name it), with no timing, callback or record at all.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from bookings_server.api.interceptors.wrap import (
    Behavior,
    Handler,
    servicer_code,
    servicer_details,
    wrap_handler,
)
from bookings_server.logs import current_call_id

access_log = logging.getLogger("bookings.access")


class AccessLogInterceptor(grpc.ServerInterceptor):
    """Logs every call, including calls to unknown methods. Must be the first interceptor."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method: str = handler_call_details.method
        handler = continuation(handler_call_details)
        if handler is None:
            if access_log.isEnabledFor(logging.INFO):
                _write({"method": method, "code": "UNIMPLEMENTED", "call_id": new_call_id()})
            return None
        return wrap_handler(
            handler, lambda behavior, streaming: _logged(method, behavior, streaming)
        )


class _Call:
    """One call being served: how its behaviour ended decides the logged code."""

    __slots__ = ("call_id", "context", "method", "outcome", "started")

    def __init__(self, method: str, context: grpc.ServicerContext) -> None:
        self.method = method
        self.context = context
        self.call_id = new_call_id()
        self.started = time.perf_counter()
        #: "running", "returned" (finished normally), "raised" or "cancelled".
        self.outcome = "running"
        if not context.add_callback(self.log):
            self.log()

    def ended(self, *, normally: bool) -> None:
        """The behaviour returned (`normally`) or raised; a gone client means cancelled."""
        if not self.context.is_active():
            self.outcome = "cancelled"
        else:
            self.outcome = "returned" if normally else "raised"

    def log(self) -> None:
        code = self.code()
        entry: dict[str, Any] = {
            "method": self.method,
            "code": code,
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 3),
            "call_id": self.call_id,
            "peer": self.context.peer(),
        }
        details = servicer_details(self.context) if code != "OK" else None
        if details:
            entry["details"] = details.decode() if isinstance(details, bytes) else details
        _write(entry)

    def code(self) -> str:
        explicit = servicer_code(self.context)
        if explicit is not None:
            return str(explicit.name)
        if self.outcome == "returned":
            return "OK"
        if self.outcome == "raised":
            return "UNKNOWN"
        remaining = self.context.time_remaining()
        if remaining is not None and remaining <= 0:
            return "DEADLINE_EXCEEDED"
        return "CANCELLED"


class _Unlogged:
    """A call while INFO is off for the access log: its id, nothing else."""

    __slots__ = ("call_id",)

    def __init__(self) -> None:
        self.call_id = new_call_id()

    def ended(self, *, normally: bool) -> None:
        """Nothing to record."""


def _start(method: str, context: grpc.ServicerContext) -> _Call | _Unlogged:
    if access_log.isEnabledFor(logging.INFO):
        return _Call(method, context)
    return _Unlogged()


def _logged(method: str, behavior: Behavior, streaming: bool) -> Behavior:
    if streaming:

        def streamed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            call = _start(method, context)
            current_call_id.set(call.call_id)
            normally = False
            try:
                yield from behavior(request, context)
                normally = True
            finally:
                call.ended(normally=normally)
                current_call_id.set(None)

        return streamed

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        call = _start(method, context)
        token = current_call_id.set(call.call_id)
        normally = False
        try:
            response = behavior(request, context)
            normally = True
            return response
        finally:
            call.ended(normally=normally)
            current_call_id.reset(token)

    return unary


def _write(entry: dict[str, Any]) -> None:
    """Hand one `rpc` line with `entry`'s fields to the handlers, as access_log.info would
    (record factory, filters, handlers, propagation) but without the caller lookup."""
    record = access_log.makeRecord(
        access_log.name, logging.INFO, __file__, 0, "rpc", (), None, "log", entry
    )
    access_log.handle(record)


#: Call ids: 64 bits of a generator seeded from os.urandom, its own so that nobody's
#: random.seed() repeats ids, and reseeded in a forked child so that two processes differ.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


def new_call_id() -> str:
    """A fresh call id: 16 lowercase hex digits, as the uuid4 prefix it replaces."""
    return f"{_ids.getrandbits(64):016x}"
