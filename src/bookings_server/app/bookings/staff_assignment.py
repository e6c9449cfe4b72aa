"""Giving an "any staff member" appointment its staff member, under the capacity locks.

The caller has locked every candidate's unit (`AnyStaffTarget.units`, in key order, so
concurrent assignments never wait on each other in a cycle); `pick` then counts each
candidate's bookings and applies SPEC section 9's rule (domain/staff_assignment.py). Two
assignments of the same start therefore see each other's commits and never give one staff
member two overlapping bookings.
"""

from __future__ import annotations

from datetime import datetime

from bookings_server.app.bookings.targets import (
    AnyStaffTarget,
    Exclusions,
    StaffCandidateTarget,
    Target,
    any_staff_target,
)
from bookings_server.app.unit_of_work import Transaction
from bookings_server.domain.booking import BookedSlot, Booking, BookingStatus
from bookings_server.domain.catalog import Service, ServiceType
from bookings_server.domain.errors import FailedPrecondition
from bookings_server.domain.staff_assignment import StaffCandidate, assign_staff, local_day
from bookings_server.domain.timezones import load_zone
from bookings_server.store.catalog_repository import CatalogRepository


def place(tx: Transaction, target: Target | AnyStaffTarget, exclusions: Exclusions) -> Target:
    """Where a booking takes room: `target` itself, or the staff member `pick` chooses."""
    if isinstance(target, AnyStaffTarget):
        return pick(tx, target, exclusions)
    return target


def is_unassigned(booking: Booking, service: Service) -> bool:
    """An appointment booked with "any staff member" that has not been given one yet."""
    return (
        service.type is ServiceType.APPOINTMENT
        and booking.slot is not None
        and not booking.slot.session_id
        and not booking.slot.resource.id
    )


def unassigned_target(
    catalog: CatalogRepository, booking: Booking, service: Service
) -> AnyStaffTarget:
    """Who could take an unassigned booking now: the staff members of the service who offer its
    slot (all of them if it was created with skip_availability_validation)."""
    assert booking.slot is not None
    slot = BookedSlot(service.id, start=booking.start, timezone=booking.slot.timezone)
    try:
        return any_staff_target(
            catalog, slot, service, booking.flow_control.skip_availability_validation
        )
    except FailedPrecondition as error:
        raise FailedPrecondition(
            "no staff member of the service offers the booking's slot any more",
            error.reason,
        ) from None


def stored_target(
    resolved: Target | AnyStaffTarget, placed: Target, status: BookingStatus
) -> Target:
    """What the booking records: the staff member it was placed with once it takes capacity;
    until then an "any staff member" booking stays unassigned."""
    if isinstance(resolved, AnyStaffTarget) and not status.takes_capacity:
        return resolved.unassigned
    return placed


def start_of(target: Target | AnyStaffTarget) -> datetime:
    """When the booked slot starts."""
    if isinstance(target, AnyStaffTarget):
        return target.unassigned.start
    return target.start


def pick(tx: Transaction, target: AnyStaffTarget, exclusions: Exclusions) -> Target:
    """The candidate the booking goes to: a free one with the fewest bookings that day, else
    (nobody free) the least loaded, whose unit then counts as taken."""
    loads = tx.bookings.holding_per_staff(
        {candidate.staff.id: _local_day(candidate) for candidate in target.candidates}
    )
    seen = [
        StaffCandidate(
            staff_id=candidate.staff.id,
            free=exclusions.taken(tx, candidate.target.unit) == 0,
            load=loads[candidate.staff.id],
        )
        for candidate in target.candidates
    ]
    chosen = assign_staff(seen)
    return next(c.target for c in target.candidates if c.staff.id == chosen)


def _local_day(candidate: StaffCandidateTarget) -> tuple[datetime, datetime]:
    """The slot's calendar day in the staff member's zone."""
    zone = load_zone(candidate.staff.timezone) or load_zone("UTC")
    assert zone is not None
    return local_day(candidate.target.start, zone)
