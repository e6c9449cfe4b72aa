"""The availability cache across server processes over the wire: a booking confirmed
through one server is never offered by another one's next query, and a catalog change shows
in the next query of every server.

SQLite runs two in-process servers (each its own engine and cache) on one file; PostgreSQL
two server processes on one database (the `race` servers of test_races.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import grpc
import pytest
from bookings.v1 import (
    availability_service_pb2,
    availability_service_pb2_grpc,
    booking_pb2,
    bookings_service_pb2_grpc,
)
from conftest import AuthMetadata, StartServer
from lifecycle_support import SITE, AppointmentSetup, Seeder, appointment_booking_request, stamp
from race_helpers import channels, server_processes

from bookings_server.api.auth.keys import load_signing_keys
from bookings_server.config import Config
from bookings_server.domain.catalog import WorkingInterval

ROUNDS = 12


@dataclass
class Servers:
    channels: list[grpc.Channel]
    metadata: list[list[tuple[str, str]]]
    seeder: Seeder

    def bookable_starts(self, server: int, setup: AppointmentSetup) -> list[datetime]:
        stub = availability_service_pb2_grpc.AvailabilityServiceStub(self.channels[server])
        request = availability_service_pb2.QueryAvailabilityRequest(
            service_id=[setup.service.id],
            start_date=stamp(setup.start),
            end_date=stamp(setup.start + timedelta(hours=ROUNDS)),
        )
        answer = stub.QueryAvailability(request, metadata=self.metadata[server], timeout=30)
        return [
            entry.slot.start_date.ToDatetime(UTC)
            for entry in answer.availability_entries
            if entry.bookable
        ]

    def book_confirmed(self, server: int, setup: AppointmentSetup, start: datetime) -> None:
        request = appointment_booking_request(setup, start)
        request.booking.status = booking_pb2.BOOKING_STATUS_CONFIRMED
        stub = bookings_service_pb2_grpc.BookingsServiceStub(self.channels[server])
        stub.CreateBooking(request, metadata=self.metadata[server], timeout=30)


@pytest.fixture
def servers(
    database_url: str, start_server: StartServer, auth_metadata: AuthMetadata, tmp_path: Path
) -> Iterator[Servers]:
    seeder = Seeder(database_url)
    try:
        if database_url.startswith("sqlite"):
            running = [start_server(database_url=database_url) for _ in range(2)]
            opened = channels([server.address for server in running])
            metadata = [auth_metadata(server) for server in running]
            yield Servers(opened, metadata, seeder)
            for channel in opened:
                channel.close()
            return
        data_dir = tmp_path / "cache-servers"
        load_signing_keys(Config(data_dir=data_dir))  # one secret, shared by both servers
        with server_processes(database_url, data_dir, 2) as processes:
            opened = channels([process.address for process in processes])
            try:
                yield Servers(opened, [auth_metadata(p) for p in processes], seeder)
            finally:
                for channel in opened:
                    channel.close()
    finally:
        seeder.close()


def test_a_slot_confirmed_through_one_server_is_never_offered_by_the_other(
    servers: Servers,
) -> None:
    setup = servers.seeder.appointment()
    for hour in range(ROUNDS):
        start = setup.start + timedelta(hours=hour)
        for _ in range(2):  # the other server's answer is cached and reused
            assert start in servers.bookable_starts(1, setup)

        servers.book_confirmed(0, setup, start)

        assert start not in servers.bookable_starts(1, setup)
        assert start not in servers.bookable_starts(0, setup)


def test_changed_working_hours_show_in_the_next_query_of_every_server(
    servers: Servers,
) -> None:
    setup = servers.seeder.appointment()
    for server in (0, 1, 0, 1):
        assert len(servers.bookable_starts(server, setup)) == ROUNDS

    with servers.seeder.uow.write(SITE) as tx:
        staff = tx.catalog.get_staff_member(setup.staff.id)
        hours = tuple(WorkingInterval(day, time(0), time(0, 30)) for day in range(7))
        tx.catalog.update_staff_member(replace(staff, working_hours=hours), datetime.now(UTC))

    assert servers.bookable_starts(0, setup) == []
    assert servers.bookable_starts(1, setup) == []
