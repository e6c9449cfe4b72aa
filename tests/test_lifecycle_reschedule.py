"""RescheduleBooking through gRPC: the new slot is checked like a new booking's, the old one
is freed, and the move is one versioned, recorded change. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from booking_helpers import course_booking, failure, seed_catalog
from bookings.v1 import booking_pb2
from bookings.v1 import bookings_service_pb2 as pb
from conftest import AuthMetadata, StartServer
from lifecycle_support import (
    CONFIRMED,
    SITE,
    AppointmentSetup,
    ClassSetup,
    LifecycleEnv,
    appointment_booking_request,
    class_booking_request,
    error_reason,
    lifecycle_env,
    stamp,
)

from bookings_server.domain.outbox import OutboxKind


@pytest.fixture
def env(
    start_server: StartServer, database_url: str, auth_metadata: AuthMetadata
) -> Iterator[LifecycleEnv]:
    with lifecycle_env(
        database_url, start_server(database_url=database_url), auth_metadata
    ) as environment:
        yield environment


def _move(env: LifecycleEnv, booking: Any, slot: booking_pb2.BookedSlot, **fields: Any) -> Any:
    request = pb.RescheduleBookingRequest(
        booking_id=booking.id, revision=booking.revision, slot=slot, **fields
    )
    return env.client.RescheduleBooking(request, metadata=env.metadata).booking


def _to_session(setup: ClassSetup) -> booking_pb2.BookedSlot:
    return booking_pb2.BookedSlot(session_id=setup.session.id)


def _refused(call: Any, code: grpc.StatusCode, reason: str) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    assert raised.value.code() == code
    assert error_reason(raised.value) == reason


def test_class_booking_moves_to_another_session_and_frees_the_old_one(env: LifecycleEnv) -> None:
    old = env.seeder.class_session(capacity=1)
    new = env.seeder.another_session(old, capacity=1)
    booking = env.create(class_booking_request(old))
    waiting = env.create(class_booking_request(old))
    confirmed = env.confirm_or_decline(booking)
    moved = _move(env, confirmed, _to_session(new))
    assert moved.booked_entity.slot.session_id == new.session.id
    assert moved.start_date == stamp(new.session.start)
    assert (moved.status, moved.revision, moved.double_booked) == (CONFIRMED, 3, False)
    assert env.get(moved) == moved
    assert env.confirm_or_decline(waiting).status == CONFIRMED


def test_move_into_a_full_session_is_refused(env: LifecycleEnv) -> None:
    old = env.seeder.class_session(capacity=1)
    full = env.seeder.another_session(old, capacity=1)
    booking = env.confirm_or_decline(env.create(class_booking_request(old)))
    env.confirm_or_decline(env.create(class_booking_request(full)))
    _refused(
        lambda: _move(env, booking, _to_session(full)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "SESSION_CAPACITY_EXCEEDED",
    )
    assert env.get(booking).booked_entity.slot.session_id == old.session.id


def test_move_into_a_full_session_with_the_override_is_double_booked(env: LifecycleEnv) -> None:
    old = env.seeder.class_session(capacity=1)
    full = env.seeder.another_session(old, capacity=1)
    booking = env.confirm_or_decline(env.create(class_booking_request(old)))
    env.confirm_or_decline(env.create(class_booking_request(full)))
    moved = _move(env, booking, _to_session(full), skip_availability_validation=True)
    assert (moved.status, moved.double_booked) == (CONFIRMED, True)


def test_move_to_an_unknown_session_is_refused_naming_the_request_field(
    env: LifecycleEnv,
) -> None:
    setup = env.seeder.class_session()
    booking = env.create(class_booking_request(setup))
    error = failure(
        lambda: _move(env, booking, booking_pb2.BookedSlot(session_id="no-such-session"))
    )
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_NOT_FOUND")
    assert (error.fields, error.metadata["field"]) == (("slot.session_id",), "slot.session_id")


def test_a_course_booking_cannot_be_moved(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session()
    course = seed_catalog(env.seeder.database_url).course_service
    booking = env.create(pb.CreateBookingRequest(booking=course_booking(course)))
    _refused(
        lambda: _move(env, booking, _to_session(setup)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "RESCHEDULE_NOT_SUPPORTED",
    )


def _appointment_slot(setup: AppointmentSetup, hours_later: int) -> booking_pb2.BookedSlot:
    return booking_pb2.BookedSlot(
        start_date=stamp(setup.start + timedelta(hours=hours_later)),
        resource=booking_pb2.SlotResource(id=setup.staff.id),
    )


def test_appointment_moves_to_a_later_slot_and_frees_the_old_one(env: LifecycleEnv) -> None:
    setup = env.seeder.appointment()
    created = env.create(appointment_booking_request(setup))
    waiting = env.create(appointment_booking_request(setup))
    booking = env.confirm_or_decline(created)
    moved = _move(env, booking, _appointment_slot(setup, 2))
    assert moved.start_date == stamp(setup.start + timedelta(hours=2))
    assert moved.end_date == stamp(setup.start + timedelta(hours=3))
    assert moved.booked_entity.slot.resource.id == setup.staff.id
    assert env.confirm_or_decline(waiting).status == CONFIRMED


def test_appointment_move_keeps_the_staff_member_when_none_is_given(env: LifecycleEnv) -> None:
    setup = env.seeder.appointment()
    booking = env.create(appointment_booking_request(setup))
    slot = booking_pb2.BookedSlot(start_date=stamp(setup.start + timedelta(hours=1)))
    assert _move(env, booking, slot).booked_entity.slot.resource.id == setup.staff.id


def test_appointment_move_to_a_zone_that_is_not_iana_is_invalid(env: LifecycleEnv) -> None:
    setup = env.seeder.appointment()
    booking = env.create(appointment_booking_request(setup))
    slot = _appointment_slot(setup, 1)
    slot.timezone = "Mars/Olympus_Mons"
    _refused(
        lambda: _move(env, booking, slot), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_TIME_ZONE"
    )
    assert env.get(booking) == booking


def test_appointment_move_onto_a_taken_slot_is_refused(env: LifecycleEnv) -> None:
    setup = env.seeder.appointment()
    later = appointment_booking_request(setup, setup.start + timedelta(hours=1))
    booking = env.create(appointment_booking_request(setup))
    env.confirm_or_decline(env.create(later))
    _refused(
        lambda: _move(env, booking, _appointment_slot(setup, 1)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "SLOT_NOT_AVAILABLE",
    )


def test_move_with_a_stale_revision_is_aborted(env: LifecycleEnv) -> None:
    old = env.seeder.class_session()
    new = env.seeder.another_session(old)
    booking = env.create(class_booking_request(old))
    env.confirm_or_decline(booking)
    _refused(
        lambda: _move(env, booking, _to_session(new)),
        grpc.StatusCode.ABORTED,
        "REVISION_MISMATCH",
    )


def test_canceled_booking_cannot_be_moved(env: LifecycleEnv) -> None:
    old = env.seeder.class_session()
    new = env.seeder.another_session(old)
    booking = env.create(class_booking_request(old))
    cancel = pb.CancelBookingRequest(booking_id=booking.id, revision=booking.revision)
    canceled = env.client.CancelBooking(cancel, metadata=env.metadata).booking
    _refused(
        lambda: _move(env, canceled, _to_session(new)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_BOOKING_STATUS",
    )


def test_move_to_another_service_is_invalid(env: LifecycleEnv) -> None:
    old = env.seeder.class_session()
    other = env.seeder.class_session()
    booking = env.create(class_booking_request(old))
    slot = booking_pb2.BookedSlot(service_id=other.service.id, session_id=other.session.id)
    _refused(
        lambda: _move(env, booking, slot), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"
    )


def test_move_is_recorded_as_an_event(env: LifecycleEnv) -> None:
    old = env.seeder.class_session()
    new = env.seeder.another_session(old)
    moved = _move(env, env.create(class_booking_request(old)), _to_session(new))
    stream = env.client.WatchBookingEvents(
        pb.WatchBookingEventsRequest(), metadata=env.metadata, timeout=20
    )
    events = [next(stream).event for _ in range(2)]
    stream.cancel()
    assert events[-1].type == pb.EVENT_TYPE_BOOKING_RESCHEDULED
    assert events[-1].booking == moved


def test_move_reschedules_the_sms_reminder(env: LifecycleEnv) -> None:
    old = env.seeder.class_session()
    new = env.seeder.another_session(old, starts_in=timedelta(days=4))
    request = class_booking_request(old)
    request.send_sms_reminder = True
    _move(env, env.create(request), _to_session(new))
    with env.seeder.uow.read(SITE) as tx:
        items = tx.outbox.list_items()
    reminders = [item.due_at for item in items if item.kind is OutboxKind.SMS_REMINDER]
    assert reminders == [new.session.start - timedelta(hours=24)]
