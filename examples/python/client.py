"""Holds an appointment slot, books it from the hold and confirms it, over the Bookings gRPC API.

The stubs come from the installed package (`pip install bookings-server` ships `bookings.v1`).
Configuration comes from the environment:
  BOOKINGS_TOKEN    a bearer token (`bookings token mint --site demo-site --identity owner`)
  BOOKINGS_ADDRESS  host:port of the server (default localhost:50051)

Exit status: 0 when the booking is confirmed, 1 on a gRPC error (its status and the
google.rpc.ErrorInfo reason are printed), 2 when the catalog has nothing to book.
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

import grpc
from bookings.v1 import (
    availability_service_pb2,
    availability_service_pb2_grpc,
    booking_pb2,
    bookings_service_pb2,
    bookings_service_pb2_grpc,
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
)
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_status import rpc_status

DEADLINE_SECONDS = 10.0
#: How long the slot is held while the customer "checks out" (the server allows 30 minutes).
HOLD_SECONDS = 5 * 60


class NothingToBook(Exception):
    """The catalog has no appointment service, or it has no bookable slot."""


def book_and_confirm(channel: grpc.Channel, token: str) -> booking_pb2.Booking:
    """List services, find a free appointment slot, hold it, book it from the hold, confirm
    it; print each step."""
    auth = (("authorization", f"Bearer {token}"),)
    catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    availability = availability_service_pb2_grpc.AvailabilityServiceStub(channel)
    bookings = bookings_service_pb2_grpc.BookingsServiceStub(channel)

    services = catalog.ListServices(
        catalog_service_pb2.ListServicesRequest(page_size=100),
        metadata=auth,
        timeout=DEADLINE_SECONDS,
    ).services
    print(f"services on the site ({len(services)}):")
    for service in services:
        print(f"  - {service.name} [{catalog_pb2.ServiceType.Name(service.type)}] id={service.id}")
    # An appointment that needs no manual approval, so ConfirmOrDeclineBooking can confirm it.
    appointments = [
        s
        for s in services
        if s.type == catalog_pb2.SERVICE_TYPE_APPOINTMENT
        and not s.online_booking.require_manual_approval
    ]
    if not appointments:
        raise NothingToBook("the site has no appointment service without manual approval")
    service = appointments[0]

    now = datetime.now(UTC)
    found = availability.QueryAvailability(
        availability_service_pb2.QueryAvailabilityRequest(
            service_id=[service.id],
            start_date=_timestamp(now),
            end_date=_timestamp(now + timedelta(days=7)),
            bookable=True,
            page_size=10,
        ),
        metadata=auth,
        timeout=DEADLINE_SECONDS,
    )
    entries = found.availability_entries
    print(f'bookable slots of "{service.name}" in the next 7 days (first page): {len(entries)}')
    if not entries:
        raise NothingToBook(f'"{service.name}" has no bookable slot in the next 7 days')
    slot = entries[0].slot
    staff = slot.resource.name or slot.resource.id or "anyone"
    print(f"holding the first one: {entries[0].local_start_date} {found.timezone} with {staff}")

    # The hold keeps the slot while the customer fills in the form: nobody else can take it.
    hold = bookings.CreateHold(
        bookings_service_pb2.CreateHoldRequest(
            booked_entity=booking_pb2.BookedEntity(slot=slot),
            total_participants=1,
            ttl=Duration(seconds=HOLD_SECONDS),
            request_id=str(uuid.uuid4()),
        ),
        metadata=auth,
        timeout=DEADLINE_SECONDS,
    ).hold
    print(f"hold {hold.id}: the slot is kept until {hold.expires_date.ToJsonString()}")

    # The booking takes the hold's slot and participants: only the contact details are new.
    created = bookings.CreateBooking(
        bookings_service_pb2.CreateBookingRequest(
            booking=booking_pb2.Booking(
                contact_details=booking_pb2.ContactDetails(
                    first_name="Ada", last_name="Lovelace", email="ada@example.com"
                ),
            ),
            hold_id=hold.id,
            request_id=str(uuid.uuid4()),
        ),
        metadata=auth,
        timeout=DEADLINE_SECONDS,
    ).booking
    print(
        f"created booking {created.id} from hold {created.hold_id}: {_status(created)}, "
        f"revision {created.revision}"
    )

    decided = bookings.ConfirmOrDeclineBooking(
        bookings_service_pb2.ConfirmOrDeclineBookingRequest(
            booking_id=created.id, revision=created.revision
        ),
        metadata=auth,
        timeout=DEADLINE_SECONDS,
    ).booking
    print(
        f"confirmed booking {decided.id}: {_status(decided)}, "
        f"payment {booking_pb2.PaymentStatus.Name(decided.payment_status)}, "
        f"revision {decided.revision}, "
        f"{decided.start_date.ToJsonString()} - {decided.end_date.ToJsonString()}"
    )
    return decided


def describe_rpc_error(error: grpc.RpcError) -> list[str]:
    """The status code and message, then the ErrorInfo reason and any field violations."""
    assert isinstance(error, grpc.Call)
    lines = [f"{error.code().name}: {error.details()}"]
    status = rpc_status.from_call(error)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            lines.append(f"reason: {info.reason} (domain {info.domain}) {dict(info.metadata)}")
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            lines += [f"field {v.field}: {v.description}" for v in bad_request.field_violations]
    return lines


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _status(booking: booking_pb2.Booking) -> str:
    return str(booking_pb2.BookingStatus.Name(booking.status))


def main() -> int:
    token = os.environ.get("BOOKINGS_TOKEN")
    if not token:
        print("error: BOOKINGS_TOKEN is not set; mint one with", file=sys.stderr)
        print("  bookings token mint --site demo-site --identity owner", file=sys.stderr)
        return 2
    address = os.environ.get("BOOKINGS_ADDRESS", "localhost:50051")
    with grpc.insecure_channel(address) as channel:
        try:
            booking = book_and_confirm(channel, token)
        except grpc.RpcError as error:
            for line in describe_rpc_error(error):
                print(f"error: {line}", file=sys.stderr)
            return 1
        except NothingToBook as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    if booking.status != booking_pb2.BOOKING_STATUS_CONFIRMED:
        print(f"error: the booking was not confirmed: {_status(booking)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
