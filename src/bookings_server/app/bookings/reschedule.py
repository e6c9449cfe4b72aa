"""RescheduleBooking: move an appointment or class booking to another slot of its service.

The new slot is resolved and checked with CreateBooking's own functions (app/bookings/targets.py,
domain/booking_rules.py): session of the service or a slot the staff member's hours offer,
booking policy, room for the participants. The old and the new capacity unit are both locked
(in key order) before the booking is re-read and the room counted, so a move races safely with
confirmations of either slot. Errors name the request's fields: the slot rules' paths, relative
to the slot, are placed under the request's "slot".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bookings_server.app.bookings.lifecycle import (
    Notification,
    record_change,
    reread,
    with_notification,
)
from bookings_server.app.bookings.staff_assignment import (
    is_unassigned,
    place,
    start_of,
    stored_target,
)
from bookings_server.app.bookings.targets import (
    AnyStaffTarget,
    Exclusions,
    Target,
    resolve_slot_target,
)
from bookings_server.app.bookings.units import lock_units
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain import booking_rules as rules
from bookings_server.domain.booking import (
    BookedSlot,
    Booking,
    BookingStatus,
    EventType,
    FlowControl,
)
from bookings_server.domain.booking_shape import slot_zone_violations
from bookings_server.domain.capacity import has_conflict, unit_of
from bookings_server.domain.catalog import Service
from bookings_server.domain.errors import DomainError, FailedPrecondition, InvalidArgument
from bookings_server.domain.identity import Principal
from bookings_server.domain.lifecycle import (
    Action,
    check_revision,
    require_allowed,
    validate_revision,
)
from bookings_server.domain.outbox import OutboxKind, sms_reminder_message

RESCHEDULE_NOT_SUPPORTED = "RESCHEDULE_NOT_SUPPORTED"
#: Where RescheduleBookingRequest has the new slot.
_REQUEST_SLOT = "slot"


class Rescheduler:
    """Runs RescheduleBooking for a verified principal."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    def reschedule(
        self,
        principal: Principal,
        booking_id: str,
        *,
        revision: int,
        slot: BookedSlot,
        notification: Notification,
        skip_availability_validation: bool,
        ignore_booking_policy: bool,
    ) -> Booking:
        validate_revision(revision, required=True)
        zone_violations = [v.prefixed(_REQUEST_SLOT) for v in slot_zone_violations(slot)]
        if zone_violations:
            raise InvalidArgument.of(zone_violations)
        overrides = FlowControl(
            skip_availability_validation=skip_availability_validation,
            ignore_booking_policy=ignore_booking_policy,
        )
        rules.check_flow_control_allowed(overrides, principal)
        now = self._clock()
        with self._uow.write(principal.site_id) as tx:
            booking = tx.bookings.get_booking(booking_id)
            if booking.slot is None:
                raise FailedPrecondition(
                    "a course booking cannot be rescheduled; cancel it and book again",
                    RESCHEDULE_NOT_SUPPORTED,
                )
            service = tx.cached_catalog.get_service(booking.service_id)
            target = _new_target(tx, booking.slot, service, slot, skip_availability_validation)
            rules.check_booking_policy(service, start_of(target), now, ignore_booking_policy)
            old_unit = unit_of(booking, service)
            held = () if is_unassigned(booking, service) else (old_unit,)
            lock_units(tx, [*held, *target.units])
            current = reread(tx, booking, service, old_unit)
            check_revision(current, revision)
            require_allowed(Action.RESCHEDULE, current.status)
            stored = _move(
                tx, current, target, notification, now, skip=skip_availability_validation
            )
            record_change(tx, principal, stored, EventType.BOOKING_RESCHEDULED, notification, now)
            return stored


def _new_target(
    tx: Transaction, booked: BookedSlot, service: Service, slot: BookedSlot, skip: bool
) -> Target | AnyStaffTarget:
    """Where a booking of `booked` moves: `slot` of the same service, by default with the same
    staff member (an "any staff member" booking stays one)."""
    if slot.service_id and slot.service_id != service.id:
        raise InvalidArgument.field(
            "slot.service_id", "must be the booking's service (a move keeps the service)"
        )
    if not slot.session_id and not slot.resource.id:
        slot = replace(slot, resource=booked.resource)  # same staff member
    slot = replace(slot, service_id=service.id)
    try:
        rules.check_slot_for_service(slot, service)
        return resolve_slot_target(tx.cached_catalog, slot, service, skip)
    except DomainError as error:
        raise error.with_field_prefix(_REQUEST_SLOT) from error


def _move(
    tx: Transaction,
    current: Booking,
    resolved: Target | AnyStaffTarget,
    notification: Notification,
    now: datetime,
    *,
    skip: bool,
) -> Booking:
    """Store `current` at `resolved` if there is room (`skip`: whether or not), its SMS
    reminder rescheduled; under the locks of the old unit and every new one."""
    exclusions = Exclusions(now, booking_id=current.id)
    placed = place(tx, resolved, exclusions)
    taken = exclusions.taken(tx, placed.unit)
    rules.check_capacity(
        placed.unit,
        capacity=placed.capacity,
        taken=taken,
        participants=current.participants,
        status=BookingStatus.CREATED,
        skip=skip,
    )
    overbooks = has_conflict(placed.unit, placed.capacity, taken, current.participants)
    target = stored_target(resolved, placed, current.status)
    moved = replace(
        current,
        slot=target.slot,
        start=target.start,
        end=target.end,
        double_booked=current.status.takes_capacity and overbooks,
        revision=current.revision + 1,
        updated_date=now,
    )
    stored = tx.bookings.update_booking(
        with_notification(moved, notification),
        expected_revision=current.revision,
        buffer_after=target.buffer_after,
    )
    tx.outbox.discard_unsent(stored.id, OutboxKind.SMS_REMINDER)
    reminder = sms_reminder_message(stored, now)
    if reminder is not None:
        tx.outbox.enqueue(reminder, now)
    return stored
