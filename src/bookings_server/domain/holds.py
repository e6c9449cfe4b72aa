"""Holds (SPEC section 11): spots reserved for a short checkout, as plain data and rules.

A hold counts as taken capacity while it is live: not released and not yet expired. Expiry is
decided from the clock at the moment of each count, so no job is needed for correctness. A
booking made from a hold (CreateBooking with `hold_id`) takes the hold's slot or schedule and
participants; the hold keeps counting for that CREATED booking until it expires or the
booking's status changes (confirmed: the booking then holds the spots itself; declined,
canceled or moved: they are freed), which releases the hold in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bookings_server.domain.booking import BookedSchedule, BookedSlot, SlotResource
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.booking_rules import RequestFieldError
from bookings_server.domain.booking_shape import SCHEDULE, SLOT
from bookings_server.domain.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)

DEFAULT_TTL = timedelta(minutes=5)
MAX_TTL = timedelta(minutes=30)
HOLD_EXPIRED = "HOLD_EXPIRED"
HOLD_NOT_FOUND = "HOLD_NOT_FOUND"


@dataclass(frozen=True)
class Hold:
    """Spots of one slot (with its staff member, for an appointment) or course schedule."""

    id: str
    site_id: str
    participants: int
    expires: datetime
    created: datetime
    slot: BookedSlot | None = None
    schedule: BookedSchedule | None = None
    #: The booking made from the hold, "" while none was.
    booking_id: str = ""
    released: bool = False

    @property
    def service_id(self) -> str:
        if self.slot is not None:
            return self.slot.service_id
        assert self.schedule is not None
        return self.schedule.service_id

    def is_live(self, now: datetime) -> bool:
        """Whether the hold still counts as taken capacity at `now`."""
        return not self.released and now < self.expires


def hold_ttl(requested: timedelta | None) -> timedelta:
    """How long a hold lasts: DEFAULT_TTL when not given, at most MAX_TTL."""
    if requested is None:
        return DEFAULT_TTL
    if requested <= timedelta(0) or requested > MAX_TTL:
        raise InvalidArgument.field("ttl", f"must be more than 0 and at most {MAX_TTL}")
    return requested


def hold_not_found(hold_id: str) -> NotFound:
    """An unknown hold id, or another site's: the two are told apart by nobody."""
    return NotFound(f"hold {hold_id!r} not found", HOLD_NOT_FOUND, hold_id=hold_id)


class HoldExpired(RequestFieldError, FailedPrecondition):
    """The request's hold_id names a hold that no longer counts or was already used."""

    def __init__(self) -> None:
        super().__init__(
            "the hold has expired, was released or was already used",
            HOLD_EXPIRED,
            violations=[FieldViolation("hold_id", "is no longer a live, unused hold")],
        )


def check_convertible(hold: Hold, now: datetime) -> None:
    """A booking can be made from a live hold that no booking was made from yet."""
    if hold.booking_id or not hold.is_live(now):
        raise HoldExpired()


def draft_from_hold(draft: BookingDraft, hold: Hold) -> BookingDraft:
    """The booking `draft` asks for, on the hold's slot or schedule and, unless it names its
    participants, with the hold's; whatever it names must match the hold (paths relative to
    the booking)."""
    violations = _entity_mismatches(draft, hold)
    if draft.total_participants not in (None, hold.participants):
        violations.append(
            FieldViolation("total_participants", f"must be the hold's {hold.participants}")
        )
    if violations:
        raise InvalidArgument.of(violations)
    total = draft.total_participants
    if total is None and draft.participants_choices is None:
        total = hold.participants
    return replace(
        draft,
        slot=_held_slot(hold.slot, draft.slot) if hold.slot is not None else None,
        schedule=_held_schedule(hold.schedule) if hold.schedule is not None else None,
        total_participants=total,
    )


def check_participants_match(hold: Hold, participants: int) -> None:
    """A booking made from a hold takes exactly the hold's spots."""
    if participants != hold.participants:
        raise InvalidArgument.field(
            "participants_choices", f"must add up to the hold's {hold.participants} participants"
        )


def _entity_mismatches(draft: BookingDraft, hold: Hold) -> list[FieldViolation]:
    if draft.slot is not None and hold.slot is not None:
        return _slot_mismatches(draft.slot, hold.slot)
    if draft.schedule is not None and hold.schedule is not None:
        given, held = draft.schedule, hold.schedule
        return [
            FieldViolation(f"{SCHEDULE}.{name}", "must be the hold's")
            for name, value, expected in (
                ("service_id", given.service_id, held.service_id),
                ("schedule_id", given.schedule_id, held.schedule_id),
            )
            if value and value != expected
        ]
    if draft.slot is None and draft.schedule is None:
        return []
    return [FieldViolation("booked_entity", "must be what the hold holds")]


def _slot_mismatches(given: BookedSlot, held: BookedSlot) -> list[FieldViolation]:
    """Every field of `given` that is set and differs from the held slot."""
    pairs: tuple[tuple[str, object, object], ...] = (
        ("service_id", given.service_id, held.service_id),
        ("session_id", given.session_id, held.session_id),
        ("start_date", given.start, held.start),
        ("resource.id", given.resource.id, held.resource.id),
    )
    return [
        FieldViolation(f"{SLOT}.{name}", "must be the hold's")
        for name, value, expected in pairs
        if value and value != expected
    ]


def _held_slot(held: BookedSlot, given: BookedSlot | None) -> BookedSlot:
    """What the booking asks for: the held session, or the held start with its staff member."""
    return BookedSlot(
        held.service_id,
        start=None if held.session_id else held.start,
        timezone=given.timezone if given is not None else held.timezone,
        session_id=held.session_id,
        resource=SlotResource(held.resource.id) if not held.session_id else SlotResource(),
    )


def _held_schedule(held: BookedSchedule) -> BookedSchedule:
    return BookedSchedule(held.service_id, schedule_id=held.schedule_id)
