"""`bookings catalog import`: apply a parsed catalog file in one write transaction.

All or nothing: the first invalid entity raises and the transaction rolls back. Entities are
matched on their file `key` (stored as `import_key`), so re-importing updates in place; sessions
of a recurrence are keyed "key#1", "key#2", ... Violations come back with the file's own paths
(`staff[0].working_hours[1].end`), which `CatalogDocument.line_of` turns into line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo

from bookings_server.app.catalog import (
    create_service_in,
    create_staff_member_in,
    update_service_in,
    update_staff_member_in,
    upsert_keyed_sessions_in,
)
from bookings_server.app.catalog_file import CatalogDocument, SessionEntry, StaffEntry
from bookings_server.app.catalog_file_services import ServiceEntry
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain.catalog import SessionSpec
from bookings_server.domain.catalog_validation import Violations, invalid
from bookings_server.domain.errors import FieldViolation, InvalidArgument

T = TypeVar("T")

#: Field names of the domain rules -> the file's field names.
_FILE_FIELDS = {
    "start_date": "start",
    "end_date": "end",
    "start_time": "start",
    "end_time": "end",
    "day_of_week": "days",
    "service_id": "service",
    "staff_member_id": "staff",
    "staff_member_ids": "staff",
}


@dataclass(frozen=True)
class ImportSummary:
    site_id: str
    staff_members: int
    services: int
    sessions: int
    created: int
    updated: int


def import_catalog(
    uow: UnitOfWork, document: CatalogDocument, clock: Clock = utc_now
) -> ImportSummary:
    with uow.write(document.site_id) as tx:
        return _Importer(tx, document, clock()).run()


def catalog_is_empty(uow: UnitOfWork) -> bool:
    """True when no site has any service or staff member (a fresh embedded database)."""
    with uow.read("") as tx:
        return tx.catalog.is_empty()


class _DependsOnFailed(Exception):
    """The entity refers to another entity of the file that failed."""


class _Importer:
    def __init__(self, tx: Transaction, document: CatalogDocument, now: datetime) -> None:
        self.tx = tx
        self.catalog = tx.catalog
        self.now = now
        self.document = document
        self.site = document.site_id
        self.staff_ids: dict[str, str] = {}
        self.service_ids: dict[str, str] = {}
        self.created = self.updated = self.sessions = 0
        self.failed_staff: set[str] = set()
        self.failed_services: set[str] = set()

    def run(self) -> ImportSummary:
        """Apply every entity; report the problems of all of them, then roll back if any.

        An entity that refers to one that failed is skipped: its only problem would be the
        other's."""
        found: list[FieldViolation] = []
        steps = [
            *[(partial(self._staff, e), e, e.key, self.failed_staff) for e in self.document.staff],
            *[
                (partial(self._service, e), None, e.key, self.failed_services)
                for e in self.document.services
            ],
            *[(partial(self._sessions, e), None, e.key, set()) for e in self.document.sessions],
        ]
        for action, staff_entry, key, failed in steps:
            try:
                _in_file(action, staff_entry)
            except InvalidArgument as error:
                found.extend(error.violations)
                failed.add(key)
            except _DependsOnFailed:
                failed.add(key)
        if found:
            raise invalid(found)
        return ImportSummary(
            self.site,
            len(self.document.staff),
            len(self.document.services),
            self.sessions,
            self.created,
            self.updated,
        )

    def _count(self, existing: str | None) -> None:
        if existing is None:
            self.created += 1
        else:
            self.updated += 1

    def _staff(self, entry: StaffEntry) -> None:
        existing = self.catalog.staff_id_by_import_key(entry.key)
        if existing is None:
            created = create_staff_member_in(
                self.tx, entry.staff, self.now, path=entry.path, import_key=entry.key
            )
            self.staff_ids[entry.key] = created.id
        else:
            staff = replace(entry.staff, id=existing)
            update_staff_member_in(self.tx, staff, self.now, path=entry.path)
            self.staff_ids[entry.key] = existing
        self._count(existing)

    def _service(self, entry: ServiceEntry) -> None:
        found = Violations()
        staff_ids = tuple(
            self._staff_id(found, f"{entry.path}.staff[{i}]", key)
            for i, key in enumerate(entry.staff_keys)
        )
        found.raise_if_any()
        service = replace(entry.service, staff_member_ids=staff_ids)
        existing = self.catalog.service_id_by_import_key(entry.key)
        if existing is None:
            created = create_service_in(
                self.tx, service, self.now, path=entry.path, import_key=entry.key
            )
            self.service_ids[entry.key] = created.id
        else:
            changed = replace(service, id=existing)
            update_service_in(self.tx, changed, self.now, path=entry.path)
            self.service_ids[entry.key] = existing
        self._count(existing)

    def _sessions(self, entry: SessionEntry) -> None:
        found = Violations()
        service_id = self._service_id(found, f"{entry.path}.service", entry.service_key)
        staff_id = ""
        if entry.staff_key:
            staff_id = self._staff_id(found, f"{entry.path}.staff", entry.staff_key)
        found.raise_if_any()
        zone = ZoneInfo(self.catalog.get_service(service_id).timezone)
        start = _localized(entry.start, zone)
        if isinstance(entry.length, datetime):
            end = _localized(entry.length, zone)
        else:
            end = start + entry.length
        spec = SessionSpec(service_id, start, end, entry.capacity, staff_id, entry.location)
        first_key = f"{entry.key}#1" if entry.recurrence else entry.key
        existing = self.catalog.session_id_by_import_key(first_key)
        sessions = upsert_keyed_sessions_in(
            self.tx,
            entry.key,
            spec,
            entry.recurrence,
            self.now,
            path=entry.path,
            recurrence_path=f"{entry.path}.recurrence",
        )
        self.sessions += len(sessions)
        self._count(existing)

    def _staff_id(self, found: Violations, path: str, key: str) -> str:
        if key in self.failed_staff:
            raise _DependsOnFailed
        staff_id = self.staff_ids.get(key) or self.catalog.staff_id_by_import_key(key)
        if staff_id is None:
            found.add(path, f"no staff member with key {key!r}")
        return staff_id or ""

    def _service_id(self, found: Violations, path: str, key: str) -> str:
        if key in self.failed_services:
            raise _DependsOnFailed
        service_id = self.service_ids.get(key) or self.catalog.service_id_by_import_key(key)
        if service_id is None:
            found.add(path, f"no service with key {key!r}")
        return service_id or ""


def _localized(moment: datetime, zone: ZoneInfo) -> datetime:
    """Naive file times are wall-clock times in the service's zone."""
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _in_file(action: Callable[[], T], staff: StaffEntry | None = None) -> T:
    """Run `action`, rewriting violation paths into the file's field names."""
    try:
        return action()
    except InvalidArgument as error:
        raise invalid([_file_violation(v, staff) for v in error.violations]) from error


def _file_violation(violation: FieldViolation, staff: StaffEntry | None) -> FieldViolation:
    path = violation.field
    if staff is not None:
        prefix = f"{staff.path}.working_hours["
        match = re.match(re.escape(prefix) + r"(\d+)\]", path)
        if match and int(match.group(1)) < len(staff.interval_paths):
            path = staff.interval_paths[int(match.group(1))] + path[match.end() :]
    head, _, last = path.rpartition(".")
    name, bracket, index = last.partition("[")
    if head and name in _FILE_FIELDS:
        path = f"{head}.{_FILE_FIELDS[name]}{bracket}{index}"
    return FieldViolation(path, violation.description)
