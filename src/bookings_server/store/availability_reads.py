"""Catalog reads of QueryAvailability: one Core select per kind of data, however many
services and staff members a query names.

Same answers as `CatalogRepository.get_service` and `list_staff`, without ORM entities and
without a statement per service: availability reads every staff member of a service with
their hours on each call, and building ORM objects for them cost more than the queries
themselves. Statements are built once (expanding IN parameters) so SQLAlchemy's compiled
cache is hit without rebuilding them per call.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import time
from typing import Any

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.orm import Session as DbSession

from bookings_server.domain.catalog import BlockedTime, Service, StaffMember, WorkingInterval
from bookings_server.domain.errors import NotFound
from bookings_server.store.catalog_rows import service_from_row
from bookings_server.store.models.catalog import (
    BlockedTimeRow,
    ServiceRow,
    ServiceStaffRow,
    StaffMemberRow,
    WorkingHoursRow,
)

_services: Table = ServiceRow.__table__  # type: ignore[assignment]
_staff_links: Table = ServiceStaffRow.__table__  # type: ignore[assignment]
_staff: Table = StaffMemberRow.__table__  # type: ignore[assignment]
_hours: Table = WorkingHoursRow.__table__  # type: ignore[assignment]
_blocked: Table = BlockedTimeRow.__table__  # type: ignore[assignment]

_SELECT_SERVICES = select(_services).where(
    _services.c.site_id == bindparam("site_id"),
    _services.c.id.in_(bindparam("ids", expanding=True)),
    _services.c.deleted_date.is_(None),
)
_SELECT_STAFF_LINKS = (
    select(_staff_links.c.service_id, _staff_links.c.staff_member_id)
    .where(
        _staff_links.c.site_id == bindparam("site_id"),
        _staff_links.c.service_id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(_staff_links.c.service_id, _staff_links.c.position)
)
#: Staff members with their working hours, one row per interval (one with NULL hours when
#: there are none).
_SELECT_STAFF_HOURS = (
    select(
        _staff.c.id,
        _staff.c.site_id,
        _staff.c.name,
        _staff.c.timezone,
        _staff.c.schedule_id,
        _staff.c.email,
        _hours.c.weekday,
        _hours.c.start_minute,
        _hours.c.end_minute,
    )
    .select_from(
        _staff.outerjoin(
            _hours,
            (_hours.c.site_id == _staff.c.site_id) & (_hours.c.staff_member_id == _staff.c.id),
        )
    )
    .where(
        _staff.c.site_id == bindparam("site_id"),
        _staff.c.id.in_(bindparam("ids", expanding=True)),
        _staff.c.deleted_date.is_(None),
    )
    .order_by(_staff.c.id, _hours.c.position)
)
_SELECT_BLOCKED = (
    select(
        _blocked.c.staff_member_id, _blocked.c.start_date, _blocked.c.end_date, _blocked.c.reason
    )
    .where(
        _blocked.c.site_id == bindparam("site_id"),
        _blocked.c.staff_member_id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(_blocked.c.staff_member_id, _blocked.c.position)
)

_MINUTES_PER_DAY = 24 * 60


@functools.cache
def _time(minute: int) -> time | None:
    """Minutes since midnight; 1440 ("24:00") is None (as `catalog_rows` stores them)."""
    return None if minute >= _MINUTES_PER_DAY else time(minute // 60, minute % 60)


class AvailabilityReads:
    """The catalog reads of QueryAvailability for one site, in one transaction."""

    def __init__(self, session: DbSession, site_id: str) -> None:
        self._session = session
        self._site_id = site_id

    def get_services(self, ids: Iterable[str]) -> dict[str, Service]:
        """The site's services with these ids, by id, in the given order. NotFound (as
        `CatalogRepository.get_service` raises it) for the first id that is not one of them."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        connection = self._session.connection()
        key = {"site_id": self._site_id, "ids": wanted}
        rows = {row.id: row for row in connection.execute(_SELECT_SERVICES, key).all()}
        for service_id in wanted:
            if service_id not in rows:
                raise NotFound(f"service {service_id!r} not found", service_id=service_id)
        staff: dict[str, list[str]] = {i: [] for i in wanted}
        for service_id, staff_member_id in connection.execute(_SELECT_STAFF_LINKS, key).all():
            staff[service_id].append(staff_member_id)
        return {i: service_from_row(rows[i], tuple(staff[i])) for i in wanted}

    def list_staff(self, ids: Iterable[str]) -> list[StaffMember]:
        """The site's staff members among `ids` (unknown ids are left out), in the given
        order, with their working hours and blocked time."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        connection = self._session.connection()
        key = {"site_id": self._site_id, "ids": wanted}
        rows: dict[str, Row[Any]] = {}
        hours: dict[str, list[WorkingInterval]] = {}
        for row in connection.execute(_SELECT_STAFF_HOURS, key).all():
            if row.id not in rows:
                rows[row.id] = row
                hours[row.id] = []
            if row.weekday is not None:
                hours[row.id].append(_working_interval(row))
        found = [i for i in wanted if i in rows]
        if not found:
            return []
        key["ids"] = found
        blocked: dict[str, list[BlockedTime]] = {i: [] for i in found}
        for staff_id, start, end, reason in connection.execute(_SELECT_BLOCKED, key).all():
            blocked[staff_id].append(BlockedTime(start, end, reason))
        return [_staff_member(rows[i], hours[i], blocked[i]) for i in found]


def _working_interval(row: Row[Any]) -> WorkingInterval:
    return WorkingInterval(row.weekday, _time(row.start_minute) or time(0), _time(row.end_minute))


def _staff_member(
    row: Row[Any], hours: list[WorkingInterval], blocked: list[BlockedTime]
) -> StaffMember:
    return StaffMember(
        id=row.id,
        site_id=row.site_id,
        name=row.name,
        timezone=row.timezone,
        schedule_id=row.schedule_id,
        email=row.email,
        working_hours=tuple(hours),
        blocked_times=tuple(blocked),
    )
