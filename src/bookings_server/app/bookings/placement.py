"""The steps CreateBooking and CreateHold share: what is asked for, and whether it fits.

`resolve` reads the service and resolves the slot, session or course from the catalog
(no lock needed); the caller then locks `units` (lifecycle.lock_units) and calls `fit`, which
counts under the locks (bookings and live holds), gives an "any staff member" slot its staff
member, and applies the capacity rule of SPEC 3.6.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bookings_server.app.bookings.staff_assignment import place, start_of, stored_target
from bookings_server.app.bookings.targets import (
    AnyStaffTarget,
    Exclusions,
    Target,
    resolve_target,
)
from bookings_server.app.bookings.waiting_list import refresh_offers
from bookings_server.app.unit_of_work import Transaction
from bookings_server.domain import booking_rules as rules
from bookings_server.domain.booking import Actor, BookingStatus
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.booking_shape import SCHEDULE, SLOT
from bookings_server.domain.capacity import CapacityUnit
from bookings_server.domain.catalog import Service
from bookings_server.domain.errors import FailedPrecondition, NotFound
from bookings_server.domain.waiting_list import check_joinable


@dataclass(frozen=True)
class Request:
    """What a draft asks for, resolved from the catalog."""

    service: Service
    participants: int
    resolved: Target | AnyStaffTarget

    @property
    def units(self) -> tuple[CapacityUnit, ...]:
        return self.resolved.units


@dataclass(frozen=True)
class Placement:
    """Where the request takes room and whether it overbooks (`double_booked`)."""

    #: Where it takes room: for "any staff member", the staff member chosen.
    placed: Target
    #: What a booking records: `placed`, or the unassigned slot while it takes no capacity.
    target: Target
    double_booked: bool


def load_service(tx: Transaction, draft: BookingDraft) -> Service:
    """The booked service: named by the request, else by its schedule or its session. A
    deleted service cannot be booked: it is NOT_FOUND, like an unknown one."""
    if draft.service_id:
        service = tx.cached_catalog.get_service(draft.service_id)
        if service.deleted_date is not None:
            raise NotFound(f"service {draft.service_id!r} not found", service_id=draft.service_id)
        return service
    if draft.schedule is not None:
        try:
            return tx.cached_catalog.get_service_by_schedule(draft.schedule.schedule_id)
        except NotFound as error:
            raise FailedPrecondition.on_field(
                f"{SCHEDULE}.schedule_id", "no such schedule", rules.SCHEDULE_NOT_FOUND
            ) from error
    assert draft.slot is not None
    return _service_of_session(tx, draft.slot.session_id)


def resolve(
    tx: Transaction, draft: BookingDraft, service: Service, participants: int, now: datetime
) -> Request:
    """The target of `draft` and its booking-policy check (SPEC 3.3, 3.7)."""
    flow = draft.flow_control
    resolved = resolve_target(tx.cached_catalog, draft, service, flow.skip_availability_validation)
    rules.check_booking_policy(service, start_of(resolved), now, flow.ignore_booking_policy)
    return Request(service, participants, resolved)


def fit(
    tx: Transaction,
    request: Request,
    *,
    status: BookingStatus,
    skip: bool,
    exclusions: Exclusions,
) -> Placement:
    """Count under the locks of `request.units` and decide (SPEC 3.6, section 9)."""
    placed = place(tx, request.resolved, exclusions)
    double_booked = rules.check_capacity(
        placed.unit,
        capacity=placed.capacity,
        taken=exclusions.taken(tx, placed.unit),
        participants=request.participants,
        status=status,
        skip=skip,
    )
    return Placement(placed, stored_target(request.resolved, placed, status), double_booked)


class Decide(Protocol):
    """How a request takes room: `fit` for bookings and holds, `place_in_line` for the list."""

    def __call__(
        self,
        tx: Transaction,
        request: Request,
        *,
        status: BookingStatus,
        skip: bool,
        exclusions: Exclusions,
    ) -> Placement: ...


def place_in_line(
    tx: Transaction,
    request: Request,
    *,
    status: BookingStatus,
    skip: bool,
    exclusions: Exclusions,
) -> Placement:
    """JoinWaitingList's rule (SPEC 10): only a full session or course, while its list has
    room; the booking takes no spots. `status` and `skip` do not apply to a list."""
    del status, skip
    target = request.resolved
    if isinstance(target, AnyStaffTarget):
        target = target.unassigned
    check_joinable(
        request.service,
        target.unit,
        capacity=target.capacity,
        taken=exclusions.taken(tx, target.unit),
        waiting=sum(b.participants for b in tx.bookings.waiting_line(target.unit)),
        participants=request.participants,
    )
    return Placement(target, target, double_booked=False)


def refresh_line_of(tx: Transaction, request: Request, now: datetime, actor: Actor) -> None:
    """Let the line of a session or course take spots that offers or holds left, before a
    new request counts them."""
    if isinstance(request.resolved, Target):
        refresh_offers(tx, request.resolved.unit, request.service, now, actor)


def _service_of_session(tx: Transaction, session_id: str) -> Service:
    """A slot holding only a session id books that session's service (SPEC 3.3)."""
    service_id = tx.cached_catalog.service_id_of_session(session_id)
    if service_id is None:
        raise FailedPrecondition.on_field(
            f"{SLOT}.session_id", f"no session {session_id!r}", rules.SESSION_NOT_FOUND
        )
    return tx.cached_catalog.get_service(service_id)
