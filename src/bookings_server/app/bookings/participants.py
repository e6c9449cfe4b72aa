"""UpdateNumberOfParticipants (SPEC section 12): one locked write transaction.

Like the status changes (app/bookings/lifecycle.py): the booking is re-read under its capacity
unit's lock, the revision and status checked, the new head count checked against the service
(choices, max per booking) and, for a CONFIRMED or PENDING booking that grows, against the room
the unit's other bookings and live holds leave. A shrink frees spots at once.
"""

from __future__ import annotations

from dataclasses import replace

from bookings_server.app.bookings.lifecycle import (
    BookingLifecycle,
    LockedBooking,
    Notification,
    actor_of,
    record_change,
)
from bookings_server.app.bookings.waiting_list import refresh_offers
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain import booking_rules as rules
from bookings_server.domain.booking import Booking, ChoiceGroup, EventType
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.booking_shape import participants_violations
from bookings_server.domain.catalog import ServiceType
from bookings_server.domain.errors import FailedPrecondition, InvalidArgument
from bookings_server.domain.identity import Principal
from bookings_server.domain.lifecycle import (
    Action,
    check_revision,
    overbooks,
    require_allowed,
    validate_revision,
)

NOT_SUPPORTED_FOR_APPOINTMENTS = "NOT_SUPPORTED_FOR_APPOINTMENTS"


class ParticipantsChanger:
    """Changes the participants of class and course bookings of the principal's site."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    def update(
        self,
        principal: Principal,
        booking_id: str,
        *,
        revision: int,
        total_participants: int | None,
        participants_choices: tuple[ChoiceGroup, ...] | None,
    ) -> Booking:
        validate_revision(revision, required=True)
        asked = BookingDraft(
            total_participants=total_participants, participants_choices=participants_choices
        )
        violations = participants_violations(asked)
        if violations:
            raise InvalidArgument.of(violations)
        now = self._clock()
        with self._uow.write(principal.site_id) as tx:
            actor = actor_of(principal)
            locked = BookingLifecycle.lock(tx, booking_id, Action.UPDATE_PARTICIPANTS, now, actor)
            check_revision(locked.booking, revision)
            require_allowed(Action.UPDATE_PARTICIPANTS, locked.booking.status)
            if locked.service.type is ServiceType.APPOINTMENT:
                raise FailedPrecondition(
                    "an appointment has no participants to change", NOT_SUPPORTED_FOR_APPOINTMENTS
                )
            changed = _with_participants(locked, asked)
            stored = tx.bookings.update_booking(
                replace(changed, revision=changed.revision + 1, updated_date=now),
                expected_revision=locked.booking.revision,
                buffer_after=locked.buffer_after,
            )
            event = EventType.BOOKING_NUMBER_OF_PARTICIPANTS_UPDATED
            record_change(tx, principal, stored, event, Notification(), now)
            refresh_offers(tx, locked.unit, locked.service, now, actor)
            return stored


def _with_participants(locked: LockedBooking, asked: BookingDraft) -> Booking:
    """The booking with the new head count; a booking holding spots that grows must fit."""
    booking = locked.booking
    participants = rules.count_participants(asked, locked.service)
    changed = replace(
        booking,
        participants=participants,
        total_participants=asked.total_participants,
        participants_choices=asked.participants_choices,
    )
    if not booking.status.takes_capacity:
        return changed
    capacity, taken = locked.capacity(), locked.taken_by_others()
    over = overbooks(changed, locked.unit, capacity, taken)
    grows = participants > booking.participants
    if over and grows and not booking.flow_control.skip_availability_validation:
        raise rules.no_room(locked.unit, capacity=capacity, taken=taken, participants=participants)
    return replace(changed, double_booked=booking.double_booked or over)
