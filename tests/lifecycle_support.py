"""Catalog and bookings for lifecycle tests: the catalog is written through the real store,
bookings are created through the real CreateBooking RPC."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import grpc
from bookings.v1 import booking_pb2, bookings_service_pb2, bookings_service_pb2_grpc
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from bookings_server.domain.catalog import (
    BookingPolicy,
    Service,
    ServiceType,
    Session,
    SessionSpec,
    StaffMember,
    WaitingListPolicy,
    WorkingInterval,
)
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork, Transaction

SITE = "site-a"
Metadata = list[tuple[str, str]]

CONFIRMED = booking_pb2.BOOKING_STATUS_CONFIRMED
DECLINED = booking_pb2.BOOKING_STATUS_DECLINED
PENDING = booking_pb2.BOOKING_STATUS_PENDING
CANCELED = booking_pb2.BOOKING_STATUS_CANCELED


def next_hour(days: float = 2) -> datetime:
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class ClassSetup:
    service: Service
    session: Session


@dataclass(frozen=True)
class AppointmentSetup:
    service: Service
    staff: StaffMember
    start: datetime


@dataclass(frozen=True)
class TeamSetup:
    """An appointment service with several staff members, all working around the clock."""

    service: Service
    staff: tuple[StaffMember, ...]
    start: datetime


@dataclass
class MovableClock:
    """A clock tests move by hand (`clock.now = ...`)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Seeder:
    """Writes catalog entries straight into the database the servers under test use."""

    database_url: str
    site_id: str = SITE
    _database: Database | None = field(default=None, repr=False)

    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = Database.from_url(self.database_url)
        return self._database

    @property
    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.database)

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()

    def class_session(
        self,
        *,
        capacity: int = 5,
        manual_approval: bool = False,
        cancellation_window: timedelta = timedelta(0),
        starts_in: timedelta = timedelta(days=2),
        waiting_list: WaitingListPolicy | None = None,
    ) -> ClassSetup:
        start = next_hour(starts_in.total_seconds() / 86400)
        with self.uow.write(self.site_id) as tx:
            service = tx.catalog.create_service(
                Service(
                    id="",
                    site_id=self.site_id,
                    name="Yoga",
                    type=ServiceType.CLASS,
                    timezone="UTC",
                    schedule_id="",
                    default_capacity=capacity,
                    require_manual_approval=manual_approval,
                    policy=BookingPolicy(cancellation_window=cancellation_window),
                    waiting_list=waiting_list or WaitingListPolicy(),
                ),
                datetime.now(UTC),
            )
            (session,) = _store_sessions(
                tx, SessionSpec(service.id, start, start + timedelta(hours=1), capacity=capacity)
            )
        return ClassSetup(service, session)

    def another_session(
        self, setup: ClassSetup, *, capacity: int = 5, starts_in: timedelta = timedelta(days=3)
    ) -> ClassSetup:
        """A second session of the same class service."""
        start = next_hour(starts_in.total_seconds() / 86400)
        with self.uow.write(self.site_id) as tx:
            (session,) = _store_sessions(
                tx,
                SessionSpec(setup.service.id, start, start + timedelta(hours=1), capacity=capacity),
            )
        return ClassSetup(setup.service, session)

    def appointment(self, *, manual_approval: bool = False) -> AppointmentSetup:
        with self.uow.write(self.site_id) as tx:
            staff = tx.catalog.create_staff_member(
                StaffMember(
                    id="",
                    site_id=self.site_id,
                    name="Dana",
                    timezone="UTC",
                    schedule_id="",
                    working_hours=tuple(WorkingInterval(day, time(0), None) for day in range(7)),
                ),
                datetime.now(UTC),
            )
            service = tx.catalog.create_service(
                Service(
                    id="",
                    site_id=self.site_id,
                    name="Haircut",
                    type=ServiceType.APPOINTMENT,
                    timezone="UTC",
                    schedule_id="",
                    duration=timedelta(hours=1),
                    require_manual_approval=manual_approval,
                    staff_member_ids=(staff.id,),
                ),
                datetime.now(UTC),
            )
        return AppointmentSetup(service, staff, next_hour())

    def team(self, size: int, *, off_duty: int = 0) -> TeamSetup:
        """A 60-minute appointment service with `size` staff members working around the clock
        and `off_duty` more who never work (they offer no slot)."""
        with self.uow.write(self.site_id) as tx:
            working = [_staff(tx, self.site_id, f"Staff {i}", _ALL_DAY) for i in range(size)]
            idle = [_staff(tx, self.site_id, f"Idle {i}", ()) for i in range(off_duty)]
            service = tx.catalog.create_service(
                Service(
                    id="",
                    site_id=self.site_id,
                    name="Team haircut",
                    type=ServiceType.APPOINTMENT,
                    timezone="UTC",
                    schedule_id="",
                    duration=timedelta(hours=1),
                    staff_member_ids=tuple(s.id for s in working + idle),
                ),
                datetime.now(UTC),
            )
        return TeamSetup(service, tuple(working), next_hour())


_ALL_DAY = tuple(WorkingInterval(day, time(0), None) for day in range(7))


def _staff(
    tx: Transaction, site_id: str, name: str, hours: tuple[WorkingInterval, ...]
) -> StaffMember:
    member = StaffMember(
        id="", site_id=site_id, name=name, timezone="UTC", schedule_id="", working_hours=hours
    )
    return tx.catalog.create_staff_member(member, datetime.now(UTC))


def _store_sessions(tx: Transaction, spec: SessionSpec) -> list[Session]:
    """The one session `spec` describes, stored as is (no recurrence, no catalog rules)."""
    return tx.catalog.create_sessions(spec, [(None, spec.start, spec.end)], "", datetime.now(UTC))


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(moment)
    return message


def class_booking_request(setup: ClassSetup, participants: int = 1, **flow: bool) -> Any:
    return bookings_service_pb2.CreateBookingRequest(
        booking=booking_pb2.Booking(
            booked_entity=booking_pb2.BookedEntity(
                slot=booking_pb2.BookedSlot(
                    service_id=setup.service.id, session_id=setup.session.id
                )
            ),
            total_participants=participants,
        ),
        flow_control_settings=bookings_service_pb2.FlowControlSettings(**flow),
    )


def appointment_booking_request(setup: AppointmentSetup, start: datetime | None = None) -> Any:
    return bookings_service_pb2.CreateBookingRequest(
        booking=booking_pb2.Booking(
            booked_entity=booking_pb2.BookedEntity(
                slot=booking_pb2.BookedSlot(
                    service_id=setup.service.id,
                    start_date=stamp(start or setup.start),
                    resource=booking_pb2.SlotResource(id=setup.staff.id),
                )
            ),
            total_participants=1,
        )
    )


def any_staff_booking_request(setup: TeamSetup, start: datetime | None = None) -> Any:
    """An appointment of the team's service at `start` with no staff member chosen."""
    return bookings_service_pb2.CreateBookingRequest(
        booking=booking_pb2.Booking(
            booked_entity=booking_pb2.BookedEntity(
                slot=booking_pb2.BookedSlot(
                    service_id=setup.service.id, start_date=stamp(start or setup.start)
                )
            ),
            total_participants=1,
        )
    )


def stub(channel: grpc.Channel) -> bookings_service_pb2_grpc.BookingsServiceStub:
    return bookings_service_pb2_grpc.BookingsServiceStub(channel)


def create_bookings(
    client: bookings_service_pb2_grpc.BookingsServiceStub,
    request: Any,
    count: int,
    metadata: Metadata,
) -> list[booking_pb2.Booking]:
    """`count` CREATED bookings from the same request (no request_id: distinct bookings)."""
    return [client.CreateBooking(request, metadata=metadata).booking for _ in range(count)]


def error_reason(error: grpc.RpcError) -> str:
    """The ErrorInfo reason of a failed call."""
    status = rpc_status.from_call(error)
    assert status is not None, error
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    raise AssertionError(f"no ErrorInfo in {error}")


@dataclass
class LifecycleEnv:
    """One server on the test's database, a seeder for its catalog, and an owner's client."""

    server: Any
    seeder: Seeder
    channel: grpc.Channel
    metadata: Metadata

    @property
    def client(self) -> bookings_service_pb2_grpc.BookingsServiceStub:
        return stub(self.channel)

    def create(self, request: Any) -> booking_pb2.Booking:
        return self.client.CreateBooking(request, metadata=self.metadata).booking

    def confirm_or_decline(
        self, booking: booking_pb2.Booking, payment: int = 0, revision: int = 0
    ) -> booking_pb2.Booking:
        request = bookings_service_pb2.ConfirmOrDeclineBookingRequest(
            booking_id=booking.id, payment_status=payment, revision=revision
        )
        return self.client.ConfirmOrDeclineBooking(request, metadata=self.metadata).booking

    def get(self, booking: booking_pb2.Booking) -> booking_pb2.Booking:
        request = bookings_service_pb2.GetBookingRequest(booking_id=booking.id)
        return self.client.GetBooking(request, metadata=self.metadata).booking

    def close(self) -> None:
        self.channel.close()
        self.seeder.close()


@contextmanager
def lifecycle_env(
    database_url: str, server: Any, auth_metadata: Callable[..., Metadata]
) -> Iterator[LifecycleEnv]:
    """A LifecycleEnv on `server` (already serving `database_url`) with an owner's token."""
    env = LifecycleEnv(
        server, Seeder(database_url), grpc.insecure_channel(server.address), auth_metadata(server)
    )
    try:
        yield env
    finally:
        env.close()
