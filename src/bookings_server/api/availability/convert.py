"""Protobuf <-> domain for QueryAvailability."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bookings.v1 import availability_service_pb2 as pb

from bookings_server.api.bookings.convert import slot_to_proto
from bookings_server.api.proto_types import set_timestamp, timestamp_from_proto
from bookings_server.domain.availability.entries import AvailabilityEntry, AvailabilityPage
from bookings_server.domain.availability.request import AvailabilityQuery


def query_from_request(request: pb.QueryAvailabilityRequest) -> AvailabilityQuery:
    """The request as an AvailabilityQuery (validated later by `validate_query`)."""
    return AvailabilityQuery(
        service_ids=tuple(request.service_id),
        start=timestamp_from_proto(request, "start_date", "start_date"),
        end=timestamp_from_proto(request, "end_date", "end_date"),
        timezone=request.timezone,
        resource_ids=tuple(request.resource_id),
        bookable=request.bookable if request.HasField("bookable") else None,
        min_open_spots=request.open_spots,
        slots_per_day=request.slots_per_day,
        page_size=request.page_size,
        page_token=request.page_token,
        merge_staff=request.merge_staff,
    )


def page_to_proto(page: AvailabilityPage, next_page_token: str) -> pb.QueryAvailabilityResponse:
    """The page and the next page's token as a response.

    Each entry is two C-level merges, of its pattern's message (see `PageRow`) and of a
    message holding its times, instead of five nested messages built in Python. Staff members
    with the same hours share their times' messages.
    """
    response = pb.QueryAvailabilityResponse(next_page_token=next_page_token, timezone=page.timezone)
    # Keyed by id(): the page holds every pattern while this runs, so no id is reused.
    templates: dict[int, pb.SlotAvailability] = {}
    # Local times are a function of the instants within one page (one zone).
    times: dict[tuple[datetime, datetime], pb.SlotAvailability] = {}
    add = response.availability_entries.add
    for pattern, start, end, local_start, local_end in page.rows:
        template = templates.get(id(pattern))
        if template is None:
            template = templates[id(pattern)] = _template(pattern)
        timing = times.get((start, end))
        if timing is None:
            timing = times[start, end] = _times(start, end, local_start, local_end)
        message = add()
        message.MergeFrom(template)
        message.MergeFrom(timing)
    return response


def _times(start: datetime, end: datetime, local_start: str, local_end: str) -> pb.SlotAvailability:
    message = pb.SlotAvailability(local_start_date=local_start, local_end_date=local_end)
    set_timestamp(message.slot.start_date, start)
    set_timestamp(message.slot.end_date, end)
    return message


def _template(entry: AvailabilityEntry) -> pb.SlotAvailability:
    """The entry's message without its times (start and end present, at zero)."""
    message = pb.SlotAvailability(
        slot=slot_to_proto(replace(entry.slot, start=None, end=None)),
        bookable=entry.bookable,
        total_spots=entry.total_spots,
        open_spots=entry.open_spots,
        booking_policy_violations=pb.BookingPolicyViolations(
            too_early_to_book=entry.violations.too_early_to_book,
            too_late_to_book=entry.violations.too_late_to_book,
            book_online_disabled=entry.violations.book_online_disabled,
        ),
        locked=entry.locked,
        schedule_id=entry.schedule_id,
    )
    message.slot.start_date.SetInParent()
    message.slot.end_date.SetInParent()
    if entry.waiting_list is not None:
        message.waiting_list.total_spots = entry.waiting_list.total_spots
        message.waiting_list.open_spots = entry.waiting_list.open_spots
    return message
