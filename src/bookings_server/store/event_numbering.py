"""Numbering booking events: the per-site `sequence` that a WatchBookingEvents cursor names.

A site's events are numbered 1, 2, 3 ... without gaps. A number is only ever given to a
committed event, under the site's numbering lock, and it is one above the site's highest
(above the purge horizon once every event was purged, so no number is reused). So the
numbers any snapshot sees are a prefix of the site's stream: an event numbered later gets a
number above every visible one, and a follower reading "sequence > cursor" never skips one.

- SQLite serializes writers (BEGIN IMMEDIATE): a write transaction already holds the only
  lock there is, so the INSERT numbers its event itself (`insert_statement`), in the same
  statement, and the event commits with its number.
- PostgreSQL writers insert their events unnumbered (`sequence` NULL) and take no site-wide
  lock, so writers of one site commit independently. Whoever needs numbers (a follower of the
  stream, the delivery worker claiming an event's webhook, the retention purge) numbers the
  committed events afterwards (`number_pending`): the site's advisory lock, then one UPDATE
  that numbers them in the order they were written (`position`). Under READ COMMITTED that
  UPDATE's snapshot is taken after the lock was granted, so it sees every number the
  previous holder committed (locks are released after the commit is visible); two numberers
  of a site never give out the same number, and numbers become visible in the order they
  were given. An event whose transaction has not committed is invisible to the UPDATE and
  is numbered by a later one, above everything numbered meanwhile: events come out in the
  order they were numbered after their commits, and one that committed before another
  began always comes first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from bookings_server.domain.outbox import OutboxKind
from bookings_server.store.booking_counts import execute
from bookings_server.store.delivery_positions import next_position_on_sqlite
from bookings_server.store.models.bookings import BookingEventRow, OutboxRow
from bookings_server.store.models.event_retention import EventHorizonRow

#: Events numbered per UPDATE: bounds how long one numberer holds a site's lock.
NUMBERING_BATCH = 500
#: The first key of the advisory locks (PostgreSQL), the second being the site's hash: a
#: key space of its own (the migration lock takes a single 64-bit key, another space). Two
#: sites whose names hash alike share a lock, which only makes their numberers take turns.
_LOCK_SPACE = 1_163_283_028

_events: Table = BookingEventRow.__table__  # type: ignore[assignment]
_horizons: Table = EventHorizonRow.__table__  # type: ignore[assignment]
_SITE: BindParameter[str] = bindparam("n_site_id")


def _highest_number() -> ColumnElement[Any]:
    """The site's highest number given so far: its highest kept event, else its purge
    horizon, else 0. Read from an alias, so that inside an UPDATE of the events it is not
    correlated with the row being updated."""
    numbered = _events.alias("numbered")
    highest = select(func.max(numbered.c.sequence)).where(numbered.c.site_id == _SITE)
    purged = select(_horizons.c.purged_through).where(_horizons.c.site_id == _SITE)
    return func.coalesce(highest.scalar_subquery(), purged.scalar_subquery(), 0)


#: SQLite: the event numbers itself, under the database's write lock, and takes its place in
#: the enqueue order shared with the outbox (store/delivery_positions.py).
_INSERT_NUMBERED = (
    _events.insert()
    .values(sequence=_highest_number() + 1, position=next_position_on_sqlite())
    .returning(_events.c.sequence)
)
#: PostgreSQL: the event is inserted unnumbered; `number_pending` numbers it after commit.
_INSERT_UNNUMBERED = _events.insert()

_pending = _events.alias("pending")
_to_number = (
    select(
        _pending.c.position,
        func.row_number().over(order_by=_pending.c.position).label("rank"),
    )
    .where(_pending.c.site_id == _SITE, _pending.c.sequence.is_(None))
    .order_by(_pending.c.position)
    .limit(bindparam("n_limit"))
    .subquery("to_number")
)
_NUMBER = (
    update(_events)
    .where(_events.c.position == _to_number.c.position)
    .values(sequence=_highest_number() + _to_number.c.rank)
)
_LOCK_SITE = select(func.pg_advisory_xact_lock(_LOCK_SPACE, func.hashtext(_SITE)))
_ANY_PENDING = (
    select(_events.c.position)
    .where(_events.c.site_id == _SITE, _events.c.sequence.is_(None))
    .limit(1)
)
_PENDING_SITES = select(_events.c.site_id).where(_events.c.sequence.is_(None)).distinct()


def _numbers_at_insert(session: Session) -> bool:
    """True when the store numbers an event in its INSERT (SQLite's single writer)."""
    return session.get_bind().dialect.name == "sqlite"


def insert_event(session: Session, row: dict[str, Any]) -> int | None:
    """Insert an event row (without `sequence`); returns its number when it got one at once
    (SQLite), None when it is numbered after its commit (PostgreSQL)."""
    if not _numbers_at_insert(session):
        execute(session, _INSERT_UNNUMBERED, row)
        return None
    parameters = {**row, "n_site_id": row["site_id"]}
    return int(execute(session, _INSERT_NUMBERED, parameters).scalar_one())


def number_pending(session: Session, site_id: str, limit: int = NUMBERING_BATCH) -> int:
    """Number up to `limit` of the site's committed, unnumbered events, oldest written first;
    returns how many. Holds the site's numbering lock (PostgreSQL; on SQLite the write
    transaction is the lock) until the transaction ends, so the transaction must be short:
    a numberer's own, or a claim or purge batch of the worker."""
    site = {"n_site_id": site_id}
    if session.get_bind().dialect.name == "postgresql":
        execute(session, _LOCK_SITE, site)
    return int(execute(session, _NUMBER, {**site, "n_limit": limit}).rowcount)


def number_all_pending(session: Session, site_ids: Iterable[str]) -> None:
    """Number every committed, unnumbered event of these sites, taking their locks in site
    order (two transactions that lock several sites never wait for each other in a cycle)."""
    for site_id in sorted(set(site_ids)):
        numbered = NUMBERING_BATCH
        while numbered == NUMBERING_BATCH:
            numbered = number_pending(session, site_id)


def has_pending(session: Session, site_id: str) -> bool:
    """Whether the site has a committed event still to be numbered."""
    found = execute(session, _ANY_PENDING, {"n_site_id": site_id}).first()
    return found is not None


def pending_sites(session: Session) -> list[str]:
    """The sites with committed events still to be numbered (a scan of a partial index that
    holds only those events)."""
    return [str(site) for site in execute(session, _PENDING_SITES, {}).scalars()]


def add_event_cursors(
    session: Session, items: Sequence[OutboxRow], also_sites: Iterable[str] = ()
) -> None:
    """Give the BOOKING_EVENT items among `items` whose event was inserted unnumbered the
    cursor their payload is delivered with, numbering the events first.

    The items were read before the numbering, so their events had committed and are
    numbered by it. The cursor is stored with the item (the claim writes the item anyway), so
    every attempt sends the same payload. An event purged before its item was first claimed
    (more than the event retention later) keeps the null cursor.

    `also_sites` are numbered in the same pass (their locks taken in one site order with the
    items' sites, so two claimers never wait for each other in a cycle): the sites of events
    that deliver themselves, whose cursor is their own `sequence` (store/outbox_repository.py).
    """
    waiting = [
        item
        for item in items
        if item.kind == OutboxKind.BOOKING_EVENT.value and item.payload.get("cursor", "") is None
    ]
    sites = {*also_sites, *(item.site_id for item in waiting)}
    if not sites:
        return
    number_all_pending(session, sites)
    if not waiting:
        return
    event_ids = [item.payload["event_id"] for item in waiting]
    found = select(BookingEventRow.id, BookingEventRow.sequence).where(
        BookingEventRow.id.in_(event_ids)
    )
    numbers = {event_id: number for event_id, number in session.execute(found)}
    for item in waiting:
        number = numbers.get(item.payload["event_id"])
        if number is not None:
            item.payload = {**item.payload, "cursor": str(number)}
