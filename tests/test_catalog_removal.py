"""DeleteService, DeleteStaffMember and DeleteSession through the use cases, on both stores: a
deleted entity leaves lists, availability and new bookings at once and stays readable; active
bookings refuse the delete unless it cancels them in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lifecycle_support import SITE, ClassSetup, Seeder

from bookings_server.app.availability import AvailabilityReader
from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.catalog_removal import CatalogRemoval
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.booking import (
    BookedSlot,
    Booking,
    BookingStatus,
    EventType,
    SlotResource,
)
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.catalog_removal import DeleteOptions
from bookings_server.domain.errors import FailedPrecondition, NotFound
from bookings_server.domain.identity import IdentityType, Principal
from bookings_server.domain.outbox import OutboxKind
from bookings_server.domain.page_tokens import PageTokenCodec

OWNER = Principal(SITE, IdentityType.OWNER, "owner")
CANCEL = DeleteOptions(cancel_bookings=True, message="The class is no more.")


def _book(seeder: Seeder, setup: ClassSetup) -> Booking:
    slot = BookedSlot(setup.service.id, session_id=setup.session.id)
    return BookingCreator(seeder.uow).create(BookingDraft(slot=slot, total_participants=1), OWNER)


def _availability(seeder: Seeder, setup: ClassSetup) -> list[str]:
    reader = AvailabilityReader(seeder.uow, page_tokens=PageTokenCodec.from_secret("test"))
    start = setup.session.start - timedelta(days=1)
    query = AvailabilityQuery((setup.service.id,), start, start + timedelta(days=3))
    page, _ = reader.query(SITE, query)
    return [entry.slot.session_id for entry in page.entries]


def test_a_deleted_service_leaves_lists_availability_and_new_bookings(seeder: Seeder) -> None:
    setup = seeder.class_session()

    service, canceled = CatalogRemoval(seeder.uow).delete_service(
        OWNER, setup.service.id, DeleteOptions()
    )

    assert service.deleted_date is not None and canceled == 0
    with seeder.uow.read(SITE) as tx:
        assert tx.catalog.get_service(setup.service.id).deleted_date == service.deleted_date
        assert tx.catalog.get_session(setup.session.id).deleted_date is not None
        assert setup.service.id not in [s.id for s in tx.catalog.list_services().items]
    with pytest.raises(NotFound):
        _availability(seeder, setup)
    with pytest.raises(NotFound):
        _book(seeder, setup)


def test_active_bookings_refuse_the_delete_and_nothing_changes(seeder: Seeder) -> None:
    setup = seeder.class_session()
    _book(seeder, setup)

    with pytest.raises(FailedPrecondition) as refused:
        CatalogRemoval(seeder.uow).delete_service(OWNER, setup.service.id, DeleteOptions())

    assert (refused.value.reason, refused.value.metadata["active_bookings"]) == (
        "HAS_ACTIVE_BOOKINGS",
        "1",
    )
    with seeder.uow.read(SITE) as tx:
        assert tx.catalog.get_service(setup.service.id).deleted_date is None


def test_a_delete_that_cancels_cancels_each_booking_with_its_event_and_notification(
    seeder: Seeder,
) -> None:
    setup = seeder.class_session()
    bookings = [_book(seeder, setup) for _ in range(2)]

    _, canceled = CatalogRemoval(seeder.uow).delete_session(OWNER, setup.session.id, CANCEL)

    assert canceled == 2
    with seeder.uow.read(SITE) as tx:
        for booking in bookings:
            stored = tx.bookings.get_booking(booking.id)
            assert stored.status is BookingStatus.CANCELED
            assert stored.notification_message == CANCEL.message
            assert tx.bookings.events_of_booking(booking.id)[-1].type is (
                EventType.BOOKING_CANCELED
            )
            kinds = [item.kind for item in tx.outbox.list_items(booking_id=booking.id)]
            assert OutboxKind.PARTICIPANT_NOTIFICATION in kinds
    assert _availability(seeder, setup) == []


def test_a_deleted_staff_member_leaves_their_services_and_cannot_be_booked(
    seeder: Seeder,
) -> None:
    setup = seeder.team(2)
    gone, kept = setup.staff

    CatalogRemoval(seeder.uow).delete_staff_member(OWNER, gone.id, DeleteOptions())

    with seeder.uow.read(SITE) as tx:
        assert tx.catalog.get_service(setup.service.id).staff_member_ids == (kept.id,)
        assert tx.catalog.get_staff_member(gone.id).deleted_date is not None
    slot = BookedSlot(setup.service.id, start=setup.start, resource=SlotResource(gone.id))
    with pytest.raises(FailedPrecondition) as refused:
        BookingCreator(seeder.uow).create(BookingDraft(slot=slot, total_participants=1), OWNER)
    assert refused.value.reason == "SLOT_NOT_AVAILABLE"


def test_deleting_twice_changes_nothing_and_an_unknown_id_is_not_found(seeder: Seeder) -> None:
    setup = seeder.class_session()
    removal = CatalogRemoval(seeder.uow)
    first, _ = removal.delete_session(OWNER, setup.session.id, DeleteOptions())

    assert removal.delete_session(OWNER, setup.session.id, DeleteOptions()) == (first, 0)
    with pytest.raises(NotFound):
        removal.delete_service(OWNER, "no-such-service", DeleteOptions())
