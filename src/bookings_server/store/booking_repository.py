"""Bookings and their events, per site: rows <-> domain/booking.py Booking.

`BookingRepository` is bound to one transaction's session and site and touches only that
site's rows (store/unit_of_work.py creates it as `tx.bookings`). Writers lock the capacity
unit (`tx.lock`) before `taken_spots` (store/booking_counts.py) and keep the lock until they
commit.

Event sequences (store/event_numbering.py): a number is only ever given to a committed event,
under the site's numbering lock, one above the site's highest, so the numbered events any
snapshot sees are a prefix of the stream and a follower reading "sequence > cursor" never
skips one. On SQLite the write transaction holds that lock anyway (BEGIN IMMEDIATE) and
`append_event`'s INSERT numbers the event itself; on PostgreSQL it inserts the event
unnumbered, taking no site-wide lock, and `number_events` numbers committed events later, in a
short transaction of whoever reads the stream.

The write path (create, lifecycle changes, events) runs prepared Core statements: built once
with bind parameters, so neither statement construction nor its cache key is paid per call,
and executed on the transaction's connection without the ORM unit of work.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bookings_server.domain.booking import Actor, Booking, BookingStatus, EventType, PaymentStatus
from bookings_server.domain.booking_events import BookingEvent
from bookings_server.domain.booking_query import BookingQuery, PagePosition
from bookings_server.domain.capacity import CapacityUnit, UnitKind
from bookings_server.domain.catalog_removal import ACTIVE_STATUSES, EntityReference
from bookings_server.domain.errors import Aborted, NotFound
from bookings_server.domain.identity import IdentityType
from bookings_server.domain.outbox import OutboxKind, OutboxMessage
from bookings_server.store.booking_codec import booking_from_dict, booking_to_dict
from bookings_server.store.booking_counts import BookingCounts, bookings_table, execute
from bookings_server.store.event_numbering import has_pending, insert_event, number_pending
from bookings_server.store.models.bookings import BookingEventRow, BookingRow
from bookings_server.store.outbox_repository import OutboxRepository, enqueued_for

BOOKING_NOT_FOUND = "BOOKING_NOT_FOUND"

_bookings = bookings_table

#: The columns a Booking is read from (`_to_booking`), plus what its buffer is computed from.
_BOOKING_COLUMNS = (
    _bookings.c.data,
    _bookings.c.status,
    _bookings.c.payment_status,
    _bookings.c.revision,
    _bookings.c.double_booked,
    _bookings.c.participants,
    _bookings.c.end_date,
    _bookings.c.blocked_until,
)
_BY_ID = (_bookings.c.site_id == bindparam("b_site_id"), _bookings.c.id == bindparam("b_id"))
_SELECT_BOOKING = select(*_BOOKING_COLUMNS).where(*_BY_ID)
_SELECT_BOOKING_FOR_UPDATE = _SELECT_BOOKING.with_for_update()
_SELECT_BY_REQUEST_ID = select(*_BOOKING_COLUMNS, _bookings.c.request_hash).where(
    _bookings.c.site_id == bindparam("b_site_id"),
    _bookings.c.request_id == bindparam("b_request_id"),
)
_SELECT_REVISION = select(_bookings.c.revision).where(*_BY_ID)
_IN_LINE = (
    _bookings.c.site_id == bindparam("b_site_id"),
    _bookings.c.status == BookingStatus.WAITING_LIST.value,
)
_LINE_ORDER = (_bookings.c.line_position, _bookings.c.id)
_WAITING_LINE = {
    UnitKind.SESSION: select(*_BOOKING_COLUMNS)
    .where(*_IN_LINE, _bookings.c.session_id == bindparam("b_unit"))
    .order_by(*_LINE_ORDER),
    UnitKind.SCHEDULE: select(*_BOOKING_COLUMNS)
    .where(
        *_IN_LINE, _bookings.c.entity == "SCHEDULE", _bookings.c.schedule_id == bindparam("b_unit")
    )
    .order_by(*_LINE_ORDER),
}
_INSERT_BOOKING = _bookings.insert()
#: A booking with a request_id: the (site_id, request_id) unique constraint decides, without
#: an error (and, on PostgreSQL, without aborting the transaction), whether it is a retry.
_INSERT_BOOKING_ONCE = {
    "postgresql": pg_insert(_bookings)
    .on_conflict_do_nothing(index_elements=[_bookings.c.site_id, _bookings.c.request_id])
    .returning(_bookings.c.id),
    "sqlite": sqlite_insert(_bookings)
    .on_conflict_do_nothing(index_elements=[_bookings.c.site_id, _bookings.c.request_id])
    .returning(_bookings.c.id),
}
_UPDATE_BOOKING = update(_bookings).where(*_BY_ID, _bookings.c.revision == bindparam("b_revision"))


class DuplicateRequestId(Exception):
    """Another transaction stored a booking with this request_id first (SPEC 3.10)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"a booking with request_id {request_id!r} exists")
        self.request_id = request_id


class BookingRepository(BookingCounts):
    """Bookings and their events of one site, in one transaction."""

    def __init__(self, session: Session, site_id: str) -> None:
        super().__init__(session, site_id)

    # --- bookings ---

    def insert_booking(
        self,
        booking: Booking,
        *,
        buffer_after: timedelta = timedelta(0),
        request_id: str = "",
        request_hash: str = "",
    ) -> None:
        """Store a new booking (flushed now).

        `buffer_after` is the service's buffer: an appointment keeps its staff member busy
        until its end plus the buffer. A request_id already stored for the site (committed by
        a concurrent retry) raises DuplicateRequestId and inserts nothing: the unique
        constraint, not the driver's error text, tells a retry from any other failure.
        """
        row = booking_columns(booking, buffer_after)
        row.update(
            site_id=booking.site_id,
            id=booking.id,
            request_id=request_id or None,
            request_hash=request_hash or None,
            created_by_type=booking.created_by.identity_type.value,
            created_by_id=booking.created_by.identity_id,
            created_date=booking.created_date,
        )
        if not request_id:
            execute(self._session, _INSERT_BOOKING, row)
            return
        dialect = self._session.get_bind().dialect.name
        if dialect == "sqlite":
            self._insert_once_on_sqlite(row, request_id)
            return
        if execute(self._session, _INSERT_BOOKING_ONCE[dialect], row).first() is None:
            raise DuplicateRequestId(request_id)

    def _insert_once_on_sqlite(self, row: dict[str, object], request_id: str) -> None:
        """A plain INSERT, which SQLAlchemy caches (it compiles ON CONFLICT statements afresh
        on every call): a unique violation is a retry if the request_id is stored. SQLite
        undoes only the failed statement, and its single writer lets nothing change between
        the two."""
        try:
            execute(self._session, _INSERT_BOOKING, row)
        except IntegrityError:
            if self.find_by_request_id(request_id) is not None:
                raise DuplicateRequestId(request_id) from None
            raise

    def update_booking(
        self,
        booking: Booking,
        *,
        expected_revision: int,
        buffer_after: timedelta | None = None,
    ) -> Booking:
        """Write `booking` over the stored one if its revision is still `expected_revision`.

        Returns the booking as stored, with revision `expected_revision + 1`. A missing booking
        is NotFound; a changed revision is Aborted (REVISION_MISMATCH). `buffer_after` None
        keeps the stored buffer (pass the service's buffer when the slot moves to another
        service, or the stored one from `get_booking_and_buffer` to save a read).
        """
        stored = replace(booking, revision=expected_revision + 1)
        key = {"b_site_id": booking.site_id, "b_id": booking.id}
        if buffer_after is None:
            buffer_after = self.get_booking_and_buffer(booking.id)[1]
        values = booking_columns(stored, buffer_after)
        parameters = {**values, **key, "b_revision": expected_revision}
        result = execute(self._session, _UPDATE_BOOKING, parameters)
        if not result.rowcount:
            current = execute(self._session, _SELECT_REVISION, key).scalar_one_or_none()
            if current is None:
                raise _not_found(booking.id)
            if current != expected_revision:
                raise Aborted(
                    f"booking {booking.id} is at revision {current}, not {expected_revision}",
                    expected_revision=str(expected_revision),
                    current_revision=str(current),
                )
            raise Aborted(f"booking {booking.id} changed concurrently; re-read and retry")
        return stored

    def find_booking(self, booking_id: str, *, for_update: bool = False) -> Booking | None:
        """The booking, or None. `for_update` row-locks it on PostgreSQL until commit."""
        row = self._booking_row(booking_id, for_update=for_update)
        return None if row is None else _to_booking(row)

    def get_booking(self, booking_id: str, *, for_update: bool = False) -> Booking:
        """The booking; NotFound (BOOKING_NOT_FOUND) if it does not exist for this site."""
        booking = self.find_booking(booking_id, for_update=for_update)
        if booking is None:
            raise _not_found(booking_id)
        return booking

    def get_booking_and_buffer(self, booking_id: str) -> tuple[Booking, timedelta]:
        """The booking and its stored buffer (how long after its end it keeps its staff busy);
        NotFound (BOOKING_NOT_FOUND) if it does not exist for this site."""
        row = self._booking_row(booking_id)
        if row is None:
            raise _not_found(booking_id)
        return _to_booking(row), row.blocked_until - row.end_date

    def find_by_request_id(self, request_id: str) -> tuple[Booking, str] | None:
        """The booking created with this request_id, and the hash of that request's body."""
        parameters = {"b_site_id": self._site_id, "b_request_id": request_id}
        row = execute(self._session, _SELECT_BY_REQUEST_ID, parameters).one_or_none()
        return None if row is None else (_to_booking(row), row.request_hash or "")

    def active_bookings(self, reference: EntityReference, now: datetime) -> list[Booking]:
        """The bookings that still need the referenced service, staff member or session:
        CREATED, PENDING, CONFIRMED or WAITING_LIST, ending after `now`."""
        column = {
            "service": _bookings.c.service_id,
            "staff_member": _bookings.c.staff_member_id,
            "session": _bookings.c.session_id,
        }[reference.kind]
        statement = (
            select(*_BOOKING_COLUMNS)
            .where(
                _bookings.c.site_id == self._site_id,
                column == reference.id,
                _bookings.c.status.in_([s.value for s in ACTIVE_STATUSES]),
                _bookings.c.end_date > now,
            )
            .order_by(_bookings.c.start_date, _bookings.c.id)
        )
        return [_to_booking(row) for row in self._session.execute(statement)]

    def waiting_line(self, unit: CapacityUnit) -> list[Booking]:
        """The WAITING_LIST bookings of a session or course schedule, in line order (place in
        line, then id); none for a staff member."""
        if unit.kind is UnitKind.STAFF:
            return []
        statement = _WAITING_LINE[unit.kind]
        rows = execute(self._session, statement, {"b_site_id": self._site_id, "b_unit": unit.id})
        return [_to_booking(row) for row in rows]

    def query_bookings(self, query: BookingQuery) -> tuple[list[Booking], PagePosition | None]:
        """One page of the site's bookings and the position of its last one if more follow."""
        order = query.order
        key = BookingRow.start_date if order.by_start else BookingRow.created_date
        statement = select(BookingRow).where(BookingRow.site_id == self._site_id)
        found = query.filter
        if found.statuses:
            statement = statement.where(BookingRow.status.in_([s.value for s in found.statuses]))
        if found.service_ids:
            statement = statement.where(BookingRow.service_id.in_(list(found.service_ids)))
        if found.start_from is not None:
            statement = statement.where(BookingRow.start_date >= found.start_from)
        if found.start_to is not None:
            statement = statement.where(BookingRow.start_date < found.start_to)
        if found.contact_email:
            statement = statement.where(BookingRow.contact_email == found.contact_email.lower())
        if query.after is not None:
            after_key, after_id = query.after.sort_key, query.after.booking_id
            if order.descending:
                statement = statement.where(
                    or_(key < after_key, and_(key == after_key, BookingRow.id < after_id))
                )
            else:
                statement = statement.where(
                    or_(key > after_key, and_(key == after_key, BookingRow.id > after_id))
                )
        ordering = (key.desc(), BookingRow.id.desc()) if order.descending else (key, BookingRow.id)
        limited = statement.order_by(*ordering).limit(query.page_size + 1)
        rows = list(self._session.scalars(limited))
        bookings = [_to_booking(row) for row in rows[: query.page_size]]
        if len(rows) <= query.page_size:
            return bookings, None
        last = rows[query.page_size - 1]
        sort_key = last.start_date if order.by_start else last.created_date
        return bookings, PagePosition(sort_key, last.id)

    def _booking_row(self, booking_id: str, *, for_update: bool = False) -> Row[Any] | None:
        locking = for_update and self._session.get_bind().dialect.name == "postgresql"
        statement = _SELECT_BOOKING_FOR_UPDATE if locking else _SELECT_BOOKING
        parameters = {"b_site_id": self._site_id, "b_id": booking_id}
        return execute(self._session, statement, parameters).one_or_none()

    # --- events ---

    def append_event(
        self, event_type: EventType, booking: Booking, actor: Actor, occurred_at: datetime
    ) -> None:
        """Record an event of `booking` (as it is after the change) and its delivery.

        When the transaction enqueued no outbox item for the booking before (the common
        case), the event row is its own delivery item (`delivers_itself`, due at once) and no
        outbox row is written; its payload is built when it is claimed
        (store/outbox_repository.py). Otherwise the event is enqueued after those items, as
        an outbox item, so that items written together stay in one table in enqueue order.
        Enqueue the booking's other items of the transaction before its event.

        The outbox payload carries the event's cursor when the INSERT numbered it (SQLite);
        when it is numbered after commit (PostgreSQL) the cursor is null until the worker
        claims the item (store/event_numbering.py `add_event_cursors`).
        """
        event_id = str(uuid.uuid4())
        snapshot = booking_to_dict(booking)
        delivers_itself = not enqueued_for(self._session, booking.site_id, booking.id)
        sequence = insert_event(
            self._session,
            {
                "site_id": booking.site_id,
                "id": event_id,
                "type": event_type.value,
                "booking_id": booking.id,
                "booking": snapshot,
                "actor_type": actor.identity_type.value,
                "actor_id": actor.identity_id,
                "occurred_at": occurred_at,
                "delivers_itself": delivers_itself,
                "attempts": 0,
                "next_attempt_at": occurred_at if delivers_itself else None,
            },
        )
        if delivers_itself:
            return
        payload = {
            "event_id": event_id,
            "type": event_type.value,
            "cursor": None if sequence is None else str(sequence),
            "actor": {
                "identity_type": actor.identity_type.value,
                "identity_id": actor.identity_id,
            },
            "booking": snapshot,
        }
        OutboxRepository(self._session, booking.site_id).enqueue(
            OutboxMessage(OutboxKind.BOOKING_EVENT, booking.id, occurred_at, payload),
            occurred_at,
        )

    def number_events(self, limit: int) -> int:
        """Number up to `limit` of the site's committed events still unnumbered (PostgreSQL);
        returns how many. Holds the site's numbering lock to the end of the transaction, so
        run it in a short write transaction of its own."""
        return number_pending(self._session, self._site_id, limit)

    def has_unnumbered_events(self) -> bool:
        """Whether committed events of the site wait for `number_events` (never on SQLite)."""
        return has_pending(self._session, self._site_id)

    def events_after(self, after_sequence: int, limit: int) -> list[BookingEvent]:
        """The site's numbered events with a sequence above `after_sequence`, in order, at most
        `limit`."""
        query = (
            select(BookingEventRow)
            .where(
                BookingEventRow.site_id == self._site_id,
                BookingEventRow.sequence > after_sequence,
            )
            .order_by(BookingEventRow.sequence)
            .limit(limit)
        )
        return [_to_event(row) for row in self._session.scalars(query)]

    def events_of_booking(self, booking_id: str) -> list[BookingEvent]:
        """The booking's events in stream order, those not numbered yet last (in the order
        they will be numbered, with sequence 0)."""
        query = (
            select(BookingEventRow)
            .where(
                BookingEventRow.site_id == self._site_id,
                BookingEventRow.booking_id == booking_id,
            )
            .order_by(BookingEventRow.sequence.nulls_last(), BookingEventRow.position)
        )
        return [_to_event(row) for row in self._session.scalars(query)]


def _not_found(booking_id: str) -> NotFound:
    return NotFound(f"no booking {booking_id!r}", BOOKING_NOT_FOUND, booking_id=booking_id)


def booking_columns(booking: Booking, buffer_after: timedelta) -> dict[str, object]:
    """Every column derived from the Booking (all but ids, request and creator columns): the
    row a booking is stored as, also used by bench/bulk.py to load bookings in bulk."""
    assert booking.start is not None and booking.end is not None
    slot, schedule = booking.slot, booking.schedule
    if slot is not None:
        entity, schedule_id = "SLOT", slot.schedule_id
    else:
        assert schedule is not None
        entity, schedule_id = "SCHEDULE", schedule.schedule_id
    return {
        "entity": entity,
        "service_id": booking.service_id,
        "session_id": (slot.session_id or None) if slot is not None else None,
        "schedule_id": schedule_id or None,
        "staff_member_id": (slot.resource.id or None) if slot is not None else None,
        "start_date": booking.start,
        "end_date": booking.end,
        "blocked_until": booking.end + buffer_after,
        "status": booking.status.value,
        "payment_status": booking.payment_status.value,
        "participants": booking.participants,
        "revision": booking.revision,
        "double_booked": booking.double_booked,
        "skip_availability_validation": booking.flow_control.skip_availability_validation,
        "skip_business_confirmation": booking.flow_control.skip_business_confirmation,
        "skip_selected_payment_option_validation": (
            booking.flow_control.skip_selected_payment_option_validation
        ),
        "ignore_booking_policy": booking.flow_control.ignore_booking_policy,
        "contact_email": booking.contact.email.lower(),
        "line_position": booking.line_position,
        "offer_expires": booking.offer_expires,
        "updated_date": booking.updated_date,
        "data": booking_to_dict(booking),
    }


def _to_booking(row: BookingRow | Row[Any]) -> Booking:
    return replace(
        booking_from_dict(row.data),
        status=BookingStatus(row.status),
        payment_status=PaymentStatus(row.payment_status),
        revision=row.revision,
        double_booked=row.double_booked,
        participants=row.participants,
    )


def _to_event(row: BookingEventRow) -> BookingEvent:
    return BookingEvent(
        id=row.id,
        site_id=row.site_id,
        sequence=row.sequence or 0,
        type=EventType(row.type),
        booking=booking_from_dict(row.booking),
        actor=Actor(IdentityType(row.actor_type), row.actor_id),
        occurred_at=row.occurred_at,
    )
