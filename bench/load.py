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

Workloads (spec "workload"): `noop` (grpc.health.v1 Health/Check: the project's no-op, and
the bare ceiling server's), `ceiling_insert` (bench/ceiling_servers.py's one-INSERT call),
`create`, `create_confirm`, `hold_then_book`, `confirm`, `bulk_confirm`, `availability`
(params "service_id", "start", "days", "page_size", "min_entries"), and two built on it:

- `mixed_availability`: the availability query, and after every "reads_per_write" (10) queries
  one write: CreateBooking of an appointment slot of the queried service inside the queried
  window (with a class service queried too, "service_ids", appointment slots and class
  sessions taking turns), its ConfirmOrDeclineBooking, or the CancelBooking of a booking
  confirmed "cancel_lag" (8) confirmations earlier. The slots are the bookable entries of one
  answer, taken in an order that moves to another staff member and day at every booking.
  Only the queries are the measured calls; the writes are side calls, counted apart (by
  kind: create, confirm, cancel). Whatever is still booked at the end is cancelled (not counted).
- `availability_cold`: each unit first changes the queried data (books and confirms a slot
  of the answer, or cancels the booking the previous unit made), then queries; only the
  query is timed: its latency is that of the first query after a change.

A call may return a `Sample` naming a side-call kind, or the latency of its measured part;
the output's "side" holds each side kind's counts, calls/s and percentiles, and
"workload_stats" what a workload reports when it finishes.

Like ../shared/tools/noop_bench.py: C concurrent in-flight unary calls over grpc.aio channels
for a fixed duration after a warm-up; only calls *started* in the window are counted.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import math
import os
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
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
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_harness import (
    booking_from_hold_request,
    create_booking_request,
    create_hold_request,
    create_slot_booking_request,
    ts,
)
from ceiling_servers import INSERT_METHOD


@dataclass(frozen=True)
class Sample:
    """What a call returns when not all of it is one measured call: `kind` names a side call
    counted apart from the measured ones (e.g. "confirm"); `seconds` is the latency of the
    measured part when the call did unmeasured work first."""

    kind: str | None = None
    seconds: float | None = None


#: One unit of work: returns normally on success (None: all of it is the measured call),
#: raises grpc.aio.AioRpcError or a WorkloadError on failure.
Call = Callable[[], Awaitable[Sample | None]]
#: Run once the load is over, before the channels close; returns figures for the output.
Finisher = Callable[[], Awaitable[dict[str, Any]]]


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100.0 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


class WorkloadError(Exception):
    """A call that the server answered (or could not make) without doing the workload's work;
    counted under `code` like a failed status."""

    code = "WORKLOAD_ERROR"


class SideCallError(WorkloadError):
    """A side call (of `kind`) failed with `code`: counted under its kind, not the measured."""

    def __init__(self, kind: str, code: str) -> None:
        super().__init__(kind, code)
        self.kind = kind
        self.code = code


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


@dataclass
class Shared:
    """What the calls of every channel share: the prepared bookings, workload state made by
    the first channel's calls, and what to run once the load is over."""

    supply: BookingSupply | None = None
    objects: dict[str, Any] = field(default_factory=dict)
    finishers: list[Finisher] = field(default_factory=list)

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self.objects:
            self.objects[key] = make()
        return self.objects[key]


@dataclass(frozen=True)
class CallContext:
    """What every workload's calls are built from: one channel and the spec's settings."""

    channel: grpc.aio.Channel
    params: dict[str, Any]
    metadata: tuple[tuple[str, str], ...]
    timeout: float
    label: str
    shared: Shared

    @property
    def supply(self) -> BookingSupply | None:
        return self.shared.supply

    @property
    def bookings(self) -> bookings_service_pb2_grpc.BookingsServiceAsyncStub:
        return bookings_service_pb2_grpc.BookingsServiceStub(self.channel)

    @property
    def availability(self) -> availability_service_pb2_grpc.AvailabilityServiceAsyncStub:
        return availability_service_pb2_grpc.AvailabilityServiceStub(self.channel)


def make_call(
    workload: str,
    channel: grpc.aio.Channel,
    spec: dict[str, Any],
    shared: Shared | None = None,
) -> Call:
    """Build the coroutine factory for one workload on one channel."""
    params = spec.get("params", {})
    context = CallContext(
        channel=channel,
        params=params,
        metadata=tuple((str(key), str(value)) for key, value in spec.get("metadata", [])),
        timeout=float(params.get("timeout", 30)),
        label=spec.get("label", workload),
        shared=shared or Shared(),
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


def _ceiling_insert(context: CallContext) -> Call:
    """bench/ceiling_servers.py's one-INSERT call (StringValue in and out)."""
    insert = context.channel.unary_unary(
        INSERT_METHOD,
        request_serializer=wrappers_pb2.StringValue.SerializeToString,
        response_deserializer=wrappers_pb2.StringValue.FromString,
    )
    request = wrappers_pb2.StringValue(value="room-42/2026-11-21T10:00")

    async def ceiling_insert() -> None:
        await insert(request, timeout=context.timeout)

    return ceiling_insert


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


def availability_query(params: dict[str, Any]) -> availability_service_pb2.QueryAvailabilityRequest:
    start = datetime.fromisoformat(params["start"])
    return availability_service_pb2.QueryAvailabilityRequest(
        service_id=params.get("service_ids") or [params["service_id"]],
        start_date=ts(start),
        end_date=ts(start + timedelta(days=int(params["days"]))),
        page_size=int(params.get("page_size", 1000)),
    )


def _availability(context: CallContext) -> Callable[[], Awaitable[None]]:
    availability = context.availability
    query = availability_query(context.params)
    min_entries = int(context.params.get("min_entries", 0))

    async def query_availability() -> None:
        reply = await availability.QueryAvailability(
            query, metadata=context.metadata, timeout=context.timeout
        )
        if len(reply.availability_entries) < min_entries:
            raise ShortAnswerError(len(reply.availability_entries))

    return query_availability


def spread(slots: list[booking_pb2.BookedSlot]) -> list[booking_pb2.BookedSlot]:
    """`slots` (by start, then staff member) reordered so that each next one is about a day
    further on and with another staff member: a stride coprime with their number, so every
    slot comes once before any comes again."""
    ordered = sorted(slots, key=lambda slot: (slot.start_date.seconds, slot.resource.id))
    count = len(ordered)
    stride = max(1, count // 7 + 1)
    while math.gcd(stride, count) != 1:
        stride += 1
    return [ordered[(i * stride) % count] for i in range(count)]


def alternating(
    first: list[booking_pb2.BookedSlot], second: list[booking_pb2.BookedSlot]
) -> list[booking_pb2.BookedSlot]:
    """One of `first`, one of `second`, and so on, each list taken round until the longer
    one has come once."""
    count = max(len(first), len(second))
    return [slots[i % len(slots)] for i in range(count) for slots in (first, second)]


class SlotBooker:
    """Books, confirms and cancels appointment slots of the queried service: the bookable
    entries (with a staff member) of one answer to the query, taken at first use, in the
    order of `spread`. A failed call raises SideCallError of its kind (create, confirm,
    cancel)."""

    def __init__(self, context: CallContext) -> None:
        self._context = context
        self._query = availability_query(context.params)
        self._slots: list[booking_pb2.BookedSlot] = []
        self._next = 0
        self._lock = asyncio.Lock()
        self._prefix = f"{context.label.replace(' ', '-')}-{uuid.uuid4().hex[:8]}"
        self._counter = itertools.count()

    @property
    def slots(self) -> int:
        return len(self._slots)

    async def create(self) -> tuple[str, int]:
        """A new CREATED booking of the next slot: (id, revision)."""
        slot = await self._next_slot()
        request_id = f"{self._prefix}-{next(self._counter)}"
        reply = await self._write(
            "create",
            self._context.bookings.CreateBooking(
                create_slot_booking_request(slot, request_id), **self._options()
            ),
        )
        return reply.booking.id, reply.booking.revision

    async def confirm(self, booking_id: str) -> tuple[str, int]:
        """ConfirmOrDeclineBooking, which must confirm: (id, revision)."""
        request = bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=booking_id)
        reply = await self._write(
            "confirm", self._context.bookings.ConfirmOrDeclineBooking(request, **self._options())
        )
        if reply.booking.status != booking_pb2.BOOKING_STATUS_CONFIRMED:
            raise SideCallError("confirm", "NOT_CONFIRMED")
        return reply.booking.id, reply.booking.revision

    async def cancel(self, booking_id: str, revision: int) -> None:
        request = bookings_service_pb2.CancelBookingRequest(
            booking_id=booking_id, revision=revision, ignore_cancellation_policy=True
        )
        await self._write(
            "cancel", self._context.bookings.CancelBooking(request, **self._options())
        )

    def _options(self) -> dict[str, Any]:
        return {"metadata": self._context.metadata, "timeout": self._context.timeout}

    @staticmethod
    async def _write(kind: str, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except grpc.aio.AioRpcError as error:
            raise SideCallError(kind, error.code().name) from error

    async def _next_slot(self) -> booking_pb2.BookedSlot:
        async with self._lock:
            if not self._slots:
                self._slots = await self._bookable_slots()
            slot = self._slots[self._next % len(self._slots)]
            self._next += 1
            return slot

    async def _bookable_slots(self) -> list[booking_pb2.BookedSlot]:
        reply = await self._write(
            "create",
            self._context.availability.QueryAvailability(self._query, **self._options()),
        )
        free = [e for e in reply.availability_entries if e.bookable and e.open_spots > 0]
        sessions = [e.slot for e in free if e.slot.session_id]
        with_staff = [e.slot for e in free if e.slot.resource.id and not e.slot.session_id]
        if not (with_staff or free):
            raise SideCallError("create", "NO_BOOKABLE_SLOT")
        if sessions and with_staff:
            return alternating(spread(with_staff), spread(sessions))
        return spread(with_staff or [e.slot for e in free])


class MixedWrites:
    """The writes of `mixed_availability`: each step is one committing call, the first that
    applies of: confirm the oldest booking created; cancel the oldest confirmed one once
    `lag` are confirmed; create a booking of the next slot."""

    def __init__(self, booker: SlotBooker, lag: int) -> None:
        self.booker = booker
        self.lag = lag
        self.created: deque[tuple[str, int]] = deque()
        self.confirmed: deque[tuple[str, int]] = deque()

    async def step(self) -> str:
        """One write; returns its kind."""
        if self.created:
            booking_id, _ = self.created.popleft()
            self.confirmed.append(await self.booker.confirm(booking_id))
            return "confirm"
        if len(self.confirmed) >= self.lag:
            await self.booker.cancel(*self.confirmed.popleft())
            return "cancel"
        self.created.append(await self.booker.create())
        return "create"

    async def finish(self) -> dict[str, Any]:
        """Cancel what is still booked, so that later workloads find the week free."""
        left = [*self.created, *self.confirmed]
        self.created.clear()
        self.confirmed.clear()
        return {"slots": self.booker.slots, "cancelled_at_end": await cancel_all(self.booker, left)}


async def cancel_all(booker: SlotBooker, bookings: list[tuple[str, int]]) -> int:
    cancelled = 0
    for booking_id, revision in bookings:
        try:
            await booker.cancel(booking_id, revision)
        except SideCallError:
            continue
        cancelled += 1
    return cancelled


class MixedLoad:
    """One write after every `reads_per_write` queries, over all channels."""

    def __init__(self, context: CallContext) -> None:
        params = context.params
        self.writes = MixedWrites(SlotBooker(context), int(params.get("cancel_lag", 8)))
        self.every = int(params.get("reads_per_write", 10)) + 1
        self.counter = itertools.count()
        context.shared.finishers.append(self.writes.finish)

    def is_write(self) -> bool:
        return next(self.counter) % self.every == self.every - 1


def _mixed_availability(context: CallContext) -> Call:
    """The availability query, with a write (a side call) after every `reads_per_write`."""
    read = _availability(context)
    mixed: MixedLoad = context.shared.get("mixed", lambda: MixedLoad(context))

    async def mixed_availability() -> Sample | None:
        if mixed.is_write():
            return Sample(kind=await mixed.writes.step())
        await read()
        return None

    return mixed_availability


class ColdChanges:
    """The change before each query of `availability_cold`: book and confirm a slot of the
    answer, or cancel the booking the previous change made."""

    def __init__(self, context: CallContext) -> None:
        self.booker = SlotBooker(context)
        self.booked: list[tuple[str, int]] = []
        context.shared.finishers.append(self.finish)

    async def change(self) -> None:
        if self.booked:
            await self.booker.cancel(*self.booked.pop())
        else:
            booking_id, _ = await self.booker.create()
            self.booked.append(await self.booker.confirm(booking_id))

    async def finish(self) -> dict[str, Any]:
        left, self.booked = self.booked, []
        return {"slots": self.booker.slots, "cancelled_at_end": await cancel_all(self.booker, left)}


def _availability_cold(context: CallContext) -> Call:
    """A change to the queried data, then the query; only the query is timed."""
    read = _availability(context)
    changes: ColdChanges = context.shared.get("cold", lambda: ColdChanges(context))

    async def availability_cold() -> Sample:
        await changes.change()
        started = time.perf_counter()
        await read()
        return Sample(seconds=time.perf_counter() - started)

    return availability_cold


_WORKLOADS: dict[str, Callable[[CallContext], Call]] = {
    "noop": _noop,
    "ceiling_insert": _ceiling_insert,
    "create": functools.partial(_create, confirm=False),
    "create_confirm": functools.partial(_create, confirm=True),
    "hold_then_book": _hold_then_book,
    "confirm": functools.partial(_confirm, bulk=False),
    "bulk_confirm": functools.partial(_confirm, bulk=True),
    "availability": _availability,
    "mixed_availability": _mixed_availability,
    "availability_cold": _availability_cold,
}


class NotConfirmedError(WorkloadError):
    """The server answered OK but left `args[0]` of the bookings asked for unconfirmed."""

    code = "NOT_CONFIRMED"


class ShortAnswerError(WorkloadError):
    """The server answered OK with fewer entries than the workload is sized for."""

    code = "SHORT_ANSWER"


@dataclass
class _Side:
    """Counts of one kind of side call."""

    ok: int = 0
    total_ok: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


class _Tally:
    """What the in-flight workers counted: the measured calls' latencies and errors (inside
    the window or the measured phase), every success (warm-up included), and side calls."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.done = 0
        self.side: dict[str, _Side] = {}

    async def attempt(self, call: Call, started: float, measured: bool) -> None:
        try:
            sample = await call()
        except grpc.aio.AioRpcError as error:
            self._failed(None, error.code().name, measured)
            return
        except SideCallError as error:
            self._failed(error.kind, error.code, measured)
            return
        except WorkloadError as error:
            self._failed(None, error.code, measured)
            return
        elapsed = time.perf_counter() - started
        sample = sample or Sample()
        seconds = elapsed if sample.seconds is None else sample.seconds
        if sample.kind is None:
            self.done += 1
            if measured:
                self.latencies.append(seconds)
            return
        side = self.side.setdefault(sample.kind, _Side())
        side.total_ok += 1
        if measured:
            side.ok += 1
            side.latencies.append(seconds)

    def _failed(self, kind: str | None, code: str, measured: bool) -> None:
        if not measured:
            return
        if kind is None:
            self.errors[code] += 1
        else:
            self.side.setdefault(kind, _Side()).errors[code] += 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def side_figures(self, duration: float) -> dict[str, dict[str, Any]]:
        return {kind: _figures(side, duration) for kind, side in sorted(self.side.items())}


def _figures(side: _Side, duration: float) -> dict[str, Any]:
    latencies = sorted(side.latencies)
    return {
        "ok": side.ok,
        "total_ok": side.total_ok,
        "calls_per_s": side.ok / duration if duration else float("nan"),
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "errors": sum(side.errors.values()),
        "error_codes": dict(side.errors),
    }


class _Window:
    """The measurement window of one run and what the in-flight workers counted in it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.label = spec.get("label", spec["workload"])
        self.warmup = float(spec.get("warmup", 2))
        self.duration = float(spec["duration"])
        self.tally = _Tally()
        self.t0 = time.perf_counter()
        self.t_measure = self.t0 + self.warmup
        self.t_end = self.t_measure + self.duration

    async def worker(self, call: Call) -> None:
        while True:
            started = time.perf_counter()
            if started >= self.t_end:
                return
            await self.tally.attempt(call, started, started >= self.t_measure)

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
                f"\r    {self.label}: {elapsed:5.1f}s {phase:9s} {self.tally.done:7d} ok "
                f"{self.tally.error_count:5d} err",
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
        self.tally = _Tally()
        self.duration = 0.0

    async def run(self, calls: list[Call], concurrency: int) -> None:
        await self._phase(calls, concurrency, self.warmup_calls, measured=False)
        started = time.perf_counter()
        await self._phase(calls, concurrency, self.calls, measured=True)
        self.duration = time.perf_counter() - started
        print(
            f"    {self.label}: {self.calls} calls in {self.duration:.1f}s after "
            f"{self.warmup_calls} warm-up calls, {self.tally.error_count} err",
            file=sys.stderr,
            flush=True,
        )

    async def _phase(self, calls: list[Call], concurrency: int, count: int, measured: bool) -> None:
        tickets = iter(range(count))  # shared by the workers: each call takes one

        async def worker(call: Call) -> None:
            for _ in tickets:
                await self.tally.attempt(call, time.perf_counter(), measured)

        in_flight = min(concurrency, count)
        await asyncio.gather(*(worker(calls[i % len(calls)]) for i in range(in_flight)))


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
    shared = Shared(
        supply=BookingSupply(params["booking_ids"], int(params["batch"]))
        if "booking_ids" in params
        else None
    )
    calls = [make_call(spec["workload"], channel, spec, shared) for channel in channels]
    runner = _FixedWork(spec) if "calls" in spec else _Window(spec)

    cpu0 = os.times()
    concurrency = int(spec["concurrency"])
    await runner.run(calls, concurrency)
    cpu1 = os.times()
    stats: dict[str, Any] = {}
    for finish in shared.finishers:
        stats.update(await finish())
    for channel in channels:
        await channel.close()
    tally = runner.tally
    latencies = sorted(tally.latencies)
    ok = len(latencies)
    duration = runner.duration
    return {
        "label": runner.label,
        "workload": spec["workload"],
        "ok": ok,
        "errors": tally.error_count,
        "error_codes": dict(tally.errors),
        "calls_per_s": ok / duration,
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p90_ms": percentile(latencies, 90) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "max_ms": latencies[-1] * 1e3 if latencies else float("nan"),
        "total_ok": tally.done,
        "side": tally.side_figures(duration),
        "workload_stats": stats,
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
