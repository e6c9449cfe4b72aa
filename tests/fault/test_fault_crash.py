"""kill -9 under a create/confirm load (RELIABILITY.md promises 1-3): after a restart on the
same database every acknowledged booking is there with its acknowledged status, a retried
request_id never creates a second booking, and no session holds more participants than its
capacity, counting live holds and running waiting-list offers.

Besides creates, confirmations and cancellations, the load takes holds (some converted into
bookings), and joins the session's waiting list when a create finds it full; cancellations then
offer freed spots to the line. Capacity is checked at the end the way the server counts it
(store/booking_counts.py), so holds and offers that are still live count."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
from bookings.v1 import booking_pb2, bookings_service_pb2, catalog_pb2, catalog_service_pb2
from google.protobuf import duration_pb2, field_mask_pb2

from bookings_server.domain.capacity import session_unit
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork
from fault.fault_support import FaultSize, harness

TAKES_CAPACITY = (booking_pb2.BOOKING_STATUS_CONFIRMED, booking_pb2.BOOKING_STATUS_PENDING)
#: Small sessions so the load runs into capacity (cancellations free some spots again).
CAPACITY = 12
#: How long holds last and offers run: short, so both expire during the run.
HOLD_SECONDS = 2
RESERVATION_SECONDS = 2


@dataclass
class Ledger:
    """What the clients were told, shared by the load threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    #: request_id -> request, for every CreateBooking sent
    requests: dict[str, bookings_service_pb2.CreateBookingRequest] = field(default_factory=dict)
    #: request_id -> booking id, for every CreateBooking answered OK
    created: dict[str, str] = field(default_factory=dict)
    #: request_ids answered FAILED_PRECONDITION (no room): nothing may be stored for them
    refused: set[str] = field(default_factory=set)
    #: bookings a CancelBooking was sent for (answered or not: a crash may eat the answer)
    cancels_sent: set[str] = field(default_factory=set)
    #: booking id -> status, for every ConfirmOrDeclineBooking or CancelBooking answered OK
    decided: dict[str, int] = field(default_factory=dict)
    #: request_id -> booking id, for every JoinWaitingList answered OK
    joined: dict[str, str] = field(default_factory=dict)
    #: CreateHold calls answered OK
    holds: int = 0


#: Answers that mean "the server is gone" (it was killed): the call is unacknowledged.
GONE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)


def load(
    address: str,
    metadata: harness.Metadata,
    catalog: harness.Catalog,
    ledger: Ledger,
    stop: threading.Event,
    worker: int,
) -> None:
    """Create, confirm and sometimes cancel bookings until `stop`."""
    rng = random.Random()
    cancel = True
    with harness.stubs(address, metadata) as api:
        n = 0
        while not stop.is_set():
            n += 1
            request_id = f"crash-{worker}-{n}-{uuid.uuid4().hex}"
            request = harness.create_booking_request(
                rng.choice(catalog.session_ids),
                catalog.class_service_id,
                request_id,
                participants=rng.randint(1, 2),
            )
            if rng.random() < 0.2:
                hold_and_maybe_book(api, metadata, request, ledger, rng)
                continue
            with ledger.lock:
                ledger.sent += 1
                ledger.requests[request_id] = request
            try:
                reply = api.bookings.CreateBooking(request, metadata=metadata, timeout=10)
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                    with ledger.lock:  # the session is full: a precise refusal
                        ledger.refused.add(request_id)
                    join_waiting_list(api, metadata, request, ledger)
                    continue
                if error.code() in GONE:
                    continue
                raise
            booking = reply.booking
            with ledger.lock:
                ledger.created[request_id] = booking.id
            try:
                booking = api.bookings.ConfirmOrDeclineBooking(
                    bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=booking.id),
                    metadata=metadata,
                    timeout=10,
                ).booking
                with ledger.lock:
                    ledger.decided[booking.id] = booking.status
                if cancel and booking.status in TAKES_CAPACITY and rng.random() < 0.3:
                    with ledger.lock:
                        ledger.cancels_sent.add(booking.id)
                    booking = api.bookings.CancelBooking(
                        bookings_service_pb2.CancelBookingRequest(
                            booking_id=booking.id, revision=booking.revision
                        ),
                        metadata=metadata,
                        timeout=10,
                    ).booking
                    with ledger.lock:
                        ledger.decided[booking.id] = booking.status
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                    cancel = False
                elif error.code() not in GONE:
                    raise


def hold_and_maybe_book(
    api: harness.Stubs,
    metadata: harness.Metadata,
    request: bookings_service_pb2.CreateBookingRequest,
    ledger: Ledger,
    rng: random.Random,
) -> None:
    """Hold the request's spots for HOLD_SECONDS; half the time, book them from the hold."""
    hold_request = bookings_service_pb2.CreateHoldRequest(
        booked_entity=request.booking.booked_entity,
        total_participants=request.booking.total_participants,
        ttl=duration_pb2.Duration(seconds=HOLD_SECONDS),
    )
    try:
        hold = api.bookings.CreateHold(hold_request, metadata=metadata, timeout=10).hold
        with ledger.lock:
            ledger.holds += 1
        if rng.random() < 0.5:
            return
        booked = _retagged(request, "held")
        booked.hold_id = hold.id
        booked.booking.ClearField("booked_entity")
        with ledger.lock:
            ledger.sent += 1
            ledger.requests[booked.request_id] = booked
        reply = api.bookings.CreateBooking(booked, metadata=metadata, timeout=10)
        with ledger.lock:
            ledger.created[booked.request_id] = reply.booking.id
    except grpc.RpcError as error:
        if error.code() not in (*GONE, grpc.StatusCode.FAILED_PRECONDITION):
            raise


def join_waiting_list(
    api: harness.Stubs,
    metadata: harness.Metadata,
    request: bookings_service_pb2.CreateBookingRequest,
    ledger: Ledger,
) -> None:
    """A create found the session full: wait in line instead (acknowledged joins are kept)."""
    joining = _retagged(request, "waiting")
    join = bookings_service_pb2.JoinWaitingListRequest(
        booking=joining.booking, request_id=joining.request_id
    )
    try:
        reply = api.bookings.JoinWaitingList(join, metadata=metadata, timeout=10)
    except grpc.RpcError as error:
        if error.code() not in (*GONE, grpc.StatusCode.FAILED_PRECONDITION):
            raise
        return
    with ledger.lock:
        ledger.joined[joining.request_id] = reply.booking.id


def _retagged(
    request: bookings_service_pb2.CreateBookingRequest, tag: str
) -> bookings_service_pb2.CreateBookingRequest:
    """The same booking under its own request id (and external_user_id, which audits it)."""
    copy = bookings_service_pb2.CreateBookingRequest()
    copy.CopyFrom(request)
    copy.request_id = f"{request.request_id}-{tag}"
    copy.booking.external_user_id = copy.request_id
    return copy


def with_short_waiting_list(api: harness.Stubs, service_id: str) -> None:
    """Give the seeded class a waiting list whose offers run RESERVATION_SECONDS."""
    waiting_list = catalog_pb2.WaitingListPolicy(
        enabled=True,
        capacity=4 * CAPACITY,
        reservation_time=duration_pb2.Duration(seconds=RESERVATION_SECONDS),
    )
    api.catalog.UpdateService(
        catalog_service_pb2.UpdateServiceRequest(
            service=catalog_pb2.Service(id=service_id, waiting_list=waiting_list),
            update_mask=field_mask_pb2.FieldMask(paths=["waiting_list"]),
        ),
        metadata=api.metadata,
    )


def run_until_killed(
    server: harness.ServerProcess,
    metadata: harness.Metadata,
    catalog: harness.Catalog,
    ledger: Ledger,
    size: FaultSize,
) -> None:
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=load, args=(server.address, metadata, catalog, ledger, stop, i), daemon=True
        )
        for i in range(size.load_threads)
    ]
    errors: list[BaseException] = []

    def record(args: threading.ExceptHookArgs) -> None:
        errors.append(args.exc_value or RuntimeError("thread failed"))

    previous_hook = threading.excepthook
    threading.excepthook = record
    try:
        for thread in threads:
            thread.start()
        time.sleep(size.load_seconds * random.uniform(0.5, 1.5))
        server.kill9()
        stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        threading.excepthook = previous_hook
    assert not errors, f"load failed with an unexpected error: {errors[0]!r}"


def test_kill9_under_load_loses_no_acknowledged_booking_and_never_overbooks(
    database_url: str, tmp_path: Path, fault_size: FaultSize, fault_counts: Counter[str]
) -> None:
    data_dir = tmp_path / "server"
    metadata = harness.owner_metadata(data_dir)
    port = harness.free_port()

    def start() -> harness.ServerProcess:
        return harness.ServerProcess(
            data_dir, port, database_url=database_url, extra_args=("--log-level", "WARNING")
        ).start()

    server = start()
    try:
        with harness.stubs(server.address, metadata) as api:
            catalog = harness.seed_catalog(
                api, staff=1, sessions=fault_size.crash_sessions, class_capacity=CAPACITY
            )
            with_short_waiting_list(api, catalog.class_service_id)
        ledger = Ledger()
        for _ in range(fault_size.crash_cycles):
            run_until_killed(server, metadata, catalog, ledger, fault_size)
            server = start()
            fault_counts["crashes survived (kill -9)"] += 1
        with harness.stubs(server.address, metadata) as api:
            retry_unacknowledged_creates(api, ledger)
            verify(api, catalog, ledger, fault_counts)
        verify_counted_capacity(database_url, catalog)
    finally:
        server.stop()
    fault_counts["create/confirm calls sent"] += ledger.sent + len(ledger.decided)


def retry_unacknowledged_creates(api: harness.Stubs, ledger: Ledger) -> None:
    """Clients retry what got no answer, with the same request_id: exactly once (AIP-155).

    A create that never committed may now find its session full; that refusal is recorded
    and verify() checks that nothing was stored for it."""
    for request_id, request in ledger.requests.items():
        if request_id in ledger.created or request_id in ledger.refused:
            continue
        try:
            reply = api.bookings.CreateBooking(request, metadata=api.metadata, timeout=30)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            ledger.refused.add(request_id)
        else:
            ledger.created[request_id] = reply.booking.id


def verify(
    api: harness.Stubs, catalog: harness.Catalog, ledger: Ledger, counts: Counter[str]
) -> None:
    stored = harness.all_bookings(api)
    by_id = {booking.id: booking for booking in stored}
    per_request = Counter(booking.external_user_id for booking in stored)
    duplicated = [key for key, n in per_request.items() if n > 1]
    assert not duplicated, f"request ids that created more than one booking: {duplicated[:5]}"
    stored_refused = ledger.refused & set(per_request)
    assert not stored_refused, f"refused creates stored anyway: {sorted(stored_refused)[:3]}"
    missing = [
        bid for bid in [*ledger.created.values(), *ledger.joined.values()] if bid not in by_id
    ]
    assert not missing, f"{len(missing)} acknowledged bookings lost, e.g. {missing[:3]}"
    canceled = booking_pb2.BOOKING_STATUS_CANCELED
    wrong = {
        bid: (status, by_id[bid].status)
        for bid, status in ledger.decided.items()
        if by_id[bid].status != status
        and not (bid in ledger.cancels_sent and by_id[bid].status == canceled)
    }
    assert not wrong, f"acknowledged decisions not stored: {list(wrong.items())[:3]}"

    taken: dict[str, int] = defaultdict(int)
    for booking in stored:
        if booking.status in TAKES_CAPACITY and not booking.double_booked:
            taken[booking.booked_entity.slot.session_id] += booking.total_participants
    over = {sid: n for sid, n in taken.items() if n > catalog.capacities[sid]}
    assert not over, f"sessions over capacity {CAPACITY}: {over}"
    assert any(taken.values()), "the load confirmed nothing; the test proved nothing"
    counts["bookings verified after crashes"] += len(ledger.created) + len(ledger.joined)
    counts["holds taken under crashes"] += ledger.holds
    counts["waiting-list joins verified"] += len(ledger.joined)
    counts["decisions verified after crashes"] += len(ledger.decided)


def verify_counted_capacity(database_url: str, catalog: harness.Catalog) -> None:
    """No session takes more than its capacity the way the server counts it: CONFIRMED and
    PENDING bookings, live holds and running offers (none is double_booked in this load)."""
    database = Database.from_url(database_url)
    try:
        with SqlUnitOfWork(database).read(harness.SITE_ID) as tx:
            now = datetime.now(UTC)
            counted = {
                sid: tx.bookings.taken_spots(session_unit(sid), now=now)
                for sid in catalog.session_ids
            }
    finally:
        database.dispose()
    over = {sid: n for sid, n in counted.items() if n > catalog.capacities[sid]}
    assert not over, f"sessions over capacity counting holds and offers: {over}"
