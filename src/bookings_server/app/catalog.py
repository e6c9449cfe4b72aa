"""Catalog use cases: create, read, list and update services, staff members and sessions.

Every write validates with domain/catalog_validation.py and domain/catalog_rules.py, checks
the references it makes (a service's staff, a session's service and staff member), then writes
through `tx.catalog`. `path` is where the entity sits in its request or file ("service",
"services[2]"): every field violation is named below it. The `*_in` functions run inside a
caller's transaction (the catalog import); `Catalog` opens one per call. The lists page by
keyset: the store returns the sort key of a page's last row, signed here into the next page
token (domain/page_tokens.py) for the list, its filters and the site.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from bookings_server.app.bookings.waiting_list import SYSTEM, refresh_offers
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain.capacity import schedule_unit, session_unit
from bookings_server.domain.catalog import Service, ServiceType, Session, SessionSpec, StaffMember
from bookings_server.domain.catalog_rules import (
    check_dropped_sessions_free,
    check_session_service,
    check_session_service_unchanged,
    check_session_staff_known,
    check_staff_known,
    check_type_unchanged,
    occurrence_keys,
    occurrences,
)
from bookings_server.domain.catalog_validation import (
    validate_service,
    validate_session,
    validate_staff_member,
)
from bookings_server.domain.errors import InvalidArgument
from bookings_server.domain.page_tokens import PageTokenCodec, TokenFields, TokenValue
from bookings_server.domain.waiting_list import keeps_a_list
from bookings_server.store.paging import Keyset

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    #: Empty on the last page.
    next_page_token: str


def _under(path: str, check: Callable[[], T]) -> T:
    """Run a relative-path rule, naming its violations below `path`."""
    try:
        return check()
    except InvalidArgument as error:
        raise error.with_field_prefix(path) from None


# --- inside a transaction -------------------------------------------------------------------


def create_service_in(
    tx: Transaction,
    service: Service,
    now: datetime,
    *,
    path: str = "service",
    import_key: str | None = None,
) -> Service:
    """A new service; its id and schedule id are assigned."""
    _under(path, lambda: validate_service(service))
    _check_service_staff(tx, service, path)
    return tx.catalog.create_service(service, now, import_key=import_key)


def update_service_in(
    tx: Transaction, service: Service, now: datetime, *, path: str = "service"
) -> Service:
    """Overwrite every mutable field of the service `service.id`. The type cannot change."""
    stored = tx.catalog.get_service(service.id)
    _under(path, lambda: check_type_unchanged(stored, service))
    _under(path, lambda: validate_service(service))
    _check_service_staff(tx, service, path)
    return tx.catalog.update_service(service, now)


def _check_service_staff(tx: Transaction, service: Service, path: str) -> None:
    ids = service.staff_member_ids
    if ids:
        known = tx.catalog.known_staff_ids(ids)
        _under(path, lambda: check_staff_known(ids, known))


def create_staff_member_in(
    tx: Transaction,
    staff: StaffMember,
    now: datetime,
    *,
    path: str = "staff_member",
    import_key: str | None = None,
) -> StaffMember:
    _under(path, lambda: validate_staff_member(staff))
    return tx.catalog.create_staff_member(staff, now, import_key=import_key)


def update_staff_member_in(
    tx: Transaction, staff: StaffMember, now: datetime, *, path: str = "staff_member"
) -> StaffMember:
    """Overwrite every mutable field (hours and blocked times included) of `staff.id`."""
    tx.catalog.get_staff_member(staff.id)
    _under(path, lambda: validate_staff_member(staff))
    return tx.catalog.update_staff_member(staff, now)


def create_sessions_in(
    tx: Transaction,
    spec: SessionSpec,
    recurrence: str,
    now: datetime,
    *,
    path: str = "session",
    recurrence_path: str = "recurrence",
) -> list[Session]:
    """One session, or every session a weekly recurrence expands into (ordered by start)."""
    service = _session_service(tx, spec, path)
    spans = occurrences(spec, recurrence, service.timezone, recurrence_path)
    recurrence_id = _new_recurrence_id() if recurrence else ""
    return tx.catalog.create_sessions(
        spec, [(None, start, end) for start, end in spans], recurrence_id, now
    )


def upsert_keyed_sessions_in(
    tx: Transaction,
    key: str,
    spec: SessionSpec,
    recurrence: str,
    now: datetime,
    *,
    path: str = "session",
    recurrence_path: str = "recurrence",
) -> list[Session]:
    """Create or update the sessions imported under `key` (occurrence n is "key#n"); sessions
    of an earlier import that the new definition no longer produces are deleted, unless they
    have CONFIRMED or PENDING bookings (FailedPrecondition SESSIONS_IN_USE)."""
    service = _session_service(tx, spec, path)
    spans = occurrences(spec, recurrence, service.timezone, recurrence_path)
    keys = occurrence_keys(key, len(spans), recurrence)
    existing = tx.catalog.keyed_sessions(key)
    recurrence_id = next((s.recurrence_id for s in existing.values() if s.recurrence_id), "")
    if recurrence and not recurrence_id:
        recurrence_id = _new_recurrence_id()
    stale = [session.id for k, session in existing.items() if k not in keys]
    if stale:
        booked = any(tx.bookings.taken_by_sessions(stale).values())
        check_dropped_sessions_free(path, booked)
        tx.catalog.delete_sessions(stale)
    keyed = [(k, start, end) for k, (start, end) in zip(keys, spans, strict=True)]
    kept_recurrence_id = recurrence_id if recurrence else ""
    return tx.catalog.save_keyed_sessions(spec, keyed, recurrence_id, kept_recurrence_id, now)


def update_session_in(
    tx: Transaction, session_id: str, spec: SessionSpec, now: datetime, *, path: str = "session"
) -> Session:
    """Overwrite the session's mutable fields. Its service cannot change."""
    stored = tx.catalog.get_session(session_id)
    _under(path, lambda: check_session_service_unchanged(stored.service_id, spec))
    _under(path, lambda: validate_session(spec))
    _check_session_staff(tx, spec, path)
    updated = tx.catalog.update_session(session_id, spec, now)
    _offer_new_room(tx, updated, now)
    return updated


def _offer_new_room(tx: Transaction, session: Session, now: datetime) -> None:
    """A session whose capacity grew offers the new spots to its waiting list (SPEC 10), in
    the update's transaction and under the unit's lock like any other offer."""
    service = tx.catalog.get_service(session.service_id)
    unit = (
        schedule_unit(service.schedule_id)
        if service.type is ServiceType.COURSE
        else session_unit(session.id)
    )
    if keeps_a_list(service, unit):
        tx.lock(unit)
        refresh_offers(tx, unit, service, now, SYSTEM)


def _session_service(tx: Transaction, spec: SessionSpec, path: str) -> Service:
    """Validate a new session and return its service, which must be a class or a course."""
    _under(path, lambda: validate_session(spec))
    found = tx.catalog.find_service(spec.service_id)
    service = _under(path, lambda: check_session_service(found, spec.service_id))
    _check_session_staff(tx, spec, path)
    return service


def _check_session_staff(tx: Transaction, spec: SessionSpec, path: str) -> None:
    if spec.staff_member_id:
        known = bool(tx.catalog.known_staff_ids([spec.staff_member_id]))
        _under(path, lambda: check_session_staff_known(spec, known))


def _new_recurrence_id() -> str:
    return str(uuid.uuid4())


# --- one transaction per call ----------------------------------------------------------------


def _name_and_id(fields: TokenFields) -> tuple[str, str]:
    return fields.text(), fields.text()


def _start_and_id(fields: TokenFields) -> tuple[datetime, str]:
    return fields.instant(), fields.text()


def _instant_text(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


class Catalog:
    """The catalog use cases of the API, each in its own transaction of `site_id`; list page
    tokens are signed by `page_tokens`."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock = utc_now, *, page_tokens: PageTokenCodec
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = page_tokens

    def _page(
        self, site_id: str, scope: Sequence[str], found: Keyset[T, Sequence[TokenValue]]
    ) -> Page[T]:
        after = found.next_after
        token = "" if after is None else self._tokens.encode(site_id, scope, after)
        return Page(found.items, token)

    # services

    def create_service(self, site_id: str, service: Service) -> Service:
        with self._uow.write(site_id) as tx:
            return create_service_in(tx, service, self._clock())

    def get_service(self, site_id: str, service_id: str) -> Service:
        with self._uow.read(site_id) as tx:
            return tx.catalog.get_service(service_id)

    def list_services(
        self,
        site_id: str,
        *,
        size: int = 0,
        token: str = "",
        service_type: ServiceType | None = None,
    ) -> Page[Service]:
        """A page of the site's services by name; InvalidArgument INVALID_PAGE_TOKEN for a
        token not issued for this list, type filter and site."""
        scope = ("services", "" if service_type is None else service_type.value)
        after = self._tokens.decode(token, site_id, scope, _name_and_id)
        with self._uow.read(site_id) as tx:
            found = tx.catalog.list_services(size=size, after=after, service_type=service_type)
        return self._page(site_id, scope, found)

    def update_service(self, site_id: str, service: Service) -> Service:
        return self.modify_service(site_id, service.id, lambda _stored: service)

    def modify_service(
        self, site_id: str, service_id: str, change: Callable[[Service], Service]
    ) -> Service:
        """Read the service, apply `change` to it and store the result, in one transaction."""
        with self._uow.write(site_id) as tx:
            changed = change(tx.catalog.get_service(service_id))
            return update_service_in(tx, changed, self._clock())

    # staff members

    def create_staff_member(self, site_id: str, staff: StaffMember) -> StaffMember:
        with self._uow.write(site_id) as tx:
            return create_staff_member_in(tx, staff, self._clock())

    def get_staff_member(self, site_id: str, staff_member_id: str) -> StaffMember:
        with self._uow.read(site_id) as tx:
            return tx.catalog.get_staff_member(staff_member_id)

    def list_staff_members(
        self, site_id: str, *, size: int = 0, token: str = ""
    ) -> Page[StaffMember]:
        """A page of the site's staff members by name (tokens as for `list_services`)."""
        scope = ("staff_members",)
        after = self._tokens.decode(token, site_id, scope, _name_and_id)
        with self._uow.read(site_id) as tx:
            found = tx.catalog.list_staff_members(size=size, after=after)
        return self._page(site_id, scope, found)

    def update_staff_member(self, site_id: str, staff: StaffMember) -> StaffMember:
        return self.modify_staff_member(site_id, staff.id, lambda _stored: staff)

    def modify_staff_member(
        self, site_id: str, staff_member_id: str, change: Callable[[StaffMember], StaffMember]
    ) -> StaffMember:
        """Read the staff member, apply `change` and store the result, in one transaction."""
        with self._uow.write(site_id) as tx:
            changed = change(tx.catalog.get_staff_member(staff_member_id))
            return update_staff_member_in(tx, changed, self._clock())

    # sessions

    def create_sessions(
        self, site_id: str, spec: SessionSpec, recurrence: str = ""
    ) -> list[Session]:
        with self._uow.write(site_id) as tx:
            return create_sessions_in(tx, spec, recurrence, self._clock())

    def upsert_keyed_sessions(
        self, site_id: str, key: str, spec: SessionSpec, recurrence: str = ""
    ) -> list[Session]:
        with self._uow.write(site_id) as tx:
            return upsert_keyed_sessions_in(tx, key, spec, recurrence, self._clock())

    def get_session(self, site_id: str, session_id: str) -> Session:
        with self._uow.read(site_id) as tx:
            return tx.catalog.get_session(session_id)

    def list_sessions(
        self,
        site_id: str,
        *,
        service_id: str = "",
        start_from: datetime | None = None,
        start_to: datetime | None = None,
        size: int = 0,
        token: str = "",
    ) -> Page[Session]:
        """A page of the site's sessions by start (tokens as for `list_services`, bound to
        the service and range filters)."""
        scope = ("sessions", service_id, _instant_text(start_from), _instant_text(start_to))
        after = self._tokens.decode(token, site_id, scope, _start_and_id)
        with self._uow.read(site_id) as tx:
            found = tx.catalog.list_sessions(
                service_id=service_id,
                start_from=start_from,
                start_to=start_to,
                size=size,
                after=after,
            )
        return self._page(site_id, scope, found)

    def update_session(self, site_id: str, session_id: str, spec: SessionSpec) -> Session:
        return self.modify_session(site_id, session_id, lambda _stored: spec)

    def modify_session(
        self, site_id: str, session_id: str, change: Callable[[Session], SessionSpec]
    ) -> Session:
        """Read the session, turn it into the new spec with `change` and store it."""
        with self._uow.write(site_id) as tx:
            spec = change(tx.catalog.get_session(session_id))
            return update_session_in(tx, session_id, spec, self._clock())
