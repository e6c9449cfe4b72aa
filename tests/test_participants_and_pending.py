"""UpdateNumberOfParticipants and MarkBookingAsPending (SPEC section 12) through the use
cases, on both stores."""

from __future__ import annotations

import pytest
from lifecycle_support import SITE, ClassSetup, Seeder

from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.bookings.lifecycle import BookingLifecycle, Notification
from bookings_server.app.bookings.participants import ParticipantsChanger
from bookings_server.domain.booking import (
    BookedSlot,
    Booking,
    BookingStatus,
    EventType,
    PaymentStatus,
    SlotResource,
)
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
)
from bookings_server.domain.identity import IdentityType, Permission, Principal

OWNER = Principal(SITE, IdentityType.OWNER, "owner")
APP = Principal(SITE, IdentityType.APP, "app")
OVERRIDING_APP = Principal(
    SITE, IdentityType.APP, "app", permissions=frozenset({Permission.OVERRIDE_AVAILABILITY})
)


def _book(seeder: Seeder, setup: ClassSetup, participants: int = 1) -> Booking:
    slot = BookedSlot(setup.service.id, session_id=setup.session.id)
    draft = BookingDraft(slot=slot, total_participants=participants)
    return BookingCreator(seeder.uow).create(draft, APP)


def _confirm(seeder: Seeder, booking: Booking) -> Booking:
    lifecycle = BookingLifecycle(seeder.uow)
    return lifecycle.confirm_or_decline(OWNER, booking.id, payment_status=None, revision=0)


def _resize(seeder: Seeder, booking: Booking, participants: int) -> Booking:
    return ParticipantsChanger(seeder.uow).update(
        APP,
        booking.id,
        revision=booking.revision,
        total_participants=participants,
        participants_choices=None,
    )


def _mark_pending(
    seeder: Seeder,
    booking: Booking,
    principal: Principal = APP,
    payment: PaymentStatus | None = None,
) -> Booking:
    return BookingLifecycle(seeder.uow).mark_pending(
        principal,
        booking.id,
        revision=booking.revision,
        payment_status=payment,
        notification=Notification(),
    )


# ---- UpdateNumberOfParticipants ---------------------------------------------------------------


def test_a_confirmed_booking_grows_while_there_is_room(seeder: Seeder) -> None:
    setup = seeder.class_session(capacity=3)
    booking = _confirm(seeder, _book(seeder, setup))

    grown = _resize(seeder, booking, 3)

    assert (grown.participants, grown.total_participants, grown.revision) == (3, 3, 3)
    with seeder.uow.read(SITE) as tx:
        events = tx.bookings.events_of_booking(booking.id)
    assert events[-1].type is EventType.BOOKING_NUMBER_OF_PARTICIPANTS_UPDATED


def test_a_confirmed_booking_cannot_grow_beyond_the_room_left(seeder: Seeder) -> None:
    setup = seeder.class_session(capacity=3)
    _confirm(seeder, _book(seeder, setup, 2))
    booking = _confirm(seeder, _book(seeder, setup))

    with pytest.raises(FailedPrecondition) as refused:
        _resize(seeder, booking, 2)

    assert refused.value.reason == "SESSION_CAPACITY_EXCEEDED"
    with seeder.uow.read(SITE) as tx:
        assert tx.bookings.get_booking(booking.id).participants == 1


def test_a_shrink_frees_spots_at_once(seeder: Seeder) -> None:
    setup = seeder.class_session(capacity=3)
    waiting = _book(seeder, setup)
    big = _confirm(seeder, _book(seeder, setup, 3))

    _resize(seeder, big, 2)

    assert _confirm(seeder, waiting).status is BookingStatus.CONFIRMED


def test_a_booking_that_holds_no_spots_may_grow_past_the_capacity(seeder: Seeder) -> None:
    setup = seeder.class_session(capacity=2)
    created = _book(seeder, setup)
    _confirm(seeder, _book(seeder, setup, 2))

    grown = _resize(seeder, created, 3)

    assert (grown.status, grown.participants) == (BookingStatus.CREATED, 3)
    assert _confirm(seeder, grown).status is BookingStatus.DECLINED


def test_an_appointment_has_no_participants_to_change(seeder: Seeder) -> None:
    setup = seeder.appointment()
    slot = BookedSlot(setup.service.id, start=setup.start, resource=SlotResource(setup.staff.id))
    booking = BookingCreator(seeder.uow).create(BookingDraft(slot=slot, total_participants=1), APP)

    with pytest.raises(FailedPrecondition) as refused:
        _resize(seeder, booking, 2)

    assert refused.value.reason == "NOT_SUPPORTED_FOR_APPOINTMENTS"


def test_a_participant_change_needs_a_count_and_the_current_revision(seeder: Seeder) -> None:
    setup = seeder.class_session(capacity=3)
    stale = _book(seeder, setup)
    current = _resize(seeder, stale, 2)

    with pytest.raises(InvalidArgument):
        _resize(seeder, current, 0)
    with pytest.raises(Aborted):
        _resize(seeder, stale, 3)


# ---- MarkBookingAsPending ---------------------------------------------------------------------


def test_a_booking_of_a_service_with_manual_approval_goes_pending(seeder: Seeder) -> None:
    setup = seeder.class_session(capacity=2, manual_approval=True)

    pending = _mark_pending(seeder, _book(seeder, setup))

    assert (pending.status, pending.double_booked) == (BookingStatus.PENDING, False)


def test_without_manual_approval_going_pending_needs_the_override_permission(
    seeder: Seeder,
) -> None:
    setup = seeder.class_session(capacity=2)
    booking = _book(seeder, setup)

    with pytest.raises(PermissionDenied) as refused:
        _mark_pending(seeder, booking)

    assert refused.value.reason == "MISSING_PERMISSION"
    assert _mark_pending(seeder, booking, OVERRIDING_APP).status is BookingStatus.PENDING


def test_going_pending_without_room_is_refused_unless_paid(seeder: Seeder) -> None:
    setup = seeder.class_session(capacity=1, manual_approval=True)
    unpaid, paid = _book(seeder, setup), _book(seeder, setup)
    _confirm(seeder, _book(seeder, setup))

    with pytest.raises(FailedPrecondition) as refused:
        _mark_pending(seeder, unpaid)
    marked = _mark_pending(seeder, paid, payment=PaymentStatus.PAID)

    assert refused.value.reason == "SESSION_CAPACITY_EXCEEDED"
    assert (marked.status, marked.double_booked) == (BookingStatus.PENDING, True)


def test_only_a_created_booking_goes_pending(seeder: Seeder) -> None:
    setup = seeder.class_session(capacity=2, manual_approval=True)
    pending = _mark_pending(seeder, _book(seeder, setup))

    with pytest.raises(FailedPrecondition) as refused:
        _mark_pending(seeder, pending)

    assert refused.value.reason == "INVALID_BOOKING_STATUS"
