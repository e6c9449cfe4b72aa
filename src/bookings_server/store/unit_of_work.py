"""The unit of work on SQL: one transaction of one site, its repositories and capacity locks.

app/unit_of_work.py describes what use cases may rely on; this is its implementation on a
`Database`. Repositories are created on first use and bound to the transaction's session and
site, so a use case never sees a session, a connection or a site filter.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy.orm import Session

from bookings_server.domain.capacity import CapacityUnit
from bookings_server.store.availability_reads import AvailabilityReads
from bookings_server.store.availability_versions import AvailabilityVersions
from bookings_server.store.booking_repository import BookingRepository
from bookings_server.store.catalog_cache import CachedAvailabilityReads, CachedCatalog
from bookings_server.store.catalog_repository import CatalogRepository
from bookings_server.store.database import Database
from bookings_server.store.event_retention import EventHistory, EventRetention
from bookings_server.store.expired_offers import ExpiredOffers
from bookings_server.store.hold_repository import HoldRepository
from bookings_server.store.locks import lock_capacity_unit
from bookings_server.store.outbox_repository import OutboxQueue, OutboxRepository


class Transaction:
    """One open transaction for one site."""

    def __init__(self, session: Session, site_id: str, database: Database) -> None:
        self.site_id = site_id
        self._session = session
        self._database = database

    @cached_property
    def bookings(self) -> BookingRepository:
        return BookingRepository(self._session, self.site_id)

    @cached_property
    def catalog(self) -> CatalogRepository:
        return CatalogRepository(self._session, self.site_id)

    @cached_property
    def cached_catalog(self) -> CachedCatalog:
        """The catalog reads of a booking, through the process's cache while the site's
        catalog is unchanged (store/catalog_cache.py): for the booking use cases."""
        return CachedCatalog(self._session, self.site_id, self._database.catalog_cache)

    @cached_property
    def expired_offers(self) -> ExpiredOffers:
        """Every site's waiting-list offers that ran out (the worker's sweep)."""
        return ExpiredOffers(self._session)

    @cached_property
    def holds(self) -> HoldRepository:
        return HoldRepository(self._session, self.site_id)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self._session, self.site_id)

    @cached_property
    def outbox_queue(self) -> OutboxQueue:
        """Every site's due deliveries (the worker's view of the outbox)."""
        return OutboxQueue(self._session)

    @cached_property
    def event_history(self) -> EventHistory:
        """How far the site's event stream has been purged (retention)."""
        return EventHistory(self._session, self.site_id)

    @cached_property
    def event_retention(self) -> EventRetention:
        """Every site's old events, for the retention purge."""
        return EventRetention(self._session)

    @cached_property
    def availability(self) -> AvailabilityReads:
        """The catalog reads of QueryAvailability, through the process's cache while the
        site's catalog is unchanged (store/catalog_cache.py)."""
        return CachedAvailabilityReads(self._session, self.site_id, self._database.catalog_cache)

    @cached_property
    def availability_versions(self) -> AvailabilityVersions:
        return AvailabilityVersions(self._session, self.site_id)

    @property
    def serializes_writers(self) -> bool:
        """True when nothing another writer commits can appear inside this transaction
        (SQLite's single writer); PostgreSQL writers only exclude each other per locked unit."""
        return self._database.serializes_writers

    def lock(self, unit: CapacityUnit) -> None:
        """Hold `unit`'s capacity lock until the transaction ends (`Unavailable` on timeout)."""
        lock_capacity_unit(self._session, self.site_id, unit.lock_key)


class SqlUnitOfWork:
    """Opens read snapshots and write transactions on one Database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @contextmanager
    def read(self, site_id: str) -> Iterator[Transaction]:
        """One read snapshot, rolled back at the end."""
        with self.database.read() as session:
            yield Transaction(session, site_id, self.database)

    @contextmanager
    def write(self, site_id: str) -> Iterator[Transaction]:
        """A write transaction: commits when the block succeeds, rolls back when it raises."""
        with self.database.write() as session:
            yield Transaction(session, site_id, self.database)

    def availability_versions(self, site_id: str, keys: Collection[str]) -> dict[str, int]:
        """The site's availability versions of `keys`, in one statement of its own."""
        with self.database.read_one_statement() as session:
            return AvailabilityVersions(session, site_id).read(keys)
