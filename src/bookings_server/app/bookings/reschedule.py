"""RescheduleBooking: move an appointment or class booking to another slot of its service.

The new slot is resolved and checked with CreateBooking's own functions (api/create_booking.py,
domain/booking_rules.py): session of the service or a slot the staff member's hours offer,
booking policy, room for the participants. The old and the new capacity unit are both locked
(in key order) before the booking is re-read and the room counted, so a move races safely with
confirmations of either slot.
"""

from __future__ import annotations

from dataclasses import replace

from bookings_server.app.bookings.create import Clock, resolve_target, utc_now
from bookings_server.app.bookings.lifecycle import (
    Notification,
    lock_units,
    record_change,
    reread,
    with_notification,
)
from bookings_server.domain import booking_rules as rules
from bookings_server.domain.booking import (
    BookedSlot,
    Booking,
    BookingStatus,
    EventType,
    FlowControl,
)
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.capacity import has_conflict, unit_of
from bookings_server.domain.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
)
from bookings_server.domain.identity import Principal
from bookings_server.domain.lifecycle import (
    Action,
    check_revision,
    require_allowed,
    validate_revision,
)
from bookings_server.domain.outbox import OutboxKind, sms_reminder_message
from bookings_server.store import booking_repository, catalog_repository, outbox_repository
from bookings_server.store.database import Database

RESCHEDULE_NOT_SUPPORTED = "RESCHEDULE_NOT_SUPPORTED"
#: Where CreateBooking's rules find the slot, and where RescheduleBookingRequest has it.
_CREATE_SLOT = "booking.booked_entity.slot"
_REQUEST_SLOT = "slot"


class Rescheduler:
    """Runs RescheduleBooking for a verified principal."""

    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self._database = database
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
        zone_violations = rules.slot_zone_violations(slot, "slot")
        if zone_violations:
            raise InvalidArgument.of(zone_violations)
        overrides = FlowControl(
            skip_availability_validation=skip_availability_validation,
            ignore_booking_policy=ignore_booking_policy,
        )
        rules.check_flow_control_allowed(overrides, principal)
        site_id = principal.site_id
        now = self._clock()
        with self._database.write() as session:
            booking = booking_repository.get_booking(session, site_id, booking_id)
            if booking.slot is None:
                raise FailedPrecondition(
                    "a course booking cannot be rescheduled; cancel it and book again",
                    RESCHEDULE_NOT_SUPPORTED,
                )
            service = catalog_repository.get_service(session, site_id, booking.service_id)
            if slot.service_id and slot.service_id != service.id:
                raise InvalidArgument.field(
                    "slot.service_id", "must be the booking's service (a move keeps the service)"
                )
            if not slot.session_id and not slot.resource.id:
                slot = replace(slot, resource=booking.slot.resource)  # same staff member
            draft = BookingDraft(slot=replace(slot, service_id=service.id))
            try:
                rules.check_entity_for_service(draft, service)
                target = resolve_target(
                    session, site_id, draft, service, skip_availability_validation
                )
            except DomainError as error:
                raise on_request_slot(error) from error
            rules.check_booking_policy(service, target.start, now, ignore_booking_policy)
            old_unit = unit_of(booking, service)
            lock_units(session, self._database, site_id, [old_unit, target.unit])
            current = reread(session, booking, service, old_unit)
            check_revision(current, revision)
            require_allowed(Action.RESCHEDULE, current.status)
            taken = booking_repository.taken_spots(
                session, site_id, target.unit, exclude_booking_id=current.id
            )
            rules.check_capacity(
                target.unit,
                capacity=target.capacity,
                taken=taken,
                participants=current.participants,
                status=BookingStatus.CREATED,
                skip=skip_availability_validation,
            )
            overbooks = has_conflict(target.unit, target.capacity, taken, current.participants)
            moved = replace(
                current,
                slot=target.slot,
                start=target.start,
                end=target.end,
                double_booked=current.status.takes_capacity and overbooks,
                revision=current.revision + 1,
                updated_date=now,
            )
            stored = booking_repository.update_booking(
                session,
                with_notification(moved, notification),
                expected_revision=current.revision,
                buffer_after=target.buffer_after,
            )
            outbox_repository.discard_unsent(session, site_id, stored.id, OutboxKind.SMS_REMINDER)
            reminder = sms_reminder_message(stored, now)
            if reminder is not None:
                outbox_repository.enqueue(session, site_id, reminder, now)
            record_change(
                session, principal, stored, EventType.BOOKING_RESCHEDULED, notification, now
            )
            return stored


def on_request_slot(error: DomainError) -> DomainError:
    """`error` from CreateBooking's slot rules, its field paths renamed to this request's."""
    if not error.violations:
        return error

    def rename(path: str) -> str:
        if path.startswith(_CREATE_SLOT):
            return _REQUEST_SLOT + path[len(_CREATE_SLOT) :]
        return path

    metadata = {k: rename(v) if k == "field" else v for k, v in error.metadata.items()}
    violations = tuple(FieldViolation(rename(v.field), v.description) for v in error.violations)
    return type(error)(None, error.reason, violations=violations, metadata=metadata)
