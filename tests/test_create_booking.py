"""CreateBooking happy paths and GetBooking (SPEC sections 2, 3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from booking_helpers import (
    BookingEnv,
    appointment_booking,
    booking_env,
    catalog_session,
    class_booking,
    course_booking,
    create_service,
    hour_from_now,
    store_sessions,
    timestamp,
)
from bookings.v1 import booking_pb2, options_pb2

from bookings_server.domain.catalog import Location, LocationType, ServiceType, SessionSpec


@pytest.fixture
def env(database_url, start_server, auth_metadata) -> Iterator[BookingEnv]:  # type: ignore[no-untyped-def]
    with booking_env(database_url, start_server, auth_metadata) as environment:
        yield environment


def test_class_booking_is_created_with_the_stored_session_details(env: BookingEnv) -> None:
    catalog = env.catalog
    request = class_booking(catalog.session, catalog.class_service, participants=2)
    request.booked_entity.slot.timezone = "Asia/Tokyo"
    request.booked_entity.slot.start_date.seconds = 12345

    booking = env.visitor().create(request)

    slot = booking.booked_entity.slot
    assert booking.id
    assert booking.status == booking_pb2.BOOKING_STATUS_CREATED
    assert booking.payment_status == booking_pb2.PAYMENT_STATUS_UNDEFINED
    assert booking.revision == 1
    assert booking.total_participants == 2
    assert slot.start_date.ToDatetime().replace(tzinfo=catalog.session_start.tzinfo) == (
        catalog.session_start
    )
    assert slot.timezone == "UTC"
    assert booking.start_date == slot.start_date
    assert booking.created_by.identity_type == options_pb2.IDENTITY_TYPE_VISITOR
    assert booking.created_by.identity_id == "visitor-1"
    assert booking.booked_entity.title == "Class service"


def test_a_class_slot_takes_staff_location_and_times_from_the_session_not_the_caller(
    env: BookingEnv,
) -> None:
    start = hour_from_now(96)
    with catalog_session(env.database_url) as catalog:
        service = create_service(catalog, ServiceType.CLASS, timezone="Europe/Paris")
        spec = SessionSpec(
            service.id,
            start,
            start + timedelta(minutes=90),
            staff_member_id=env.catalog.staff,
            location=Location("loc-1", "Studio", "1 Main St", LocationType.OWNER_CUSTOM),
        )
        (stored,) = store_sessions(catalog, spec)
    request = class_booking(stored.id, service.id)
    slot = request.booked_entity.slot
    slot.start_date.CopyFrom(timestamp(start + timedelta(days=1)))
    slot.end_date.CopyFrom(timestamp(start + timedelta(days=2)))
    slot.timezone = "Asia/Tokyo"
    slot.resource.id, slot.resource.name = "someone-else", "Mallory"
    slot.location.name = "Elsewhere"

    booked = env.visitor().create(request).booked_entity.slot

    assert (booked.start_date, booked.end_date) == (
        timestamp(start),
        timestamp(start + timedelta(minutes=90)),
    )
    assert booked.timezone == "Europe/Paris"
    assert (booked.resource.id, booked.resource.name) == (env.catalog.staff, "Dana")
    assert (booked.location.id, booked.location.name) == ("loc-1", "Studio")
    assert booked.location.location_type == booking_pb2.LOCATION_TYPE_OWNER_CUSTOM


def test_get_booking_returns_the_created_booking(env: BookingEnv) -> None:
    client = env.visitor()
    created = client.create(class_booking(env.catalog.session, env.catalog.class_service))

    assert client.get(created.id) == created


def test_appointment_booking_gets_the_staff_member_and_the_service_duration(
    env: BookingEnv,
) -> None:
    start = hour_from_now(48)
    request = appointment_booking(env.catalog.appointment_service, env.catalog.staff, start)

    booking = env.visitor().create(request)

    slot = booking.booked_entity.slot
    assert slot.resource.id == env.catalog.staff
    assert slot.resource.name == "Dana"
    assert (slot.end_date.seconds - slot.start_date.seconds) == 3600


def test_course_booking_spans_the_first_to_the_last_session(env: BookingEnv) -> None:
    booking = env.visitor().create(course_booking(env.catalog.course_service))

    schedule = booking.booked_entity.schedule
    assert schedule.schedule_id == env.catalog.course_schedule
    assert schedule.first_session_start == booking.start_date
    assert schedule.last_session_end == booking.end_date
    assert booking.end_date.seconds - booking.start_date.seconds == 7 * 24 * 3600 + 3600
