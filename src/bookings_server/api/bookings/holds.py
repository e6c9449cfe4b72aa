"""CreateHold and ReleaseHold on the wire: requests to plain data, holds to protobuf."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from bookings.v1 import booking_pb2
from bookings.v1 import bookings_service_pb2 as pb

from bookings_server.api.bookings.convert import schedule_to_proto, slot_from_proto, slot_to_proto
from bookings_server.api.proto_types import duration_from_proto, set_optional_timestamp
from bookings_server.domain.booking import BookedSchedule, BookedSlot
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.holds import Hold

#: Where CreateHoldRequest has what is held.
ENTITY = "booked_entity"


def draft_from_hold_request(request: pb.CreateHoldRequest) -> tuple[BookingDraft, timedelta | None]:
    """What the hold asks for, in the shape CreateBooking's rules check, and its ttl."""
    entity = request.booked_entity
    slot: BookedSlot | None = None
    schedule: BookedSchedule | None = None
    which = entity.WhichOneof("item")
    if which == "slot":
        slot = slot_from_proto(entity.slot, f"{ENTITY}.slot")
    elif which == "schedule":
        schedule = BookedSchedule(entity.schedule.service_id, entity.schedule.schedule_id)
    draft = BookingDraft(
        slot=slot,
        schedule=schedule,
        total_participants=request.total_participants,
        request_id=request.request_id,
        request_hash=_fingerprint(request) if request.request_id else "",
    )
    return draft, duration_from_proto(request, "ttl", "ttl")


def hold_to_proto(hold: Hold) -> booking_pb2.Hold:
    message = booking_pb2.Hold(
        id=hold.id,
        total_participants=hold.participants,
        booking_id=hold.booking_id,
        released=hold.released,
    )
    if hold.slot is not None:
        message.booked_entity.slot.CopyFrom(slot_to_proto(hold.slot))
    elif hold.schedule is not None:
        message.booked_entity.schedule.CopyFrom(schedule_to_proto(hold.schedule))
    set_optional_timestamp(message, "expires_date", hold.expires)
    set_optional_timestamp(message, "created_date", hold.created)
    return message


def _fingerprint(request: pb.CreateHoldRequest) -> str:
    """SHA-256 of the request body without its request_id (deterministic serialization)."""
    body = pb.CreateHoldRequest()
    body.CopyFrom(request)
    body.request_id = ""
    return hashlib.sha256(body.SerializeToString(deterministic=True)).hexdigest()
