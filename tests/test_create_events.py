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


def append(database: Database, booking_id: str) -> None:
    with database.write() as session:
        BookingRepository(session, SITE).append_event(
            EventType.BOOKING_CREATED, a_booking(booking_id), OWNER, datetime.now(UTC)
        )


def stream(database: Database) -> list[tuple[int, str]]:
    """The site's stream as a follower sees it: (sequence, booking id), committed events
    numbered first (PostgreSQL numbers them after commit; SQLite as they are written)."""
    if database.dialect == "postgresql":
        with database.write() as session:
            BookingRepository(session, SITE).number_events(100)
    with database.read() as session:
        events = BookingRepository(session, SITE).events_after(0, 100)
    return [(event.sequence, event.booking.id) for event in events]


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
    for index in range(3):
        append(database, f"b-{index}")
    assert stream(database) == [(1, "b-0"), (2, "b-1"), (3, "b-2")]


def test_an_uncommitted_event_is_neither_seen_nor_numbered(database: Database) -> None:
    """A follower never sees an event that may still roll back, nor a number after it."""
    appended, release = threading.Event(), threading.Event()

    def open_transaction() -> None:
        with database.write() as session:
            BookingRepository(session, SITE).append_event(
                EventType.BOOKING_CREATED, a_booking("open"), OWNER, datetime.now(UTC)
            )
            appended.set()
            release.wait(10)

    writer = threading.Thread(target=open_transaction)
    writer.start()
    try:
        assert appended.wait(10)
        seen_meanwhile = stream(database)
    finally:
        release.set()
        writer.join(10)
    assert seen_meanwhile == []
    assert stream(database) == [(1, "open")]


def test_a_rolled_back_event_leaves_no_gap(database: Database) -> None:
    with pytest.raises(RuntimeError), database.write() as session:
        BookingRepository(session, SITE).append_event(
            EventType.BOOKING_CREATED, a_booking("rolled-back"), OWNER, datetime.now(UTC)
        )
        raise RuntimeError("the use case failed after writing its event")
    append(database, "kept")
    assert stream(database) == [(1, "kept")]
