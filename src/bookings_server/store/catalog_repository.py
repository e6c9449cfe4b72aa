"""Catalog reads and writes for one site: services, staff members, sessions.

Every function takes the SQLAlchemy session of the caller's transaction and the site, filters
by the site, and speaks the dataclasses of domain/catalog.py. Unknown ids and other sites' ids
are both NotFound. Writes validate with domain/catalog_validation.py first; references inside
a body (a service's staff, a session's service or staff member) that do not exist are
InvalidArgument on that field.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, delete, func, or_, select
from sqlalchemy.orm import Session as DbSession

from bookings_server.domain.catalog import (
    Service,
    ServiceType,
    Session,
    SessionSpec,
    StaffMember,
)
from bookings_server.domain.catalog_recurrence import expand, parse_recurrence
from bookings_server.domain.catalog_validation import (
    invalid,
    validate_service,
    validate_session,
    validate_staff_member,
)
from bookings_server.domain.errors import FailedPrecondition, FieldViolation, NotFound
from bookings_server.store.booking_repository import taken_by_sessions
from bookings_server.store.catalog_rows import (
    blocked_time_row,
    fill_service_row,
    location_json,
    service_from_row,
    session_from_rows,
    session_of_service,
    staff_from_rows,
    working_hours_row,
)
from bookings_server.store.models.catalog import (
    BlockedTimeRow,
    ServiceRow,
    ServiceStaffRow,
    SessionRow,
    StaffMemberRow,
    WorkingHoursRow,
)
from bookings_server.store.paging import Page, decode_token, encode_token, fingerprint, page_size

_services: Table = ServiceRow.__table__  # type: ignore[assignment]
_staff_links: Table = ServiceStaffRow.__table__  # type: ignore[assignment]
_sessions: Table = SessionRow.__table__  # type: ignore[assignment]

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


def _new_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


# --- services -----------------------------------------------------------------------------


def create_service(
    db: DbSession,
    site_id: str,
    service: Service,
    *,
    path: str = "service",
    import_key: str | None = None,
) -> Service:
    """Insert a new service; its id and schedule id are assigned here."""
    validate_service(service, path)
    _check_staff_exist(db, site_id, service.staff_member_ids, f"{path}.staff_member_ids")
    now = _now()
    row = ServiceRow(
        site_id=site_id,
        id=_new_id(),
        import_key=import_key,
        type=service.type.value,
        schedule_id=_new_id(),
        created_date=now,
        updated_date=now,
    )
    fill_service_row(row, service)
    db.add(row)
    db.flush()
    _replace_service_staff(db, site_id, row.id, service.staff_member_ids)
    return service_from_row(row, service.staff_member_ids)


def update_service(
    db: DbSession, site_id: str, service: Service, *, path: str = "service"
) -> Service:
    """Overwrite every mutable field of the service `service.id`. The type cannot change."""
    row = _service_row(db, site_id, service.id)
    if service.type.value != row.type:
        raise invalid([FieldViolation(f"{path}.type", "cannot change after creation")])
    validate_service(service, path)
    _check_staff_exist(db, site_id, service.staff_member_ids, f"{path}.staff_member_ids")
    fill_service_row(row, service)
    row.updated_date = _now()
    _replace_service_staff(db, site_id, row.id, service.staff_member_ids)
    db.flush()
    return service_from_row(row, service.staff_member_ids)


def get_service(db: DbSession, site_id: str, service_id: str) -> Service:
    key = {"c_site_id": site_id, "c_id": service_id}
    connection = db.connection()
    row = connection.execute(_SELECT_SERVICE, key).one_or_none()
    if row is None:
        raise NotFound(f"service {service_id!r} not found", service_id=service_id)
    staff = tuple(connection.execute(_SELECT_SERVICE_STAFF, key).scalars())
    return service_from_row(row, staff)


def get_service_by_schedule(db: DbSession, site_id: str, schedule_id: str) -> Service:
    """The service whose schedule id is `schedule_id` (a course is booked by it)."""
    row = db.scalars(
        select(ServiceRow).where(
            ServiceRow.site_id == site_id, ServiceRow.schedule_id == schedule_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"schedule {schedule_id!r} not found", schedule_id=schedule_id)
    return service_from_row(row, _service_staff(db, site_id, [row.id])[row.id])


def list_services(
    db: DbSession,
    site_id: str,
    *,
    size: int = 0,
    token: str = "",
    service_type: ServiceType | None = None,
) -> Page[Service]:
    """Services ordered by name, then id."""
    limit = page_size(size)
    query = fingerprint("services", service_type)
    after = decode_token(token, query, 2)
    statement = select(ServiceRow).where(ServiceRow.site_id == site_id)
    if service_type is not None:
        statement = statement.where(ServiceRow.type == service_type.value)
    if after is not None:
        statement = statement.where(_after(ServiceRow.name, ServiceRow.id, after[0], after[1]))
    rows = list(db.scalars(statement.order_by(ServiceRow.name, ServiceRow.id).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    staff = _service_staff(db, site_id, [row.id for row in rows])
    items = [service_from_row(row, staff[row.id]) for row in rows]
    next_token = encode_token(query, [rows[-1].name, rows[-1].id]) if more else ""
    return Page(items, next_token)


def find_by_import_key(db: DbSession, model: Any, site_id: str, key: str) -> str | None:
    """The id of the `model` row (ServiceRow, StaffMemberRow) imported with `key`, if any."""
    found: str | None = db.scalars(
        select(model.id).where(model.site_id == site_id, model.import_key == key)
    ).one_or_none()
    return found


def _service_row(db: DbSession, site_id: str, service_id: str) -> ServiceRow:
    row = db.get(ServiceRow, (site_id, service_id))
    if row is None:
        raise NotFound(f"service {service_id!r} not found", service_id=service_id)
    return row


def _service_staff(
    db: DbSession, site_id: str, service_ids: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    links = db.scalars(
        select(ServiceStaffRow)
        .where(ServiceStaffRow.site_id == site_id, ServiceStaffRow.service_id.in_(service_ids))
        .order_by(ServiceStaffRow.service_id, ServiceStaffRow.position)
    )
    grouped: dict[str, list[str]] = {service_id: [] for service_id in service_ids}
    for link in links:
        grouped[link.service_id].append(link.staff_member_id)
    return {service_id: tuple(ids) for service_id, ids in grouped.items()}


def _replace_service_staff(
    db: DbSession, site_id: str, service_id: str, staff_ids: Sequence[str]
) -> None:
    db.execute(
        delete(ServiceStaffRow).where(
            ServiceStaffRow.site_id == site_id, ServiceStaffRow.service_id == service_id
        )
    )
    db.add_all(
        ServiceStaffRow(
            site_id=site_id, service_id=service_id, staff_member_id=staff_id, position=i
        )
        for i, staff_id in enumerate(staff_ids)
    )
    db.flush()


def _check_staff_exist(db: DbSession, site_id: str, staff_ids: Sequence[str], path: str) -> None:
    if not staff_ids:
        return
    known = set(
        db.scalars(
            select(StaffMemberRow.id).where(
                StaffMemberRow.site_id == site_id, StaffMemberRow.id.in_(staff_ids)
            )
        )
    )
    missing = [
        FieldViolation(f"{path}[{i}]", f"unknown staff member {staff_id!r}")
        for i, staff_id in enumerate(staff_ids)
        if staff_id not in known
    ]
    if missing:
        raise invalid(missing)


# --- staff members ------------------------------------------------------------------------


def create_staff_member(
    db: DbSession,
    site_id: str,
    staff: StaffMember,
    *,
    path: str = "staff_member",
    import_key: str | None = None,
) -> StaffMember:
    validate_staff_member(staff, path)
    now = _now()
    row = StaffMemberRow(
        site_id=site_id,
        id=_new_id(),
        import_key=import_key,
        name=staff.name,
        email=staff.email,
        timezone=staff.timezone,
        schedule_id=_new_id(),
        created_date=now,
        updated_date=now,
    )
    db.add(row)
    db.flush()
    _replace_staff_times(db, site_id, row.id, staff)
    return replace(staff, id=row.id, site_id=site_id, schedule_id=row.schedule_id)


def update_staff_member(
    db: DbSession, site_id: str, staff: StaffMember, *, path: str = "staff_member"
) -> StaffMember:
    """Overwrite every mutable field (hours and blocked times included) of `staff.id`."""
    row = _staff_row(db, site_id, staff.id)
    validate_staff_member(staff, path)
    row.name, row.email, row.timezone = staff.name, staff.email, staff.timezone
    row.updated_date = _now()
    _replace_staff_times(db, site_id, row.id, staff)
    return replace(staff, site_id=site_id, schedule_id=row.schedule_id)


def get_staff_member(db: DbSession, site_id: str, staff_member_id: str) -> StaffMember:
    row = _staff_row(db, site_id, staff_member_id)
    return _staff_with_times(db, site_id, [row])[0]


def list_staff(db: DbSession, site_id: str, ids: Iterable[str]) -> list[StaffMember]:
    """The site's staff members among `ids` (unknown ids are left out), in the given order."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    rows = db.scalars(
        select(StaffMemberRow).where(
            StaffMemberRow.site_id == site_id, StaffMemberRow.id.in_(wanted)
        )
    )
    by_id = {row.id: row for row in rows}
    return _staff_with_times(db, site_id, [by_id[i] for i in wanted if i in by_id])


def list_staff_members(
    db: DbSession, site_id: str, *, size: int = 0, token: str = ""
) -> Page[StaffMember]:
    """Staff members ordered by name, then id."""
    limit = page_size(size)
    query = fingerprint("staff_members")
    after = decode_token(token, query, 2)
    statement = select(StaffMemberRow).where(StaffMemberRow.site_id == site_id)
    if after is not None:
        statement = statement.where(
            _after(StaffMemberRow.name, StaffMemberRow.id, after[0], after[1])
        )
    rows = list(
        db.scalars(statement.order_by(StaffMemberRow.name, StaffMemberRow.id).limit(limit + 1))
    )
    more, rows = len(rows) > limit, rows[:limit]
    next_token = encode_token(query, [rows[-1].name, rows[-1].id]) if more else ""
    return Page(_staff_with_times(db, site_id, rows), next_token)


def _staff_row(db: DbSession, site_id: str, staff_member_id: str) -> StaffMemberRow:
    row = db.get(StaffMemberRow, (site_id, staff_member_id))
    if row is None:
        raise NotFound(
            f"staff member {staff_member_id!r} not found", staff_member_id=staff_member_id
        )
    return row


def _staff_with_times(db: DbSession, site_id: str, rows: list[StaffMemberRow]) -> list[StaffMember]:
    ids = [row.id for row in rows]
    hours: dict[str, list[WorkingHoursRow]] = {i: [] for i in ids}
    blocked: dict[str, list[BlockedTimeRow]] = {i: [] for i in ids}
    if ids:
        for hour in db.scalars(
            select(WorkingHoursRow).where(
                WorkingHoursRow.site_id == site_id, WorkingHoursRow.staff_member_id.in_(ids)
            )
        ):
            hours[hour.staff_member_id].append(hour)
        for block in db.scalars(
            select(BlockedTimeRow).where(
                BlockedTimeRow.site_id == site_id, BlockedTimeRow.staff_member_id.in_(ids)
            )
        ):
            blocked[block.staff_member_id].append(block)
    return [staff_from_rows(row, hours[row.id], blocked[row.id]) for row in rows]


def _replace_staff_times(db: DbSession, site_id: str, staff_id: str, staff: StaffMember) -> None:
    for model in (WorkingHoursRow, BlockedTimeRow):
        db.execute(delete(model).where(model.site_id == site_id, model.staff_member_id == staff_id))
    db.add_all(
        working_hours_row(site_id, staff_id, i, interval)
        for i, interval in enumerate(staff.working_hours)
    )
    db.add_all(
        blocked_time_row(site_id, staff_id, i, blocked)
        for i, blocked in enumerate(staff.blocked_times)
    )
    db.flush()


# --- sessions -----------------------------------------------------------------------------


def create_sessions(
    db: DbSession,
    site_id: str,
    spec: SessionSpec,
    recurrence: str = "",
    *,
    path: str = "session",
    recurrence_path: str = "recurrence",
) -> list[Session]:
    """One session, or every session a weekly recurrence expands into (ordered by start)."""
    service = _session_service(db, site_id, spec, path)
    occurrences = _occurrences(spec, recurrence, service.timezone, recurrence_path)
    recurrence_id = _new_id() if recurrence else ""
    rows = [
        _new_session_row(site_id, spec, start, end, recurrence_id) for start, end in occurrences
    ]
    db.add_all(rows)
    db.flush()
    return [session_from_rows(row, service) for row in rows]


def upsert_keyed_sessions(
    db: DbSession,
    site_id: str,
    key: str,
    spec: SessionSpec,
    recurrence: str = "",
    *,
    path: str = "session",
    recurrence_path: str = "recurrence",
) -> list[Session]:
    """Create or update the sessions imported under `key` (occurrence n is "key#n"); sessions
    of an earlier import that the new definition no longer produces are deleted, unless they
    have CONFIRMED or PENDING bookings (FailedPrecondition SESSIONS_IN_USE)."""
    service = _session_service(db, site_id, spec, path)
    occurrences = _occurrences(spec, recurrence, service.timezone, recurrence_path)
    keys = [f"{key}#{n}" for n in range(1, len(occurrences) + 1)] if recurrence else [key]
    existing = {
        row.import_key: row
        for row in db.scalars(
            select(SessionRow).where(
                SessionRow.site_id == site_id,
                or_(
                    SessionRow.import_key == key,
                    SessionRow.import_key.like(f"{_like(key)}#%", escape="\\"),
                ),
            )
        )
    }
    recurrence_id = next((r.recurrence_id for r in existing.values() if r.recurrence_id), "")
    if recurrence and not recurrence_id:
        recurrence_id = _new_id()
    rows = []
    for import_key, (start, end) in zip(keys, occurrences, strict=True):
        row = existing.pop(import_key, None)
        if row is None:
            row = _new_session_row(site_id, spec, start, end, recurrence_id)
            row.import_key = import_key
            db.add(row)
        else:
            _fill_session_row(row, spec, start, end)
            row.recurrence_id = recurrence_id if recurrence else ""
        rows.append(row)
    stale = list(existing.values())
    if stale and any(taken_by_sessions(db, site_id, [row.id for row in stale]).values()):
        raise FailedPrecondition(
            f"{path}: the new definition drops sessions that have bookings; cancel them first",
            reason="SESSIONS_IN_USE",
        )
    for row in stale:
        db.delete(row)
    db.flush()
    return [session_from_rows(row, service) for row in rows]


def update_session(
    db: DbSession, site_id: str, session_id: str, spec: SessionSpec, *, path: str = "session"
) -> Session:
    """Overwrite the session's mutable fields. Its service cannot change."""
    row, service = _session_rows(db, site_id, session_id)
    if spec.service_id != row.service_id:
        raise invalid([FieldViolation(f"{path}.service_id", "cannot change after creation")])
    validate_session(spec, path)
    _check_session_staff(db, site_id, spec, path)
    _fill_session_row(row, spec, spec.start, spec.end)
    db.flush()
    return session_from_rows(row, service)


def get_session(db: DbSession, site_id: str, session_id: str) -> Session:
    return session_from_rows(*_session_rows(db, site_id, session_id))


def find_session_of_service(
    db: DbSession, site_id: str, session_id: str, service: Service
) -> Session | None:
    """The session if it exists for the site and belongs to `service`, else None."""
    key = {"c_site_id": site_id, "c_id": session_id}
    row = db.connection().execute(_SELECT_SESSION, key).one_or_none()
    if row is None or row.service_id != service.id:
        return None
    return session_of_service(row, service)


def session_capacity(db: DbSession, site_id: str, session_id: str) -> int:
    """The session's capacity (its own, or its service's default); NotFound if missing."""
    key = {"c_site_id": site_id, "c_id": session_id}
    capacity = db.connection().execute(_SELECT_SESSION_CAPACITY, key).scalar_one_or_none()
    if capacity is None:
        raise NotFound(f"session {session_id!r} not found", session_id=session_id)
    return int(capacity)


def list_sessions(
    db: DbSession,
    site_id: str,
    *,
    service_id: str = "",
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    size: int = 0,
    token: str = "",
) -> Page[Session]:
    """Sessions ordered by start, then id; optionally of one service, starting in a range."""
    limit = page_size(size)
    query = fingerprint("sessions", service_id, start_from, start_to)
    after = decode_token(token, query, 2)
    statement = _sessions_query(site_id)
    if service_id:
        statement = statement.where(SessionRow.service_id == service_id)
    if start_from is not None:
        statement = statement.where(SessionRow.start_date >= start_from)
    if start_to is not None:
        statement = statement.where(SessionRow.start_date < start_to)
    if after is not None:
        statement = statement.where(
            _after(SessionRow.start_date, SessionRow.id, _token_instant(after[0]), after[1])
        )
    pairs = list(
        db.execute(statement.order_by(SessionRow.start_date, SessionRow.id).limit(limit + 1))
    )
    more, pairs = len(pairs) > limit, pairs[:limit]
    items = [session_from_rows(row, service) for row, service in pairs]
    next_token = encode_token(query, [items[-1].start.isoformat(), items[-1].id]) if more else ""
    return Page(items, next_token)


def list_sessions_between(
    db: DbSession, site_id: str, service_ids: Iterable[str], start: datetime, end: datetime
) -> list[Session]:
    """Sessions of the services that start in [start, end), ordered by start, then id."""
    statement = (
        _sessions_query(site_id)
        .where(
            SessionRow.service_id.in_(list(service_ids)),
            SessionRow.start_date >= start,
            SessionRow.start_date < end,
        )
        .order_by(SessionRow.start_date, SessionRow.id)
    )
    return [session_from_rows(row, service) for row, service in db.execute(statement)]


def list_schedule_sessions(db: DbSession, site_id: str, service_id: str) -> list[Session]:
    """Every session of a service (a course's schedule), ordered by start."""
    statement = (
        _sessions_query(site_id)
        .where(SessionRow.service_id == service_id)
        .order_by(SessionRow.start_date, SessionRow.id)
    )
    return [session_from_rows(row, service) for row, service in db.execute(statement)]


def _sessions_query(site_id: str) -> Any:
    return (
        select(SessionRow, ServiceRow)
        .join(
            ServiceRow,
            (ServiceRow.site_id == SessionRow.site_id) & (ServiceRow.id == SessionRow.service_id),
        )
        .where(SessionRow.site_id == site_id)
    )


def _session_rows(db: DbSession, site_id: str, session_id: str) -> tuple[SessionRow, ServiceRow]:
    found = db.execute(_sessions_query(site_id).where(SessionRow.id == session_id)).one_or_none()
    if found is None:
        raise NotFound(f"session {session_id!r} not found", session_id=session_id)
    return found[0], found[1]


def _session_service(db: DbSession, site_id: str, spec: SessionSpec, path: str) -> ServiceRow:
    """Validate a new session and return its service, which must be a class or a course."""
    validate_session(spec, path)
    service = db.get(ServiceRow, (site_id, spec.service_id))
    if service is None:
        raise invalid(
            [FieldViolation(f"{path}.service_id", f"unknown service {spec.service_id!r}")]
        )
    if service.type == ServiceType.APPOINTMENT.value:
        raise invalid(
            [
                FieldViolation(
                    f"{path}.service_id", "appointments have no sessions: use a class or course"
                )
            ]
        )
    _check_session_staff(db, site_id, spec, path)
    return service


def _check_session_staff(db: DbSession, site_id: str, spec: SessionSpec, path: str) -> None:
    if spec.staff_member_id and db.get(StaffMemberRow, (site_id, spec.staff_member_id)) is None:
        raise invalid(
            [
                FieldViolation(
                    f"{path}.staff_member_id", f"unknown staff member {spec.staff_member_id!r}"
                )
            ]
        )


def _occurrences(
    spec: SessionSpec, recurrence: str, timezone: str, path: str
) -> list[tuple[datetime, datetime]]:
    if not recurrence:
        return [(spec.start, spec.end)]
    return expand(parse_recurrence(recurrence, path), spec.start, spec.end, timezone, path)


def _new_session_row(
    site_id: str, spec: SessionSpec, start: datetime, end: datetime, recurrence_id: str
) -> SessionRow:
    now = _now()
    row = SessionRow(
        site_id=site_id,
        id=_new_id(),
        service_id=spec.service_id,
        recurrence_id=recurrence_id,
        created_date=now,
    )
    _fill_session_row(row, spec, start, end)
    return row


def _fill_session_row(row: SessionRow, spec: SessionSpec, start: datetime, end: datetime) -> None:
    row.start_date, row.end_date = start, end
    row.capacity = spec.capacity
    row.staff_member_id = spec.staff_member_id or None
    row.location = None if spec.location is None else location_json(spec.location)
    row.updated_date = _now()


def _after(first: Any, second: Any, first_value: Any, second_value: str) -> ColumnElement[bool]:
    """Keyset condition: (first, second) sorts after (first_value, second_value)."""
    return or_(first > first_value, and_(first == first_value, second > second_value))


def _token_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as bad:
        raise invalid([FieldViolation("page_token", "not a page token of this query")]) from bad
    if value.tzinfo is None:
        raise invalid([FieldViolation("page_token", "not a page token of this query")])
    return value


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CatalogRepository:
    """Services, staff members and sessions of one site, in one transaction."""

    def __init__(self, session: DbSession, site_id: str) -> None:
        self._session = session
        self._site_id = site_id
