"""The shape and size limits of a CreateBooking request (RELIABILITY.md promise 6).

Malformed requests are INVALID_ARGUMENT with one violation per invalid field, found before
anything is read. `booking_violations` names fields relative to the booking (the api layer
prefixes "booking"); `request_violations` checks the request's own fields (request_id,
participant_notification), so it names them as the request does.
"""

from __future__ import annotations

import json

from bookings_server.domain.booking import BookedSlot, ChoiceGroup
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.errors import FieldViolation
from bookings_server.domain.timezones import is_zone, zone_violation

#: Limits that keep hostile requests cheap.
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

#: Where the booked entity, its slot and its schedule sit in a booking.
ENTITY = "booked_entity"
SLOT = f"{ENTITY}.slot"
SCHEDULE = f"{ENTITY}.schedule"
CHOICES = "participants_choices.service_choices"


def booking_violations(draft: BookingDraft) -> list[FieldViolation]:
    """Every malformed field of the booking, paths relative to the booking."""
    return _entity_shape(draft) + participants_violations(draft) + _size_limits(draft)


def request_violations(draft: BookingDraft) -> list[FieldViolation]:
    """Every malformed field the request carries besides its booking."""
    violations: list[FieldViolation] = []
    if len(draft.request_id) > MAX_REQUEST_ID_LENGTH:
        violations.append(
            FieldViolation("request_id", f"at most {MAX_REQUEST_ID_LENGTH} characters")
        )
    if len(draft.hold_id) > MAX_REQUEST_ID_LENGTH:
        violations.append(FieldViolation("hold_id", f"at most {MAX_REQUEST_ID_LENGTH} characters"))
    if len(draft.notification_message) > MAX_TEXT_LENGTH:
        violations.append(
            FieldViolation(
                "participant_notification.message", f"at most {MAX_TEXT_LENGTH} characters"
            )
        )
    return violations


def slot_zone_violations(slot: BookedSlot) -> list[FieldViolation]:
    """A slot's `timezone`, when given, must be an IANA zone (paths relative to the slot)."""
    if slot.timezone and not is_zone(slot.timezone):
        return [zone_violation("timezone", slot.timezone)]
    return []


def _entity_shape(draft: BookingDraft) -> list[FieldViolation]:
    if draft.hold_id and draft.slot is None and draft.schedule is None:
        return []  # the hold's slot or schedule
    if draft.slot is None and draft.schedule is None:
        return [FieldViolation(ENTITY, "exactly one of slot or schedule is required")]
    field = SLOT if draft.slot is not None else SCHEDULE
    by_schedule = draft.schedule is not None and draft.schedule.schedule_id
    by_session = draft.slot is not None and draft.slot.session_id
    if not draft.service_id and not by_schedule and not by_session:
        return [FieldViolation(f"{field}.service_id", "is required")]
    if draft.slot is not None:
        return [v.prefixed(SLOT) for v in slot_zone_violations(draft.slot)]
    return []


def participants_violations(draft: BookingDraft) -> list[FieldViolation]:
    given = draft.total_participants is not None or draft.participants_choices is not None
    if draft.hold_id and not given:
        return []  # the hold's participants
    if draft.total_participants is None and draft.participants_choices is None:
        return [
            FieldViolation(
                "participants_info",
                "exactly one of total_participants or participants_choices is required",
            )
        ]
    if draft.total_participants is not None:
        if draft.total_participants < 1:
            return [FieldViolation("total_participants", "must be at least 1")]
        if draft.total_participants > MAX_PARTICIPANTS:
            return [FieldViolation("total_participants", f"at most {MAX_PARTICIPANTS}")]
        return []
    groups = draft.participants_choices or ()
    if not groups:
        return [FieldViolation(CHOICES, "at least one entry is required")]
    if len(groups) > MAX_CHOICE_GROUPS:
        return [FieldViolation(CHOICES, f"at most {MAX_CHOICE_GROUPS} entries")]
    violations: list[FieldViolation] = []
    for index, group in enumerate(groups):
        violations.extend(_group_shape(f"{CHOICES}[{index}]", group))
    if not violations and sum(g.number_of_participants for g in groups) > MAX_PARTICIPANTS:
        violations.append(FieldViolation(CHOICES, f"at most {MAX_PARTICIPANTS} participants"))
    return violations


def _group_shape(path: str, group: ChoiceGroup) -> list[FieldViolation]:
    violations: list[FieldViolation] = []
    if group.number_of_participants < 1:
        violations.append(FieldViolation(f"{path}.number_of_participants", "must be at least 1"))
    if len(group.choices) > MAX_CHOICES_PER_GROUP:
        violations.append(
            FieldViolation(f"{path}.choices", f"at most {MAX_CHOICES_PER_GROUP} entries")
        )
    for position, choice in enumerate(group.choices[:MAX_CHOICES_PER_GROUP]):
        for name, text in (("custom", choice.custom), ("duration.name", choice.duration_name)):
            if text is not None and len(text) > MAX_NAME_LENGTH:
                violations.append(
                    FieldViolation(
                        f"{path}.choices[{position}].{name}",
                        f"at most {MAX_NAME_LENGTH} characters",
                    )
                )
    return violations


def _size_limits(draft: BookingDraft) -> list[FieldViolation]:
    violations: list[FieldViolation] = [
        FieldViolation(f"contact_details.{name}", f"at most {MAX_NAME_LENGTH} characters")
        for name, value in vars(draft.contact).items()
        if len(value) > MAX_NAME_LENGTH
    ]
    if len(draft.external_user_id) > MAX_NAME_LENGTH:
        violations.append(
            FieldViolation("external_user_id", f"at most {MAX_NAME_LENGTH} characters")
        )
    violations.extend(_form_limits(draft))
    if len(json.dumps(draft.extended_fields)) > MAX_EXTENDED_FIELDS_SIZE:
        violations.append(
            FieldViolation(
                "extended_fields", f"at most {MAX_EXTENDED_FIELDS_SIZE} characters as JSON"
            )
        )
    return violations


def _form_limits(draft: BookingDraft) -> list[FieldViolation]:
    violations: list[FieldViolation] = []
    if len(draft.additional_fields) > MAX_ADDITIONAL_FIELDS:
        violations.append(
            FieldViolation("additional_fields", f"at most {MAX_ADDITIONAL_FIELDS} entries")
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
                        f"additional_fields[{index}].{name}", f"at most {limit} characters"
                    )
                )
    form_bytes = sum(
        len(f.id.encode()) + len(f.value.encode()) + len(f.label.encode())
        for f in draft.additional_fields
    )
    if form_bytes > MAX_ADDITIONAL_FIELDS_BYTES:
        violations.append(
            FieldViolation(
                "additional_fields", f"at most {MAX_ADDITIONAL_FIELDS_BYTES} bytes in all"
            )
        )
    return violations
