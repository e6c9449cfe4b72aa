"""CreateBooking as one write transaction (SPEC section 3, RELIABILITY.md promises 1, 2, 4).

Inside `Database.write()`: read the service, resolve what is booked (session, course schedule
or appointment slot), check the rules, lock the capacity unit, look for an earlier request with
the same request_id, count the spots taken, then insert the booking, its outbox items and its
BOOKING_CREATED event. Any error rolls everything back: a failing request writes nothing.

Idempotency (SPEC 3.10): the request_id is looked up first thing in the write transaction,
and on backends where writers do not exclude each other from BEGIN (PostgreSQL) again under the
capacity lock; two retries that still race both insert, the unique (site_id, request_id) index
lets one win, and the loser returns the winner's booking.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session as DbSession

from bookings_server.domain import booking_rules as rules
from bookings_server.domain.availability.slots import is_offered_by_working_hours
from bookings_server.domain.booking import (
    Actor,
    BookedSchedule,
    BookedSlot,
    Booking,
    BookingStatus,
    EventType,
    PaymentStatus,
)
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.capacity import (
    CapacityUnit,
    schedule_unit,
    session_unit,
    staff_unit,
)
from bookings_server.domain.catalog import Service, ServiceType, StaffMember
from bookings_server.domain.errors import FieldViolation, InvalidArgument, NotFound, Unavailable
from bookings_server.domain.identity import Principal
from bookings_server.domain.outbox import creation_messages
from bookings_server.store import booking_repository, catalog_repository, outbox_repository
from bookings_server.store.booking_repository import DuplicateRequestId
from bookings_server.store.database import Database
from bookings_server.store.locks import lock_capacity_unit

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Target:
    """What a booking books, resolved from the catalog, and the unit it takes room in."""

    slot: BookedSlot | None
    schedule: BookedSchedule | None
    unit: CapacityUnit
    capacity: int
    start: datetime
    end: datetime
    buffer_after: timedelta = timedelta(0)


class BookingCreator:
    """Runs CreateBooking for a verified principal."""

    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock

    def create(self, draft: BookingDraft, principal: Principal) -> Booking:
        rules.check_shape(draft)
        rules.check_flow_control_allowed(draft.flow_control, principal)
        status = rules.resolve_status(draft.status, principal)
        try:
            with self._database.write() as session:
                return self._create(session, draft, principal, status)
        except DuplicateRequestId:
            with self._database.read() as session:
                winner = _replay(session, principal.site_id, draft)
            if winner is None:
                raise Unavailable(
                    "a concurrent request with this request_id did not finish; retry",
                    reason="REQUEST_IN_FLIGHT",
                ) from None
            return winner

    def _create(
        self, session: DbSession, draft: BookingDraft, principal: Principal, status: BookingStatus
    ) -> Booking:
        site_id = principal.site_id
        if draft.request_id:
            earlier = _replay(session, site_id, draft)
            if earlier is not None:
                return earlier
        now = self._clock()
        service = _load_service(session, site_id, draft)
        rules.check_entity_for_service(draft, service)
        participants = rules.count_participants(draft, service)
        flow = draft.flow_control
        rules.check_payment_option(
            draft.selected_payment_option, service, flow.skip_selected_payment_option_validation
        )
        target = resolve_target(session, site_id, draft, service, flow.skip_availability_validation)
        rules.check_booking_policy(service, target.start, now, flow.ignore_booking_policy)
        lock_capacity_unit(
            session, site_id, target.unit.lock_key, lock_timeout_ms=self._database.lock_timeout_ms
        )
        if draft.request_id and not self._database.serializes_writers:
            # A retry that committed while this call waited for the lock (PostgreSQL).
            earlier = _replay(session, site_id, draft)
            if earlier is not None:
                return earlier
        double_booked = rules.check_capacity(
            target.unit,
            capacity=target.capacity,
            taken=booking_repository.taken_spots(session, site_id, target.unit),
            participants=participants,
            status=status,
            skip=flow.skip_availability_validation,
        )
        actor = Actor(principal.identity_type, principal.identity_id)
        booking = Booking(
            id=str(uuid.uuid4()),
            site_id=site_id,
            status=status,
            payment_status=PaymentStatus.UNDEFINED,
            participants=participants,
            revision=1,
            created_by=actor,
            slot=target.slot,
            schedule=target.schedule,
            title=service.name,
            tags=rules.tags_for(service),
            contact=draft.contact,
            additional_fields=draft.additional_fields,
            total_participants=draft.total_participants,
            participants_choices=draft.participants_choices,
            selected_payment_option=draft.selected_payment_option,
            start=target.start,
            end=target.end,
            external_user_id=draft.external_user_id,
            notify_participants=draft.notify_participants,
            notification_message=draft.notification_message if draft.notify_participants else "",
            send_sms_reminder=draft.send_sms_reminder,
            extended_fields=draft.extended_fields,
            double_booked=double_booked,
            flow_control=flow,
            created_date=now,
            updated_date=now,
        )
        booking_repository.insert_booking(
            session,
            booking,
            buffer_after=target.buffer_after,
            request_id=draft.request_id,
            request_hash=draft.request_hash,
        )
        for message in creation_messages(booking, now):
            outbox_repository.enqueue(session, site_id, message, now)
        booking_repository.append_event(session, EventType.BOOKING_CREATED, booking, actor, now)
        return booking


def _replay(session: DbSession, site_id: str, draft: BookingDraft) -> Booking | None:
    """The booking an earlier request with this request_id created, if any."""
    found = booking_repository.find_by_request_id(session, site_id, draft.request_id)
    if found is None:
        return None
    booking, request_hash = found
    if request_hash != draft.request_hash:
        raise InvalidArgument(
            f"request_id {draft.request_id!r} was used for a different request",
            rules.IDEMPOTENCY_KEY_REUSED,
            violations=[FieldViolation("request_id", "was used for a different request")],
        )
    return booking


def _load_service(session: DbSession, site_id: str, draft: BookingDraft) -> Service:
    if not draft.service_id and draft.schedule is not None:
        try:
            return catalog_repository.get_service_by_schedule(
                session, site_id, draft.schedule.schedule_id
            )
        except NotFound as error:
            raise rules.failed_precondition_on(
                "booking.booked_entity.schedule.schedule_id",
                "no such schedule",
                rules.SCHEDULE_NOT_FOUND,
            ) from error
    return catalog_repository.get_service(session, site_id, draft.service_id)


def resolve_target(
    session: DbSession, site_id: str, draft: BookingDraft, service: Service, skip: bool
) -> Target:
    """What `draft` books and the unit it takes room in (RescheduleBooking reuses it)."""
    if service.type is ServiceType.COURSE:
        return _course_target(session, site_id, service)
    assert draft.slot is not None
    if draft.slot.session_id:
        return _session_target(session, site_id, draft.slot.session_id, service)
    return _appointment_target(session, site_id, draft.slot, service, skip)


def _course_target(session: DbSession, site_id: str, service: Service) -> Target:
    sessions = catalog_repository.list_schedule_sessions(session, site_id, service.id)
    schedule = rules.schedule_of_course(service, sessions)
    assert schedule.first_session_start is not None and schedule.last_session_end is not None
    return Target(
        slot=None,
        schedule=schedule,
        unit=schedule_unit(schedule.schedule_id),
        capacity=rules.course_capacity(service, sessions),
        start=schedule.first_session_start,
        end=schedule.last_session_end,
    )


def _session_target(session: DbSession, site_id: str, session_id: str, service: Service) -> Target:
    stored = catalog_repository.find_session_of_service(session, site_id, session_id, service)
    class_session = rules.check_session_of_service(stored, service, session_id)
    staff = _find_staff(session, site_id, class_session.staff_member_id)
    return Target(
        slot=rules.slot_from_session(service.id, class_session, staff),
        schedule=None,
        unit=session_unit(class_session.id),
        capacity=class_session.capacity,
        start=class_session.start,
        end=class_session.end,
    )


def _appointment_target(
    session: DbSession, site_id: str, slot: BookedSlot, service: Service, skip: bool
) -> Target:
    staff = _find_staff(session, site_id, slot.resource.id)
    request = rules.appointment_request(slot, service, staff)
    if not skip:
        assert service.duration is not None
        offered = is_offered_by_working_hours(
            request.staff, service.duration, service.buffer_after, request.start, request.end
        )
        rules.require_offered(request, offered)
    return Target(
        slot=rules.appointment_slot(request, service, slot.timezone),
        schedule=None,
        unit=staff_unit(request.staff.id, request.start, request.end, service.buffer_after),
        capacity=1,
        start=request.start,
        end=request.end,
        buffer_after=service.buffer_after,
    )


def _find_staff(session: DbSession, site_id: str, staff_member_id: str) -> StaffMember | None:
    if not staff_member_id:
        return None
    try:
        return catalog_repository.get_staff_member(session, site_id, staff_member_id)
    except NotFound:
        return None
