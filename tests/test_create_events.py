"""The BOOKING_CREATED event and the per-site event sequence (SPEC 3.11)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from booking_helpers import SITE, BookingEnv, booking_env, class_booking

from bookings_server.domain.booking import (
    Actor,
    BookedSlot,
    Booking,
    BookingStatus,
    EventType,
    PaymentStatus,
)
from bookings_server.domain.identity import IdentityType
from bookings_server.store.booking_repository import BookingRepository
from bookings_server.store.database import Database

OWNER = Actor(IdentityType.OWNER, "owner-1")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    opened = Database.from_url(database_url)
    yield opened
    opened.dispose()


def a_booking(booking_id: str) -> Booking:
    start = datetime(2030, 1, 1, 10, tzinfo=UTC)
    return Booking(
        id=booking_id,
        site_id=SITE,
        status=BookingStatus.CREATED,
        payment_status=PaymentStatus.UNDEFINED,
        participants=1,
        revision=1,
        created_by=OWNER,
        slot=BookedSlot("service-1", start, start + timedelta(hours=1), session_id="s-1"),
        start=start,
        end=start + timedelta(hours=1),
    )


def append(database: Database, booking_id: str) -> int:
    with database.write() as session:
        event = BookingRepository(session, SITE).append_event(
            EventType.BOOKING_CREATED, a_booking(booking_id), OWNER, datetime.now(UTC)
        )
        return event.sequence


def test_a_created_booking_records_one_booking_created_event(
    database_url,
    start_server,
    auth_metadata,  # type: ignore[no-untyped-def]
) -> None:
    env: BookingEnv
    with booking_env(database_url, start_server, auth_metadata) as env:
        booking = env.visitor().create(
            class_booking(env.catalog.session, env.catalog.class_service)
        )
        database = Database.from_url(database_url)
        try:
            with database.read() as session:
                events = BookingRepository(session, SITE).events_of_booking(booking.id)
        finally:
            database.dispose()

    assert [(e.type, e.booking.id, e.actor.identity_type) for e in events] == [
        (EventType.BOOKING_CREATED, booking.id, IdentityType.VISITOR)
    ]


def test_sequences_count_up_per_site(database: Database) -> None:
    assert [append(database, f"b-{i}") for i in range(3)] == [1, 2, 3]


def test_an_event_cannot_commit_before_an_earlier_numbered_one(database: Database) -> None:
    """A follower never sees sequence 2 while sequence 1 may still commit."""
    first_appended, release_first = threading.Event(), threading.Event()
    second: list[int] = []

    def first_transaction() -> None:
        with database.write() as session:
            BookingRepository(session, SITE).append_event(
                EventType.BOOKING_CREATED, a_booking("first"), OWNER, datetime.now(UTC)
            )
            first_appended.set()
            release_first.wait(10)

    first = threading.Thread(target=first_transaction)
    first.start()
    first_appended.wait(10)
    later = threading.Thread(target=lambda: second.append(append(database, "second")))
    later.start()
    later.join(0.5)
    with database.read() as session:
        seen_meanwhile = BookingRepository(session, SITE).events_after(0, 10)
    release_first.set()
    first.join(10)
    later.join(10)

    with database.read() as session:
        committed = BookingRepository(session, SITE).events_after(0, 10)
    assert seen_meanwhile == []
    assert second == [2]
    assert [(e.sequence, e.booking.id) for e in committed] == [(1, "first"), (2, "second")]
