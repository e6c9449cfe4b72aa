"""Load generator: runs in its own process, drives one workload, prints JSON results.

Reads a spec (JSON) on stdin:
  {"targets": ["127.0.0.1:PORT", ...], "channels": 1, "concurrency": 32, "warmup": 2,
   "duration": 10, "metadata": [["authorization", "Bearer ..."]], "workload": "create",
   "params": {...}, "label": "create"}
and writes one JSON object to stdout: calls counted in the measurement window, calls/s,
latency percentiles (successful calls started inside the window), errors by status code,
and the client's own CPU use. Progress goes to stderr once a second.

Like ../shared/tools/noop_bench.py: C concurrent in-flight unary calls over grpc.aio channels
for a fixed duration after a warm-up; only calls *started* in the window are counted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import grpc
from bookings.v1 import (
    availability_service_pb2,
    availability_service_pb2_grpc,
    bookings_service_pb2,
    bookings_service_pb2_grpc,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_harness import create_booking_request, ts

#: One unit of work: returns normally on success, raises grpc.aio.AioRpcError on failure.
Call = Callable[[], Awaitable[None]]


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100.0 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def make_call(workload: str, channel: grpc.aio.Channel, spec: dict[str, Any]) -> Call:
    """Build the coroutine factory for one workload on one channel."""
    params = spec.get("params", {})
    md = tuple(tuple(pair) for pair in spec.get("metadata", []))
    timeout = float(params.get("timeout", 30))
    if workload == "noop":
        health = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest()

        async def noop() -> None:
            await health.Check(request, timeout=timeout)

        return noop

    if workload in ("create", "create_confirm"):
        bookings = bookings_service_pb2_grpc.BookingsServiceStub(channel)
        session_ids = params["session_ids"]
        service_id = params["service_id"]
        prefix = f"{spec.get('label', workload)}-{uuid.uuid4().hex[:8]}"
        counter = itertools.count()
        confirm = workload == "create_confirm"

        async def create() -> None:
            n = next(counter)
            request = create_booking_request(
                session_ids[n % len(session_ids)], service_id, f"{prefix}-{n}"
            )
            reply = await bookings.CreateBooking(request, metadata=md, timeout=timeout)
            if confirm:
                await bookings.ConfirmOrDeclineBooking(
                    bookings_service_pb2.ConfirmOrDeclineBookingRequest(
                        booking_id=reply.booking.id
                    ),
                    metadata=md,
                    timeout=timeout,
                )

        return create

    if workload == "availability":
        availability = availability_service_pb2_grpc.AvailabilityServiceStub(channel)
        start = datetime.fromisoformat(params["start"])
        query = availability_service_pb2.QueryAvailabilityRequest(
            service_id=[params["service_id"]],
            start_date=ts(start),
            end_date=ts(start + timedelta(days=int(params["days"]))),
            page_size=int(params.get("page_size", 1000)),
        )
        min_entries = int(params.get("min_entries", 0))

        async def query_availability() -> None:
            reply = await availability.QueryAvailability(query, metadata=md, timeout=timeout)
            if len(reply.availability_entries) < min_entries:
                raise ShortAnswerError(len(reply.availability_entries))

        return query_availability

    raise SystemExit(f"unknown workload {workload!r}")


class ShortAnswerError(Exception):
    """The server answered OK with fewer entries than the workload is sized for."""


class _Window:
    """The measurement window of one run and what the in-flight workers counted in it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.label = spec.get("label", spec["workload"])
        self.warmup = float(spec.get("warmup", 2))
        self.duration = float(spec["duration"])
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.done = 0
        self.t0 = time.perf_counter()
        self.t_measure = self.t0 + self.warmup
        self.t_end = self.t_measure + self.duration

    async def worker(self, call: Call) -> None:
        while True:
            started = time.perf_counter()
            if started >= self.t_end:
                return
            try:
                await call()
            except grpc.aio.AioRpcError as error:
                self._error(started, error.code().name)
                continue
            except ShortAnswerError:
                self._error(started, "SHORT_ANSWER")
                continue
            self.done += 1
            if started >= self.t_measure:
                self.latencies.append(time.perf_counter() - started)

    def _error(self, started: float, code: str) -> None:
        if started >= self.t_measure:
            self.errors[code] += 1

    async def progress(self) -> None:
        while time.perf_counter() < self.t_end:
            await asyncio.sleep(1.0)
            elapsed = time.perf_counter() - self.t0
            phase = "warm-up" if elapsed < self.warmup else "measuring"
            print(
                f"\r    {self.label}: {elapsed:5.1f}s {phase:9s} {self.done:7d} ok "
                f"{sum(self.errors.values()):5d} err",
                end="",
                file=sys.stderr,
                flush=True,
            )
        print(file=sys.stderr, flush=True)


async def drive(spec: dict[str, Any]) -> dict[str, Any]:
    targets: list[str] = spec["targets"]
    channels = [
        grpc.aio.insecure_channel(
            targets[i % len(targets)],
            # a local subchannel pool gives every channel its own TCP connection, so
            # SO_REUSEPORT can spread connections over several server processes
            options=[("grpc.use_local_subchannel_pool", 1)],
        )
        for i in range(int(spec.get("channels", 1)))
    ]
    for channel in channels:
        await asyncio.wait_for(channel.channel_ready(), 15)
    calls = [make_call(spec["workload"], channel, spec) for channel in channels]
    window = _Window(spec)

    cpu0 = os.times()
    concurrency = int(spec["concurrency"])
    ticker = asyncio.create_task(window.progress())
    await asyncio.gather(*(window.worker(calls[i % len(calls)]) for i in range(concurrency)))
    await ticker
    cpu1 = os.times()
    for channel in channels:
        await channel.close()
    latencies = sorted(window.latencies)
    ok = len(latencies)
    duration = window.duration
    return {
        "label": window.label,
        "workload": spec["workload"],
        "ok": ok,
        "errors": sum(window.errors.values()),
        "error_codes": dict(window.errors),
        "calls_per_s": ok / duration,
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p90_ms": percentile(latencies, 90) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "max_ms": latencies[-1] * 1e3 if latencies else float("nan"),
        "total_ok": window.done,
        "client_cpu_s": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
        "concurrency": concurrency,
        "duration_s": duration,
    }


def main() -> None:
    spec = json.load(sys.stdin)
    result = asyncio.run(drive(spec))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
