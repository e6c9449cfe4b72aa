"""Waiting lists (SPEC section 10) as pure rules: who may join, and who is offered what.

A full class session or course with a list takes WAITING_LIST bookings in join order. Spots
that free up are offered in that order, each offer covering the booking's participants, for the
service's `reservation_time`; while it runs the offer's spots are taken for everyone else. An
offer that ran out goes to the next in line and its booking to the back of the line. All of
this is decided from the clock under the unit's capacity lock whenever the unit is written, so
no job is needed for correctness.

Offers follow the line strictly: when the first in line needs more spots than are free, nobody
behind it is offered (a large party is not overtaken by smaller ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bookings_server.domain.booking import Booking, BookingStatus
from bookings_server.domain.capacity import CapacityUnit, UnitKind
from bookings_server.domain.catalog import Service
from bookings_server.domain.errors import FailedPrecondition
from bookings_server.domain.outbox import OutboxKind, OutboxMessage

WAITING_LIST_DISABLED = "WAITING_LIST_DISABLED"
WAITING_LIST_FULL = "WAITING_LIST_FULL"
SESSION_HAS_ROOM = "SESSION_HAS_ROOM"


def keeps_a_list(service: Service, unit: CapacityUnit) -> bool:
    """Whether the unit's bookings may wait in line: sessions and courses of a service with a
    waiting list (appointments have none)."""
    return service.waiting_list.enabled and unit.kind is not UnitKind.STAFF


def check_joinable(
    service: Service,
    unit: CapacityUnit,
    *,
    capacity: int,
    taken: int,
    waiting: int,
    participants: int,
) -> None:
    """JoinWaitingList: only a full unit's list, and only while the list has room."""
    if not keeps_a_list(service, unit):
        raise FailedPrecondition(
            f"service {service.id!r} has no waiting list", WAITING_LIST_DISABLED
        )
    if taken + participants <= capacity:
        raise FailedPrecondition(
            f"{capacity - taken} spot(s) are free: book them instead of waiting",
            SESSION_HAS_ROOM,
            open_spots=str(capacity - taken),
        )
    limit = service.waiting_list.capacity
    if limit and waiting + participants > limit:
        raise FailedPrecondition(
            f"the waiting list holds {limit} participant(s) and has {limit - waiting} left",
            WAITING_LIST_FULL,
            waiting_list_capacity=str(limit),
            waiting=str(waiting),
        )


@dataclass(frozen=True)
class LineChanges:
    """What a refresh of the line changes: offers that ran out, and new offers."""

    expired: tuple[Booking, ...] = ()
    offered: tuple[Booking, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.expired or self.offered)


def refresh_line(
    line: Sequence[Booking], *, free: int, now: datetime, service: Service
) -> LineChanges:
    """The line's changes at `now` with `free` spots not taken (running offers count as
    taken, offers that ran out do not). `line` is every WAITING_LIST booking of the unit in
    line order; the changed bookings come back at their next revision."""
    expired = [b for b in line if b.offer_expires is not None and b.offer_expires <= now]
    waiting = [b for b in line if b.offer_expires is None]
    back = next_position(line)
    requeued = [_requeued(b, back + i, now) for i, b in enumerate(expired)]
    offered: list[Booking] = []
    until = now + service.waiting_list.reservation_time
    for booking in [*waiting, *requeued]:
        if booking.participants > free:
            break
        offered.append(replace(booking, offer_expires=until))
        free -= booking.participants
    offered_ids = {b.id for b in offered}
    return LineChanges(
        expired=tuple(b for b in requeued if b.id not in offered_ids),
        offered=tuple(_touched(b, now) for b in offered),
    )


def off_the_list(booking: Booking) -> Booking:
    """A booking that leaves WAITING_LIST leaves its place in line and any offer."""
    if booking.status is BookingStatus.WAITING_LIST:
        return booking
    return replace(booking, line_position=None, offer_expires=None)


def offer_message(booking: Booking, now: datetime) -> OutboxMessage:
    """The participant notification of an offer: always sent, it is the offer's point."""
    assert booking.offer_expires is not None
    payload = {
        "event": "BOOKING_WAITING_LIST_SPOT_OFFERED",
        "message": "A spot is free for you: confirm your booking before it expires.",
        "offer_expires": booking.offer_expires.isoformat(),
        "contact": {"email": booking.contact.email, "phone": booking.contact.phone},
        "title": booking.title,
        "start": booking.start.isoformat() if booking.start else None,
    }
    return OutboxMessage(OutboxKind.PARTICIPANT_NOTIFICATION, booking.id, now, payload)


def next_position(line: Sequence[Booking]) -> int:
    """The place at the back of `line` (a unit's WAITING_LIST bookings)."""
    return max((b.line_position or 0 for b in line), default=0) + 1


def _requeued(booking: Booking, position: int, now: datetime) -> Booking:
    """An offer that ran out: the booking goes to the back of the line."""
    return _touched(replace(booking, offer_expires=None, line_position=position), now)


def _touched(booking: Booking, now: datetime) -> Booking:
    return replace(booking, updated_date=now)
