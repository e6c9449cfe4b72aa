"""Protobuf <-> domain for QueryAvailability."""

from __future__ import annotations

from bookings.v1 import availability_service_pb2 as pb
from bookings.v1 import booking_pb2

from bookings_server.api.booking_convert import instant
from bookings_server.domain.availability import AvailabilityEntry, AvailabilityPage
from bookings_server.domain.availability_query import AvailabilityQuery
from bookings_server.domain.booking import BookedSlot
from bookings_server.domain.catalog import Location


def query_from_request(request: pb.QueryAvailabilityRequest) -> AvailabilityQuery:
    """The request as an AvailabilityQuery (validated later by `validate_query`)."""
    return AvailabilityQuery(
        service_ids=tuple(request.service_id),
        start=instant(request, "start_date", "start_date"),
        end=instant(request, "end_date", "end_date"),
        timezone=request.timezone,
        resource_ids=tuple(request.resource_id),
        bookable=request.bookable if request.HasField("bookable") else None,
        min_open_spots=request.open_spots,
        slots_per_day=request.slots_per_day,
        page_size=request.page_size,
        page_token=request.page_token,
    )


def page_to_proto(page: AvailabilityPage) -> pb.QueryAvailabilityResponse:
    return pb.QueryAvailabilityResponse(
        availability_entries=[_entry_to_proto(entry) for entry in page.entries],
        next_page_token=page.next_page_token,
        timezone=page.timezone,
    )


def _entry_to_proto(entry: AvailabilityEntry) -> pb.SlotAvailability:
    message = pb.SlotAvailability(
        slot=_slot_to_proto(entry.slot),
        bookable=entry.bookable,
        total_spots=entry.total_spots,
        open_spots=entry.open_spots,
        booking_policy_violations=pb.BookingPolicyViolations(
            too_early_to_book=entry.violations.too_early_to_book,
            too_late_to_book=entry.violations.too_late_to_book,
            book_online_disabled=entry.violations.book_online_disabled,
        ),
        locked=entry.locked,
        local_start_date=entry.local_start,
        local_end_date=entry.local_end,
        schedule_id=entry.schedule_id,
    )
    if entry.waiting_list is not None:
        message.waiting_list.total_spots = entry.waiting_list.total_spots
        message.waiting_list.open_spots = entry.waiting_list.open_spots
    return message


def _slot_to_proto(slot: BookedSlot) -> booking_pb2.BookedSlot:
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
        location=_location_to_proto(slot.location),
    )
    if slot.start is not None:
        message.start_date.FromDatetime(slot.start)
    if slot.end is not None:
        message.end_date.FromDatetime(slot.end)
    return message


def _location_to_proto(location: Location) -> booking_pb2.Location:
    kind = location.location_type
    return booking_pb2.Location(
        id=location.id,
        name=location.name,
        formatted_address=location.formatted_address,
        location_type=(
            booking_pb2.LocationType.Value(f"LOCATION_TYPE_{kind.value}") if kind else 0
        ),
    )
