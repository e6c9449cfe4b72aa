"""The rules of CreateBooking (SPEC section 3), as pure functions over plain data.

The api layer decodes the request into a BookingDraft, reads the catalog and the taken spots
inside one write transaction, and calls these in order: shape, permissions, entity for the
service type, participants, payment option, booking policy, capacity. Each raises the domain
error SPEC section 8 names; none does I/O.
"""

from __future__ import annotations

import json
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
)
from bookings_server.domain.identity import Permission, Principal
from bookings_server.domain.policy import policy_violations
from bookings_server.domain.timezones import is_zone

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

#: Limits that keep hostile requests cheap (RELIABILITY.md promise 6).
MAX_CHOICE_GROUPS = 50
MAX_CHOICES_PER_GROUP = 20
MAX_ADDITIONAL_FIELDS = 100
MAX_PARTICIPANTS = 100_000
MAX_REQUEST_ID_LENGTH = 200
MAX_TEXT_LENGTH = 10_000
#: All additional fields together (UTF-8), and extended_fields serialized as (ASCII) JSON.
#: With the limits above a booking stays under about 2 MB, so one always fits a response or an
#: event (4 MiB messages) and QueryBookings pages can be bounded in bytes.
MAX_ADDITIONAL_FIELDS_BYTES = 256 * 1024
MAX_EXTENDED_FIELDS_SIZE = 64 * 1024
#: Contact details and other short strings; emails are indexed, so they must stay short.
MAX_NAME_LENGTH = 320
MAX_ZONE_LENGTH = 64

_ENTITY = "booking.booked_entity"
_SLOT = f"{_ENTITY}.slot"
_SCHEDULE = f"{_ENTITY}.schedule"
_CHOICES = "booking.participants_choices.service_choices"

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


def failed_precondition_on(
    field: str, description: str, reason: str, **metadata: str
) -> DomainError:
    """A business-rule refusal that also names the request field it is about (BadRequest)."""
    return FailedPrecondition.on_field(field, description, reason, **metadata)


def check_shape(draft: BookingDraft) -> None:
    """Malformed requests (INVALID_ARGUMENT), one violation per invalid field."""
    violations = _entity_shape(draft) + _participants_shape(draft) + _size_limits(draft)
    if violations:
        raise InvalidArgument.of(violations)


def _entity_shape(draft: BookingDraft) -> list[FieldViolation]:
    if draft.slot is None and draft.schedule is None:
        return [FieldViolation(_ENTITY, "exactly one of slot or schedule is required")]
    field = _SLOT if draft.slot is not None else _SCHEDULE
    by_schedule = draft.schedule is not None and draft.schedule.schedule_id
    if not draft.service_id and not by_schedule:
        return [FieldViolation(f"{field}.service_id", "is required")]
    if draft.slot is not None:
        return slot_zone_violations(draft.slot, _SLOT)
    return []


def slot_zone_violations(slot: BookedSlot, path: str) -> list[FieldViolation]:
    """A slot's `timezone`, when given, must be an IANA zone (CreateBooking, RescheduleBooking)."""
    if slot.timezone and not is_zone(slot.timezone):
        return [FieldViolation(f"{path}.timezone", "is not an IANA time zone")]
    return []


def _participants_shape(draft: BookingDraft) -> list[FieldViolation]:
    if draft.total_participants is None and draft.participants_choices is None:
        return [
            FieldViolation(
                "booking.participants_info",
                "exactly one of total_participants or participants_choices is required",
            )
        ]
    if draft.total_participants is not None:
        if draft.total_participants < 1:
            return [FieldViolation("booking.total_participants", "must be at least 1")]
        if draft.total_participants > MAX_PARTICIPANTS:
            return [FieldViolation("booking.total_participants", f"at most {MAX_PARTICIPANTS}")]
        return []
    groups = draft.participants_choices or ()
    if not groups:
        return [FieldViolation(_CHOICES, "at least one entry is required")]
    if len(groups) > MAX_CHOICE_GROUPS:
        return [FieldViolation(_CHOICES, f"at most {MAX_CHOICE_GROUPS} entries")]
    violations: list[FieldViolation] = []
    for index, group in enumerate(groups):
        if group.number_of_participants < 1:
            violations.append(
                FieldViolation(f"{_CHOICES}[{index}].number_of_participants", "must be at least 1")
            )
        if len(group.choices) > MAX_CHOICES_PER_GROUP:
            violations.append(
                FieldViolation(
                    f"{_CHOICES}[{index}].choices", f"at most {MAX_CHOICES_PER_GROUP} entries"
                )
            )
        for position, choice in enumerate(group.choices[:MAX_CHOICES_PER_GROUP]):
            for name, text in (("custom", choice.custom), ("duration.name", choice.duration_name)):
                if text is not None and len(text) > MAX_NAME_LENGTH:
                    violations.append(
                        FieldViolation(
                            f"{_CHOICES}[{index}].choices[{position}].{name}",
                            f"at most {MAX_NAME_LENGTH} characters",
                        )
                    )
    if not violations and sum(g.number_of_participants for g in groups) > MAX_PARTICIPANTS:
        violations.append(FieldViolation(_CHOICES, f"at most {MAX_PARTICIPANTS} participants"))
    return violations


def _size_limits(draft: BookingDraft) -> list[FieldViolation]:
    violations: list[FieldViolation] = [
        FieldViolation(f"booking.contact_details.{name}", f"at most {MAX_NAME_LENGTH} characters")
        for name, value in vars(draft.contact).items()
        if len(value) > MAX_NAME_LENGTH
    ]
    if len(draft.external_user_id) > MAX_NAME_LENGTH:
        violations.append(
            FieldViolation("booking.external_user_id", f"at most {MAX_NAME_LENGTH} characters")
        )
    if len(draft.additional_fields) > MAX_ADDITIONAL_FIELDS:
        violations.append(
            FieldViolation("booking.additional_fields", f"at most {MAX_ADDITIONAL_FIELDS} entries")
        )
    for index, form_field in enumerate(draft.additional_fields[:MAX_ADDITIONAL_FIELDS]):
        for name, value, limit in (
            ("id", form_field.id, MAX_NAME_LENGTH),
            ("value", form_field.value, MAX_TEXT_LENGTH),
            ("label", form_field.label, MAX_NAME_LENGTH),
        ):
            if len(value) > limit:
                violations.append(
                    FieldViolation(
                        f"booking.additional_fields[{index}].{name}", f"at most {limit} characters"
                    )
                )
    form_bytes = sum(
        len(f.id.encode()) + len(f.value.encode()) + len(f.label.encode())
        for f in draft.additional_fields
    )
    if form_bytes > MAX_ADDITIONAL_FIELDS_BYTES:
        violations.append(
            FieldViolation(
                "booking.additional_fields", f"at most {MAX_ADDITIONAL_FIELDS_BYTES} bytes in all"
            )
        )
    if len(json.dumps(draft.extended_fields)) > MAX_EXTENDED_FIELDS_SIZE:
        violations.append(
            FieldViolation(
                "booking.extended_fields", f"at most {MAX_EXTENDED_FIELDS_SIZE} characters as JSON"
            )
        )
    if len(draft.request_id) > MAX_REQUEST_ID_LENGTH:
        violations.append(
            FieldViolation("request_id", f"at most {MAX_REQUEST_ID_LENGTH} characters")
        )
    if len(draft.notification_message) > MAX_TEXT_LENGTH:
        violations.append(
            FieldViolation(
                "participant_notification.message", f"at most {MAX_TEXT_LENGTH} characters"
            )
        )
    return violations


def check_flow_control_allowed(flow: FlowControl, principal: Principal) -> None:
    """Every flow-control flag set needs its override permission (PERMISSION_DENIED)."""
    for flag, permission in _FLAG_PERMISSIONS:
        if getattr(flow, flag) and not principal.has_permission(permission):
            raise PermissionDenied(
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
            raise InvalidArgument.field(_ENTITY, "a course is booked with schedule, not slot")
        if draft.schedule.schedule_id and draft.schedule.schedule_id != service.schedule_id:
            raise failed_precondition_on(
                f"{_SCHEDULE}.schedule_id",
                "is not the schedule of the service",
                SCHEDULE_NOT_FOUND,
            )
        return
    if draft.slot is None:
        raise InvalidArgument.field(
            _ENTITY, f"a {service.type.value.lower()} service is booked with slot, not schedule"
        )
    if service.type is ServiceType.CLASS and not draft.slot.session_id:
        raise InvalidArgument.field(f"{_SLOT}.session_id", "is required to book a class")
    if service.type is ServiceType.APPOINTMENT and not draft.slot.session_id:
        violations = []
        if not draft.slot.resource.id:
            violations.append(FieldViolation(f"{_SLOT}.resource.id", "is required"))
        if draft.slot.start is None:
            violations.append(FieldViolation(f"{_SLOT}.start_date", "is required"))
        if violations:
            raise InvalidArgument(
                "an appointment slot needs a staff member and a start", violations=violations
            )


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
        raise failed_precondition_on(
            "booking.participants_info",
            f"{participants} participants exceed the service's limit of {limit} per booking",
            TOO_MANY_PARTICIPANTS,
        )
    return participants


def _check_group(index: int, group: ChoiceGroup, service: Service) -> None:
    options = {option.id: option for option in service.choices}
    seen: set[str] = set()
    for position, choice in enumerate(group.choices):
        field = f"{_CHOICES}[{index}].choices[{position}]"
        option = options.get(choice.option_id)
        if option is None:
            raise failed_precondition_on(
                f"{field}.option_id", "is not an option of the service", INVALID_SERVICE_CHOICES
            )
        if option.id in seen:
            raise failed_precondition_on(
                f"{field}.option_id", "is chosen twice", INVALID_SERVICE_CHOICES
            )
        seen.add(option.id)
        if not _is_allowed_value(option, choice.custom, choice.duration_minutes):
            raise failed_precondition_on(
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
        raise failed_precondition_on(
            "booking.selected_payment_option",
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
    raise FailedPrecondition(
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
        raise failed_precondition_on(
            f"{_SLOT}.session_id", f"no session {session_id!r} of the service", SESSION_NOT_FOUND
        )
    return session


def schedule_of_course(service: Service, sessions: Sequence[Session]) -> BookedSchedule:
    """The course's schedule spanning its sessions; a course without sessions cannot be booked."""
    if not sessions:
        raise failed_precondition_on(
            f"{_SCHEDULE}.schedule_id", "the course has no sessions", SCHEDULE_NOT_FOUND
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
        raise failed_precondition_on(
            f"{_SLOT}.resource.id", "is not a staff member of the service", SLOT_NOT_AVAILABLE
        )
    assert draft_slot.start is not None
    duration = service.duration
    if duration is None:
        raise failed_precondition_on(
            f"{_SLOT}.service_id", "the appointment service has no duration", SLOT_NOT_AVAILABLE
        )
    end = draft_slot.start + duration
    if draft_slot.end is not None and draft_slot.end != end:
        raise failed_precondition_on(
            f"{_SLOT}.end_date",
            f"an appointment lasts the service's duration ({duration})",
            SLOT_NOT_AVAILABLE,
        )
    return AppointmentRequest(staff, draft_slot.start, end)


def require_offered(request: AppointmentRequest, offered: bool) -> None:
    """SLOT_NOT_AVAILABLE unless availability offers this start for this staff member."""
    if not offered:
        raise failed_precondition_on(
            f"{_SLOT}.start_date",
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
