"""kill -9 under a create/confirm load (RELIABILITY.md promises 1-3): after a restart on the
same database every acknowledged booking is there with its acknowledged status, a retried
request_id never creates a second booking, and no session holds more participants than its
capacity."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from bookings.v1 import booking_pb2, bookings_service_pb2

from fault.fault_support import FaultSize, harness

TAKES_CAPACITY = (booking_pb2.BOOKING_STATUS_CONFIRMED, booking_pb2.BOOKING_STATUS_PENDING)
#: Small sessions so the load runs into capacity (cancellations free some spots again).
CAPACITY = 12


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
            with ledger.lock:
                ledger.sent += 1
                ledger.requests[request_id] = request
            try:
                reply = api.bookings.CreateBooking(request, metadata=metadata, timeout=10)
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                    with ledger.lock:  # the session is full: a precise refusal
                        ledger.refused.add(request_id)
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
        ledger = Ledger()
        for _ in range(fault_size.crash_cycles):
            run_until_killed(server, metadata, catalog, ledger, fault_size)
            server = start()
            fault_counts["crashes survived (kill -9)"] += 1
        with harness.stubs(server.address, metadata) as api:
            retry_unacknowledged_creates(api, ledger)
            verify(api, catalog, ledger, fault_counts)
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
    missing = [bid for bid in ledger.created.values() if bid not in by_id]
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
    counts["bookings verified after crashes"] += len(ledger.created)
    counts["decisions verified after crashes"] += len(ledger.decided)
