"""The booking lifecycle (SPEC section 4): which call may move a booking where, and how.

Pure rules, no I/O: the caller (api/lifecycle_handlers.py) reads the booking and the taken
spots inside one locked write transaction, asks these functions for the outcome, and writes it.

Allowed from-states (the same ones the Wix Bookings API documents):

- ConfirmOrDeclineBooking: from CREATED, PENDING, WAITING_LIST; the decision table below.
- ConfirmBooking: from CREATED, PENDING, WAITING_LIST; CONFIRMED (double_booked on conflict).
- DeclineBooking: from CREATED, PENDING, WAITING_LIST; DECLINED.
- CancelBooking: from CREATED, PENDING, CONFIRMED, WAITING_LIST; CANCELED (frees the spots).
- RescheduleBooking: from CREATED, PENDING, CONFIRMED; same status, new slot.

CANCELED and DECLINED are final. Anything else is FAILED_PRECONDITION INVALID_BOOKING_STATUS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bookings_server.domain.booking import Booking, BookingStatus, EventType, PaymentStatus
from bookings_server.domain.capacity import CapacityUnit, has_conflict
from bookings_server.domain.errors import Aborted, FailedPrecondition, InvalidArgument
from bookings_server.domain.waiting_list import off_the_list

INVALID_BOOKING_STATUS = "INVALID_BOOKING_STATUS"
CANCELLATION_POLICY_VIOLATION = "CANCELLATION_POLICY_VIOLATION"
REVISION_MISMATCH = "REVISION_MISMATCH"


class Action(enum.Enum):
    """A lifecycle call; values are the RPC names, used in error metadata."""

    CONFIRM_OR_DECLINE = "ConfirmOrDeclineBooking"
    CONFIRM = "ConfirmBooking"
    DECLINE = "DeclineBooking"
    CANCEL = "CancelBooking"
    RESCHEDULE = "RescheduleBooking"
    MARK_PENDING = "MarkBookingAsPending"
    UPDATE_PARTICIPANTS = "UpdateNumberOfParticipants"


_UNDECIDED = frozenset({BookingStatus.CREATED, BookingStatus.PENDING, BookingStatus.WAITING_LIST})

ALLOWED_FROM: dict[Action, frozenset[BookingStatus]] = {
    Action.CONFIRM_OR_DECLINE: _UNDECIDED,
    Action.CONFIRM: _UNDECIDED,
    Action.DECLINE: _UNDECIDED,
    Action.CANCEL: _UNDECIDED | {BookingStatus.CONFIRMED},
    Action.RESCHEDULE: frozenset(
        {BookingStatus.CREATED, BookingStatus.PENDING, BookingStatus.CONFIRMED}
    ),
    Action.MARK_PENDING: frozenset({BookingStatus.CREATED}),
    Action.UPDATE_PARTICIPANTS: _UNDECIDED | {BookingStatus.CONFIRMED},
}

#: Payment statuses that win a contested spot (and mark the booking double_booked).
PAID_STATUSES = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_PAID})

EVENT_FOR_STATUS: dict[BookingStatus, EventType] = {
    BookingStatus.CONFIRMED: EventType.BOOKING_CONFIRMED,
    BookingStatus.DECLINED: EventType.BOOKING_DECLINED,
    BookingStatus.PENDING: EventType.BOOKING_PENDING,
    BookingStatus.CANCELED: EventType.BOOKING_CANCELED,
}


@dataclass(frozen=True)
class Outcome:
    """Where a decision moves a booking."""

    status: BookingStatus
    double_booked: bool = False

    @property
    def event_type(self) -> EventType:
        return EVENT_FOR_STATUS[self.status]


def require_allowed(action: Action, status: BookingStatus) -> None:
    """FAILED_PRECONDITION INVALID_BOOKING_STATUS unless `action` may start from `status`."""
    allowed = ALLOWED_FROM[action]
    if status not in allowed:
        raise FailedPrecondition(
            f"{action.value} is not allowed on a {status.value} booking "
            f"(allowed from {', '.join(sorted(s.value for s in allowed))})",
            INVALID_BOOKING_STATUS,
            status=status.value,
            action=action.value,
        )


def validate_revision(given: int, *, required: bool) -> None:
    """INVALID_ARGUMENT for a negative revision, or a missing one where it is required."""
    if given < 0 or (required and given == 0):
        description = "must be the booking's current revision (> 0)"
        raise InvalidArgument.field("revision", description)


def check_revision(booking: Booking, given: int) -> None:
    """ABORTED when a given revision (> 0) is not the booking's current one."""
    if given and given != booking.revision:
        raise Aborted(
            f"booking {booking.id} is at revision {booking.revision}, not {given}; "
            "re-read it and retry",
            REVISION_MISMATCH,
            current_revision=str(booking.revision),
            given_revision=str(given),
        )


def conflicts(booking: Booking, unit: CapacityUnit, capacity: int, taken_by_others: int) -> bool:
    """Whether the booking does not fit its unit; never for `skip_availability_validation`.

    `taken_by_others` counts the CONFIRMED + PENDING participants of the unit without this
    booking's own (a PENDING booking already holds its spots).
    """
    if booking.flow_control.skip_availability_validation:
        return False
    return overbooks(booking, unit, capacity, taken_by_others)


def overbooks(booking: Booking, unit: CapacityUnit, capacity: int, taken_by_others: int) -> bool:
    """Whether the booking exceeds its unit's capacity, whatever its flow-control flags.

    This is the fact `double_booked` records: a booking created with
    `skip_availability_validation` never conflicts, yet is marked when it overbooks, so that
    CONFIRMED + PENDING participants exceed capacity only by bookings marked double_booked
    (RELIABILITY.md promise 1).
    """
    return has_conflict(unit, capacity, taken_by_others, booking.participants)


def decide_confirm_or_decline(
    *,
    conflict: bool,
    payment_status: PaymentStatus,
    requires_manual_approval: bool,
    skip_business_confirmation: bool,
    overbooked: bool | None = None,
) -> Outcome:
    """The decision table of SPEC section 4.

    `overbooked` (default: `conflict`) says whether the booking exceeds capacity even where it
    does not conflict (created with skip_availability_validation); it sets `double_booked`.
    """
    needs_approval = requires_manual_approval and not skip_business_confirmation
    if conflict and payment_status not in PAID_STATUSES:
        return Outcome(BookingStatus.DECLINED)
    status = BookingStatus.PENDING if needs_approval else BookingStatus.CONFIRMED
    return Outcome(status, double_booked=conflict if overbooked is None else overbooked)


def decide_mark_pending(
    *, conflict: bool, overbooked: bool, payment_status: PaymentStatus
) -> Outcome | None:
    """MarkBookingAsPending: PENDING, `double_booked` when it overbooks; None when it
    conflicts unpaid (it stays CREATED: the caller answers the capacity error)."""
    if conflict and payment_status not in PAID_STATUSES:
        return None
    return Outcome(BookingStatus.PENDING, double_booked=overbooked)


def force_confirm(*, conflict: bool) -> Outcome:
    """ConfirmBooking: always CONFIRMED, double_booked when it overbooks."""
    return Outcome(BookingStatus.CONFIRMED, double_booked=conflict)


def check_cancellation_window(
    *, start: datetime | None, now: datetime, window: timedelta, ignore_policy: bool
) -> None:
    """Cancelling is allowed until `window` before the start (a window of 0: until the start).

    `ignore_policy` (the caller holds BOOKINGS.IGNORE_BOOKING_POLICY and asked for it) lifts
    the rule. A booking without a start (never the case for stored bookings) is not limited.
    """
    if ignore_policy or start is None:
        return
    deadline = start - window
    if now >= deadline:
        raise FailedPrecondition(
            f"the booking can no longer be canceled: the deadline was {deadline.isoformat()}",
            CANCELLATION_POLICY_VIOLATION,
            deadline=deadline.isoformat(),
            cancellation_window_seconds=str(int(window.total_seconds())),
        )


def changes(booking: Booking, outcome: Outcome, payment_status: PaymentStatus | None) -> bool:
    """False when applying `outcome` would leave the booking exactly as it is.

    Re-deciding a PENDING booking that stays PENDING with the same payment status is such a
    no-op: it neither bumps the revision nor records an event.
    """
    return (
        outcome.status is not booking.status
        or outcome.double_booked != booking.double_booked
        or (payment_status is not None and payment_status is not booking.payment_status)
    )


def apply_outcome(
    booking: Booking, outcome: Outcome, payment_status: PaymentStatus | None, now: datetime
) -> Booking:
    """The booking after `outcome`: new status, payment status (None keeps it), revision + 1;
    off the waiting list unless it stays WAITING_LIST."""
    changed = replace(
        booking,
        status=outcome.status,
        double_booked=outcome.double_booked,
        payment_status=booking.payment_status if payment_status is None else payment_status,
        revision=booking.revision + 1,
        updated_date=now,
    )
    return off_the_list(changed)
