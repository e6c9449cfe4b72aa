"""Protobuf <-> domain for bookings: CreateBookingRequest -> BookingDraft, Booking -> proto.

Decoding never trusts the wire: unknown enum numbers, out-of-range timestamps and the like
become INVALID_ARGUMENT naming the field, never an exception escaping as INTERNAL.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from bookings.v1 import booking_pb2, bookings_service_pb2, options_pb2
from google.protobuf import json_format, struct_pb2

from bookings_server.api.catalog.convert import location_to_proto
from bookings_server.api.proto_types import (
    enum_from_proto,
    set_optional_timestamp,
    timestamp_from_proto,
)
from bookings_server.domain import booking_query
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
from bookings_server.domain.booking_events import BookingEvent
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.catalog import PaymentOption
from bookings_server.domain.errors import InvalidArgument

# ---- wire -> domain ---------------------------------------------------------------------


def booking_status(value: int, path: str) -> BookingStatus | None:
    return enum_from_proto(booking_pb2.BookingStatus, BookingStatus, value, "BOOKING_STATUS_", path)


def payment_status(value: int, path: str) -> PaymentStatus | None:
    return enum_from_proto(booking_pb2.PaymentStatus, PaymentStatus, value, "PAYMENT_STATUS_", path)


def request_fingerprint(request: bookings_service_pb2.CreateBookingRequest) -> str:
    """SHA-256 of the request body without its request_id (deterministic serialization)."""
    body = bookings_service_pb2.CreateBookingRequest()
    body.CopyFrom(request)
    body.request_id = ""
    return hashlib.sha256(body.SerializeToString(deterministic=True)).hexdigest()


def draft_from_request(request: bookings_service_pb2.CreateBookingRequest) -> BookingDraft:
    booking = request.booking
    entity = booking.booked_entity
    slot: BookedSlot | None = None
    schedule: BookedSchedule | None = None
    which = entity.WhichOneof("item")
    if which == "slot":
        slot = slot_from_proto(entity.slot, "booking.booked_entity.slot")
    elif which == "schedule":
        schedule = BookedSchedule(
            service_id=entity.schedule.service_id, schedule_id=entity.schedule.schedule_id
        )
    participants = booking.WhichOneof("participants_info")
    flow = request.flow_control_settings
    return BookingDraft(
        slot=slot,
        schedule=schedule,
        total_participants=(
            booking.total_participants if participants == "total_participants" else None
        ),
        participants_choices=(
            choices_from_proto(booking.participants_choices)
            if participants == "participants_choices"
            else None
        ),
        status=booking_status(booking.status, "booking.status"),
        selected_payment_option=enum_from_proto(
            booking_pb2.SelectedPaymentOption,
            PaymentOption,
            booking.selected_payment_option,
            "SELECTED_PAYMENT_OPTION_",
            "booking.selected_payment_option",
        ),
        contact=_contact_from_proto(booking.contact_details),
        additional_fields=tuple(
            _form_field_from_proto(f, f"booking.additional_fields[{i}]")
            for i, f in enumerate(booking.additional_fields)
        ),
        external_user_id=booking.external_user_id,
        extended_fields={
            namespace: _struct_to_dict(value, f"booking.extended_fields[{namespace!r}]")
            for namespace, value in booking.extended_fields.items()
        },
        notify_participants=request.participant_notification.notify_participants,
        notification_message=request.participant_notification.message,
        send_sms_reminder=request.send_sms_reminder,
        flow_control=FlowControl(
            skip_availability_validation=flow.skip_availability_validation,
            skip_business_confirmation=flow.skip_business_confirmation,
            skip_selected_payment_option_validation=flow.skip_selected_payment_option_validation,
            ignore_booking_policy=flow.ignore_booking_policy,
        ),
        request_id=request.request_id,
        request_hash=request_fingerprint(request) if request.request_id else "",
        hold_id=request.hold_id,
    )


def draft_from_join_request(request: bookings_service_pb2.JoinWaitingListRequest) -> BookingDraft:
    """JoinWaitingList's booking, read as CreateBooking reads it; its status is the list's."""
    as_create = bookings_service_pb2.CreateBookingRequest(
        booking=request.booking,
        participant_notification=request.participant_notification,
        request_id=request.request_id,
    )
    draft = draft_from_request(as_create)
    body = bookings_service_pb2.JoinWaitingListRequest()
    body.CopyFrom(request)
    body.request_id = ""
    fingerprint = hashlib.sha256(body.SerializeToString(deterministic=True)).hexdigest()
    return replace(draft, status=None, request_hash=fingerprint if request.request_id else "")


def _struct_to_dict(struct: struct_pb2.Struct, path: str) -> dict[str, Any]:
    """A Struct as JSON data; values JSON cannot hold (NaN, infinities, unset) are invalid."""
    try:
        data: dict[str, Any] = json_format.MessageToDict(struct)
    except (ValueError, json_format.Error) as error:
        raise InvalidArgument.field(path, f"is not valid JSON data: {error}") from error
    return data


def slot_from_proto(slot: booking_pb2.BookedSlot, path: str) -> BookedSlot:
    """The caller's slot: only what a caller may choose (resource name, email, location and
    schedule are filled in from the catalog)."""
    return BookedSlot(
        service_id=slot.service_id,
        start=timestamp_from_proto(slot, "start_date", f"{path}.start_date"),
        end=timestamp_from_proto(slot, "end_date", f"{path}.end_date"),
        timezone=slot.timezone,
        session_id=slot.session_id,
        resource=SlotResource(id=slot.resource.id),
    )


def choices_from_proto(choices: booking_pb2.ParticipantChoices) -> tuple[ChoiceGroup, ...]:
    return tuple(
        ChoiceGroup(
            number_of_participants=group.number_of_participants,
            choices=tuple(_choice_from_proto(c) for c in group.choices),
        )
        for group in choices.service_choices
    )


def _choice_from_proto(choice: booking_pb2.ServiceChoice) -> Choice:
    which = choice.WhichOneof("choice")
    if which == "custom":
        return Choice(choice.option_id, custom=choice.custom)
    if which == "duration":
        return Choice(
            choice.option_id,
            duration_minutes=choice.duration.minutes,
            duration_name=choice.duration.name,
        )
    return Choice(choice.option_id)


def _contact_from_proto(contact: booking_pb2.ContactDetails) -> ContactDetails:
    return ContactDetails(
        contact_id=contact.contact_id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        time_zone=contact.time_zone,
        country_code=contact.country_code,
    )


def _form_field_from_proto(field: booking_pb2.CustomFormField, path: str) -> FormField:
    value_type = ""
    if field.value_type:
        try:
            value_type = booking_pb2.ValueType.Name(field.value_type).removeprefix("VALUE_TYPE_")
        except ValueError as error:
            raise InvalidArgument.field(
                f"{path}.value_type", f"unknown value {field.value_type}"
            ) from error
    return FormField(field.id, field.value, field.label, value_type)


def query_from_request(
    request: bookings_service_pb2.QueryBookingsRequest,
) -> booking_query.BookingQuery:
    """The query a QueryBookings request asks for; its page token is read by the use case
    (app/bookings/queries.py), which knows the site."""
    found = request.filter
    for name, values in (("statuses", found.statuses), ("service_ids", found.service_ids)):
        if len(values) > booking_query.MAX_FILTER_VALUES:
            limit = booking_query.MAX_FILTER_VALUES
            raise InvalidArgument.field(f"filter.{name}", f"at most {limit} values")
    statuses = frozenset(
        _required(booking_status(value, f"filter.statuses[{i}]"), f"filter.statuses[{i}]")
        for i, value in enumerate(found.statuses)
    )
    query_filter = booking_query.BookingFilter(
        statuses=statuses,
        service_ids=frozenset(found.service_ids),
        start_from=timestamp_from_proto(found, "start_from", "filter.start_from"),
        start_to=timestamp_from_proto(found, "start_to", "filter.start_to"),
        contact_email=found.contact_email.strip(),
    )
    booking_query.check_filter(query_filter)
    order = _order(request.order)
    return booking_query.BookingQuery(
        filter=query_filter,
        order=order,
        page_size=booking_query.page_size(request.page_size),
    )


def _required(status: BookingStatus | None, path: str) -> BookingStatus:
    if status is None:
        raise InvalidArgument.field(path, "BOOKING_STATUS_UNSPECIFIED is not a status")
    return status


def _order(value: int) -> booking_query.BookingOrder:
    if value == 0:
        return booking_query.BookingOrder.START_DATE_ASC
    try:
        order = bookings_service_pb2.BookingOrder
        name = order.Name(order.ValueType(value))
    except ValueError as error:
        raise InvalidArgument.field("order", f"unknown value {value}") from error
    return booking_query.BookingOrder(name.removeprefix("BOOKING_ORDER_"))


# ---- domain -> wire ---------------------------------------------------------------------


def booking_to_proto(booking: Booking) -> booking_pb2.Booking:
    message = booking_pb2.Booking(
        id=booking.id,
        status=booking_pb2.BookingStatus.Value(f"BOOKING_STATUS_{booking.status.value}"),
        payment_status=booking_pb2.PaymentStatus.Value(
            f"PAYMENT_STATUS_{booking.payment_status.value}"
        ),
        external_user_id=booking.external_user_id,
        revision=booking.revision,
        created_by=actor_to_proto(booking.created_by),
        participant_notification=booking_pb2.ParticipantNotification(
            notify_participants=booking.notify_participants,
            message=booking.notification_message,
        ),
        send_sms_reminder=booking.send_sms_reminder,
        double_booked=booking.double_booked,
        contact_details=_contact_to_proto(booking.contact),
        hold_id=booking.hold_id,
    )
    message.booked_entity.title = booking.title
    message.booked_entity.tags.extend(booking.tags)
    if booking.slot is not None:
        message.booked_entity.slot.CopyFrom(slot_to_proto(booking.slot))
    elif booking.schedule is not None:
        message.booked_entity.schedule.CopyFrom(schedule_to_proto(booking.schedule))
    for field in booking.additional_fields:
        message.additional_fields.add(
            id=field.id,
            value=field.value,
            label=field.label,
            value_type=(
                booking_pb2.ValueType.Value(f"VALUE_TYPE_{field.value_type}")
                if field.value_type
                else 0
            ),
        )
    if booking.participants_choices is not None:
        message.participants_choices.CopyFrom(_choices_to_proto(booking.participants_choices))
    else:
        message.total_participants = booking.total_participants or booking.participants
    if booking.selected_payment_option is not None:
        message.selected_payment_option = booking_pb2.SelectedPaymentOption.Value(
            f"SELECTED_PAYMENT_OPTION_{booking.selected_payment_option.value}"
        )
    set_optional_timestamp(message, "created_date", booking.created_date)
    set_optional_timestamp(message, "updated_date", booking.updated_date)
    set_optional_timestamp(message, "start_date", booking.start)
    set_optional_timestamp(message, "end_date", booking.end)
    set_optional_timestamp(message, "waiting_list_offer_expires", booking.offer_expires)
    for namespace, value in booking.extended_fields.items():
        struct = struct_pb2.Struct()
        struct.update(value)
        message.extended_fields[namespace].CopyFrom(struct)
    return message


def event_to_proto(event: BookingEvent) -> bookings_service_pb2.BookingEvent:
    message = bookings_service_pb2.BookingEvent(
        id=event.id,
        cursor=event.cursor,
        type=bookings_service_pb2.EventType.Value(f"EVENT_TYPE_{event.type.value}"),
        booking=booking_to_proto(event.booking),
        actor=actor_to_proto(event.actor),
    )
    set_optional_timestamp(message, "occurred_date", event.occurred_at)
    return message


def actor_to_proto(actor: Actor) -> booking_pb2.IdentificationData:
    return booking_pb2.IdentificationData(
        identity_type=options_pb2.IdentityType.Value(f"IDENTITY_TYPE_{actor.identity_type.value}"),
        identity_id=actor.identity_id,
    )


def slot_to_proto(slot: BookedSlot) -> booking_pb2.BookedSlot:
    message = booking_pb2.BookedSlot(
        session_id=slot.session_id,
        service_id=slot.service_id,
        schedule_id=slot.schedule_id,
        timezone=slot.timezone,
        resource=booking_pb2.SlotResource(
            id=slot.resource.id,
            name=slot.resource.name,
            email=slot.resource.email,
            schedule_id=slot.resource.schedule_id,
        ),
    )
    location_to_proto(slot.location, message.location)
    set_optional_timestamp(message, "start_date", slot.start)
    set_optional_timestamp(message, "end_date", slot.end)
    return message


def schedule_to_proto(schedule: BookedSchedule) -> booking_pb2.BookedSchedule:
    message = booking_pb2.BookedSchedule(
        schedule_id=schedule.schedule_id,
        service_id=schedule.service_id,
        timezone=schedule.timezone,
    )
    set_optional_timestamp(message, "first_session_start", schedule.first_session_start)
    set_optional_timestamp(message, "last_session_end", schedule.last_session_end)
    return message


def _contact_to_proto(contact: ContactDetails) -> booking_pb2.ContactDetails:
    return booking_pb2.ContactDetails(
        contact_id=contact.contact_id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        time_zone=contact.time_zone,
        country_code=contact.country_code,
    )


def _choices_to_proto(groups: tuple[ChoiceGroup, ...]) -> booking_pb2.ParticipantChoices:
    message = booking_pb2.ParticipantChoices()
    for group in groups:
        entry = message.service_choices.add(number_of_participants=group.number_of_participants)
        for choice in group.choices:
            added = entry.choices.add(option_id=choice.option_id)
            if choice.custom is not None:
                added.custom = choice.custom
            elif choice.duration_minutes is not None:
                added.duration.minutes = choice.duration_minutes
                added.duration.name = choice.duration_name
    return message
