"""Catalog reads and writes for one site: services and staff members (sessions: see
store/catalog_sessions.py, which `CatalogRepository` extends).

`CatalogRepository` is bound to a transaction's session and site and speaks the dataclasses
of domain/catalog.py. Unknown ids and other sites' ids are both NotFound. It holds no business
rules: app/catalog.py validates before it writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.orm import Session as DbSession

from bookings_server.domain.catalog import Service, ServiceType, StaffMember
from bookings_server.domain.errors import NotFound
from bookings_server.store.catalog_rows import (
    blocked_time_row,
    fill_service_row,
    service_from_row,
    staff_from_rows,
    working_hours_row,
)
from bookings_server.store.catalog_sessions import SessionRepository, after_key, new_id
from bookings_server.store.models.catalog import (
    BlockedTimeRow,
    ServiceRow,
    ServiceStaffRow,
    StaffMemberRow,
    WorkingHoursRow,
)
from bookings_server.store.paging import Keyset, page_size

__all__ = ["CatalogRepository", "SessionRepository"]

_services: Table = ServiceRow.__table__  # type: ignore[assignment]
_staff_links: Table = ServiceStaffRow.__table__  # type: ignore[assignment]

# Built once, run as Core on the transaction's connection: the booking write path reads
# these on every call (see store/booking_repository.py).
_SELECT_SERVICE = select(_services).where(
    _services.c.site_id == bindparam("c_site_id"), _services.c.id == bindparam("c_id")
)
_SELECT_SERVICE_STAFF = (
    select(_staff_links.c.staff_member_id)
    .where(
        _staff_links.c.site_id == bindparam("c_site_id"),
        _staff_links.c.service_id == bindparam("c_id"),
    )
    .order_by(_staff_links.c.position)
)


class CatalogRepository(SessionRepository):
    """Services, staff members and sessions of one site, in one transaction."""

    def __init__(self, session: DbSession, site_id: str) -> None:
        super().__init__(session, site_id)

    # --- services ---

    def create_service(
        self, service: Service, now: datetime, *, import_key: str | None = None
    ) -> Service:
        """Insert a new service; its id and schedule id are assigned here."""
        row = ServiceRow(
            site_id=self._site_id,
            id=new_id(),
            import_key=import_key,
            type=service.type.value,
            schedule_id=new_id(),
            created_date=now,
            updated_date=now,
        )
        fill_service_row(row, service)
        self._session.add(row)
        self._session.flush()
        self._replace_service_staff(row.id, service.staff_member_ids)
        return service_from_row(row, service.staff_member_ids)

    def update_service(self, service: Service, now: datetime) -> Service:
        """Overwrite every mutable field of the service `service.id` (not its type)."""
        row = self._service_row(service.id)
        fill_service_row(row, service)
        row.updated_date = now
        self._replace_service_staff(row.id, service.staff_member_ids)
        self._session.flush()
        return service_from_row(row, service.staff_member_ids)

    def get_service(self, service_id: str) -> Service:
        found = self.find_service(service_id)
        if found is None:
            raise NotFound(f"service {service_id!r} not found", service_id=service_id)
        return found

    def find_service(self, service_id: str) -> Service | None:
        key = {"c_site_id": self._site_id, "c_id": service_id}
        connection = self._session.connection()
        row = connection.execute(_SELECT_SERVICE, key).one_or_none()
        if row is None:
            return None
        staff = tuple(connection.execute(_SELECT_SERVICE_STAFF, key).scalars())
        return service_from_row(row, staff)

    def get_service_by_schedule(self, schedule_id: str) -> Service:
        """The service whose schedule id is `schedule_id` (a course is booked by it)."""
        row = self._session.scalars(
            select(ServiceRow).where(
                ServiceRow.site_id == self._site_id,
                ServiceRow.schedule_id == schedule_id,
                ServiceRow.deleted_date.is_(None),
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"schedule {schedule_id!r} not found", schedule_id=schedule_id)
        return service_from_row(row, self._service_staff([row.id])[row.id])

    def list_services(
        self,
        *,
        size: int = 0,
        after: tuple[str, str] | None = None,
        service_type: ServiceType | None = None,
    ) -> Keyset[Service, tuple[str, str]]:
        """Services ordered by name, then id, after the (name, id) `after`."""
        limit = page_size(size)
        statement = select(ServiceRow).where(
            ServiceRow.site_id == self._site_id, ServiceRow.deleted_date.is_(None)
        )
        if service_type is not None:
            statement = statement.where(ServiceRow.type == service_type.value)
        if after is not None:
            statement = statement.where(
                after_key(ServiceRow.name, ServiceRow.id, after[0], after[1])
            )
        ordered = statement.order_by(ServiceRow.name, ServiceRow.id).limit(limit + 1)
        rows = list(self._session.scalars(ordered))
        more, rows = len(rows) > limit, rows[:limit]
        staff = self._service_staff([row.id for row in rows])
        items = [service_from_row(row, staff[row.id]) for row in rows]
        return Keyset(items, (rows[-1].name, rows[-1].id) if more else None)

    def service_id_by_import_key(self, key: str) -> str | None:
        found: str | None = self._session.scalars(
            select(ServiceRow.id).where(
                ServiceRow.site_id == self._site_id, ServiceRow.import_key == key
            )
        ).one_or_none()
        return found

    # --- staff members ---

    def create_staff_member(
        self, staff: StaffMember, now: datetime, *, import_key: str | None = None
    ) -> StaffMember:
        row = StaffMemberRow(
            site_id=self._site_id,
            id=new_id(),
            import_key=import_key,
            name=staff.name,
            email=staff.email,
            timezone=staff.timezone,
            schedule_id=new_id(),
            created_date=now,
            updated_date=now,
        )
        self._session.add(row)
        self._session.flush()
        self._replace_staff_times(row.id, staff)
        return replace(staff, id=row.id, site_id=self._site_id, schedule_id=row.schedule_id)

    def update_staff_member(self, staff: StaffMember, now: datetime) -> StaffMember:
        """Overwrite every mutable field (hours and blocked times included) of `staff.id`."""
        row = self._staff_row(staff.id)
        row.name, row.email, row.timezone = staff.name, staff.email, staff.timezone
        row.updated_date = now
        self._replace_staff_times(row.id, staff)
        return replace(staff, site_id=self._site_id, schedule_id=row.schedule_id)

    def get_staff_member(self, staff_member_id: str) -> StaffMember:
        return self._staff_with_times([self._staff_row(staff_member_id)])[0]

    def list_staff(self, ids: Iterable[str]) -> list[StaffMember]:
        """The site's staff members among `ids` (unknown and deleted ones are left out), in the
        given order."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        rows = self._session.scalars(
            select(StaffMemberRow).where(
                StaffMemberRow.site_id == self._site_id,
                StaffMemberRow.id.in_(wanted),
                StaffMemberRow.deleted_date.is_(None),
            )
        )
        by_id = {row.id: row for row in rows}
        return self._staff_with_times([by_id[i] for i in wanted if i in by_id])

    def known_staff_ids(self, ids: Iterable[str]) -> set[str]:
        """The ids among `ids` that are staff members of the site (not deleted)."""
        wanted = list(ids)
        if not wanted:
            return set()
        return set(
            self._session.scalars(
                select(StaffMemberRow.id).where(
                    StaffMemberRow.site_id == self._site_id,
                    StaffMemberRow.id.in_(wanted),
                    StaffMemberRow.deleted_date.is_(None),
                )
            )
        )

    def list_staff_members(
        self, *, size: int = 0, after: tuple[str, str] | None = None
    ) -> Keyset[StaffMember, tuple[str, str]]:
        """Staff members ordered by name, then id, after the (name, id) `after`."""
        limit = page_size(size)
        statement = select(StaffMemberRow).where(
            StaffMemberRow.site_id == self._site_id, StaffMemberRow.deleted_date.is_(None)
        )
        if after is not None:
            statement = statement.where(
                after_key(StaffMemberRow.name, StaffMemberRow.id, after[0], after[1])
            )
        ordered = statement.order_by(StaffMemberRow.name, StaffMemberRow.id).limit(limit + 1)
        rows = list(self._session.scalars(ordered))
        more, rows = len(rows) > limit, rows[:limit]
        next_after = (rows[-1].name, rows[-1].id) if more else None
        return Keyset(self._staff_with_times(rows), next_after)

    def mark_service_deleted(self, service_id: str, now: datetime) -> Service:
        """The service leaves lists, availability and new bookings; it stays readable by id."""
        row = self._service_row(service_id)
        row.deleted_date = row.updated_date = now
        self._session.flush()
        return service_from_row(row, self._service_staff([row.id])[row.id])

    def mark_staff_deleted(self, staff_member_id: str, now: datetime) -> StaffMember:
        """The staff member leaves lists, every service's staff and availability; they stay
        readable by id."""
        row = self._staff_row(staff_member_id)
        row.deleted_date = row.updated_date = now
        self._session.execute(
            delete(ServiceStaffRow).where(
                ServiceStaffRow.site_id == self._site_id,
                ServiceStaffRow.staff_member_id == staff_member_id,
            )
        )
        self._session.flush()
        return self._staff_with_times([row])[0]

    def staff_id_by_import_key(self, key: str) -> str | None:
        found: str | None = self._session.scalars(
            select(StaffMemberRow.id).where(
                StaffMemberRow.site_id == self._site_id, StaffMemberRow.import_key == key
            )
        ).one_or_none()
        return found

    def is_empty(self) -> bool:
        """True when no site has any service or staff member (ignores the bound site)."""
        return not any(
            self._session.scalars(select(model.id).limit(1)).first()
            for model in (ServiceRow, StaffMemberRow)
        )

    # --- helpers ---

    def _service_row(self, service_id: str) -> ServiceRow:
        row = self._session.get(ServiceRow, (self._site_id, service_id))
        if row is None:
            raise NotFound(f"service {service_id!r} not found", service_id=service_id)
        return row

    def _service_staff(self, service_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        links = self._session.scalars(
            select(ServiceStaffRow)
            .where(
                ServiceStaffRow.site_id == self._site_id,
                ServiceStaffRow.service_id.in_(service_ids),
            )
            .order_by(ServiceStaffRow.service_id, ServiceStaffRow.position)
        )
        grouped: dict[str, list[str]] = {service_id: [] for service_id in service_ids}
        for link in links:
            grouped[link.service_id].append(link.staff_member_id)
        return {service_id: tuple(ids) for service_id, ids in grouped.items()}

    def _replace_service_staff(self, service_id: str, staff_ids: Sequence[str]) -> None:
        self._session.execute(
            delete(ServiceStaffRow).where(
                ServiceStaffRow.site_id == self._site_id, ServiceStaffRow.service_id == service_id
            )
        )
        self._session.add_all(
            ServiceStaffRow(
                site_id=self._site_id,
                service_id=service_id,
                staff_member_id=staff_id,
                position=i,
            )
            for i, staff_id in enumerate(staff_ids)
        )
        self._session.flush()

    def _staff_row(self, staff_member_id: str) -> StaffMemberRow:
        row = self._session.get(StaffMemberRow, (self._site_id, staff_member_id))
        if row is None:
            raise NotFound(
                f"staff member {staff_member_id!r} not found", staff_member_id=staff_member_id
            )
        return row

    def _staff_with_times(self, rows: list[StaffMemberRow]) -> list[StaffMember]:
        ids = [row.id for row in rows]
        hours: dict[str, list[WorkingHoursRow]] = {i: [] for i in ids}
        blocked: dict[str, list[BlockedTimeRow]] = {i: [] for i in ids}
        if ids:
            for hour in self._session.scalars(
                select(WorkingHoursRow).where(
                    WorkingHoursRow.site_id == self._site_id,
                    WorkingHoursRow.staff_member_id.in_(ids),
                )
            ):
                hours[hour.staff_member_id].append(hour)
            for block in self._session.scalars(
                select(BlockedTimeRow).where(
                    BlockedTimeRow.site_id == self._site_id,
                    BlockedTimeRow.staff_member_id.in_(ids),
                )
            ):
                blocked[block.staff_member_id].append(block)
        return [staff_from_rows(row, hours[row.id], blocked[row.id]) for row in rows]

    def _replace_staff_times(self, staff_id: str, staff: StaffMember) -> None:
        for model in (WorkingHoursRow, BlockedTimeRow):
            self._session.execute(
                delete(model).where(
                    model.site_id == self._site_id, model.staff_member_id == staff_id
                )
            )
        self._session.add_all(
            working_hours_row(self._site_id, staff_id, i, interval)
            for i, interval in enumerate(staff.working_hours)
        )
        self._session.add_all(
            blocked_time_row(self._site_id, staff_id, i, blocked)
            for i, blocked in enumerate(staff.blocked_times)
        )
        self._session.flush()
