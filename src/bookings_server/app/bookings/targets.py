"""What a booking books, resolved from the catalog: CreateBooking's and RescheduleBooking's.

`resolve_target` names fields relative to the booking; `resolve_slot_target`, which both calls
share for slots, relative to the slot, so each caller places them under its own path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookings_server.domain import booking_rules as rules
from bookings_server.domain.availability.slots import is_offered_by_working_hours
from bookings_server.domain.booking import BookedSchedule, BookedSlot
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.booking_shape import SLOT
from bookings_server.domain.capacity import CapacityUnit, schedule_unit, session_unit, staff_unit
from bookings_server.domain.catalog import Service, ServiceType, StaffMember
from bookings_server.domain.errors import DomainError, NotFound
from bookings_server.store.catalog_repository import CatalogRepository


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


def resolve_target(
    catalog: CatalogRepository, draft: BookingDraft, service: Service, skip: bool
) -> Target:
    """What `draft` books and the unit it takes room in."""
    if service.type is ServiceType.COURSE:
        return _course_target(catalog, service)
    assert draft.slot is not None
    try:
        return resolve_slot_target(catalog, draft.slot, service, skip)
    except DomainError as error:
        raise error.with_field_prefix(SLOT) from None


def resolve_slot_target(
    catalog: CatalogRepository, slot: BookedSlot, service: Service, skip: bool
) -> Target:
    """The class session or appointment `slot` names; `skip` books an appointment outside the
    staff member's working hours."""
    if slot.session_id:
        return _session_target(catalog, slot.session_id, service)
    return _appointment_target(catalog, slot, service, skip)


def _course_target(catalog: CatalogRepository, service: Service) -> Target:
    sessions = catalog.list_schedule_sessions(service.id)
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


def _session_target(catalog: CatalogRepository, session_id: str, service: Service) -> Target:
    stored = catalog.find_session_of_service(session_id, service)
    class_session = rules.check_session_of_service(stored, service, session_id)
    staff = _find_staff(catalog, class_session.staff_member_id)
    return Target(
        slot=rules.slot_from_session(service.id, class_session, staff),
        schedule=None,
        unit=session_unit(class_session.id),
        capacity=class_session.capacity,
        start=class_session.start,
        end=class_session.end,
    )


def _appointment_target(
    catalog: CatalogRepository, slot: BookedSlot, service: Service, skip: bool
) -> Target:
    staff = _find_staff(catalog, slot.resource.id)
    request = rules.appointment_request(slot, service, staff)
    if not skip:
        assert service.duration is not None
        offered = is_offered_by_working_hours(
            request.staff, service.duration, service.buffer_after, request.start, request.end
        )
        rules.require_offered(offered)
    return Target(
        slot=rules.appointment_slot(request, service, slot.timezone),
        schedule=None,
        unit=staff_unit(request.staff.id, request.start, request.end, service.buffer_after),
        capacity=1,
        start=request.start,
        end=request.end,
        buffer_after=service.buffer_after,
    )


def _find_staff(catalog: CatalogRepository, staff_member_id: str) -> StaffMember | None:
    if not staff_member_id:
        return None
    try:
        return catalog.get_staff_member(staff_member_id)
    except NotFound:
        return None
