"""Appointments with any staff member (SPEC section 9), through the use cases on both stores.

A booking whose slot names no staff member is CREATED unassigned; it gets a staff member when it
starts to take capacity (a confirmation, an owner's CONFIRMED create), under the locks of every
candidate. The races of the same rule over the wire are in test_any_staff_races.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from lifecycle_support import SITE, Seeder, TeamSetup

from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.bookings.lifecycle import BookingLifecycle, Notification
from bookings_server.app.bookings.reschedule import Rescheduler
from bookings_server.domain.booking import BookedSlot, Booking, BookingStatus, PaymentStatus
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.errors import FailedPrecondition
from bookings_server.domain.identity import IdentityType, Principal

OWNER = Principal(SITE, IdentityType.OWNER, "owner")
VISITOR = Principal(SITE, IdentityType.VISITOR, "visitor")


def _create(
    seeder: Seeder,
    setup: TeamSetup,
    *,
    start: datetime | None = None,
    staff_id: str = "",
    status: BookingStatus | None = None,
) -> Booking:
    slot = BookedSlot(setup.service.id, start=start or setup.start)
    if staff_id:
        slot = replace(slot, resource=replace(slot.resource, id=staff_id))
    draft = BookingDraft(slot=slot, total_participants=1, status=status)
    return BookingCreator(seeder.uow).create(draft, OWNER if status else VISITOR)


def _confirm(seeder: Seeder, booking: Booking, payment: PaymentStatus | None = None) -> Booking:
    return BookingLifecycle(seeder.uow).confirm_or_decline(
        OWNER, booking.id, payment_status=payment, revision=0
    )


def _staff_of(booking: Booking) -> str:
    assert booking.slot is not None
    return booking.slot.resource.id


def test_a_booking_without_a_staff_member_is_created_unassigned(seeder: Seeder) -> None:
    setup = seeder.team(2)

    booking = _create(seeder, setup)

    assert (booking.status, _staff_of(booking)) == (BookingStatus.CREATED, "")
    assert booking.end == setup.start + timedelta(hours=1)


def test_confirming_assigns_the_free_staff_member_with_the_fewest_bookings_that_day(
    seeder: Seeder,
) -> None:
    setup = seeder.team(3)
    first, second, third = sorted(s.id for s in setup.staff)
    for staff_id in (first, second):
        _confirm(
            seeder,
            _create(seeder, setup, start=setup.start + timedelta(hours=2), staff_id=staff_id),
        )
    _confirm(seeder, _create(seeder, setup, start=setup.start + timedelta(hours=3), staff_id=first))

    confirmed = _confirm(seeder, _create(seeder, setup))

    assert (confirmed.status, _staff_of(confirmed)) == (BookingStatus.CONFIRMED, third)


def test_ties_in_load_go_to_the_lowest_staff_id(seeder: Seeder) -> None:
    setup = seeder.team(3)

    confirmed = _confirm(seeder, _create(seeder, setup))

    assert _staff_of(confirmed) == min(s.id for s in setup.staff)


def test_each_confirmation_of_one_start_takes_another_staff_member_until_none_is_free(
    seeder: Seeder,
) -> None:
    setup = seeder.team(3)
    bookings = [_create(seeder, setup) for _ in range(4)]

    decided = [_confirm(seeder, booking) for booking in bookings]

    assert [b.status for b in decided] == [BookingStatus.CONFIRMED] * 3 + [BookingStatus.DECLINED]
    assert {_staff_of(b) for b in decided[:3]} == {s.id for s in setup.staff}
    assert _staff_of(decided[3]) == ""


def test_a_paid_confirmation_with_nobody_free_is_double_booked_on_the_least_loaded(
    seeder: Seeder,
) -> None:
    setup = seeder.team(2)
    busier, calmer = sorted(s.id for s in setup.staff)
    waiting = _create(seeder, setup)
    for staff_id in (busier, calmer):
        _confirm(seeder, _create(seeder, setup, staff_id=staff_id))
    later = setup.start + timedelta(hours=2)
    _confirm(seeder, _create(seeder, setup, start=later, staff_id=busier))

    paid = _confirm(seeder, waiting, PaymentStatus.PAID)

    assert (paid.status, paid.double_booked, _staff_of(paid)) == (
        BookingStatus.CONFIRMED,
        True,
        calmer,
    )


def test_staff_members_who_do_not_work_then_are_never_assigned(seeder: Seeder) -> None:
    setup = seeder.team(1, off_duty=2)
    bookings = [_create(seeder, setup) for _ in range(2)]

    decided = [_confirm(seeder, booking) for booking in bookings]

    assert [b.status for b in decided] == [BookingStatus.CONFIRMED, BookingStatus.DECLINED]
    assert _staff_of(decided[0]) == setup.staff[0].id


def test_a_start_no_staff_member_offers_is_slot_not_available(seeder: Seeder) -> None:
    setup = seeder.team(0, off_duty=2)

    with pytest.raises(FailedPrecondition) as refused:
        _create(seeder, setup)

    assert refused.value.reason == "SLOT_NOT_AVAILABLE"
    assert [v.field for v in refused.value.violations] == ["booked_entity.slot.start_date"]


def test_a_start_every_staff_member_is_busy_for_is_slot_not_available(seeder: Seeder) -> None:
    setup = seeder.team(1)
    _confirm(seeder, _create(seeder, setup))

    with pytest.raises(FailedPrecondition) as refused:
        _create(seeder, setup)

    assert refused.value.reason == "SLOT_NOT_AVAILABLE"


def test_an_owners_confirmed_create_is_assigned_at_once(seeder: Seeder) -> None:
    setup = seeder.team(2)
    _confirm(seeder, _create(seeder, setup))

    created = _create(seeder, setup, status=BookingStatus.CONFIRMED)

    assert created.status is BookingStatus.CONFIRMED and not created.double_booked
    assert _staff_of(created) == max(s.id for s in setup.staff)


def test_an_unassigned_booking_moved_without_a_staff_member_stays_unassigned(
    seeder: Seeder,
) -> None:
    setup = seeder.team(2)
    booking = _create(seeder, setup)
    later = setup.start + timedelta(hours=1)

    moved = Rescheduler(seeder.uow).reschedule(
        OWNER,
        booking.id,
        revision=booking.revision,
        slot=BookedSlot("", start=later),
        notification=Notification(),
        skip_availability_validation=False,
        ignore_booking_policy=False,
    )

    assert (moved.start, _staff_of(moved)) == (later, "")
    assert _staff_of(_confirm(seeder, moved)) == min(s.id for s in setup.staff)


def test_canceling_an_unassigned_booking_needs_no_staff_member(seeder: Seeder) -> None:
    setup = seeder.team(1)
    booking = _create(seeder, setup)

    canceled = BookingLifecycle(seeder.uow).cancel(
        OWNER,
        booking.id,
        revision=booking.revision,
        notification=Notification(),
        ignore_cancellation_policy=False,
    )

    assert (canceled.status, _staff_of(canceled)) == (BookingStatus.CANCELED, "")
