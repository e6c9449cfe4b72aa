"""Load generator: runs in its own process, drives one workload, prints JSON results.

Reads a spec (JSON) on stdin:
  {"targets": ["127.0.0.1:PORT", ...], "channels": 1, "concurrency": 32, "warmup": 2,
   "duration": 10, "metadata": [["authorization", "Bearer ..."]], "workload": "create",
   "params": {...}, "label": "create"}
and writes one JSON object to stdout: calls counted in the measurement window, calls/s,
latency percentiles (successful calls started inside the window), errors by status code,
and the client's own CPU use. Progress goes to stderr once a second.

Workloads that consume prepared bookings (`confirm`, `bulk_confirm`: params "booking_ids",
"batch") run a fixed amount of work instead of a window: spec "calls" calls after
"warmup_calls" calls, both at most "concurrency" in flight; calls/s is then calls over the
wall time of the measured calls, so a supply of (warmup_calls + calls) x batch bookings is
exactly enough.

Like ../shared/tools/noop_bench.py: C concurrent in-flight unary calls over grpc.aio channels
for a fixed duration after a warm-up; only calls *started* in the window are counted.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import grpc
from bookings.v1 import (
    availability_service_pb2,
    availability_service_pb2_grpc,
    booking_pb2,
    bookings_service_pb2,
    bookings_service_pb2_grpc,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_harness import (
    booking_from_hold_request,
    create_booking_request,
    create_hold_request,
    ts,
)

#: One unit of work: returns normally on success, raises grpc.aio.AioRpcError on failure.
Call = Callable[[], Awaitable[None]]


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100.0 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


class WorkloadError(Exception):
    """A call that the server answered (or could not make) without doing the workload's work;
    counted under `code` like a failed status."""

    code = "WORKLOAD_ERROR"


class SupplyExhaustedError(WorkloadError):
    """A workload asked for more prepared bookings than the spec supplied."""

    code = "SUPPLY_EXHAUSTED"


class BookingSupply:
    """Prepared CREATED bookings, handed out `batch` ids at a time to every channel's calls."""

    def __init__(self, booking_ids: list[str], batch: int) -> None:
        self.batch = batch
        self._batches: Iterator[list[str]] = (
            booking_ids[i : i + batch] for i in range(0, len(booking_ids) - batch + 1, batch)
        )

    def take(self) -> list[str]:
        batch = next(self._batches, None)
        if batch is None:
            raise SupplyExhaustedError
        return batch


@dataclass(frozen=True)
class CallContext:
    """What every workload's calls are built from: one channel and the spec's settings."""

    channel: grpc.aio.Channel
    params: dict[str, Any]
    metadata: tuple[tuple[str, str], ...]
    timeout: float
    label: str
    supply: BookingSupply | None

    @property
    def bookings(self) -> bookings_service_pb2_grpc.BookingsServiceAsyncStub:
        return bookings_service_pb2_grpc.BookingsServiceStub(self.channel)


def make_call(
    workload: str,
    channel: grpc.aio.Channel,
    spec: dict[str, Any],
    supply: BookingSupply | None = None,
) -> Call:
    """Build the coroutine factory for one workload on one channel."""
    params = spec.get("params", {})
    context = CallContext(
        channel=channel,
        params=params,
        metadata=tuple((str(key), str(value)) for key, value in spec.get("metadata", [])),
        timeout=float(params.get("timeout", 30)),
        label=spec.get("label", workload),
        supply=supply,
    )
    build = _WORKLOADS.get(workload)
    if build is None:
        raise SystemExit(f"unknown workload {workload!r}")
    return build(context)


def _noop(context: CallContext) -> Call:
    health = health_pb2_grpc.HealthStub(context.channel)
    request = health_pb2.HealthCheckRequest()

    async def noop() -> None:
        await health.Check(request, timeout=context.timeout)

    return noop


def _create(context: CallContext, *, confirm: bool) -> Call:
    """CreateBooking in a class session (sessions rotate), then ConfirmOrDecline if `confirm`."""
    bookings, md, timeout = context.bookings, context.metadata, context.timeout
    session_ids = context.params["session_ids"]
    service_id = context.params["service_id"]
    prefix = f"{context.label}-{uuid.uuid4().hex[:8]}"
    counter = itertools.count()

    async def create() -> None:
        n = next(counter)
        request = create_booking_request(
            session_ids[n % len(session_ids)], service_id, f"{prefix}-{n}"
        )
        reply = await bookings.CreateBooking(request, metadata=md, timeout=timeout)
        if confirm:
            await bookings.ConfirmOrDeclineBooking(
                bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=reply.booking.id),
                metadata=md,
                timeout=timeout,
            )

    return create


def _hold_then_book(context: CallContext) -> Call:
    """CreateHold on a class session, CreateBooking from the hold, ConfirmOrDeclineBooking."""
    bookings, md, timeout = context.bookings, context.metadata, context.timeout
    session_ids = context.params["session_ids"]
    service_id = context.params["service_id"]
    prefix = f"{context.label}-{uuid.uuid4().hex[:8]}"
    counter = itertools.count()

    async def hold_then_book() -> None:
        n = next(counter)
        session_id = session_ids[n % len(session_ids)]
        held = await bookings.CreateHold(
            create_hold_request(session_id, service_id, f"{prefix}-hold-{n}"),
            metadata=md,
            timeout=timeout,
        )
        created = await bookings.CreateBooking(
            booking_from_hold_request(held.hold.id, f"{prefix}-book-{n}"),
            metadata=md,
            timeout=timeout,
        )
        await bookings.ConfirmOrDeclineBooking(
            bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=created.booking.id),
            metadata=md,
            timeout=timeout,
        )

    return hold_then_book


def _confirm(context: CallContext, *, bulk: bool) -> Call:
    """Confirm the next prepared booking, or the next batch of them in one bulk call (with
    return_entity, so each answer carries its bookings as the single calls' do). A booking
    left unconfirmed is an error (NOT_CONFIRMED)."""
    bookings, md, timeout, supply = (
        context.bookings,
        context.metadata,
        context.timeout,
        context.supply,
    )
    if supply is None:
        raise SystemExit("the confirm workloads need params booking_ids and batch")

    async def confirm_one() -> None:
        (booking_id,) = supply.take()
        reply = await bookings.ConfirmOrDeclineBooking(
            bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=booking_id),
            metadata=md,
            timeout=timeout,
        )
        if reply.booking.status != booking_pb2.BOOKING_STATUS_CONFIRMED:
            raise NotConfirmedError(1)

    async def confirm_batch() -> None:
        request = bookings_service_pb2.BulkConfirmOrDeclineBookingRequest(
            details=[
                bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=booking_id)
                for booking_id in supply.take()
            ],
            return_entity=True,
        )
        reply = await bookings.BulkConfirmOrDeclineBooking(request, metadata=md, timeout=timeout)
        confirmed = sum(
            1 for r in reply.results if r.item.status == booking_pb2.BOOKING_STATUS_CONFIRMED
        )
        if confirmed != len(request.details):
            raise NotConfirmedError(len(request.details) - confirmed)

    return confirm_batch if bulk else confirm_one


def _availability(context: CallContext) -> Call:
    availability = availability_service_pb2_grpc.AvailabilityServiceStub(context.channel)
    params = context.params
    start = datetime.fromisoformat(params["start"])
    query = availability_service_pb2.QueryAvailabilityRequest(
        service_id=[params["service_id"]],
        start_date=ts(start),
        end_date=ts(start + timedelta(days=int(params["days"]))),
        page_size=int(params.get("page_size", 1000)),
    )
    min_entries = int(params.get("min_entries", 0))

    async def query_availability() -> None:
        reply = await availability.QueryAvailability(
            query, metadata=context.metadata, timeout=context.timeout
        )
        if len(reply.availability_entries) < min_entries:
            raise ShortAnswerError(len(reply.availability_entries))

    return query_availability


_WORKLOADS: dict[str, Callable[[CallContext], Call]] = {
    "noop": _noop,
    "create": functools.partial(_create, confirm=False),
    "create_confirm": functools.partial(_create, confirm=True),
    "hold_then_book": _hold_then_book,
    "confirm": functools.partial(_confirm, bulk=False),
    "bulk_confirm": functools.partial(_confirm, bulk=True),
    "availability": _availability,
}


class NotConfirmedError(WorkloadError):
    """The server answered OK but left `args[0]` of the bookings asked for unconfirmed."""

    code = "NOT_CONFIRMED"


class ShortAnswerError(WorkloadError):
    """The server answered OK with fewer entries than the workload is sized for."""

    code = "SHORT_ANSWER"


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
            except WorkloadError as error:
                self._error(started, error.code)
                continue
            self.done += 1
            if started >= self.t_measure:
                self.latencies.append(time.perf_counter() - started)

    def _error(self, started: float, code: str) -> None:
        if started >= self.t_measure:
            self.errors[code] += 1

    async def run(self, calls: list[Call], concurrency: int) -> None:
        ticker = asyncio.create_task(self.progress())
        await asyncio.gather(*(self.worker(calls[i % len(calls)]) for i in range(concurrency)))
        await ticker

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


class _FixedWork:
    """`calls` calls after `warmup_calls` uncounted ones, at most `concurrency` in flight;
    `duration` is the wall time of the measured calls."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.label = spec.get("label", spec["workload"])
        self.warmup_calls = int(spec.get("warmup_calls", 0))
        self.calls = int(spec["calls"])
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.done = 0
        self.duration = 0.0

    async def run(self, calls: list[Call], concurrency: int) -> None:
        await self._phase(calls, concurrency, self.warmup_calls, measured=False)
        started = time.perf_counter()
        await self._phase(calls, concurrency, self.calls, measured=True)
        self.duration = time.perf_counter() - started
        print(
            f"    {self.label}: {self.calls} calls in {self.duration:.1f}s after "
            f"{self.warmup_calls} warm-up calls, {sum(self.errors.values())} err",
            file=sys.stderr,
            flush=True,
        )

    async def _phase(self, calls: list[Call], concurrency: int, count: int, measured: bool) -> None:
        tickets = iter(range(count))  # shared by the workers: each call takes one

        async def worker(call: Call) -> None:
            for _ in tickets:
                started = time.perf_counter()
                try:
                    await call()
                except grpc.aio.AioRpcError as error:
                    self._error(measured, error.code().name)
                    continue
                except WorkloadError as error:
                    self._error(measured, error.code)
                    continue
                self.done += 1
                if measured:
                    self.latencies.append(time.perf_counter() - started)

        in_flight = min(concurrency, count)
        await asyncio.gather(*(worker(calls[i % len(calls)]) for i in range(in_flight)))

    def _error(self, measured: bool, code: str) -> None:
        if measured:
            self.errors[code] += 1


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
    params = spec.get("params", {})
    supply = (
        BookingSupply(params["booking_ids"], int(params["batch"]))
        if "booking_ids" in params
        else None
    )
    calls = [make_call(spec["workload"], channel, spec, supply) for channel in channels]
    runner = _FixedWork(spec) if "calls" in spec else _Window(spec)

    cpu0 = os.times()
    concurrency = int(spec["concurrency"])
    await runner.run(calls, concurrency)
    cpu1 = os.times()
    for channel in channels:
        await channel.close()
    latencies = sorted(runner.latencies)
    ok = len(latencies)
    duration = runner.duration
    return {
        "label": runner.label,
        "workload": spec["workload"],
        "ok": ok,
        "errors": sum(runner.errors.values()),
        "error_codes": dict(runner.errors),
        "calls_per_s": ok / duration,
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p90_ms": percentile(latencies, 90) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "max_ms": latencies[-1] * 1e3 if latencies else float("nan"),
        "total_ok": runner.done,
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
