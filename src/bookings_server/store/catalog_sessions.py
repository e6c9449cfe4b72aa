"""Class and course sessions of one site: reads and writes, no business rules.

`SessionRepository` is bound to a transaction's session and site; `CatalogRepository`
(store/catalog_repository.py) extends it, so `tx.catalog` answers session calls too. Unknown
ids and other sites' ids are both NotFound.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session as DbSession

from bookings_server.domain.catalog import Service, Session, SessionSpec
from bookings_server.domain.errors import NotFound
from bookings_server.store.catalog_rows import location_json, session_from_rows, session_of_service
from bookings_server.store.models.catalog import ServiceRow, SessionRow
from bookings_server.store.paging import Keyset, page_size

_services: Table = ServiceRow.__table__  # type: ignore[assignment]
_sessions: Table = SessionRow.__table__  # type: ignore[assignment]

# Built once, run as Core on the transaction's connection: the booking write path reads
# these on every call.
_SELECT_SESSION = select(_sessions).where(
    _sessions.c.site_id == bindparam("c_site_id"), _sessions.c.id == bindparam("c_id")
)
_SELECT_SESSION_CAPACITY = (
    select(func.coalesce(_sessions.c.capacity, _services.c.default_capacity))
    .join_from(
        _sessions,
        _services,
        and_(
            _services.c.site_id == _sessions.c.site_id,
            _services.c.id == _sessions.c.service_id,
        ),
    )
    .where(_sessions.c.site_id == bindparam("c_site_id"), _sessions.c.id == bindparam("c_id"))
)

#: One occurrence to store: (import key or None, start, end).
Occurrence = tuple[str | None, datetime, datetime]


def new_id() -> str:
    return str(uuid.uuid4())


def after_key(first: Any, second: Any, first_value: Any, second_value: str) -> ColumnElement[bool]:
    """Keyset condition: (first, second) sorts after (first_value, second_value)."""
    return or_(first > first_value, and_(first == first_value, second > second_value))


class SessionRepository:
    """Sessions of one site, in one transaction."""

    def __init__(self, session: DbSession, site_id: str) -> None:
        self._session = session
        self._site_id = site_id

    # --- writes ---

    def create_sessions(
        self,
        spec: SessionSpec,
        occurrences: Sequence[Occurrence],
        recurrence_id: str,
        now: datetime,
    ) -> list[Session]:
        """Insert one session per occurrence (with its import key, if any), in order."""
        service = self._service_row(spec.service_id)
        rows = [
            self._new_row(spec, key, start, end, recurrence_id, now)
            for key, start, end in occurrences
        ]
        self._session.add_all(rows)
        self._session.flush()
        return [session_from_rows(row, service) for row in rows]

    def keyed_sessions(self, key: str) -> dict[str, Session]:
        """The sessions imported under `key` ("key" or "key#n"), by import key."""
        statement = self._sessions_query().where(
            or_(
                SessionRow.import_key == key,
                SessionRow.import_key.like(f"{_like(key)}#%", escape="\\"),
            )
        )
        return {
            row.import_key: session_from_rows(row, service)
            for row, service in self._session.execute(statement)
        }

    def save_keyed_sessions(
        self,
        spec: SessionSpec,
        occurrences: Sequence[tuple[str, datetime, datetime]],
        recurrence_id: str,
        kept_recurrence_id: str,
        now: datetime,
    ) -> list[Session]:
        """Create or overwrite the session of each import key; a new one takes
        `recurrence_id`, an existing one `kept_recurrence_id`."""
        service = self._service_row(spec.service_id)
        keys = [key for key, _, _ in occurrences]
        existing = {
            row.import_key: row
            for row in self._session.scalars(
                select(SessionRow).where(
                    SessionRow.site_id == self._site_id, SessionRow.import_key.in_(keys)
                )
            )
        }
        rows = []
        for key, start, end in occurrences:
            row = existing.get(key)
            if row is None:
                row = self._new_row(spec, key, start, end, recurrence_id, now)
                self._session.add(row)
            else:
                _fill_row(row, spec, start, end, now)
                row.recurrence_id = kept_recurrence_id
            rows.append(row)
        self._session.flush()
        return [session_from_rows(row, service) for row in rows]

    def delete_sessions(self, session_ids: Iterable[str]) -> None:
        ids = list(session_ids)
        if ids:
            self._session.execute(
                delete(SessionRow).where(
                    SessionRow.site_id == self._site_id, SessionRow.id.in_(ids)
                )
            )
            self._session.flush()

    def update_session(self, session_id: str, spec: SessionSpec, now: datetime) -> Session:
        """Overwrite the session's mutable fields (not its service)."""
        row, service = self._session_rows(session_id)
        _fill_row(row, spec, spec.start, spec.end, now)
        self._session.flush()
        return session_from_rows(row, service)

    # --- reads ---

    def get_session(self, session_id: str) -> Session:
        return session_from_rows(*self._session_rows(session_id))

    def find_session_of_service(self, session_id: str, service: Service) -> Session | None:
        """The session if it exists for the site and belongs to `service`, else None."""
        key = {"c_site_id": self._site_id, "c_id": session_id}
        row = self._session.connection().execute(_SELECT_SESSION, key).one_or_none()
        if row is None or row.service_id != service.id or row.deleted_date is not None:
            return None
        return session_of_service(row, service)

    def service_id_of_session(self, session_id: str) -> str | None:
        """The id of the service the site's session belongs to; None for an unknown or deleted
        session."""
        key = {"c_site_id": self._site_id, "c_id": session_id}
        row = self._session.connection().execute(_SELECT_SESSION, key).one_or_none()
        return None if row is None or row.deleted_date is not None else str(row.service_id)

    def session_capacity(self, session_id: str) -> int:
        """The session's capacity (its own, or its service's default); NotFound if missing."""
        key = {"c_site_id": self._site_id, "c_id": session_id}
        capacity = (
            self._session.connection().execute(_SELECT_SESSION_CAPACITY, key).scalar_one_or_none()
        )
        if capacity is None:
            raise NotFound(f"session {session_id!r} not found", session_id=session_id)
        return int(capacity)

    def list_sessions(
        self,
        *,
        service_id: str = "",
        start_from: datetime | None = None,
        start_to: datetime | None = None,
        size: int = 0,
        after: tuple[datetime, str] | None = None,
    ) -> Keyset[Session, tuple[datetime, str]]:
        """Sessions ordered by start, then id, after the (start, id) `after`; optionally of one
        service, starting in a range."""
        limit = page_size(size)
        statement = self._sessions_query().where(SessionRow.deleted_date.is_(None))
        if service_id:
            statement = statement.where(SessionRow.service_id == service_id)
        if start_from is not None:
            statement = statement.where(SessionRow.start_date >= start_from)
        if start_to is not None:
            statement = statement.where(SessionRow.start_date < start_to)
        if after is not None:
            statement = statement.where(
                after_key(SessionRow.start_date, SessionRow.id, after[0], after[1])
            )
        ordered = statement.order_by(SessionRow.start_date, SessionRow.id).limit(limit + 1)
        pairs = list(self._session.execute(ordered))
        more, pairs = len(pairs) > limit, pairs[:limit]
        items = [session_from_rows(row, service) for row, service in pairs]
        return Keyset(items, (items[-1].start, items[-1].id) if more else None)

    def list_sessions_between(
        self, service_ids: Iterable[str], start: datetime, end: datetime
    ) -> list[Session]:
        """Sessions of the services that start in [start, end), ordered by start, then id."""
        statement = (
            self._sessions_query()
            .where(
                SessionRow.service_id.in_(list(service_ids)),
                SessionRow.start_date >= start,
                SessionRow.start_date < end,
                SessionRow.deleted_date.is_(None),
            )
            .order_by(SessionRow.start_date, SessionRow.id)
        )
        return [
            session_from_rows(row, service) for row, service in self._session.execute(statement)
        ]

    def list_schedule_sessions(self, service_id: str) -> list[Session]:
        """Every session of a service (a course's schedule) that is not deleted, by start."""
        statement = (
            self._sessions_query()
            .where(SessionRow.service_id == service_id, SessionRow.deleted_date.is_(None))
            .order_by(SessionRow.start_date, SessionRow.id)
        )
        return [
            session_from_rows(row, service) for row, service in self._session.execute(statement)
        ]

    def mark_sessions_deleted(self, session_ids: Iterable[str], now: datetime) -> None:
        """The sessions leave lists, availability and bookings; they stay readable by id."""
        wanted = list(session_ids)
        if wanted:
            self._session.execute(
                update(SessionRow)
                .where(SessionRow.site_id == self._site_id, SessionRow.id.in_(wanted))
                .values(deleted_date=now, updated_date=now)
            )

    def session_ids_of_service(self, service_id: str) -> list[str]:
        """The ids of the service's sessions that are not deleted."""
        return list(
            self._session.scalars(
                select(SessionRow.id).where(
                    SessionRow.site_id == self._site_id,
                    SessionRow.service_id == service_id,
                    SessionRow.deleted_date.is_(None),
                )
            )
        )

    def session_id_by_import_key(self, key: str) -> str | None:
        found: str | None = self._session.scalars(
            select(SessionRow.id).where(
                SessionRow.site_id == self._site_id, SessionRow.import_key == key
            )
        ).one_or_none()
        return found

    # --- helpers ---

    def _sessions_query(self) -> Any:
        return (
            select(SessionRow, ServiceRow)
            .join(
                ServiceRow,
                (ServiceRow.site_id == SessionRow.site_id)
                & (ServiceRow.id == SessionRow.service_id),
            )
            .where(SessionRow.site_id == self._site_id)
        )

    def _session_rows(self, session_id: str) -> tuple[SessionRow, ServiceRow]:
        statement = self._sessions_query().where(SessionRow.id == session_id)
        found = self._session.execute(statement).one_or_none()
        if found is None:
            raise NotFound(f"session {session_id!r} not found", session_id=session_id)
        return found[0], found[1]

    def _service_row(self, service_id: str) -> ServiceRow:
        row = self._session.get(ServiceRow, (self._site_id, service_id))
        if row is None:
            raise NotFound(f"service {service_id!r} not found", service_id=service_id)
        return row

    def _new_row(
        self,
        spec: SessionSpec,
        import_key: str | None,
        start: datetime,
        end: datetime,
        recurrence_id: str,
        now: datetime,
    ) -> SessionRow:
        row = SessionRow(
            site_id=self._site_id,
            id=new_id(),
            service_id=spec.service_id,
            recurrence_id=recurrence_id,
            created_date=now,
        )
        if import_key is not None:
            row.import_key = import_key
        _fill_row(row, spec, start, end, now)
        return row


def _fill_row(
    row: SessionRow, spec: SessionSpec, start: datetime, end: datetime, now: datetime
) -> None:
    row.start_date, row.end_date = start, end
    row.capacity = spec.capacity
    row.staff_member_id = spec.staff_member_id or None
    row.location = None if spec.location is None else location_json(spec.location)
    row.updated_date = now


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
