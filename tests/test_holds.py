"""Holds (SPEC section 11) through the use cases, on both stores, with a clock the test moves.

A live hold is taken capacity for every other caller; a booking made from it takes its spots;
expiry is decided from the clock at each count. The races are in test_hold_races.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from lifecycle_support import SITE, ClassSetup, Seeder

from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.bookings.holds import HoldKeeper
from bookings_server.app.bookings.lifecycle import BookingLifecycle, Notification
from bookings_server.domain.booking import BookedSlot, Booking, BookingStatus
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from bookings_server.domain.holds import Hold
from bookings_server.domain.identity import IdentityType, Principal

OWNER = Principal(SITE, IdentityType.OWNER, "owner")
VISITOR = Principal(SITE, IdentityType.VISITOR, "visitor")


@dataclass
class MovableClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class Desk:
    """The use cases on one database and one movable clock."""

    seeder: Seeder
    clock: MovableClock

    def hold(self, draft: BookingDraft, ttl: timedelta | None = None) -> Hold:
        return HoldKeeper(self.seeder.uow, self.clock).create(VISITOR, draft, ttl)

    def release(self, hold: Hold) -> Hold:
        return HoldKeeper(self.seeder.uow, self.clock).release(VISITOR, hold.id)

    def book(self, draft: BookingDraft, principal: Principal = VISITOR) -> Booking:
        return BookingCreator(self.seeder.uow, self.clock).create(draft, principal)

    def confirm(self, booking: Booking) -> Booking:
        lifecycle = BookingLifecycle(self.seeder.uow, self.clock)
        return lifecycle.confirm_or_decline(OWNER, booking.id, payment_status=None, revision=0)

    def stored_hold(self, hold: Hold) -> Hold:
        with self.seeder.uow.read(SITE) as tx:
            return tx.holds.get(hold.id)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    seeder = Seeder(database_url)
    yield Desk(seeder, MovableClock(datetime.now(UTC)))
    seeder.close()


def _session_draft(setup: ClassSetup, participants: int = 1, **more: object) -> BookingDraft:
    slot = BookedSlot(setup.service.id, session_id=setup.session.id)
    return BookingDraft(slot=slot, total_participants=participants, **more)  # type: ignore[arg-type]


def _from_hold(hold: Hold, **more: object) -> BookingDraft:
    return BookingDraft(hold_id=hold.id, **more)  # type: ignore[arg-type]


def _refusal(call: object) -> FailedPrecondition:
    with pytest.raises(FailedPrecondition) as refused:
        call()  # type: ignore[operator]
    return refused.value


def test_a_live_hold_takes_its_spots_from_every_other_caller(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=2)
    waiting = desk.book(_session_draft(setup))
    desk.hold(_session_draft(setup, 2))

    refused = _refusal(lambda: desk.book(_session_draft(setup)))

    assert refused.reason == "SESSION_CAPACITY_EXCEEDED"
    assert desk.confirm(waiting).status is BookingStatus.DECLINED


def test_a_hold_for_spots_that_are_taken_is_refused(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=1)
    desk.confirm(desk.book(_session_draft(setup)))

    refused = _refusal(lambda: desk.hold(_session_draft(setup)))

    assert refused.reason == "SESSION_CAPACITY_EXCEEDED"


def test_an_expired_hold_counts_for_nobody(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=1)
    desk.hold(_session_draft(setup), ttl=timedelta(minutes=2))
    desk.clock.advance(timedelta(minutes=2))

    assert desk.confirm(desk.book(_session_draft(setup))).status is BookingStatus.CONFIRMED


def test_a_released_hold_frees_its_spots_at_once(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=1)
    hold = desk.hold(_session_draft(setup))

    released = desk.release(hold)

    assert released.released and desk.release(hold) == released
    assert desk.confirm(desk.book(_session_draft(setup))).status is BookingStatus.CONFIRMED


def test_a_hold_lasts_five_minutes_unless_told_and_at_most_thirty(desk: Desk) -> None:
    setup = desk.seeder.class_session()

    assert desk.hold(_session_draft(setup)).expires == desk.clock.now + timedelta(minutes=5)
    with pytest.raises(InvalidArgument):
        desk.hold(_session_draft(setup), ttl=timedelta(minutes=31))
    with pytest.raises(InvalidArgument):
        desk.hold(_session_draft(setup), ttl=timedelta(0))


def test_a_booking_from_a_hold_takes_its_slot_and_participants(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=3)
    hold = desk.hold(_session_draft(setup, 2))

    booking = desk.book(_from_hold(hold))

    assert booking.slot is not None and booking.slot.session_id == setup.session.id
    assert (booking.participants, booking.hold_id) == (2, hold.id)
    assert desk.stored_hold(hold).booking_id == booking.id


def test_a_booking_from_a_hold_keeps_the_spots_until_it_is_confirmed(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=1)
    hold = desk.hold(_session_draft(setup))
    held = desk.book(_from_hold(hold))

    assert _refusal(lambda: desk.book(_session_draft(setup))).reason == "SESSION_CAPACITY_EXCEEDED"
    confirmed = desk.confirm(held)

    assert (confirmed.status, confirmed.double_booked) == (BookingStatus.CONFIRMED, False)
    assert desk.stored_hold(hold).released


def test_declining_a_booking_from_a_hold_frees_the_spots(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=1)
    held = desk.book(_from_hold(desk.hold(_session_draft(setup))))

    BookingLifecycle(desk.seeder.uow, desk.clock).decline(
        OWNER, held.id, revision=held.revision, payment_status=None, notification=Notification()
    )

    assert desk.confirm(desk.book(_session_draft(setup))).status is BookingStatus.CONFIRMED


def test_an_expired_released_or_used_hold_is_hold_expired(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=5)
    expired = desk.hold(_session_draft(setup), ttl=timedelta(minutes=1))
    released = desk.release(desk.hold(_session_draft(setup)))
    used = desk.hold(_session_draft(setup))
    desk.book(_from_hold(used))
    desk.clock.advance(timedelta(minutes=1))

    for hold in (expired, released, used):
        refusal = _refusal(lambda hold=hold: desk.book(_from_hold(hold)))
        assert (refusal.reason, [v.field for v in refusal.violations]) == (
            "HOLD_EXPIRED",
            ["hold_id"],
        )


def test_a_booking_that_differs_from_its_hold_is_invalid(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=5)
    other = desk.seeder.another_session(setup)
    hold = desk.hold(_session_draft(setup, 2))

    with pytest.raises(InvalidArgument) as refused:
        desk.book(replace(_session_draft(other, 3), hold_id=hold.id))

    assert {v.field for v in refused.value.violations} == {
        "booked_entity.slot.session_id",
        "total_participants",
    }


def test_an_unknown_or_another_sites_hold_is_not_found(desk: Desk) -> None:
    setup = desk.seeder.class_session()
    hold = desk.hold(_session_draft(setup))
    stranger = Principal("site-b", IdentityType.VISITOR, "visitor")

    for principal, hold_id in ((VISITOR, "no-such-hold"), (stranger, hold.id)):
        with pytest.raises(NotFound) as missing:
            BookingCreator(desk.seeder.uow, desk.clock).create(
                BookingDraft(hold_id=hold_id), principal
            )
        assert missing.value.reason == "HOLD_NOT_FOUND"


def test_a_retried_hold_request_returns_the_same_hold(desk: Desk) -> None:
    setup = desk.seeder.class_session(capacity=1)
    draft = _session_draft(setup, request_id="checkout-1", request_hash="h")

    assert desk.hold(draft) == desk.hold(draft)


def test_an_any_staff_hold_gets_its_staff_member_at_once(desk: Desk) -> None:
    setup = desk.seeder.team(2)
    slot = BookedSlot(setup.service.id, start=setup.start)
    first = desk.hold(BookingDraft(slot=slot, total_participants=1))
    second = desk.hold(BookingDraft(slot=slot, total_participants=1))

    assert first.slot is not None and second.slot is not None
    assert {first.slot.resource.id, second.slot.resource.id} == {s.id for s in setup.staff}
    assert _refusal(lambda: desk.hold(BookingDraft(slot=slot, total_participants=1))).reason == (
        "SLOT_NOT_AVAILABLE"
    )
