"""The rules of CreateBooking (SPEC section 3), as pure functions over plain data.

The create use case (app/bookings/create.py) reads the catalog and the taken spots inside one
write transaction and calls these in order: permissions, entity for the service type,
participants, payment option, booking policy, capacity; the request's shape is checked before
(domain/booking_shape.py). Each raises the domain error SPEC section 8 names; none does I/O.

Field paths are relative to the booking ("booked_entity.schedule.schedule_id"), and those of
the slot rules relative to the slot ("session_id"), which `check_entity_for_service` places
under "booked_entity.slot"; RescheduleBooking places them under its own "slot". Errors about
the request's own fields are `RequestFieldError`s, which no caller moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bookings_server.domain.booking import (
    BookedSchedule,
    BookedSlot,
    BookingStatus,
    ChoiceGroup,
    FlowControl,
    SlotResource,
)
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.booking_shape import CHOICES, ENTITY, SCHEDULE, SLOT
from bookings_server.domain.capacity import CapacityUnit, UnitKind, has_conflict
from bookings_server.domain.catalog import (
    OptionType,
    PaymentOption,
    Service,
    ServiceOption,
    ServiceType,
    Session,
    StaffMember,
)
from bookings_server.domain.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PermissionDenied,
    Unavailable,
)
from bookings_server.domain.identity import Permission, Principal
from bookings_server.domain.policy import policy_violations

INVALID_SERVICE_CHOICES = "INVALID_SERVICE_CHOICES"
SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
SCHEDULE_NOT_FOUND = "SCHEDULE_NOT_FOUND"
SLOT_NOT_AVAILABLE = "SLOT_NOT_AVAILABLE"
SESSION_CAPACITY_EXCEEDED = "SESSION_CAPACITY_EXCEEDED"
SCHEDULE_CAPACITY_EXCEEDED = "SCHEDULE_CAPACITY_EXCEEDED"
TOO_MANY_PARTICIPANTS = "TOO_MANY_PARTICIPANTS"
INVALID_PAYMENT_OPTION = "INVALID_PAYMENT_OPTION"
BOOKING_POLICY_VIOLATION = "BOOKING_POLICY_VIOLATION"
UNAUTHORIZED_OPERATION = "UNAUTHORIZED_OPERATION"
MISSING_PERMISSION = "MISSING_PERMISSION"
IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


class RequestFieldError(DomainError):
    """An error about a field of the request itself (flow_control_settings, request_id), not
    of the booking it carries: a caller that moves the booking's errors under the booking's
    path (`with_field_prefix`) leaves these where they are."""


class FlowControlDenied(RequestFieldError, PermissionDenied):
    """A flow-control flag set without the permission it needs."""


class RequestIdReused(RequestFieldError, InvalidArgument):
    """A request_id sent again with a different request body (SPEC 3.10)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(
            f"request_id {request_id!r} was used for a different request",
            IDEMPOTENCY_KEY_REUSED,
            violations=[FieldViolation("request_id", "was used for a different request")],
        )


class RequestInFlight(Unavailable):
    """A concurrent request with the same request_id stored its result but has not committed
    where this one can read it yet: retry (the retry returns it)."""

    def __init__(self) -> None:
        super().__init__(
            "a concurrent request with this request_id did not finish; retry",
            reason="REQUEST_IN_FLIGHT",
        )


_CAPACITY_REASONS = {
    UnitKind.STAFF: SLOT_NOT_AVAILABLE,
    UnitKind.SESSION: SESSION_CAPACITY_EXCEEDED,
    UnitKind.SCHEDULE: SCHEDULE_CAPACITY_EXCEEDED,
}

#: Each flow-control flag and the permission it needs (the proto documents the same).
_FLAG_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("skip_availability_validation", Permission.OVERRIDE_AVAILABILITY),
    ("skip_business_confirmation", Permission.OVERRIDE_AVAILABILITY),
    ("skip_selected_payment_option_validation", Permission.MANAGE_PAYMENTS),
    ("ignore_booking_policy", Permission.IGNORE_BOOKING_POLICY),
)


def check_flow_control_allowed(flow: FlowControl, principal: Principal) -> None:
    """Every flow-control flag set needs its override permission (PERMISSION_DENIED)."""
    for flag, permission in _FLAG_PERMISSIONS:
        if getattr(flow, flag) and not principal.has_permission(permission):
            raise FlowControlDenied(
                f"flow_control_settings.{flag} needs the {permission} permission",
                MISSING_PERMISSION,
                permission=permission,
                field=f"flow_control_settings.{flag}",
            )


def resolve_status(requested: BookingStatus | None, principal: Principal) -> BookingStatus:
    """CREATED unless an OWNER asks for another status (SPEC 3.4, 3.5)."""
    if requested is None or requested is BookingStatus.CREATED:
        return BookingStatus.CREATED
    if not principal.is_owner:
        raise PermissionDenied(
            f"only an OWNER may create a booking with status {requested.value}",
            UNAUTHORIZED_OPERATION,
            status=requested.value,
        )
    return requested


def check_entity_for_service(draft: BookingDraft, service: Service) -> None:
    """Slot for appointments and class sessions, schedule for courses (SPEC 3.1)."""
    if service.type is ServiceType.COURSE:
        if draft.schedule is None:
            raise InvalidArgument.field(ENTITY, "a course is booked with schedule, not slot")
        if draft.schedule.schedule_id and draft.schedule.schedule_id != service.schedule_id:
            raise FailedPrecondition.on_field(
                f"{SCHEDULE}.schedule_id",
                "is not the schedule of the service",
                SCHEDULE_NOT_FOUND,
            )
        return
    if draft.slot is None:
        raise InvalidArgument.field(
            ENTITY, f"a {service.type.value.lower()} service is booked with slot, not schedule"
        )
    try:
        check_slot_for_service(draft.slot, service)
    except DomainError as error:
        raise error.with_field_prefix(SLOT) from None


def check_slot_for_service(slot: BookedSlot, service: Service) -> None:
    """What a slot of a class or appointment service must name (paths relative to the slot):
    a session of a class, or a start of an appointment (with a staff member, or none for "any
    staff member", SPEC section 9)."""
    if service.type is ServiceType.CLASS and not slot.session_id:
        raise InvalidArgument.field("session_id", "is required to book a class")
    if service.type is ServiceType.APPOINTMENT and not slot.session_id and slot.start is None:
        raise InvalidArgument.field("start_date", "is required to book an appointment")


def count_participants(draft: BookingDraft, service: Service) -> int:
    """The head count, with choices checked against the service and the per-booking cap."""
    if draft.participants_choices is not None:
        for index, group in enumerate(draft.participants_choices):
            _check_group(index, group, service)
        participants = sum(g.number_of_participants for g in draft.participants_choices)
    else:
        assert draft.total_participants is not None
        participants = draft.total_participants
    limit = service.policy.max_participants_per_booking
    if limit and participants > limit:
        raise FailedPrecondition.on_field(
            "participants_info",
            f"{participants} participants exceed the service's limit of {limit} per booking",
            TOO_MANY_PARTICIPANTS,
        )
    return participants


def _check_group(index: int, group: ChoiceGroup, service: Service) -> None:
    options = {option.id: option for option in service.choices}
    seen: set[str] = set()
    for position, choice in enumerate(group.choices):
        field = f"{CHOICES}[{index}].choices[{position}]"
        option = options.get(choice.option_id)
        if option is None:
            raise FailedPrecondition.on_field(
                f"{field}.option_id", "is not an option of the service", INVALID_SERVICE_CHOICES
            )
        if option.id in seen:
            raise FailedPrecondition.on_field(
                f"{field}.option_id", "is chosen twice", INVALID_SERVICE_CHOICES
            )
        seen.add(option.id)
        if not _is_allowed_value(option, choice.custom, choice.duration_minutes):
            raise FailedPrecondition.on_field(
                field, f"is not a value of option {option.id!r}", INVALID_SERVICE_CHOICES
            )


def _is_allowed_value(option: ServiceOption, custom: str | None, minutes: int | None) -> bool:
    if option.type is OptionType.CUSTOM:
        return custom is not None and custom in option.custom_choices
    return minutes is not None and minutes in {d.minutes for d in option.duration_choices}


def check_payment_option(option: PaymentOption | None, service: Service, skip: bool) -> None:
    """The selected option must be one the service offers (SPEC 3.8).

    Not given or UNDEFINED always passes; a service offering no options accepts any.
    """
    if skip or option is None or option is PaymentOption.UNDEFINED:
        return
    if service.payment_options and option not in service.payment_options:
        offered = ",".join(sorted(o.value for o in service.payment_options))
        raise FailedPrecondition.on_field(
            "selected_payment_option",
            f"{option.value} is not offered by the service (offered: {offered})",
            INVALID_PAYMENT_OPTION,
            offered=offered,
        )


def check_booking_policy(service: Service, start: datetime, now: datetime, ignore: bool) -> None:
    """PERMISSION_DENIED BOOKING_POLICY_VIOLATION naming the first broken rule (SPEC 3.7)."""
    violations = () if ignore else policy_violations(service, start, now).rules
    if violations:
        raise PermissionDenied(
            f"the booking breaks the service's booking policy: {', '.join(violations)}",
            BOOKING_POLICY_VIOLATION,
            rule=violations[0],
            rules=",".join(violations),
        )


def check_capacity(
    unit: CapacityUnit,
    *,
    capacity: int,
    taken: int,
    participants: int,
    status: BookingStatus,
    skip: bool,
) -> bool:
    """Whether the new booking fits; returns its `double_booked` flag (SPEC 3.5, 3.6).

    A CREATED booking that does not fit is refused unless `skip`. A booking an OWNER creates
    CONFIRMED or PENDING is never refused: it is marked double_booked when it overbooks.
    Other statuses (CANCELED, DECLINED, WAITING_LIST) hold no spots and are not checked.
    """
    if not (status is BookingStatus.CREATED or status.takes_capacity):
        return False
    if not has_conflict(unit, capacity, taken, participants):
        return False
    if status.takes_capacity:
        return True
    if skip:
        return False
    raise no_room(unit, capacity=capacity, taken=taken, participants=participants)


def no_room(
    unit: CapacityUnit, *, capacity: int, taken: int, participants: int
) -> FailedPrecondition:
    """SLOT_NOT_AVAILABLE, SESSION_CAPACITY_EXCEEDED or SCHEDULE_CAPACITY_EXCEEDED, with the
    figures."""
    return FailedPrecondition(
        f"no room for {participants} more participant(s) in {unit.lock_key}",
        _CAPACITY_REASONS[unit.kind],
        capacity=str(capacity),
        taken=str(taken),
        requested=str(participants),
    )


def slot_from_session(service_id: str, session: Session, staff: StaffMember | None) -> BookedSlot:
    """The slot of a class session, copied from the stored session (SPEC 3.3)."""
    resource = SlotResource()
    if staff is not None:
        resource = SlotResource(staff.id, staff.name, staff.email, staff.schedule_id)
    return BookedSlot(
        service_id=service_id,
        start=session.start,
        end=session.end,
        timezone=session.timezone,
        session_id=session.id,
        schedule_id=session.schedule_id,
        resource=resource,
        location=session.location,
    )


def check_session_of_service(session: Session | None, service: Service, session_id: str) -> Session:
    """The session must exist for the site and belong to the booked service (SPEC 3.3)."""
    if session is None or session.service_id != service.id:
        raise FailedPrecondition.on_field(
            "session_id", f"no session {session_id!r} of the service", SESSION_NOT_FOUND
        )
    return session


def schedule_of_course(service: Service, sessions: Sequence[Session]) -> BookedSchedule:
    """The course's schedule spanning its sessions; a course without sessions cannot be booked."""
    if not sessions:
        raise FailedPrecondition.on_field(
            f"{SCHEDULE}.schedule_id", "the course has no sessions", SCHEDULE_NOT_FOUND
        )
    return BookedSchedule(
        service_id=service.id,
        schedule_id=service.schedule_id,
        timezone=service.timezone,
        first_session_start=min(s.start for s in sessions),
        last_session_end=max(s.end for s in sessions),
    )


def course_capacity(service: Service, sessions: Sequence[Session]) -> int:
    """A course seat is a seat in every session: the smallest session capacity."""
    return min((s.capacity for s in sessions), default=service.default_capacity)


@dataclass(frozen=True)
class AppointmentRequest:
    """The appointment slot the caller asked for, checked against what availability offers."""

    staff: StaffMember
    start: datetime
    end: datetime


def appointment_request(
    draft_slot: BookedSlot, service: Service, staff: StaffMember | None
) -> AppointmentRequest:
    """The staff member must give the service; the end is the start plus the duration."""
    if staff is None or staff.id not in service.staff_member_ids:
        raise FailedPrecondition.on_field(
            "resource.id", "is not a staff member of the service", SLOT_NOT_AVAILABLE
        )
    assert draft_slot.start is not None
    duration = service.duration
    if duration is None:
        raise FailedPrecondition.on_field(
            "service_id", "the appointment service has no duration", SLOT_NOT_AVAILABLE
        )
    end = draft_slot.start + duration
    if draft_slot.end is not None and draft_slot.end != end:
        raise FailedPrecondition.on_field(
            "end_date",
            f"an appointment lasts the service's duration ({duration})",
            SLOT_NOT_AVAILABLE,
        )
    return AppointmentRequest(staff, draft_slot.start, end)


def require_offered(offered: bool) -> None:
    """SLOT_NOT_AVAILABLE unless availability offers this start for this staff member."""
    if not offered:
        raise FailedPrecondition.on_field(
            "start_date",
            "is not a slot the staff member's hours offer for this service",
            SLOT_NOT_AVAILABLE,
        )


def appointment_slot(request: AppointmentRequest, service: Service, timezone: str) -> BookedSlot:
    staff = request.staff
    return BookedSlot(
        service_id=service.id,
        start=request.start,
        end=request.end,
        timezone=timezone or staff.timezone or service.timezone,
        schedule_id=service.schedule_id,
        resource=SlotResource(staff.id, staff.name, staff.email, staff.schedule_id),
        location=service.location,
    )


def tags_for(service: Service) -> tuple[str, ...]:
    return {
        ServiceType.APPOINTMENT: ("INDIVIDUAL",),
        ServiceType.CLASS: ("GROUP",),
        ServiceType.COURSE: ("COURSE",),
    }[service.type]
