"""The catalog reads of booking transactions through the per-process cache
(store/catalog_cache.py), on both stores: one statement once cached, never stale across
processes, and a transaction that writes the catalog reads its own writes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from lifecycle_support import SITE, ClassSetup, Seeder
from sqlalchemy import event

from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.catalog_removal import CatalogRemoval
from bookings_server.domain.booking import BookedSlot
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.catalog_removal import DeleteOptions
from bookings_server.domain.errors import NotFound
from bookings_server.domain.identity import IdentityType, Principal
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork

OWNER = Principal(SITE, IdentityType.OWNER, "owner")
CATALOG_TABLES = ("services", "service_staff_members", "sessions", "staff_members")


@pytest.fixture
def other_process(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    yield database
    database.dispose()


def _draft(setup: ClassSetup) -> BookingDraft:
    slot = BookedSlot(setup.service.id, session_id=setup.session.id)
    return BookingDraft(slot=slot, total_participants=1)


def _statements_while(database: Database, call: object) -> list[str]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]).split("WHERE")[0])

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        call()  # type: ignore[operator]
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    return seen


def test_a_booking_reads_a_cached_catalog_with_one_statement(
    seeder: Seeder, other_process: Database
) -> None:
    setup = seeder.class_session()
    creator = BookingCreator(SqlUnitOfWork(other_process))
    creator.create(_draft(setup), OWNER)

    statements = _statements_while(other_process, lambda: creator.create(_draft(setup), OWNER))

    catalog_reads = [s for s in statements if any(f"FROM {t} " in s for t in CATALOG_TABLES)]
    assert catalog_reads == []
    assert len([s for s in statements if "FROM availability_versions" in s]) == 1


def test_a_service_deleted_by_another_process_is_never_booked_from_the_cache(
    seeder: Seeder, other_process: Database
) -> None:
    setup = seeder.class_session()
    creator = BookingCreator(SqlUnitOfWork(other_process))
    creator.create(_draft(setup), OWNER)

    CatalogRemoval(seeder.uow).delete_service(
        OWNER, setup.service.id, DeleteOptions(cancel_bookings=True)
    )

    with pytest.raises(NotFound):
        creator.create(_draft(setup), OWNER)


def test_a_transaction_that_writes_the_catalog_reads_its_own_writes(seeder: Seeder) -> None:
    setup = seeder.class_session()
    with seeder.uow.write(SITE) as tx:
        cached = tx.cached_catalog.get_service(setup.service.id)
        tx.catalog.update_service(replace(cached, name="Pilates"), datetime.now(UTC))

        assert tx.cached_catalog.get_service(setup.service.id).name == "Pilates"
