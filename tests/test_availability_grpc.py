"""QueryAvailability over gRPC, on SQLite and PostgreSQL: what it offers, CreateBooking takes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import grpc
import pytest
from availability_builders import local
from booking_helpers import failure
from bookings.v1 import (
    availability_service_pb2,
    availability_service_pb2_grpc,
    booking_pb2,
    bookings_service_pb2,
    bookings_service_pb2_grpc,
)
from google.protobuf import timestamp_pb2
from page_token_helpers import edited
from sqlalchemy import event

from bookings_server.app.availability import AvailabilityReader
from bookings_server.app.catalog import Catalog
from bookings_server.app.unit_of_work import SqlUnitOfWork
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.catalog import (
    Service,
    ServiceType,
    SessionSpec,
    StaffMember,
    WaitingListPolicy,
    WorkingInterval,
)
from bookings_server.domain.page_tokens import INVALID_PAGE_TOKEN, PageTokenCodec
from bookings_server.store.database import Database

SITE = "site-a"
ZONE = "America/New_York"
#: What the direct use-case calls of these tests sign page tokens with (the servers derive
#: their own key).
PAGE_TOKENS = PageTokenCodec.from_secret("availability wire tests")
#: The week of New York's 2027 spring-forward day (Sunday 2027-03-14).
WEEK_START = local(ZONE, 2027, 3, 11)
WEEK_END = local(ZONE, 2027, 3, 18)


@dataclass
class Seeded:
    appointment: str
    staff: str
    yoga: str
    yoga_session: str
    course: str


def seed(database_url: str) -> Seeded:
    """A New York staff member working 00:00-04:00 every day (60-minute appointments with a
    15-minute buffer), a yoga class of 2 (waiting list of 3) on the spring-forward Sunday, and
    a course of 4 meeting three Saturdays from 2027-03-13."""
    database = Database.from_url(database_url)
    catalog = Catalog(SqlUnitOfWork(database), page_tokens=PAGE_TOKENS)
    try:
        hours = tuple(WorkingInterval(d, time(0), time(4)) for d in range(7))
        staff = catalog.create_staff_member(
            SITE,
            StaffMember(
                id="",
                site_id=SITE,
                name="Dana",
                timezone=ZONE,
                schedule_id="",
                email="dana@example.com",
                working_hours=hours,
            ),
        )
        appointment = catalog.create_service(
            SITE, service(ServiceType.APPOINTMENT, staff_member_ids=(staff.id,))
        )
        yoga = catalog.create_service(
            SITE,
            service(
                ServiceType.CLASS,
                default_capacity=2,
                waiting_list=WaitingListPolicy(enabled=True, capacity=3),
            ),
        )
        start = local(ZONE, 2027, 3, 14, 9)
        [session] = catalog.create_sessions(
            SITE, SessionSpec(yoga.id, start, start + timedelta(hours=1))
        )
        course = catalog.create_service(SITE, service(ServiceType.COURSE, default_capacity=4))
        for day in (13, 20, 27):
            start = local(ZONE, 2027, 3, day, 10)
            catalog.create_sessions(SITE, SessionSpec(course.id, start, start + timedelta(hours=2)))
    finally:
        database.dispose()
    return Seeded(appointment.id, staff.id, yoga.id, session.id, course.id)


def service(kind: ServiceType, **fields: Any) -> Service:
    values: dict[str, Any] = {
        "id": "",
        "site_id": SITE,
        "name": kind.value.title(),
        "type": kind,
        "timezone": ZONE,
        "schedule_id": "",
    }
    if kind is ServiceType.APPOINTMENT:
        values |= {"duration": timedelta(minutes=60), "buffer_after": timedelta(minutes=15)}
    return Service(**(values | fields))


Metadata = list[tuple[str, str]]


@dataclass
class Env:
    seeded: Seeded
    channel: grpc.Channel
    metadata: Metadata
    token: Callable[..., Metadata] = field(default=lambda **_: [])

    def query(
        self, *service_ids: str, **fields: Any
    ) -> availability_service_pb2.QueryAvailabilityResponse:
        fields.setdefault("start_date", stamp(WEEK_START))
        fields.setdefault("end_date", stamp(WEEK_END))
        request = availability_service_pb2.QueryAvailabilityRequest(
            service_id=service_ids, **fields
        )
        stub = availability_service_pb2_grpc.AvailabilityServiceStub(self.channel)
        return stub.QueryAvailability(request, metadata=self.metadata, timeout=30)

    def create(self, slot: booking_pb2.BookedSlot, **booking: Any) -> booking_pb2.Booking:
        request = bookings_service_pb2.CreateBookingRequest(
            booking=booking_pb2.Booking(total_participants=1, **booking)
        )
        request.booking.booked_entity.slot.CopyFrom(slot)
        stub = bookings_service_pb2_grpc.BookingsServiceStub(self.channel)
        return stub.CreateBooking(request, metadata=self.metadata, timeout=30).booking


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


@pytest.fixture
def env(database_url, start_server, auth_metadata) -> Iterator[Env]:  # type: ignore[no-untyped-def]
    seeded = seed(database_url)
    server = start_server(database_url=database_url)
    with grpc.insecure_channel(server.address) as channel:
        yield Env(
            seeded,
            channel,
            auth_metadata(server, site_id=SITE),
            lambda **token: auth_metadata(server, **token),
        )


def starts(response: availability_service_pb2.QueryAvailabilityResponse, day: date) -> list[str]:
    return [
        entry.local_start_date[11:16]
        for entry in response.availability_entries
        if entry.local_start_date.startswith(day.isoformat())
    ]


def test_appointment_slots_follow_the_dst_rules_in_the_staff_zone(env: Env) -> None:
    response = env.query(env.seeded.appointment)
    assert response.timezone == ZONE
    assert starts(response, date(2027, 3, 13)) == ["00:00", "01:15", "02:30"]
    # 02:30 does not exist on the spring-forward day: it becomes 03:30 EDT, too late to fit.
    assert starts(response, date(2027, 3, 14)) == ["00:00", "01:15"]
    first = response.availability_entries[0]
    assert first.bookable and (first.total_spots, first.open_spots) == (1, 1)
    assert first.slot.resource.id == env.seeded.staff and first.slot.resource.name == "Dana"
    assert first.slot.timezone == ZONE
    assert first.slot.end_date.ToSeconds() - first.slot.start_date.ToSeconds() == 3600


def test_a_bookable_slot_is_accepted_by_create_booking_as_is(env: Env) -> None:
    entries = env.query(env.seeded.appointment, env.seeded.yoga).availability_entries
    appointment = next(e for e in entries if not e.slot.session_id)
    yoga = next(e for e in entries if e.slot.session_id)

    for entry in (appointment, yoga):
        booking = env.create(entry.slot)
        assert booking.status == booking_pb2.BOOKING_STATUS_CREATED
        assert booking.booked_entity.slot.start_date == entry.slot.start_date
        assert booking.booked_entity.slot.end_date == entry.slot.end_date


def test_a_confirmed_booking_takes_its_slot_out_of_the_next_answer(env: Env) -> None:
    before = env.query(env.seeded.appointment).availability_entries
    taken = before[3].slot

    env.create(taken)  # CREATED: blocks nothing
    assert len(env.query(env.seeded.appointment).availability_entries) == len(before)

    env.create(taken, status=booking_pb2.BOOKING_STATUS_CONFIRMED)
    after = env.query(env.seeded.appointment).availability_entries
    assert [e.slot for e in after] == [e.slot for e in before if e.slot != taken]


def test_a_class_shows_its_taken_spots_and_is_unbookable_when_full(env: Env) -> None:
    [session] = env.query(env.seeded.yoga).availability_entries
    assert (session.total_spots, session.open_spots, session.bookable) == (2, 2, True)

    env.create(session.slot, status=booking_pb2.BOOKING_STATUS_CONFIRMED)
    [session] = env.query(env.seeded.yoga).availability_entries
    assert (session.open_spots, session.bookable) == (1, True)

    env.create(session.slot, status=booking_pb2.BOOKING_STATUS_CONFIRMED)
    [session] = env.query(env.seeded.yoga).availability_entries
    assert (session.open_spots, session.bookable) == (0, False)
    assert env.query(env.seeded.yoga, bookable=True).availability_entries == []


def test_a_class_reports_its_waiting_list(env: Env) -> None:
    [session] = env.query(env.seeded.yoga).availability_entries
    assert (session.waiting_list.total_spots, session.waiting_list.open_spots) == (3, 3)

    env.create(session.slot, status=booking_pb2.BOOKING_STATUS_WAITING_LIST)
    [session] = env.query(env.seeded.yoga).availability_entries
    assert (session.waiting_list.total_spots, session.waiting_list.open_spots) == (3, 2)
    assert session.open_spots == 2


def test_a_course_is_one_entry_with_its_remaining_spots(env: Env) -> None:
    [course] = env.query(env.seeded.course).availability_entries
    assert course.slot.start_date.ToDatetime(UTC) == local(ZONE, 2027, 3, 13, 10)
    assert course.slot.end_date.ToDatetime(UTC) == local(ZONE, 2027, 3, 27, 12)
    assert (course.total_spots, course.open_spots, course.bookable) == (4, 4, True)
    assert course.schedule_id and not course.slot.session_id

    request = bookings_service_pb2.CreateBookingRequest(
        booking=booking_pb2.Booking(
            total_participants=3, status=booking_pb2.BOOKING_STATUS_CONFIRMED
        )
    )
    request.booking.booked_entity.schedule.service_id = env.seeded.course
    request.booking.booked_entity.schedule.schedule_id = course.schedule_id
    stub = bookings_service_pb2_grpc.BookingsServiceStub(env.channel)
    stub.CreateBooking(request, metadata=env.metadata, timeout=30)

    [course] = env.query(env.seeded.course).availability_entries
    assert (course.open_spots, course.bookable) == (1, True)


def book_confirmed(env: Env, slot: booking_pb2.BookedSlot, via: str) -> booking_pb2.Booking:
    """A CONFIRMED booking of `slot`: created so by an OWNER, or created then confirmed."""
    if via == "owner_status":
        return env.create(slot, status=booking_pb2.BOOKING_STATUS_CONFIRMED)
    created = env.create(slot)
    stub = bookings_service_pb2_grpc.BookingsServiceStub(env.channel)
    request = bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=created.id)
    return stub.ConfirmOrDeclineBooking(request, metadata=env.metadata, timeout=30).booking


@pytest.mark.parametrize("via", ["owner_status", "confirm_or_decline"])
def test_round_trip_every_bookable_slot_of_a_week_books_then_none_are_left(
    env: Env, via: str
) -> None:
    offered = env.query(env.seeded.appointment, env.seeded.yoga).availability_entries
    assert len(offered) == 7 * 3 - 1 + 1  # 3 slots a day, 2 on the short Sunday, and the class
    assert all(entry.bookable for entry in offered)

    for entry in offered:
        for _ in range(entry.open_spots):
            booking = book_confirmed(env, entry.slot, via)
            assert booking.status == booking_pb2.BOOKING_STATUS_CONFIRMED, entry
            assert not booking.double_booked, entry

    left = env.query(env.seeded.appointment, env.seeded.yoga)
    assert [e for e in left.availability_entries if e.bookable] == []


def test_pages_chain_and_a_token_from_another_request_is_refused(env: Env) -> None:
    first = env.query(env.seeded.appointment, page_size=8)
    second = env.query(env.seeded.appointment, page_size=8, page_token=first.next_page_token)
    everything = env.query(env.seeded.appointment).availability_entries
    assert list(first.availability_entries) + list(second.availability_entries) == list(
        everything[:16]
    )

    refused = failure(lambda: env.query(env.seeded.yoga, page_token=first.next_page_token))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("page_token",))


def test_a_token_is_refused_on_another_site_and_once_edited(env: Env) -> None:
    token = env.query(env.seeded.appointment, page_size=2).next_page_token
    other_site = Env(env.seeded, env.channel, env.token(site_id="site-b"))
    for refused in (
        failure(lambda: other_site.query(env.seeded.appointment, page_token=token)),
        failure(lambda: env.query(env.seeded.appointment, page_token=edited(token))),
    ):
        assert (refused.code, refused.reason, refused.fields) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            INVALID_PAGE_TOKEN,
            ("page_token",),
        )


def test_merge_staff_gives_one_entry_per_start_counting_the_staff(
    env: Env, database_url: str
) -> None:
    """A second staff member with Dana's hours joins the appointment service: one merged
    entry per start, with two staff members, one free once Dana is booked."""
    database = Database.from_url(database_url)
    catalog = Catalog(SqlUnitOfWork(database), page_tokens=PAGE_TOKENS)
    try:
        dana = catalog.get_staff_member(SITE, env.seeded.staff)
        eli = catalog.create_staff_member(SITE, replace(dana, id="", name="Eli"))
        catalog.modify_service(
            SITE,
            env.seeded.appointment,
            lambda found: replace(found, staff_member_ids=(dana.id, eli.id)),
        )
    finally:
        database.dispose()
    per_staff = env.query(env.seeded.appointment).availability_entries
    env.create(per_staff[0].slot, status=booking_pb2.BOOKING_STATUS_CONFIRMED)

    merged = env.query(env.seeded.appointment, merge_staff=True).availability_entries
    assert len(merged) * 2 == len(per_staff)
    first = merged[0]
    assert first.slot.start_date == per_staff[0].slot.start_date
    assert (first.total_spots, first.open_spots, first.bookable) == (2, 1, True)
    assert not first.slot.resource.id and first.slot.timezone == ZONE
    assert {(e.total_spots, e.open_spots) for e in merged[1:]} == {(2, 2)}


@pytest.mark.parametrize(
    ("fields", "violated"),
    [
        ({"end_date": stamp(WEEK_START - timedelta(hours=1))}, ("end_date",)),
        ({"end_date": stamp(WEEK_START + timedelta(days=32))}, ("end_date",)),
        ({"timezone": "Europe/Atlantis"}, ("timezone",)),
    ],
)
def test_invalid_requests_name_the_field(
    env: Env, fields: dict[str, Any], violated: tuple[str, ...]
) -> None:
    refused = failure(lambda: env.query(env.seeded.appointment, **fields))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, violated)


def test_a_request_without_a_service_is_invalid(env: Env) -> None:
    refused = failure(lambda: env.query())
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("service_id",))


def test_unknown_and_other_sites_services_are_not_found(env: Env) -> None:
    assert failure(lambda: env.query("no-such-service")).code == grpc.StatusCode.NOT_FOUND
    other_site = Env(env.seeded, env.channel, env.token(site_id="site-b"))
    refused = failure(lambda: other_site.query(env.seeded.appointment))
    assert refused.code == grpc.StatusCode.NOT_FOUND


def test_local_times_are_reported_in_the_requested_zone(env: Env) -> None:
    response = env.query(env.seeded.appointment, timezone="UTC", slots_per_day=1)
    assert response.timezone == "UTC"
    first = response.availability_entries[0]
    assert first.local_start_date == "2027-03-11T05:00:00"
    assert len(response.availability_entries) == 7
    assert datetime.fromisoformat(first.local_end_date).replace(tzinfo=UTC) == datetime(
        2027, 3, 11, 6, tzinfo=UTC
    )


def statements_to_answer(database_url: str, query: AvailabilityQuery) -> int:
    """The SELECTs one QueryAvailability runs (transaction and PRAGMA statements, which the
    store may add depending on the time left to a deadline, are not reads)."""
    database = Database.from_url(database_url)
    count = 0

    def count_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal count
        if statement.lstrip().upper().startswith("SELECT"):
            count += 1

    event.listen(database.engine, "before_cursor_execute", count_statement)
    try:
        AvailabilityReader(SqlUnitOfWork(database), page_tokens=PAGE_TOKENS).query(SITE, query)
    finally:
        database.dispose()
    return count


def test_the_number_of_reads_does_not_grow_with_the_bookings(env: Env, database_url: str) -> None:
    seeded = env.seeded
    query = AvailabilityQuery((seeded.appointment, seeded.yoga), WEEK_START, WEEK_END)
    before = statements_to_answer(database_url, query)

    for entry in env.query(seeded.appointment, seeded.yoga).availability_entries[::2]:
        env.create(entry.slot, status=booking_pb2.BOOKING_STATUS_CONFIRMED)

    assert statements_to_answer(database_url, query) == before <= 13  # with the catalog version
