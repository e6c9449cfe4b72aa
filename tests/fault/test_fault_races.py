"""Contested races at scale (RELIABILITY.md promise 1): for each of many class sessions, 8
contenders confirm at once, spread over two `bookings serve` processes sharing one database
(a SQLite file, or PostgreSQL), for fewer spots than contenders. Exactly the capacity wins,
the rest are declined, every call is answered, and the stored rows agree."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from bookings.v1 import booking_pb2, bookings_service_pb2

from fault.database_sizes import DatabaseFaultSize, database_size
from fault.fault_support import FaultSize, harness

CONTENDERS = 8
CAPACITY = 3
CONFIRMED = booking_pb2.BOOKING_STATUS_CONFIRMED
DECLINED = booking_pb2.BOOKING_STATUS_DECLINED
#: UNAVAILABLE is the retryable answer by contract (a lock wait over its bound on a loaded
#: machine); a client retries it. The race is judged on the final answers.
RETRIES = 5


class _Race:
    """Two servers, and a client (stub and metadata) for each."""

    def __init__(self, servers: list[harness.ServerProcess], metadata: harness.Metadata) -> None:
        self.metadata = metadata
        self._channels = [grpc.insecure_channel(server.address) for server in servers]
        self.apis = [harness.Stubs(channel, metadata) for channel in self._channels]

    def close(self) -> None:
        for channel in self._channels:
            channel.close()

    def run(self, session_id: str, service_id: str, number: int) -> Counter[int]:
        """One race on `session_id`: the contenders' final statuses."""
        booking_ids = [
            self._call(
                i,
                "CreateBooking",
                harness.create_booking_request(session_id, service_id, f"race-{number}-{i}"),
            ).booking.id
            for i in range(CONTENDERS)
        ]
        barrier = threading.Barrier(CONTENDERS)
        statuses: list[int] = [0] * CONTENDERS

        def confirm(i: int) -> None:
            request = bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=booking_ids[i])
            barrier.wait(30)
            statuses[i] = self._call(i, "ConfirmOrDeclineBooking", request).booking.status

        contenders = [threading.Thread(target=confirm, args=(i,)) for i in range(CONTENDERS)]
        for contender in contenders:
            contender.start()
        for contender in contenders:
            contender.join(60)
        return Counter(statuses)

    def _call(self, i: int, method: str, request: object) -> object:
        api = self.apis[i % len(self.apis)]
        for attempt in range(RETRIES):
            try:
                return getattr(api.bookings, method)(request, metadata=self.metadata, timeout=30)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")


@pytest.fixture
def two_servers(database_url: str, tmp_path: Path) -> Iterator[list[harness.ServerProcess]]:
    data_dir = tmp_path / "servers"
    started: list[harness.ServerProcess] = []
    try:
        for index in range(2):
            server = harness.ServerProcess(
                data_dir,
                harness.free_port(),
                database_url=database_url,
                extra_args=("--log-level", "WARNING", "--max-workers", "32"),
                name=f"server-{index}",
            )
            started.append(server.start())
        yield started
    finally:
        for server in started:
            server.stop()


def test_contested_races_over_two_servers_confirm_exactly_the_capacity(
    two_servers: list[harness.ServerProcess],
    fault_size: FaultSize,
    fault_counts: Counter[str],
) -> None:
    size: DatabaseFaultSize = database_size(fault_size)
    metadata = harness.owner_metadata(two_servers[0].data_dir)
    race = _Race(two_servers, metadata)
    try:
        catalog = harness.seed_catalog(
            race.apis[0], staff=1, sessions=size.races_per_store, class_capacity=CAPACITY
        )
        with ThreadPoolExecutor(size.races_at_once) as pool:
            outcomes = list(
                pool.map(
                    lambda item: race.run(item[1], catalog.class_service_id, item[0]),
                    enumerate(catalog.session_ids),
                )
            )
        wrong = [o for o in outcomes if o != {CONFIRMED: CAPACITY, DECLINED: CONTENDERS - CAPACITY}]
        assert not wrong, f"{len(wrong)} races ended wrong, e.g. {wrong[0]}"
        stored = Counter(
            b.booked_entity.slot.session_id
            for b in harness.all_bookings(race.apis[0], statuses=[CONFIRMED])
        )
        assert all(stored[sid] == CAPACITY for sid in catalog.session_ids), "stored rows disagree"
    finally:
        race.close()
    fault_counts[f"contested races ({CONTENDERS} contenders, 2 servers)"] += len(outcomes)
