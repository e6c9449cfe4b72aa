"""Per-site rate limits: a token bucket per site for reads and another for writes.

A call is a read when its method name starts with Get, List, Query or Watch (the standard
method verbs of the API: GetBooking, ListServices, QueryAvailability, WatchBookingEvents);
every other call is a write. A call over its site's limit is refused before it runs with
RESOURCE_EXHAUSTED, reason RATE_LIMITED, a google.rpc.RetryInfo (the time until the bucket has
a token again) and a google.rpc.QuotaFailure (subject "site:<id>", description "reads" or
"writes"). A stream takes one token when it opens.

It sits right after the auth interceptor, whose verified principal names the site (so it is
outside the error-mapping interceptor and aborts with api/status.py itself, like auth). Health
and reflection carry no principal and are never limited. The buckets live in the process: each
server process limits on its own, so N processes behind a balancer admit up to N times the
configured rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc

from bookings_server.api.auth.scopes import PUBLIC_PREFIXES
from bookings_server.api.context import current_principal
from bookings_server.api.interceptors.token_buckets import Limit, TokenBuckets
from bookings_server.api.interceptors.wrap import Behavior, Handler, wrap_handler
from bookings_server.api.status import abort_with
from bookings_server.config import Config
from bookings_server.domain.errors import QuotaViolation, ResourceExhausted

#: Method-name prefixes of the calls that only read.
READ_VERBS = ("Get", "List", "Query", "Watch")


def is_read(method: str) -> bool:
    """True for "/bookings.v1.BookingsService/GetBooking" and the other reads."""
    return method.rsplit("/", 1)[-1].startswith(READ_VERBS)


@dataclass(frozen=True)
class Quota:
    """One of the two limits ("reads" or "writes") and its buckets."""

    name: str
    buckets: TokenBuckets

    def admit(self, site_id: str) -> None:
        """Take a token of the site, or raise RATE_LIMITED saying when to retry."""
        wait = self.buckets.take(site_id)
        if wait > 0:
            raise self._refusal(site_id, wait)

    def _refusal(self, site_id: str, wait: float) -> ResourceExhausted:
        limit = self.buckets.limit
        return ResourceExhausted(
            f"site {site_id} is over its rate limit for {self.name} ({limit.rate:g} per second, "
            f"bursts of {limit.burst}); retry in {wait:.3f} s",
            "RATE_LIMITED",
            retry_after=timedelta(seconds=wait),
            quota_violations=(QuotaViolation(f"site:{site_id}", self.name),),
        )


class RateLimitInterceptor(grpc.ServerInterceptor):
    """Refuses calls over their site's limit; place it right after the auth interceptor."""

    def __init__(
        self,
        reads: Limit | None,
        writes: Limit | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._quotas = {
            name: Quota(name, TokenBuckets(limit, clock))
            for name, limit in (("reads", reads), ("writes", writes))
            if limit is not None
        }

    @classmethod
    def from_config(cls, config: Config) -> RateLimitInterceptor:
        """The limits of `config` (both off by default: then every call passes untouched)."""
        burst = config.rate_limit_burst
        return cls(
            Limit.per_second(config.rate_limit_reads, burst),
            Limit.per_second(config.rate_limit_writes, burst),
        )

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method.startswith(PUBLIC_PREFIXES):
            return handler
        quota = self._quotas.get("reads" if is_read(method) else "writes")
        if quota is None:
            return handler
        return wrap_handler(
            handler, lambda behavior, streaming: _limited(quota, behavior, streaming)
        )


def _limited(quota: Quota, behavior: Behavior, streaming: bool) -> Behavior:
    if streaming:

        def streamed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            _admit(quota, context)
            yield from behavior(request, context)

        return streamed

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        _admit(quota, context)
        return behavior(request, context)

    return unary


def _admit(quota: Quota, context: grpc.ServicerContext) -> None:
    """Let the call run, or abort it with RATE_LIMITED."""
    try:
        quota.admit(current_principal().site_id)
    except ResourceExhausted as error:
        abort_with(context, error)
