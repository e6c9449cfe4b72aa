"""What a booking books, resolved from the catalog: CreateBooking's and RescheduleBooking's.

`resolve_target` names fields relative to the booking; `resolve_slot_target`, which both calls
share for slots, relative to the slot, so each caller places them under its own path.

An appointment slot with an empty `resource.id` ("any staff member", SPEC section 9) resolves
to an `AnyStaffTarget`: one `Target` per staff member of the service who offers the start.
Callers lock every candidate's unit and pick one under the locks (app/bookings/staff_assignment.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bookings_server.app.unit_of_work import Transaction
from bookings_server.domain import booking_rules as rules
from bookings_server.domain.availability.slots import is_offered_by_working_hours
from bookings_server.domain.booking import BookedSchedule, BookedSlot, SlotResource
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.booking_shape import SLOT
from bookings_server.domain.capacity import CapacityUnit, schedule_unit, session_unit, staff_unit
from bookings_server.domain.catalog import Service, ServiceType, StaffMember
from bookings_server.domain.errors import DomainError, FailedPrecondition, NotFound
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

    @property
    def units(self) -> tuple[CapacityUnit, ...]:
        """The units to lock before counting."""
        return (self.unit,)


@dataclass(frozen=True)
class StaffCandidateTarget:
    """One staff member who offers an "any staff member" slot, and the slot with them."""

    staff: StaffMember
    target: Target


@dataclass(frozen=True)
class AnyStaffTarget:
    """An appointment slot not yet given to a staff member, and who could take it."""

    #: The slot as stored while unassigned: start, end and zone, with an empty resource.
    slot: BookedSlot
    #: One per staff member who offers the slot, ordered by staff id; never empty.
    candidates: tuple[StaffCandidateTarget, ...]

    @property
    def units(self) -> tuple[CapacityUnit, ...]:
        """Every candidate's unit: all of them are locked before one is picked."""
        return tuple(candidate.target.unit for candidate in self.candidates)

    @property
    def unassigned(self) -> Target:
        """What a booking that takes no capacity stores: the slot without a staff member."""
        return replace(self.candidates[0].target, slot=self.slot)


@dataclass(frozen=True)
class Exclusions:
    """What a count of taken spots leaves out, and the time holds are judged live at."""

    now: datetime
    #: The booking being decided or moved, and the hold it was made from.
    booking_id: str = ""
    #: The hold a new booking is made from.
    hold_id: str = ""

    def taken(self, tx: Transaction, unit: CapacityUnit) -> int:
        """Participants holding room in `unit` besides the excluded booking and hold."""
        return tx.bookings.taken_spots(
            unit, now=self.now, exclude_booking_id=self.booking_id, exclude_hold_id=self.hold_id
        )


def resolve_target(
    catalog: CatalogRepository, draft: BookingDraft, service: Service, skip: bool
) -> Target | AnyStaffTarget:
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
) -> Target | AnyStaffTarget:
    """The class session or appointment `slot` names; `skip` books an appointment outside the
    staff member's working hours."""
    if slot.session_id:
        return _session_target(catalog, slot.session_id, service)
    if not slot.resource.id:
        return any_staff_target(catalog, slot, service, skip)
    return _appointment_target(slot, service, _find_staff(catalog, slot.resource.id), skip)


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


def any_staff_target(
    catalog: CatalogRepository, slot: BookedSlot, service: Service, skip: bool
) -> AnyStaffTarget:
    """The staff members of `service` who offer `slot` (all of them when `skip`); with none,
    FAILED_PRECONDITION SLOT_NOT_AVAILABLE."""
    candidates: list[StaffCandidateTarget] = []
    for staff in sorted(catalog.list_staff(service.staff_member_ids), key=lambda s: s.id):
        request = rules.appointment_request(slot, service, staff)
        if skip or _offers(request, service):
            candidates.append(StaffCandidateTarget(staff, _target_with(request, service, slot)))
    if not candidates:
        raise FailedPrecondition.on_field(
            "start_date",
            "no staff member of the service offers this start",
            rules.SLOT_NOT_AVAILABLE,
        )
    first = candidates[0].target.slot
    assert first is not None
    unassigned = replace(first, resource=SlotResource(), timezone=slot.timezone or service.timezone)
    return AnyStaffTarget(unassigned, tuple(candidates))


def _appointment_target(
    slot: BookedSlot, service: Service, staff: StaffMember | None, skip: bool
) -> Target:
    request = rules.appointment_request(slot, service, staff)
    if not skip:
        rules.require_offered(_offers(request, service))
    return _target_with(request, service, slot)


def _offers(request: rules.AppointmentRequest, service: Service) -> bool:
    """Whether the staff member's hours and blocked time offer the requested slot."""
    assert service.duration is not None
    return is_offered_by_working_hours(
        request.staff, service.duration, service.buffer_after, request.start, request.end
    )


def _target_with(request: rules.AppointmentRequest, service: Service, slot: BookedSlot) -> Target:
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
        staff = catalog.get_staff_member(staff_member_id)
    except NotFound:
        return None
    return staff if staff.deleted_date is None else None
