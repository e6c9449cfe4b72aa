"""Booking <-> JSON-safe dict, for the `bookings.data` column and event snapshots.

Instants are ISO 8601 strings with their UTC offset; enums are their values. Decoding is the
exact inverse of encoding, so a snapshot reads back as the Booking it was written from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookings_server.domain.booking import (
    Actor,
    BookedSchedule,
    BookedSlot,
    Booking,
    BookingStatus,
    Choice,
    ChoiceGroup,
    ContactDetails,
    FlowControl,
    FormField,
    PaymentStatus,
    SlotResource,
)
from bookings_server.domain.catalog import Location, LocationType, PaymentOption
from bookings_server.domain.identity import IdentityType

Json = dict[str, Any]


def booking_to_dict(booking: Booking) -> Json:
    return {
        "id": booking.id,
        "site_id": booking.site_id,
        "status": booking.status.value,
        "payment_status": booking.payment_status.value,
        "participants": booking.participants,
        "revision": booking.revision,
        "created_by": {
            "identity_type": booking.created_by.identity_type.value,
            "identity_id": booking.created_by.identity_id,
        },
        "slot": slot_to_dict(booking.slot) if booking.slot else None,
        "schedule": schedule_to_dict(booking.schedule) if booking.schedule else None,
        "title": booking.title,
        "tags": list(booking.tags),
        "contact": _contact_to_dict(booking.contact),
        "additional_fields": [
            {"id": f.id, "value": f.value, "label": f.label, "value_type": f.value_type}
            for f in booking.additional_fields
        ],
        "total_participants": booking.total_participants,
        "participants_choices": (
            None
            if booking.participants_choices is None
            else [_group_to_dict(g) for g in booking.participants_choices]
        ),
        "selected_payment_option": (
            booking.selected_payment_option.value if booking.selected_payment_option else None
        ),
        "start": _instant(booking.start),
        "end": _instant(booking.end),
        "external_user_id": booking.external_user_id,
        "notify_participants": booking.notify_participants,
        "notification_message": booking.notification_message,
        "send_sms_reminder": booking.send_sms_reminder,
        "extended_fields": booking.extended_fields,
        "double_booked": booking.double_booked,
        "flow_control": {
            "skip_availability_validation": booking.flow_control.skip_availability_validation,
            "skip_business_confirmation": booking.flow_control.skip_business_confirmation,
            "skip_selected_payment_option_validation": (
                booking.flow_control.skip_selected_payment_option_validation
            ),
            "ignore_booking_policy": booking.flow_control.ignore_booking_policy,
        },
        "created_date": _instant(booking.created_date),
        "updated_date": _instant(booking.updated_date),
        "hold_id": booking.hold_id,
        "line_position": booking.line_position,
        "offer_expires": _instant(booking.offer_expires),
    }


def booking_from_dict(data: Json) -> Booking:
    created_by = data["created_by"]
    choices = data.get("participants_choices")
    option = data.get("selected_payment_option")
    return Booking(
        id=data["id"],
        site_id=data["site_id"],
        status=BookingStatus(data["status"]),
        payment_status=PaymentStatus(data["payment_status"]),
        participants=data["participants"],
        revision=data["revision"],
        created_by=Actor(IdentityType(created_by["identity_type"]), created_by["identity_id"]),
        slot=slot_from_dict(data["slot"]) if data.get("slot") else None,
        schedule=schedule_from_dict(data["schedule"]) if data.get("schedule") else None,
        title=data.get("title", ""),
        tags=tuple(data.get("tags", ())),
        contact=ContactDetails(**data.get("contact", {})),
        additional_fields=tuple(FormField(**f) for f in data.get("additional_fields", ())),
        total_participants=data.get("total_participants"),
        participants_choices=(
            None if choices is None else tuple(_group_from_dict(g) for g in choices)
        ),
        selected_payment_option=PaymentOption(option) if option else None,
        start=_parse(data.get("start")),
        end=_parse(data.get("end")),
        external_user_id=data.get("external_user_id", ""),
        notify_participants=data.get("notify_participants", False),
        notification_message=data.get("notification_message", ""),
        send_sms_reminder=data.get("send_sms_reminder", False),
        extended_fields=data.get("extended_fields", {}),
        double_booked=data.get("double_booked", False),
        flow_control=FlowControl(**data.get("flow_control", {})),
        created_date=_parse(data.get("created_date")),
        updated_date=_parse(data.get("updated_date")),
        hold_id=data.get("hold_id", ""),
        line_position=data.get("line_position"),
        offer_expires=_parse(data.get("offer_expires")),
    )


def slot_to_dict(slot: BookedSlot) -> Json:
    return {
        "service_id": slot.service_id,
        "start": _instant(slot.start),
        "end": _instant(slot.end),
        "timezone": slot.timezone,
        "session_id": slot.session_id,
        "schedule_id": slot.schedule_id,
        "resource": {
            "id": slot.resource.id,
            "name": slot.resource.name,
            "email": slot.resource.email,
            "schedule_id": slot.resource.schedule_id,
        },
        "location": {
            "id": slot.location.id,
            "name": slot.location.name,
            "formatted_address": slot.location.formatted_address,
            "location_type": (
                slot.location.location_type.value if slot.location.location_type else None
            ),
        },
    }


def slot_from_dict(data: Json) -> BookedSlot:
    location = data.get("location") or {}
    location_type = location.get("location_type")
    return BookedSlot(
        service_id=data["service_id"],
        start=_parse(data.get("start")),
        end=_parse(data.get("end")),
        timezone=data.get("timezone", ""),
        session_id=data.get("session_id", ""),
        schedule_id=data.get("schedule_id", ""),
        resource=SlotResource(**(data.get("resource") or {})),
        location=Location(
            id=location.get("id", ""),
            name=location.get("name", ""),
            formatted_address=location.get("formatted_address", ""),
            location_type=LocationType(location_type) if location_type else None,
        ),
    )


def schedule_to_dict(schedule: BookedSchedule) -> Json:
    return {
        "service_id": schedule.service_id,
        "schedule_id": schedule.schedule_id,
        "timezone": schedule.timezone,
        "first_session_start": _instant(schedule.first_session_start),
        "last_session_end": _instant(schedule.last_session_end),
    }


def schedule_from_dict(data: Json) -> BookedSchedule:
    return BookedSchedule(
        service_id=data["service_id"],
        schedule_id=data.get("schedule_id", ""),
        timezone=data.get("timezone", ""),
        first_session_start=_parse(data.get("first_session_start")),
        last_session_end=_parse(data.get("last_session_end")),
    )


def _contact_to_dict(contact: ContactDetails) -> Json:
    return {
        "contact_id": contact.contact_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "time_zone": contact.time_zone,
        "country_code": contact.country_code,
    }


def _group_to_dict(group: ChoiceGroup) -> Json:
    return {
        "number_of_participants": group.number_of_participants,
        "choices": [
            {
                "option_id": c.option_id,
                "custom": c.custom,
                "duration_minutes": c.duration_minutes,
                "duration_name": c.duration_name,
            }
            for c in group.choices
        ],
    }


def _group_from_dict(data: Json) -> ChoiceGroup:
    return ChoiceGroup(
        number_of_participants=data["number_of_participants"],
        choices=tuple(Choice(**c) for c in data.get("choices", ())),
    )


def _instant(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
