"""The outbox: durable deliveries written with the change that causes them.

Deliveries live in two tables. An item enqueued with `OutboxRepository.enqueue` is a row of
`outbox`. A booking event whose transaction enqueues nothing else for its booking (no
notification, reminder or offer: the common case) is its own delivery item: its
`booking_events` row (`delivers_itself`) carries the same delivery columns, and no outbox row
is written (`BookingRepository.append_event`). When the transaction did enqueue another item
for the booking first, the event goes to the outbox too, as before, so that items written
together stay in one table in enqueue order. The payload of an event delivered from its own
row is built when it is claimed, with the same keys (event_id, type, cursor, actor, booking);
its id, the receivers' de-duplication key, is the event's id.

Delivery is at least once. A worker claims due items by leasing them (`claim_token`,
`claimed_until`) in one short transaction, sends them outside any transaction, then marks each
sent. If the worker dies between sending and marking, the lease runs out and the item is
claimed and sent again; receivers drop duplicates by the item's id.

Per booking, items are delivered in order: an item is not claimed while an earlier unsent item
of the same booking (by due time, then enqueue order) exists in either table, including one
that is failing and waiting for its retry. Enqueue order is `position`, which both tables draw
from one counter (store/delivery_positions.py), so it compares across them.

An item that failed its last allowed attempt becomes a dead letter (`dead_at`): it is never
claimed again and no longer holds back the later items of its booking (one undeliverable item
must not stop its booking's deliveries for good), until an operator retries it
(`bookings outbox retry`), which makes it due at once with a fresh count of attempts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, delete, exists, or_, select, true, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from bookings_server.domain.outbox import OutboxItem, OutboxKind, OutboxMessage
from bookings_server.store.delivery_positions import next_position_on_sqlite
from bookings_server.store.event_numbering import add_event_cursors
from bookings_server.store.models.bookings import BookingEventRow, OutboxRow

#: Longest error text kept on an item.
_MAX_ERROR_LENGTH = 2000

_outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
#: Built once: a Core insert on the transaction's connection, no ORM unit of work. SQLite
#: computes the position shared with the events (store/delivery_positions.py); PostgreSQL
#: takes it from the shared sequence.
_INSERT_ITEM = {
    "sqlite": _outbox.insert().values(position=next_position_on_sqlite()),
    "postgresql": _outbox.insert(),
}
#: `session.info` key: the (site, booking) pairs the transaction enqueued items for.
_ENQUEUED = "bookings.outbox_enqueued"


def enqueued_for(session: Session, site_id: str, booking_id: str) -> bool:
    """Whether the session's transaction enqueued an outbox item for the booking: then its
    event goes to the outbox too (`BookingRepository.append_event`)."""
    enqueued: set[tuple[str, str]] | None = session.info.get(_ENQUEUED)
    return enqueued is not None and (site_id, booking_id) in enqueued


def _record_enqueued(session: Session, site_id: str, booking_id: str) -> None:
    session.info.setdefault(_ENQUEUED, set()).add((site_id, booking_id))


def event_payload(row: BookingEventRow) -> dict[str, Any]:
    """The delivery payload of an event (the webhook's `data`): the same keys, in the same
    order, as the outbox item `append_event` enqueues for it."""
    return {
        "event_id": row.id,
        "type": row.type,
        "cursor": None if row.sequence is None else str(row.sequence),
        "actor": {"identity_type": row.actor_type, "identity_id": row.actor_id},
        "booking": row.booking,
    }


@dataclass(frozen=True)
class OutboxState:
    """An item as stored, for inspection (tests, operators)."""

    id: str
    site_id: str
    kind: OutboxKind
    booking_id: str
    due_at: datetime
    attempts: int
    sent_at: datetime | None
    last_error: str | None
    next_attempt_at: datetime
    dead_at: datetime | None
    #: A booking event delivering itself (its id is the event's): stored in booking_events.
    stored_as_event: bool = False
    #: The enqueue order, comparable across both tables.
    position: int = 0


class OutboxRepository:
    """The outbox items of one site, in one transaction."""

    def __init__(self, session: Session, site_id: str) -> None:
        self._session = session
        self._site_id = site_id

    def enqueue(self, message: OutboxMessage, now: datetime) -> str:
        """Add an item to the outbox in the caller's transaction; returns its id.

        Inserted at once, so `position` follows the order of the calls. Recorded in the
        session, so that an event of the booking appended later in the transaction goes to the
        outbox too instead of delivering itself.
        """
        item_id = str(uuid.uuid4())
        _record_enqueued(self._session, self._site_id, message.booking_id)
        dialect = self._session.get_bind().dialect.name
        self._session.connection().execute(
            _INSERT_ITEM[dialect],
            {
                "id": item_id,
                "site_id": self._site_id,
                "kind": message.kind.value,
                "booking_id": message.booking_id,
                "payload": message.payload,
                "due_at": message.due_at,
                "next_attempt_at": message.due_at,
                "attempts": 0,
                "created_at": now,
            },
        )
        return item_id

    def discard_unsent(self, booking_id: str, kind: OutboxKind) -> int:
        """Drop the booking's unsent items of `kind` (a canceled or moved booking's SMS
        reminder).

        An item a worker has already claimed may still be delivered (at least once); returns
        the number dropped.
        """
        result = self._session.execute(
            delete(OutboxRow)
            .where(
                OutboxRow.site_id == self._site_id,
                OutboxRow.booking_id == booking_id,
                OutboxRow.kind == kind.value,
                OutboxRow.sent_at.is_(None),
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def list_items(self, *, booking_id: str | None = None) -> list[OutboxState]:
        """The site's items of both tables in enqueue order, optionally of one booking."""
        query = (
            select(OutboxRow).where(OutboxRow.site_id == self._site_id).order_by(OutboxRow.position)
        )
        events = (
            select(BookingEventRow)
            .where(BookingEventRow.site_id == self._site_id, _DELIVERS_ITSELF)
            .order_by(BookingEventRow.position)
        )
        if booking_id is not None:
            query = query.where(OutboxRow.booking_id == booking_id)
            events = events.where(BookingEventRow.booking_id == booking_id)
        states = [_to_state(row) for row in self._session.scalars(query)]
        states += [_event_state(row) for row in self._session.scalars(events)]
        return sorted(states, key=lambda state: state.position)


def _released_with(error: str) -> dict[str, Any]:
    """The columns of an item whose attempt failed: the lease given up, the error kept."""
    return {"claim_token": None, "claimed_until": None, "last_error": error[:_MAX_ERROR_LENGTH]}


#: The events that are their own delivery item.
_DELIVERS_ITSELF: ColumnElement[bool] = BookingEventRow.delivers_itself == true()


def _no_earlier_unsent(
    site_id: Any, booking_id: Any, due_at: Any, position: Any
) -> list[ColumnElement[bool]]:
    """The ordering guard of a candidate (its columns given): no unsent, non-dead item of the
    same booking comes before it (by due time, then enqueue order) in either table."""
    item = aliased(OutboxRow)
    event = aliased(BookingEventRow)
    earlier_item = exists().where(
        item.site_id == site_id,
        item.booking_id == booking_id,
        item.sent_at.is_(None),
        item.dead_at.is_(None),
        or_(item.due_at < due_at, and_(item.due_at == due_at, item.position < position)),
    )
    earlier_event = exists().where(
        event.site_id == site_id,
        event.booking_id == booking_id,
        event.delivers_itself == true(),
        event.sent_at.is_(None),
        event.dead_at.is_(None),
        or_(
            event.occurred_at < due_at,
            and_(event.occurred_at == due_at, event.position < position),
        ),
    )
    return [~earlier_item, ~earlier_event]


#: Sites with unnumbered events that deliver themselves (PostgreSQL numbers them before the
#: claim reads them: their cursor is their own sequence).
_UNNUMBERED_OWN_SITES = (
    select(BookingEventRow.site_id)
    .where(BookingEventRow.sequence.is_(None), _DELIVERS_ITSELF, BookingEventRow.sent_at.is_(None))
    .distinct()
)


class OutboxQueue:
    """Every site's deliveries (outbox items and events that deliver themselves), as the
    delivery worker claims and settles them."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def claim_due(self, *, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Lease up to `limit` due items (all sites, both tables) for `lease`; returns them,
        oldest first (next attempt, then enqueue order).

        A booking event's item written before its event was numbered (PostgreSQL) gets the
        event's cursor here, numbering the event first (store/event_numbering.py); an event
        that delivers itself is numbered first too, and its cursor is its own sequence. The
        events are numbered after the outbox rows are locked and before the event rows are:
        numbering updates only unnumbered event rows, and only numbered ones are claimed, so
        claimers and numberers never wait for each other's row locks."""
        postgres = self._session.get_bind().dialect.name == "postgresql"
        items = (
            select(OutboxRow)
            .where(
                OutboxRow.sent_at.is_(None),
                OutboxRow.dead_at.is_(None),
                OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
                *_no_earlier_unsent(
                    OutboxRow.site_id, OutboxRow.booking_id, OutboxRow.due_at, OutboxRow.position
                ),
            )
            .order_by(OutboxRow.next_attempt_at, OutboxRow.position)
            .limit(limit)
        )
        events = (
            select(BookingEventRow)
            .where(
                _DELIVERS_ITSELF,
                BookingEventRow.sent_at.is_(None),
                BookingEventRow.dead_at.is_(None),
                BookingEventRow.next_attempt_at <= now,
                BookingEventRow.sequence.is_not(None),
                or_(BookingEventRow.claimed_until.is_(None), BookingEventRow.claimed_until < now),
                *_no_earlier_unsent(
                    BookingEventRow.site_id,
                    BookingEventRow.booking_id,
                    BookingEventRow.occurred_at,
                    BookingEventRow.position,
                ),
            )
            .order_by(BookingEventRow.next_attempt_at, BookingEventRow.position)
            .limit(limit)
        )
        if postgres:
            items = items.with_for_update(skip_locked=True, of=OutboxRow)
            events = events.with_for_update(skip_locked=True, of=BookingEventRow)
        item_rows = list(self._session.scalars(items))
        own_sites = (
            [str(site) for site in self._session.scalars(_UNNUMBERED_OWN_SITES)] if postgres else []
        )
        add_event_cursors(self._session, item_rows, also_sites=own_sites)
        event_rows = list(self._session.scalars(events))
        merged: list[tuple[datetime, int, OutboxRow | BookingEventRow]] = [
            (row.next_attempt_at, row.position, row) for row in item_rows
        ]
        for event in event_rows:
            assert event.next_attempt_at is not None
            merged.append((event.next_attempt_at, event.position, event))
        merged.sort(key=lambda entry: (entry[0], entry[1]))
        token = str(uuid.uuid4())
        claimed: list[OutboxItem] = []
        for _, _, row in merged[:limit]:
            row.claim_token = token
            row.claimed_until = now + lease
            claimed.append(_to_item(row) if isinstance(row, OutboxRow) else _event_item(row))
        self._session.flush()
        return claimed

    def mark_sent(
        self, item_id: str, claim_token: str, now: datetime, *, stored_as_event: bool = False
    ) -> bool:
        """Record a delivery. False when the lease was lost (the item will be sent again)."""
        values = {"sent_at": now, "claim_token": None, "claimed_until": None}
        return self._settle(item_id, claim_token, values, stored_as_event=stored_as_event)

    def mark_failed(
        self,
        item_id: str,
        claim_token: str,
        error: str,
        retry_at: datetime,
        *,
        stored_as_event: bool = False,
    ) -> None:
        """Release a failed item for another attempt at `retry_at`."""
        values = {"next_attempt_at": retry_at, **_released_with(error)}
        self._settle(item_id, claim_token, values, stored_as_event=stored_as_event, failed=True)

    def mark_dead(
        self,
        item_id: str,
        claim_token: str,
        error: str,
        now: datetime,
        *,
        stored_as_event: bool = False,
    ) -> None:
        """Record the last allowed attempt's failure: the item is a dead letter from `now`."""
        values = {"dead_at": now, **_released_with(error)}
        self._settle(item_id, claim_token, values, stored_as_event=stored_as_event, failed=True)

    def _settle(
        self,
        item_id: str,
        claim_token: str,
        values: dict[str, Any],
        *,
        stored_as_event: bool,
        failed: bool = False,
    ) -> bool:
        """Update the leased item in its table; True when the lease was still held. An event
        row moved to the outbox by the event retention while leased (store/event_retention.py)
        is found there, lease and all."""
        tables: list[type[OutboxRow] | type[BookingEventRow]] = [OutboxRow]
        if stored_as_event:
            tables.insert(0, BookingEventRow)
        for table in tables:
            changes = dict(values)
            if failed:
                changes["attempts"] = table.attempts + 1
            result = self._session.execute(
                update(table)
                .where(table.id == item_id, table.claim_token == claim_token)
                .values(**changes)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                return True
        return False

    def unsent(self, *, dead_only: bool, limit: int) -> list[OutboxState]:
        """Every site's unsent items of both tables (only the dead letters with `dead_only`),
        in enqueue order, at most `limit`."""
        query = (
            select(OutboxRow)
            .where(OutboxRow.sent_at.is_(None))
            .order_by(OutboxRow.position)
            .limit(limit)
        )
        events = (
            select(BookingEventRow)
            .where(_DELIVERS_ITSELF, BookingEventRow.sent_at.is_(None))
            .order_by(BookingEventRow.position)
            .limit(limit)
        )
        if dead_only:
            query = query.where(OutboxRow.dead_at.is_not(None))
            events = events.where(BookingEventRow.dead_at.is_not(None))
        states = [_to_state(row) for row in self._session.scalars(query)]
        states += [_event_state(row) for row in self._session.scalars(events)]
        return sorted(states, key=lambda state: state.position)[:limit]

    def retry_dead(self, item_id: str, now: datetime) -> bool:
        """Make the dead letter `item_id` (of either table) due at `now` with no failed
        attempts; False when no dead letter has that id."""
        for table in (OutboxRow, BookingEventRow):
            result = self._session.execute(
                update(table)
                .where(table.id == item_id, table.dead_at.is_not(None))
                .values(dead_at=None, attempts=0, next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                return True
        return False

    def purge_sent(self, *, sent_before: datetime, limit: int) -> int:
        """Purge at most `limit` items sent before `sent_before` (oldest first, along the
        sent_at indexes); returns how many. Unsent items are never purged.

        An outbox item is deleted. An event that delivered itself stays (the event retention
        deletes events, store/event_retention.py); only its delivery state is forgotten
        (`delivers_itself` false, the delivery columns cleared), as for an old event whose
        outbox item was purged."""
        oldest = (
            select(OutboxRow.position)
            .where(OutboxRow.sent_at < sent_before)
            .order_by(OutboxRow.sent_at)
            .limit(limit)
        )
        result = self._session.execute(
            delete(OutboxRow)
            .where(OutboxRow.position.in_(oldest.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
        purged = int(result.rowcount)  # type: ignore[attr-defined]
        if purged >= limit:
            return purged
        oldest_events = (
            select(BookingEventRow.position)
            .where(
                _DELIVERS_ITSELF,
                BookingEventRow.sent_at.is_not(None),
                BookingEventRow.sent_at < sent_before,
            )
            .order_by(BookingEventRow.sent_at)
            .limit(limit - purged)
        )
        result = self._session.execute(
            update(BookingEventRow)
            .where(BookingEventRow.position.in_(oldest_events.scalar_subquery()))
            .values(
                delivers_itself=False,
                sent_at=None,
                next_attempt_at=None,
                attempts=0,
                last_error=None,
            )
            .execution_options(synchronize_session=False)
        )
        return purged + int(result.rowcount)  # type: ignore[attr-defined]


def move_undelivered_events(session: Session, site_id: str, through: int) -> int:
    """Before the events of the site up to `through` are purged: move those still to be
    delivered from their own row (unsent, dead letters included) into the outbox, with their
    id, payload, delivery state, lease and position (so their order and the receivers'
    de-duplication key stay); returns how many. A rare path: an event is normally delivered
    long before its retention ends."""
    undelivered = select(BookingEventRow).where(
        BookingEventRow.site_id == site_id,
        BookingEventRow.sequence <= through,
        _DELIVERS_ITSELF,
        BookingEventRow.sent_at.is_(None),
    )
    if session.get_bind().dialect.name == "postgresql":
        # Wait for a claim or settlement in flight, and move the state it committed.
        undelivered = undelivered.with_for_update()
    rows = [
        {
            "position": event.position,
            "id": event.id,
            "site_id": event.site_id,
            "kind": OutboxKind.BOOKING_EVENT.value,
            "booking_id": event.booking_id,
            "payload": event_payload(event),
            "due_at": event.occurred_at,
            "next_attempt_at": event.next_attempt_at or event.occurred_at,
            "attempts": event.attempts,
            "claim_token": event.claim_token,
            "claimed_until": event.claimed_until,
            "last_error": event.last_error,
            "created_at": event.occurred_at,
            "dead_at": event.dead_at,
        }
        for event in session.scalars(undelivered)
    ]
    if rows:
        session.execute(_outbox.insert(), rows)
    return len(rows)


def _to_state(row: OutboxRow) -> OutboxState:
    return OutboxState(
        id=row.id,
        site_id=row.site_id,
        kind=OutboxKind(row.kind),
        booking_id=row.booking_id,
        due_at=row.due_at,
        attempts=row.attempts,
        sent_at=row.sent_at,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        dead_at=row.dead_at,
        position=row.position,
    )


def _to_item(row: OutboxRow) -> OutboxItem:
    assert row.claim_token is not None
    return OutboxItem(
        id=row.id,
        site_id=row.site_id,
        kind=OutboxKind(row.kind),
        booking_id=row.booking_id,
        due_at=row.due_at,
        payload=row.payload,
        attempts=row.attempts,
        claim_token=row.claim_token,
    )


def _event_state(row: BookingEventRow) -> OutboxState:
    return OutboxState(
        id=row.id,
        site_id=row.site_id,
        kind=OutboxKind.BOOKING_EVENT,
        booking_id=row.booking_id,
        due_at=row.occurred_at,
        attempts=row.attempts,
        sent_at=row.sent_at,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at or row.occurred_at,
        dead_at=row.dead_at,
        stored_as_event=True,
        position=row.position,
    )


def _event_item(row: BookingEventRow) -> OutboxItem:
    assert row.claim_token is not None
    return OutboxItem(
        id=row.id,
        site_id=row.site_id,
        kind=OutboxKind.BOOKING_EVENT,
        booking_id=row.booking_id,
        due_at=row.occurred_at,
        payload=event_payload(row),
        attempts=row.attempts,
        claim_token=row.claim_token,
        stored_as_event=True,
    )
