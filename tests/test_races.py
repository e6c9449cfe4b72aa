"""Races for the last spots (RELIABILITY.md): the count and the write are one step.

Every booking is CREATED first (CREATED takes no room), then all confirmations are released
at once by a barrier. Without the per-unit lock several transactions would count the same free
spots and confirm; with it exactly `capacity` win, whatever the thread or process. SQLite runs
threads against one server; PostgreSQL runs the same calls spread over two server processes
on different ports sharing the database. Each race repeats on fresh sessions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from bookings.v1 import booking_pb2
from bookings.v1 import bookings_service_pb2 as pb
from conftest import AuthMetadata, StartServer
from lifecycle_support import (
    CONFIRMED,
    DECLINED,
    Seeder,
    appointment_booking_request,
    class_booking_request,
    create_bookings,
    stub,
)
from race_helpers import channels, run_together, server_processes

from bookings_server.api.auth.keys import load_signing_keys
from bookings_server.config import Config

REPETITIONS = 3
UNPAID = booking_pb2.PAYMENT_STATUS_NOT_PAID
#: UNAVAILABLE (a lock wait over 5 s on a loaded machine) is the retryable answer by contract;
#: a client retries it like this. The race's outcome is checked on the final answers.
UNAVAILABLE_RETRIES = 3


@dataclass
class RaceTargets:
    """Clients (one per server) with the owner's metadata, and a seeder for the database."""

    clients: list[Any]
    metadata: list[list[tuple[str, str]]]
    seeder: Seeder

    def confirm_all(self, bookings: list[booking_pb2.Booking]) -> list[Any]:
        """ConfirmOrDecline every booking at once, spread round-robin over the servers."""

        def call(index: int, booking: booking_pb2.Booking) -> Any:
            server = index % len(self.clients)
            request = pb.ConfirmOrDeclineBookingRequest(
                booking_id=booking.id, payment_status=UNPAID
            )
            for _ in range(UNAVAILABLE_RETRIES):
                try:
                    return self.clients[server].ConfirmOrDeclineBooking(
                        request, metadata=self.metadata[server], timeout=30
                    )
                except grpc.RpcError as error:
                    if error.code() != grpc.StatusCode.UNAVAILABLE:
                        raise
            raise AssertionError(f"still UNAVAILABLE after {UNAVAILABLE_RETRIES} attempts")

        calls = [lambda i=i, b=b: call(i, b) for i, b in enumerate(bookings)]
        return run_together(calls)

    def stored_statuses(self, bookings: list[booking_pb2.Booking]) -> Counter[int]:
        get = self.clients[0].GetBooking
        return Counter(
            get(pb.GetBookingRequest(booking_id=b.id), metadata=self.metadata[0]).booking.status
            for b in bookings
        )


@pytest.fixture
def race(
    database_url: str, start_server: StartServer, auth_metadata: AuthMetadata, tmp_path: Path
) -> Iterator[RaceTargets]:
    seeder = Seeder(database_url)
    try:
        if database_url.startswith("sqlite"):
            server = start_server(database_url=database_url, max_workers=32)
            with grpc.insecure_channel(server.address) as channel:
                yield RaceTargets([stub(channel)], [auth_metadata(server)], seeder)
            return
        data_dir = tmp_path / "race-servers"
        load_signing_keys(Config(data_dir=data_dir))  # one secret, shared by both servers
        with server_processes(database_url, data_dir, 2) as servers:
            opened = channels([s.address for s in servers])
            try:
                yield RaceTargets(
                    [stub(c) for c in opened], [auth_metadata(s) for s in servers], seeder
                )
            finally:
                for channel in opened:
                    channel.close()
    finally:
        seeder.close()


def _answers(results: list[Any]) -> Counter[int]:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} calls failed, first: {errors[0]!r}"
    return Counter(r.booking.status for r in results)


def test_fifty_unpaid_confirmations_for_five_spots_confirm_exactly_five(
    race: RaceTargets,
) -> None:
    for _ in range(REPETITIONS):
        setup = race.seeder.class_session(capacity=5)
        bookings = create_bookings(
            race.clients[0], class_booking_request(setup), 50, race.metadata[0]
        )
        assert _answers(race.confirm_all(bookings)) == {CONFIRMED: 5, DECLINED: 45}
        assert race.stored_statuses(bookings) == {CONFIRMED: 5, DECLINED: 45}


def test_twenty_confirmations_of_one_appointment_slot_confirm_exactly_one(
    race: RaceTargets,
) -> None:
    for _ in range(REPETITIONS):
        setup = race.seeder.appointment()
        bookings = create_bookings(
            race.clients[0], appointment_booking_request(setup), 20, race.metadata[0]
        )
        assert _answers(race.confirm_all(bookings)) == {CONFIRMED: 1, DECLINED: 19}
        assert race.stored_statuses(bookings) == {CONFIRMED: 1, DECLINED: 19}
