"""The store tells a retry (a request_id already stored) by the unique constraint, never by the
driver's error text (SPEC 3.10), on both stores."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from lifecycle_support import SITE, Seeder
from sqlalchemy.exc import IntegrityError

from bookings_server.app.bookings.create import BookingCreator
from bookings_server.domain.booking import BookedSlot, Booking
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.identity import IdentityType, Principal
from bookings_server.store.booking_repository import DuplicateRequestId

VISITOR = Principal(SITE, IdentityType.VISITOR, "visitor")


def _stored_booking(seeder: Seeder, booking_id: str = "") -> Booking:
    setup = seeder.class_session(capacity=5)
    slot = BookedSlot(setup.service.id, session_id=setup.session.id)
    draft = BookingDraft(slot=slot, total_participants=1, request_id="r-1", request_hash="h")
    booking = BookingCreator(seeder.uow).create(draft, VISITOR)
    return replace(booking, id=booking_id) if booking_id else booking


def test_an_insert_with_a_stored_request_id_is_a_retry_and_stores_nothing(seeder: Seeder) -> None:
    booking = _stored_booking(seeder)

    with pytest.raises(DuplicateRequestId), seeder.uow.write(SITE) as tx:
        tx.bookings.insert_booking(
            replace(booking, id=str(uuid.uuid4())), request_id="r-1", request_hash="h"
        )

    with seeder.uow.read(SITE) as tx:
        assert tx.bookings.find_by_request_id("r-1") == (booking, "h")


def test_another_unique_violation_is_not_taken_for_a_retry(seeder: Seeder) -> None:
    """A clash on the booking id whose text mentions "request_id" is still not a retry."""
    booking = _stored_booking(seeder)
    with seeder.uow.write(SITE) as tx:
        tx.bookings.insert_booking(replace(booking, id="request_id-clash"))

    with pytest.raises(IntegrityError), seeder.uow.write(SITE) as tx:
        tx.bookings.insert_booking(
            replace(booking, id="request_id-clash"), request_id="r-2", request_hash="h"
        )
