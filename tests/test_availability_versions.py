"""The availability versions (migration 0008): every write that can change availability bumps
what it touched in its own transaction, whatever path it takes; a CREATED booking bumps
nothing. Checked on both stores, through the wire and through the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from booking_helpers import (
    SITE,
    BookingEnv,
    appointment_booking,
    booking_env,
    class_booking,
    hour_from_now,
)
from bookings.v1 import booking_pb2, bookings_service_pb2
from sqlalchemy import event

from bookings_server.domain.availability.versions import CATALOG, session_key
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork

CONFIRMED = booking_pb2.BOOKING_STATUS_CONFIRMED


@pytest.fixture
def env(database_url, start_server, auth_metadata) -> Iterator[BookingEnv]:  # type: ignore[no-untyped-def]
    with booking_env(database_url, start_server, auth_metadata) as environment:
        yield environment


def _versions(env: BookingEnv, *keys: str) -> dict[str, int]:
    database = Database.from_url(env.database_url)
    try:
        return SqlUnitOfWork(database).availability_versions(SITE, keys)
    finally:
        database.dispose()


def _staff_day(env: BookingEnv, start_hours: int) -> str:
    day = hour_from_now(start_hours).astimezone(UTC).date().isoformat()
    return f"staff/{env.catalog.staff}/{day}"


def test_a_created_booking_bumps_nothing(env: BookingEnv) -> None:
    key = session_key(env.catalog.session)
    before = _versions(env, key, CATALOG)

    env.visitor().create(class_booking(env.catalog.session, env.catalog.class_service))

    assert _versions(env, key, CATALOG) == before


def test_confirming_and_canceling_a_class_booking_bump_its_session(env: BookingEnv) -> None:
    key = session_key(env.catalog.session)
    booking = env.visitor().create(class_booking(env.catalog.session, env.catalog.class_service))
    before = _versions(env, key)[key]

    confirmed = env.client().stub.ConfirmOrDeclineBooking(
        bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=booking.id),
        metadata=env.client().metadata,
    )
    after_confirm = _versions(env, key)[key]
    env.client().stub.CancelBooking(
        bookings_service_pb2.CancelBookingRequest(
            booking_id=booking.id, revision=confirmed.booking.revision
        ),
        metadata=env.client().metadata,
    )

    assert before < after_confirm < _versions(env, key)[key]


def test_a_confirmed_appointment_bumps_its_staff_members_day_only(env: BookingEnv) -> None:
    booked, other = _staff_day(env, 30), _staff_day(env, 80)
    before = _versions(env, booked, other)
    request = appointment_booking(
        env.catalog.appointment_service, env.catalog.staff, hour_from_now(30)
    )
    request.status = CONFIRMED

    env.client().create(request)

    after = _versions(env, booked, other)
    assert after[booked] == before[booked] + 1
    assert after[other] == before[other]


def test_a_catalog_change_bumps_the_sites_catalog(env: BookingEnv) -> None:
    before = _versions(env, CATALOG)[CATALOG]
    assert before > 0  # the seeding itself

    database = Database.from_url(env.database_url)
    try:
        with SqlUnitOfWork(database).write(SITE) as tx:
            service = tx.catalog.get_service(env.catalog.class_service)
            tx.catalog.update_service(service, datetime.now(UTC))
    finally:
        database.dispose()

    assert _versions(env, CATALOG)[CATALOG] > before


def test_the_versions_are_read_in_one_statement_of_their_own(database_url: str) -> None:
    """What a cached answer is checked against costs one statement: on SQLite not even a
    BEGIN or ROLLBACK around it (a lone statement is its own snapshot there)."""
    database = Database.from_url(database_url)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.split()[0].upper())

    try:
        uow = SqlUnitOfWork(database)
        uow.availability_versions(SITE, [CATALOG])  # connect first (pragmas)
        event.listen(database.engine, "before_cursor_execute", seen)
        assert uow.availability_versions(SITE, [CATALOG, "staff/a/2026-12-01"]) == {
            CATALOG: 0,
            "staff/a/2026-12-01": 0,
        }
    finally:
        database.dispose()
    # PostgreSQL sets the transaction's timeouts first (one SELECT set_config).
    expected = ["SELECT"] if database_url.startswith("sqlite") else ["SELECT", "SELECT"]
    assert [s for s in statements if s != "PRAGMA"] == expected
