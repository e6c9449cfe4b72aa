"""Waiting lists (SPEC section 10) through the use cases, on both stores, with a clock the test
moves: who may join, how freed spots are offered in line order, and how offers run out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from lifecycle_support import SITE, ClassSetup, Seeder

from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.bookings.lifecycle import BookingLifecycle, Notification
from bookings_server.app.bookings.participants import ParticipantsChanger
from bookings_server.app.bookings.waiting_list import OfferSweep
from bookings_server.app.catalog import update_session_in
from bookings_server.domain.booking import BookedSlot, Booking, BookingStatus, EventType
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.capacity import session_unit
from bookings_server.domain.catalog import SessionSpec, WaitingListPolicy
from bookings_server.domain.errors import FailedPrecondition
from bookings_server.domain.identity import IdentityType, Principal
from bookings_server.domain.outbox import OutboxKind

OWNER = Principal(SITE, IdentityType.OWNER, "owner")
APP = Principal(SITE, IdentityType.APP, "app")
RESERVATION = timedelta(minutes=20)
LIST = WaitingListPolicy(enabled=True, capacity=4, reservation_time=RESERVATION)


@dataclass
class MovableClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FrontDesk:
    seeder: Seeder
    clock: MovableClock

    def book(self, setup: ClassSetup, participants: int = 1) -> Booking:
        return self._creator.create(_draft(setup, participants), APP)

    def join(self, setup: ClassSetup, participants: int = 1) -> Booking:
        return self._creator.join_waiting_list(_draft(setup, participants), APP)

    def confirm(self, booking: Booking) -> Booking:
        return self._lifecycle.confirm_or_decline(
            OWNER, booking.id, payment_status=None, revision=0
        )

    def cancel(self, booking: Booking) -> Booking:
        current = self.get(booking)
        return self._lifecycle.cancel(
            OWNER,
            booking.id,
            revision=current.revision,
            notification=Notification(),
            ignore_cancellation_policy=True,
        )

    def get(self, booking: Booking) -> Booking:
        with self.seeder.uow.read(SITE) as tx:
            return tx.bookings.get_booking(booking.id)

    def full_session(self, capacity: int = 2) -> tuple[ClassSetup, list[Booking]]:
        setup = self.seeder.class_session(capacity=capacity, waiting_list=LIST)
        return setup, [self.confirm(self.book(setup)) for _ in range(capacity)]

    @property
    def _creator(self) -> BookingCreator:
        return BookingCreator(self.seeder.uow, self.clock)

    @property
    def _lifecycle(self) -> BookingLifecycle:
        return BookingLifecycle(self.seeder.uow, self.clock)


@pytest.fixture
def desk(database_url: str) -> Iterator[FrontDesk]:
    seeder = Seeder(database_url)
    yield FrontDesk(seeder, MovableClock(datetime.now(UTC)))
    seeder.close()


def _draft(setup: ClassSetup, participants: int) -> BookingDraft:
    slot = BookedSlot(setup.service.id, session_id=setup.session.id)
    return BookingDraft(slot=slot, total_participants=participants)


def _refusal(call: object) -> str:
    with pytest.raises(FailedPrecondition) as refused:
        call()  # type: ignore[operator]
    return refused.value.reason


def test_a_full_session_takes_waiting_list_bookings_in_join_order(desk: FrontDesk) -> None:
    setup, _ = desk.full_session()

    first, second = desk.join(setup), desk.join(setup)

    assert (first.status, second.status) == (BookingStatus.WAITING_LIST,) * 2
    assert (first.line_position, second.line_position, first.offer_expires) == (1, 2, None)


def test_joining_a_session_with_room_is_refused(desk: FrontDesk) -> None:
    setup = desk.seeder.class_session(capacity=2, waiting_list=LIST)

    assert _refusal(lambda: desk.join(setup)) == "SESSION_HAS_ROOM"


def test_joining_a_service_without_a_list_is_refused(desk: FrontDesk) -> None:
    setup = desk.seeder.class_session(capacity=1)
    desk.confirm(desk.book(setup))

    assert _refusal(lambda: desk.join(setup)) == "WAITING_LIST_DISABLED"


def test_joining_a_full_list_is_refused(desk: FrontDesk) -> None:
    setup, _ = desk.full_session()
    desk.join(setup, 3)

    assert _refusal(lambda: desk.join(setup, 2)) == "WAITING_LIST_FULL"


def test_a_freed_spot_is_offered_to_the_first_in_line_and_taken_for_everyone_else(
    desk: FrontDesk,
) -> None:
    setup, confirmed = desk.full_session()
    first, second = desk.join(setup), desk.join(setup)

    desk.cancel(confirmed[0])

    offered = desk.get(first)
    assert offered.offer_expires == desk.clock.now + RESERVATION
    assert desk.get(second).offer_expires is None
    assert _refusal(lambda: desk.book(setup)) == "SESSION_CAPACITY_EXCEEDED"
    with desk.seeder.uow.read(SITE) as tx:
        assert tx.bookings.events_of_booking(first.id)[-1].type is (
            EventType.BOOKING_WAITING_LIST_SPOT_OFFERED
        )
        kinds = [item.kind for item in tx.outbox.list_items(booking_id=first.id)]
    assert OutboxKind.PARTICIPANT_NOTIFICATION in kinds


def test_an_offered_booking_confirms_into_its_spot_and_leaves_the_list(desk: FrontDesk) -> None:
    setup, confirmed = desk.full_session()
    waiting = desk.join(setup)
    desk.cancel(confirmed[0])

    taken = desk.confirm(waiting)

    assert (taken.status, taken.double_booked) == (BookingStatus.CONFIRMED, False)
    assert (taken.line_position, taken.offer_expires) == (None, None)


def test_an_offer_that_runs_out_passes_to_the_next_in_line(desk: FrontDesk) -> None:
    setup, confirmed = desk.full_session()
    first, second = desk.join(setup), desk.join(setup)
    desk.cancel(confirmed[0])
    desk.clock.now += RESERVATION

    declined = desk.confirm(first)

    assert declined.status is BookingStatus.DECLINED
    assert desk.get(second).offer_expires == desk.clock.now + RESERVATION


def test_a_booking_whose_offer_ran_out_goes_to_the_back_of_the_line(desk: FrontDesk) -> None:
    setup, confirmed = desk.full_session(capacity=1)
    first, second = desk.join(setup), desk.join(setup)
    desk.cancel(confirmed[0])
    desk.clock.now += RESERVATION

    OfferSweep(desk.seeder.uow, desk.clock).sweep_batch()

    with desk.seeder.uow.read(SITE) as tx:
        line = tx.bookings.waiting_line(session_unit(setup.session.id))
    assert [b.id for b in line] == [second.id, first.id]
    assert line[0].offer_expires is not None and line[1].offer_expires is None


def test_a_spot_an_offer_left_goes_to_the_line_before_a_new_booking(desk: FrontDesk) -> None:
    setup, confirmed = desk.full_session(capacity=1)
    first = desk.join(setup)
    desk.cancel(confirmed[0])
    desk.clock.now += RESERVATION
    second = desk.join(setup)

    assert _refusal(lambda: desk.book(setup)) == "SESSION_CAPACITY_EXCEEDED"
    assert desk.confirm(desk.get(second)).status is BookingStatus.DECLINED
    assert desk.get(first).offer_expires == desk.clock.now + RESERVATION


def test_offers_follow_the_line_strictly(desk: FrontDesk) -> None:
    setup, confirmed = desk.full_session(capacity=2)
    party, single = desk.join(setup, 2), desk.join(setup, 1)

    desk.cancel(confirmed[0])

    assert (desk.get(party).offer_expires, desk.get(single).offer_expires) == (None, None)
    desk.cancel(confirmed[1])
    assert desk.get(party).offer_expires is not None
    assert desk.get(single).offer_expires is None


def test_a_waiting_booking_confirmed_without_an_offer_follows_the_decision_table(
    desk: FrontDesk,
) -> None:
    setup, _ = desk.full_session()

    assert desk.confirm(desk.join(setup)).status is BookingStatus.DECLINED


def test_fewer_participants_free_spots_for_the_line(desk: FrontDesk) -> None:
    setup = desk.seeder.class_session(capacity=2, waiting_list=LIST)
    party = desk.confirm(desk.book(setup, 2))
    waiting = desk.join(setup)

    ParticipantsChanger(desk.seeder.uow, desk.clock).update(
        APP, party.id, revision=party.revision, total_participants=1, participants_choices=None
    )

    assert desk.get(waiting).offer_expires is not None


def test_a_session_whose_capacity_grows_offers_the_new_spots(desk: FrontDesk) -> None:
    setup, _ = desk.full_session(capacity=1)
    waiting = desk.join(setup)
    session = setup.session
    bigger = SessionSpec(session.service_id, session.start, session.end, capacity=2)

    with desk.seeder.uow.write(SITE) as tx:
        update_session_in(tx, session.id, bigger, desk.clock.now)

    assert desk.get(waiting).offer_expires == desk.clock.now + RESERVATION
