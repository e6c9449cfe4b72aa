"""The catalog as booking transactions read it: through a per-process cache, valid while the
site's `catalog` availability version is unchanged (domain/availability/versions.py).

A booking write reads its service, session and staff members on every call; they change
rarely. `CachedCatalog` reads the site's catalog version once per transaction (one indexed
statement) and answers the reads a booking makes from what an earlier transaction loaded
under the same version, instead of two to four catalog statements. Values are stored under
the version read *before* they were loaded, so a concurrent catalog commit can only make an
entry look older than it is, never newer (on PostgreSQL each statement sees the latest
commits). A transaction that writes the catalog itself (a delete that cancels bookings)
reads straight through from its first write on: the writes are flagged by session events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from typing_extensions import override

from bookings_server.domain.availability.versions import CATALOG
from bookings_server.domain.catalog import Service, StaffMember
from bookings_server.domain.catalog import Session as CatalogSession
from bookings_server.store.availability_reads import AvailabilityReads
from bookings_server.store.availability_versions import AvailabilityVersions
from bookings_server.store.catalog_repository import CatalogRepository
from bookings_server.store.models.catalog import (
    BlockedTimeRow,
    ServiceRow,
    ServiceStaffRow,
    SessionRow,
    StaffMemberRow,
    WorkingHoursRow,
)

__all__ = ["CachedAvailabilityReads", "CachedCatalog", "CatalogCache", "flag_catalog_writes"]

T = TypeVar("T")

_CATALOG_ROWS = (
    ServiceRow,
    ServiceStaffRow,
    StaffMemberRow,
    WorkingHoursRow,
    BlockedTimeRow,
    SessionRow,
)
_CATALOG_TABLES = frozenset(row.__tablename__ for row in _CATALOG_ROWS)
_WRITTEN = "catalog_written"
_VERSION = "catalog_version"
#: Entries kept per process before the cache starts over (a catalog row is small).
MAX_ENTRIES = 20_000


class CatalogCache:
    """Loaded catalog values by (site, what, id), each with the version it was loaded under."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._values: dict[Hashable, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: int) -> tuple[bool, Any]:
        found = self._values.get(key)
        if found is None or found[0] != version:
            return False, None
        return True, found[1]

    def put(self, key: Hashable, version: int, value: Any) -> None:
        with self._lock:
            if len(self._values) >= self._max_entries:
                self._values.clear()
            self._values[key] = (version, value)


class _Through:
    """Reads of one transaction through `cache` under the site's catalog version, read once
    per transaction; straight through once the transaction wrote the catalog."""

    def __init__(self, session: Session, site_id: str, cache: CatalogCache) -> None:
        self._session = session
        self._site_id = site_id
        self._cache = cache
        self._versions = AvailabilityVersions(session, site_id)

    def __call__(self, key: tuple[Hashable, ...], load: Callable[[], T]) -> T:
        info = self._session.info
        if info.get(_WRITTEN):
            return load()
        version = info.get(_VERSION)
        if version is None:
            version = info[_VERSION] = self._versions.read((CATALOG,))[CATALOG]
        cache_key = (self._site_id, *key)
        found, value = self._cache.get(cache_key, version)
        if found:
            return value  # type: ignore[no-any-return]
        loaded = load()
        self._cache.put(cache_key, version, loaded)
        return loaded


class CachedCatalog(CatalogRepository):
    """CatalogRepository whose reads of a booking come from `cache` while they are current."""

    def __init__(self, session: Session, site_id: str, cache: CatalogCache) -> None:
        super().__init__(session, site_id)
        self._through = _Through(session, site_id, cache)

    @override
    def get_service(self, service_id: str) -> Service:
        return self._through(
            ("service", service_id), lambda: super(CachedCatalog, self).get_service(service_id)
        )

    @override
    def get_service_by_schedule(self, schedule_id: str) -> Service:
        return self._through(
            ("schedule", schedule_id),
            lambda: super(CachedCatalog, self).get_service_by_schedule(schedule_id),
        )

    @override
    def get_staff_member(self, staff_member_id: str) -> StaffMember:
        return self._through(
            ("staff", staff_member_id),
            lambda: super(CachedCatalog, self).get_staff_member(staff_member_id),
        )

    @override
    def list_staff(self, ids: Iterable[str]) -> list[StaffMember]:
        wanted = tuple(ids)
        found = self._through(
            ("staff list", *wanted), lambda: tuple(super(CachedCatalog, self).list_staff(wanted))
        )
        return list(found)

    @override
    def service_id_of_session(self, session_id: str) -> str | None:
        return self._through(
            ("service of session", session_id),
            lambda: super(CachedCatalog, self).service_id_of_session(session_id),
        )

    @override
    def find_session_of_service(self, session_id: str, service: Service) -> CatalogSession | None:
        return self._through(
            ("session", session_id, service.id),
            lambda: super(CachedCatalog, self).find_session_of_service(session_id, service),
        )

    @override
    def session_capacity(self, session_id: str) -> int:
        return self._through(
            ("session capacity", session_id),
            lambda: super(CachedCatalog, self).session_capacity(session_id),
        )

    @override
    def list_sessions_between(
        self, service_ids: Iterable[str], start: datetime, end: datetime
    ) -> list[CatalogSession]:
        wanted = tuple(service_ids)
        found = self._through(
            ("sessions between", start, end, *wanted),
            lambda: tuple(super(CachedCatalog, self).list_sessions_between(wanted, start, end)),
        )
        return list(found)

    @override
    def list_schedule_sessions(self, service_id: str) -> list[CatalogSession]:
        found = self._through(
            ("schedule sessions", service_id),
            lambda: tuple(super(CachedCatalog, self).list_schedule_sessions(service_id)),
        )
        return list(found)


def flag_catalog_writes(sessions: Any) -> None:
    """Mark the sessions of `sessions` (a sessionmaker) that write catalog rows, so that
    CachedCatalog reads through for the rest of their transaction (a session is one
    transaction: store/database.py)."""

    @event.listens_for(sessions, "before_flush")
    def _flushing(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
        changed = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(row, _CATALOG_ROWS) for row in changed):
            session.info[_WRITTEN] = True

    @event.listens_for(sessions, "do_orm_execute")
    def _executing(state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            table = getattr(state.statement, "table", None)
            if getattr(table, "name", None) in _CATALOG_TABLES:
                state.session.info[_WRITTEN] = True


class CachedAvailabilityReads(AvailabilityReads):
    """AvailabilityReads through `cache` while the site's catalog is unchanged."""

    def __init__(self, session: Session, site_id: str, cache: CatalogCache) -> None:
        super().__init__(session, site_id)
        self._through = _Through(session, site_id, cache)

    @override
    def get_services(self, ids: Iterable[str]) -> dict[str, Service]:
        wanted = tuple(ids)
        found = self._through(
            ("availability services", *wanted),
            lambda: super(CachedAvailabilityReads, self).get_services(wanted),
        )
        return dict(found)

    @override
    def list_staff(self, ids: Iterable[str]) -> list[StaffMember]:
        wanted = tuple(ids)
        found = self._through(
            ("availability staff", *wanted),
            lambda: tuple(super(CachedAvailabilityReads, self).list_staff(wanted)),
        )
        return list(found)
