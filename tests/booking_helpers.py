"""Shared by the CreateBooking, QueryBookings and outbox tests: a small catalog written through
the store, a BookingsService client with a token, and error assertions."""

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

from bookings_server.domain.booking_query import BookingFilter, BookingOrder, BookingQuery
from bookings_server.domain.catalog import (
    BookingPolicy,
    DurationChoice,
    OptionType,
    PaymentOption,
    Service,
    ServiceOption,
    ServiceType,
    Session,
    SessionSpec,
    StaffMember,
    WorkingInterval,
)
from bookings_server.store.catalog_repository import CatalogRepository
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork

SITE = "site-a"


def hour_from_now(hours: int) -> datetime:
    """A whole UTC hour `hours` from now (appointment slots start on the hour)."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=hours)


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


@dataclass
class Catalog:
    """Ids of a small catalog: a class with one session, an appointment service with one staff
    member working around the clock (60 min slots), and a course with two sessions."""

    class_service: str = ""
    session: str = ""
    session_start: datetime = field(default_factory=lambda: hour_from_now(72))
    appointment_service: str = ""
    staff: str = ""
    course_service: str = ""
    course_schedule: str = ""


def service(kind: ServiceType, **overrides: Any) -> Service:
    values: dict[str, Any] = {
        "id": "",
        "site_id": SITE,
        "name": f"{kind.value.title()} service",
        "type": kind,
        "timezone": "UTC",
        "schedule_id": "",
        "default_capacity": 3,
    }
    if kind is ServiceType.APPOINTMENT:
        values["duration"] = timedelta(minutes=60)
        values["default_capacity"] = 1
    values.update(overrides)
    return Service(**values)


@contextmanager
def catalog_session(database_url: str) -> Iterator[CatalogRepository]:
    """The site's catalog in one write transaction on the database at `database_url`."""
    database = Database.from_url(database_url)
    try:
        with SqlUnitOfWork(database).write(SITE) as tx:
            yield tx.catalog
    finally:
        database.dispose()


def create_service(catalog: CatalogRepository, kind: ServiceType, **overrides: Any) -> Service:
    return catalog.create_service(service(kind, **overrides), datetime.now(UTC))


def store_sessions(catalog: CatalogRepository, spec: SessionSpec) -> list[Session]:
    """The one session `spec` describes, stored as is (no recurrence, no catalog rules)."""
    return catalog.create_sessions(spec, [(None, spec.start, spec.end)], "", datetime.now(UTC))


def create_session(
    catalog: CatalogRepository, service_id: str, start: datetime, capacity: int | None = None
) -> str:
    spec = SessionSpec(service_id, start, start + timedelta(hours=1), capacity)
    return store_sessions(catalog, spec)[0].id


def create_staff(catalog: CatalogRepository) -> StaffMember:
    staff = StaffMember(
        id="",
        site_id=SITE,
        name="Dana",
        timezone="UTC",
        schedule_id="",
        email="dana@example.com",
        working_hours=tuple(WorkingInterval(day, time(0), None) for day in range(7)),
    )
    return catalog.create_staff_member(staff, datetime.now(UTC))


def add_service(database_url: str, kind: ServiceType, **overrides: Any) -> Service:
    with catalog_session(database_url) as catalog:
        return create_service(catalog, kind, **overrides)


def add_session(
    database_url: str, service_id: str, start: datetime, capacity: int | None = None
) -> str:
    with catalog_session(database_url) as catalog:
        return create_session(catalog, service_id, start, capacity)


def seed_catalog(database_url: str) -> Catalog:
    catalog = Catalog()
    with catalog_session(database_url) as store:
        catalog.class_service = create_service(store, ServiceType.CLASS).id
        catalog.session = create_session(store, catalog.class_service, catalog.session_start)
        catalog.staff = create_staff(store).id
        catalog.appointment_service = create_service(
            store, ServiceType.APPOINTMENT, staff_member_ids=(catalog.staff,)
        ).id
        course = create_service(store, ServiceType.COURSE, default_capacity=2)
        catalog.course_service, catalog.course_schedule = course.id, course.schedule_id
        create_session(store, course.id, hour_from_now(24 * 5))
        create_session(store, course.id, hour_from_now(24 * 12))
    return catalog


CHOICES = (
    ServiceOption("level", "Level", OptionType.CUSTOM, custom_choices=("beginner", "expert")),
    ServiceOption(
        "length", "Length", OptionType.DURATION, duration_choices=(DurationChoice(30, "Short"),)
    ),
)

POLICY = BookingPolicy(
    min_notice=timedelta(hours=2),
    max_advance=timedelta(days=30),
    max_participants_per_booking=2,
)

OFFLINE_ONLY = frozenset({PaymentOption.OFFLINE})


# ---- requests ------------------------------------------------------------------------------


def class_booking(session_id: str, service_id: str, participants: int = 1) -> booking_pb2.Booking:
    booking = booking_pb2.Booking(total_participants=participants)
    booking.booked_entity.slot.session_id = session_id
    booking.booked_entity.slot.service_id = service_id
    booking.contact_details.email = "Ada@Example.com"
    booking.contact_details.first_name = "Ada"
    booking.contact_details.phone = "+15550100"
    return booking


def appointment_booking(
    service_id: str, staff_id: str, start: datetime, participants: int = 1
) -> booking_pb2.Booking:
    booking = booking_pb2.Booking(total_participants=participants)
    slot = booking.booked_entity.slot
    slot.service_id = service_id
    slot.resource.id = staff_id
    slot.start_date.CopyFrom(timestamp(start))
    booking.contact_details.email = "grace@example.com"
    return booking


def course_booking(service_id: str, participants: int = 1) -> booking_pb2.Booking:
    booking = booking_pb2.Booking(total_participants=participants)
    booking.booked_entity.schedule.service_id = service_id
    return booking


# ---- calls and errors ------------------------------------------------------------------------


Metadata = list[tuple[str, str]]


@dataclass
class Client:
    channel: grpc.Channel
    metadata: Metadata

    @property
    def stub(self) -> bookings_service_pb2_grpc.BookingsServiceStub:
        return bookings_service_pb2_grpc.BookingsServiceStub(self.channel)

    def create(self, booking: booking_pb2.Booking, **request: Any) -> booking_pb2.Booking:
        response = self.stub.CreateBooking(
            bookings_service_pb2.CreateBookingRequest(booking=booking, **request),
            metadata=self.metadata,
            timeout=30,
        )
        return response.booking

    def get(self, booking_id: str) -> booking_pb2.Booking:
        return self.stub.GetBooking(
            bookings_service_pb2.GetBookingRequest(booking_id=booking_id),
            metadata=self.metadata,
            timeout=10,
        ).booking

    def query(self, **request: Any) -> bookings_service_pb2.QueryBookingsResponse:
        return self.stub.QueryBookings(  # type: ignore[no-any-return]
            bookings_service_pb2.QueryBookingsRequest(**request),
            metadata=self.metadata,
            timeout=10,
        )


@dataclass(frozen=True)
class Failure:
    code: grpc.StatusCode
    reason: str
    metadata: dict[str, str]
    fields: tuple[str, ...]


def failure(call: Callable[[], Any]) -> Failure:
    """Run a call that must fail; its code, ErrorInfo reason/metadata and BadRequest fields."""
    try:
        call()
    except grpc.RpcError as error:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        assert status is not None, f"no rich status on {error}"
        reason, metadata, fields = "", {}, ()
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                assert info.domain == "bookings.v1"
                reason, metadata = info.reason, dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields = tuple(v.field for v in bad.field_violations)
        return Failure(error.code(), reason, metadata, fields)  # type: ignore[attr-defined]
    raise AssertionError("the call succeeded but was expected to fail")


@dataclass
class BookingEnv:
    """A seeded database, a server on it, and clients with tokens of any identity."""

    database_url: str
    catalog: Catalog
    server: Any
    channel: grpc.Channel
    auth_metadata: Callable[..., Metadata]

    def client(self, **token: Any) -> Client:
        """A client whose token is `auth_metadata(server, **token)` (default: an OWNER)."""
        return Client(self.channel, self.auth_metadata(self.server, **token))

    def visitor(self, **token: Any) -> Client:
        return self.client(identity="VISITOR", **token)


@contextmanager
def booking_env(
    database_url: str, start_server: Callable[..., Any], auth_metadata: Callable[..., Metadata]
) -> Iterator[BookingEnv]:
    catalog = seed_catalog(database_url)
    server = start_server(database_url=database_url)
    with grpc.insecure_channel(server.address) as channel:
        yield BookingEnv(database_url, catalog, server, channel, auth_metadata)


def stored_counts(database_url: str) -> tuple[int, int, int]:
    """(bookings, events, outbox items) stored for the site."""
    database = Database.from_url(database_url)
    try:
        with SqlUnitOfWork(database).write(SITE) as tx:  # events are numbered after commit
            tx.bookings.number_events(500)
        with SqlUnitOfWork(database).read(SITE) as tx:
            query = BookingQuery(BookingFilter(), BookingOrder.START_DATE_ASC, 500)
            bookings, _ = tx.bookings.query_bookings(query)
            events = tx.bookings.events_after(0, 500)
            items = tx.outbox.list_items()
            return len(bookings), len(events), len(items)
    finally:
        database.dispose()
