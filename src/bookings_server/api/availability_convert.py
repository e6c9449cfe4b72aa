"""Protobuf <-> domain for QueryAvailability."""

from __future__ import annotations

from bookings.v1 import availability_service_pb2 as pb

from bookings_server.api.booking_convert import instant, slot_to_proto
from bookings_server.domain.availability import AvailabilityEntry, AvailabilityPage
from bookings_server.domain.availability_query import AvailabilityQuery


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
        slot=slot_to_proto(entry.slot),
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
