"""The server's worker threads, with two of their own for health checks.

A call waiting for the database holds its worker thread, up to its deadline. When the
database hangs and every worker thread waits, a health check would queue behind them and
time out, although it answers from memory (serving_health.py): an orchestrator would take a
live process for a dead one. grpcio runs every call by submitting it to the server's
executor; this one sends `grpc.health.v1.Health/Check` to a small pool of its own.

It recognises the call by the request event grpcio passes to `submit` (its second argument:
the method's path is its tag, or its `call_details.method`). Should a grpcio release pass something
else, checks simply run on the ordinary workers again, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from typing import Any, TypeVar

from typing_extensions import ParamSpec, override

__all__ = ["HEALTH_CHECK", "WorkerPool"]

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
HEALTH_THREADS = 2

P = ParamSpec("P")
T = TypeVar("T")


class WorkerPool(futures.ThreadPoolExecutor):
    """`max_workers` threads for calls, and HEALTH_THREADS more only for health checks."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="rpc")
        self._health = futures.ThreadPoolExecutor(
            max_workers=HEALTH_THREADS, thread_name_prefix="health"
        )

    @override
    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> futures.Future[T]:
        if _is_health_check(args):
            return self._health.submit(fn, *args, **kwargs)
        return super().submit(fn, *args, **kwargs)

    @override
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._health.shutdown(wait=wait, cancel_futures=cancel_futures)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


def _is_health_check(args: tuple[Any, ...]) -> bool:
    """True when grpcio submits a health check: its arguments are (the function that runs
    the call, the request event, ...). A registered method's event carries its path as the
    tag; any other's, in its call details."""
    event = args[1] if len(args) > 1 else None
    if getattr(event, "tag", None) == HEALTH_CHECK:
        return True
    details = getattr(event, "call_details", None)
    return getattr(details, "method", None) == HEALTH_CHECK.encode()
