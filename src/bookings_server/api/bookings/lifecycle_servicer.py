"""The lifecycle RPCs of bookings.v1.BookingsService: decode, call BookingLifecycle, encode.

`LifecycleRpcs` is mixed into the BookingsService servicer (api/bookings_servicer.py), which
calls `LifecycleRpcs.__init__(self, database)` from its own constructor.
"""

from __future__ import annotations

from typing import Any

import grpc
from bookings.v1 import bookings_service_pb2 as pb

from bookings_server.api.bookings.convert import booking_to_proto, payment_status, slot_from_proto
from bookings_server.api.context import current_principal
from bookings_server.app.bookings.create import Clock, utc_now
from bookings_server.app.bookings.lifecycle import BookingLifecycle, Notification
from bookings_server.app.bookings.reschedule import Rescheduler
from bookings_server.domain.booking_rules import MAX_TEXT_LENGTH
from bookings_server.domain.errors import InvalidArgument
from bookings_server.store.database import Database

#: Longest booking id accepted; ids are UUIDs, anything longer cannot exist.
MAX_BOOKING_ID_LENGTH = 200


class LifecycleRpcs:
    """ConfirmOrDeclineBooking, ConfirmBooking, DeclineBooking, CancelBooking and
    RescheduleBooking."""

    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self.lifecycle = BookingLifecycle(database, clock)
        self.rescheduler = Rescheduler(database, clock)

    def ConfirmOrDeclineBooking(
        self, request: pb.ConfirmOrDeclineBookingRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmOrDeclineBookingResponse:
        booking = self.lifecycle.confirm_or_decline(
            current_principal(),
            booking_id_of(request),
            payment_status=payment_status(request.payment_status, "payment_status"),
            revision=request.revision,
        )
        return pb.ConfirmOrDeclineBookingResponse(booking=booking_to_proto(booking))

    def ConfirmBooking(
        self, request: pb.ConfirmBookingRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmBookingResponse:
        booking = self.lifecycle.confirm(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            payment_status=payment_status(request.payment_status, "payment_status"),
            notification=notification_of(request),
        )
        return pb.ConfirmBookingResponse(booking=booking_to_proto(booking))

    def DeclineBooking(
        self, request: pb.DeclineBookingRequest, context: grpc.ServicerContext
    ) -> pb.DeclineBookingResponse:
        booking = self.lifecycle.decline(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            payment_status=payment_status(request.payment_status, "payment_status"),
            notification=notification_of(request),
        )
        return pb.DeclineBookingResponse(booking=booking_to_proto(booking))

    def CancelBooking(
        self, request: pb.CancelBookingRequest, context: grpc.ServicerContext
    ) -> pb.CancelBookingResponse:
        booking = self.lifecycle.cancel(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            notification=notification_of(request),
            ignore_cancellation_policy=request.ignore_cancellation_policy,
        )
        return pb.CancelBookingResponse(booking=booking_to_proto(booking))

    def RescheduleBooking(
        self, request: pb.RescheduleBookingRequest, context: grpc.ServicerContext
    ) -> pb.RescheduleBookingResponse:
        if not request.HasField("slot"):
            raise InvalidArgument.field("slot", "is required")
        booking = self.rescheduler.reschedule(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            slot=slot_from_proto(request.slot, "slot"),
            notification=notification_of(request),
            skip_availability_validation=request.skip_availability_validation,
            ignore_booking_policy=request.ignore_booking_policy,
        )
        return pb.RescheduleBookingResponse(booking=booking_to_proto(booking))


def booking_id_of(request: Any) -> str:
    """The request's booking_id; INVALID_ARGUMENT when empty or absurdly long."""
    booking_id: str = request.booking_id
    if not booking_id:
        raise InvalidArgument.field("booking_id", "is required")
    if len(booking_id) > MAX_BOOKING_ID_LENGTH:
        raise InvalidArgument.field("booking_id", f"at most {MAX_BOOKING_ID_LENGTH} characters")
    return booking_id


def notification_of(request: Any) -> Notification:
    given = request.participant_notification
    if len(given.message) > MAX_TEXT_LENGTH:
        raise InvalidArgument.field(
            "participant_notification.message", f"at most {MAX_TEXT_LENGTH} characters"
        )
    return Notification(notify=given.notify_participants, message=given.message)
