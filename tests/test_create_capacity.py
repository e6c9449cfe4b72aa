"""Capacity at create time (SPEC 3.4 to 3.6) and "a request that fails writes nothing"."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from booking_helpers import (
    BookingEnv,
    appointment_booking,
    booking_env,
    class_booking,
    course_booking,
    failure,
    hour_from_now,
    stored_counts,
)
from bookings.v1 import booking_pb2, bookings_service_pb2

from bookings_server.domain.identity import Permission

PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
CONFIRMED = booking_pb2.BOOKING_STATUS_CONFIRMED


@pytest.fixture
def env(database_url, start_server, auth_metadata) -> Iterator[BookingEnv]:  # type: ignore[no-untyped-def]
    with booking_env(database_url, start_server, auth_metadata) as environment:
        yield environment


def confirmed(request: booking_pb2.Booking) -> booking_pb2.Booking:
    request.status = CONFIRMED
    return request


def fill_session(env: BookingEnv, participants: int = 3) -> None:
    catalog = env.catalog
    env.client().create(
        confirmed(class_booking(catalog.session, catalog.class_service, participants))
    )


def test_created_bookings_take_no_capacity(env: BookingEnv) -> None:
    catalog = env.catalog
    for _ in range(4):
        env.visitor().create(class_booking(catalog.session, catalog.class_service))


def test_a_full_session_refuses_a_new_booking(env: BookingEnv) -> None:
    fill_session(env, participants=2)
    request = class_booking(env.catalog.session, env.catalog.class_service, participants=2)

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason) == (PRECONDITION, "SESSION_CAPACITY_EXCEEDED")
    assert error.metadata == {"capacity": "3", "taken": "2", "requested": "2"}


def test_the_last_spots_can_be_booked(env: BookingEnv) -> None:
    fill_session(env, participants=2)

    env.visitor().create(class_booking(env.catalog.session, env.catalog.class_service))


def test_an_owners_confirmed_booking_that_overbooks_is_double_booked(env: BookingEnv) -> None:
    catalog = env.catalog
    first = env.client().create(confirmed(class_booking(catalog.session, catalog.class_service, 3)))

    second = env.client().create(confirmed(class_booking(catalog.session, catalog.class_service)))

    assert (first.double_booked, second.double_booked) == (False, True)
    assert second.status == CONFIRMED


def test_a_taken_appointment_slot_is_not_available(env: BookingEnv) -> None:
    catalog = env.catalog
    start = hour_from_now(30)
    env.client().create(
        confirmed(appointment_booking(catalog.appointment_service, catalog.staff, start))
    )

    error = failure(
        lambda: env.visitor().create(
            appointment_booking(catalog.appointment_service, catalog.staff, start)
        )
    )

    assert (error.code, error.reason) == (PRECONDITION, "SLOT_NOT_AVAILABLE")


def test_the_next_appointment_slot_stays_available(env: BookingEnv) -> None:
    catalog = env.catalog
    start = hour_from_now(30)
    env.client().create(
        confirmed(appointment_booking(catalog.appointment_service, catalog.staff, start))
    )

    env.visitor().create(
        appointment_booking(catalog.appointment_service, catalog.staff, hour_from_now(31))
    )


def test_a_full_course_refuses_a_new_booking(env: BookingEnv) -> None:
    env.client().create(confirmed(course_booking(env.catalog.course_service, participants=2)))

    error = failure(lambda: env.visitor().create(course_booking(env.catalog.course_service)))

    assert (error.code, error.reason) == (PRECONDITION, "SCHEDULE_CAPACITY_EXCEEDED")


def test_skip_availability_validation_with_the_permission_books_a_full_session(
    env: BookingEnv,
) -> None:
    fill_session(env)
    client = env.visitor(permissions=[Permission.OVERRIDE_AVAILABILITY])
    flow = bookings_service_pb2.FlowControlSettings(skip_availability_validation=True)

    booking = client.create(
        class_booking(env.catalog.session, env.catalog.class_service), flow_control_settings=flow
    )

    assert booking.status == booking_pb2.BOOKING_STATUS_CREATED


def test_a_request_that_fails_writes_nothing(env: BookingEnv) -> None:
    fill_session(env)
    before = stored_counts(env.database_url)
    notify = booking_pb2.ParticipantNotification(notify_participants=True, message="hi")

    failure(
        lambda: env.visitor().create(
            class_booking(env.catalog.session, env.catalog.class_service),
            participant_notification=notify,
            send_sms_reminder=True,
            request_id="req-1",
        )
    )

    assert stored_counts(env.database_url) == before
