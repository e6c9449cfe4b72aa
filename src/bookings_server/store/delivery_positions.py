"""One enqueue order across the outbox and the events that deliver themselves.

Per booking, deliveries go out by due time, then enqueue order, whichever table holds them
(store/outbox_repository.py), so `outbox.position` and `booking_events.position` are drawn
from one counter. PostgreSQL: the `delivery_positions` sequence is the default of both
columns (migration 0010; store/models/bookings.py `DELIVERY_POSITIONS`). SQLite has no
sequences; its writers are serialized (BEGIN IMMEDIATE), so an INSERT sets `position` to
1 + the larger of both tables' highest position itself, in the same statement (two lookups
of the last entry of an INTEGER PRIMARY KEY). A position freed by a purge of the highest
rows may be given again; that is harmless, as a new row still comes after every row kept.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.sql.elements import ColumnElement

from bookings_server.store.models.bookings import BookingEventRow, OutboxRow

_events: Table = BookingEventRow.__table__  # type: ignore[assignment]
_outbox: Table = OutboxRow.__table__  # type: ignore[assignment]


def next_position_on_sqlite() -> ColumnElement[Any]:
    """1 + the highest position of both tables (SQLite's scalar two-argument max), read from
    aliases so that it is never correlated with the row being inserted."""
    events = _events.alias("last_event")
    items = _outbox.alias("last_item")
    highest_event = select(func.coalesce(func.max(events.c.position), 0)).scalar_subquery()
    highest_item = select(func.coalesce(func.max(items.c.position), 0)).scalar_subquery()
    return func.max(highest_event, highest_item) + 1
