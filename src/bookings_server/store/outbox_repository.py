"""The outbox: durable deliveries written with the change that causes them.

Delivery is at least once. A worker claims due items by leasing them (`claim_token`,
`claimed_until`) in one short transaction, sends them outside any transaction, then marks each
sent. If the worker dies between sending and marking, the lease runs out and the item is
claimed and sent again; receivers drop duplicates by the item's id.

Per booking, items are delivered in order: an item is not claimed while an earlier unsent item
of the same booking (by due time, then enqueue order) exists, including one that is failing
and waiting for its retry.

An item that failed its last allowed attempt becomes a dead letter (`dead_at`): it is never
claimed again and no longer holds back the later items of its booking (one undeliverable item
must not stop its booking's deliveries for good), until an operator retries it
(`bookings outbox retry`), which makes it due at once with a fresh count of attempts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from bookings_server.domain.outbox import OutboxItem, OutboxKind, OutboxMessage
from bookings_server.store.event_numbering import add_event_cursors
from bookings_server.store.models.bookings import OutboxRow

#: Longest error text kept on an item.
_MAX_ERROR_LENGTH = 2000

_outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
#: Built once: a Core insert on the transaction's connection, no ORM unit of work.
_INSERT_ITEM = _outbox.insert()


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


class OutboxRepository:
    """The outbox items of one site, in one transaction."""

    def __init__(self, session: Session, site_id: str) -> None:
        self._session = session
        self._site_id = site_id

    def enqueue(self, message: OutboxMessage, now: datetime) -> str:
        """Add an item to the outbox in the caller's transaction; returns its id.

        Inserted at once, so `position` follows the order of the calls.
        """
        item_id = str(uuid.uuid4())
        self._session.connection().execute(
            _INSERT_ITEM,
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
        """The site's items in enqueue order, optionally of one booking."""
        query = (
            select(OutboxRow).where(OutboxRow.site_id == self._site_id).order_by(OutboxRow.position)
        )
        if booking_id is not None:
            query = query.where(OutboxRow.booking_id == booking_id)
        return [_to_state(row) for row in self._session.scalars(query)]


class OutboxQueue:
    """Every site's outbox items, as the delivery worker claims and settles them."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def claim_due(self, *, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Lease up to `limit` due items (all sites) for `lease`; returns them, oldest first.

        A booking event's item written before its event was numbered (PostgreSQL) gets the
        event's cursor here, numbering the event first (store/event_numbering.py)."""
        earlier = aliased(OutboxRow)
        blocked_by_earlier = exists().where(
            earlier.site_id == OutboxRow.site_id,
            earlier.booking_id == OutboxRow.booking_id,
            earlier.sent_at.is_(None),
            earlier.dead_at.is_(None),
            or_(
                earlier.due_at < OutboxRow.due_at,
                and_(earlier.due_at == OutboxRow.due_at, earlier.position < OutboxRow.position),
            ),
        )
        candidates = (
            select(OutboxRow)
            .where(
                OutboxRow.sent_at.is_(None),
                OutboxRow.dead_at.is_(None),
                OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
                ~blocked_by_earlier,
            )
            .order_by(OutboxRow.next_attempt_at, OutboxRow.position)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=OutboxRow)
        rows = list(self._session.scalars(candidates))
        add_event_cursors(self._session, rows)
        token = str(uuid.uuid4())
        for row in rows:
            row.claim_token = token
            row.claimed_until = now + lease
        self._session.flush()
        return [_to_item(row) for row in rows]

    def mark_sent(self, item_id: str, claim_token: str, now: datetime) -> bool:
        """Record a delivery. False when the lease was lost (the item will be sent again)."""
        result = self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.claim_token == claim_token)
            .values(sent_at=now, claim_token=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_failed(self, item_id: str, claim_token: str, error: str, retry_at: datetime) -> None:
        """Release a failed item for another attempt at `retry_at`."""
        self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.claim_token == claim_token)
            .values(
                attempts=OutboxRow.attempts + 1,
                next_attempt_at=retry_at,
                claim_token=None,
                claimed_until=None,
                last_error=error[:_MAX_ERROR_LENGTH],
            )
            .execution_options(synchronize_session=False)
        )

    def mark_dead(self, item_id: str, claim_token: str, error: str, now: datetime) -> None:
        """Record the last allowed attempt's failure: the item is a dead letter from `now`."""
        self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.claim_token == claim_token)
            .values(
                attempts=OutboxRow.attempts + 1,
                dead_at=now,
                claim_token=None,
                claimed_until=None,
                last_error=error[:_MAX_ERROR_LENGTH],
            )
            .execution_options(synchronize_session=False)
        )

    def unsent(self, *, dead_only: bool, limit: int) -> list[OutboxState]:
        """Every site's unsent items (only the dead letters with `dead_only`), in enqueue
        order, at most `limit`."""
        query = (
            select(OutboxRow)
            .where(OutboxRow.sent_at.is_(None))
            .order_by(OutboxRow.position)
            .limit(limit)
        )
        if dead_only:
            query = query.where(OutboxRow.dead_at.is_not(None))
        return [_to_state(row) for row in self._session.scalars(query)]

    def retry_dead(self, item_id: str, now: datetime) -> bool:
        """Make the dead letter `item_id` due at `now` with no failed attempts; False when no
        dead letter has that id."""
        result = self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.dead_at.is_not(None))
            .values(dead_at=None, attempts=0, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def purge_sent(self, *, sent_before: datetime, limit: int) -> int:
        """Delete at most `limit` items sent before `sent_before` (oldest first, along the
        sent_at index); returns how many. Unsent items are never purged."""
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
        return int(result.rowcount)  # type: ignore[attr-defined]


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
