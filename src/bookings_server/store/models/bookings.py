"""Booking tables: bookings, their events with a per-site sequence, and the outbox.

A booking row keeps in columns what is filtered, counted or locked on; the whole Booking
(SPEC section 2) is in `data` as JSON (store/booking_codec.py), columns win when both exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bookings_server.store.models.base import Base
from bookings_server.store.types import UTCDateTime

#: An auto-incrementing 64-bit key; SQLite only auto-increments INTEGER PRIMARY KEY.
AutoIncrement = BigInteger().with_variant(Integer(), "sqlite")

#: PostgreSQL: the one counter both `outbox.position` and `booking_events.position` draw from
#: (migration 0010), so that deliveries of the two tables compare in enqueue order. SQLite has
#: no sequences: its INSERTs compute 1 + the larger of both tables' highest position
#: (store/delivery_positions.py), under the database's single write lock.
DELIVERY_POSITIONS = Sequence("delivery_positions")


class BookingRow(Base):
    __tablename__ = "bookings"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    id: Mapped[str] = mapped_column(String, primary_key=True)
    #: "SLOT" or "SCHEDULE": which booked_entity the booking has.
    entity: Mapped[str] = mapped_column(String)
    service_id: Mapped[str] = mapped_column(String)
    session_id: Mapped[str | None] = mapped_column(String)
    schedule_id: Mapped[str | None] = mapped_column(String)
    staff_member_id: Mapped[str | None] = mapped_column(String)
    start_date: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The end plus the service's buffer: until when the booking keeps its staff member busy.
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String)
    payment_status: Mapped[str] = mapped_column(String)
    participants: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(BigInteger)
    double_booked: Mapped[bool] = mapped_column(Boolean)
    skip_availability_validation: Mapped[bool] = mapped_column(Boolean)
    skip_business_confirmation: Mapped[bool] = mapped_column(Boolean)
    skip_selected_payment_option_validation: Mapped[bool] = mapped_column(Boolean)
    ignore_booking_policy: Mapped[bool] = mapped_column(Boolean)
    request_id: Mapped[str | None] = mapped_column(String)
    request_hash: Mapped[str | None] = mapped_column(String)
    #: Lower-cased, for the case-insensitive contact email filter.
    contact_email: Mapped[str] = mapped_column(String)
    #: A WAITING_LIST booking's place in its unit's line (SPEC section 10); NULL off the list.
    line_position: Mapped[int | None] = mapped_column(BigInteger)
    #: Until when a freed spot is offered to this WAITING_LIST booking; NULL without an offer.
    offer_expires: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_type: Mapped[str] = mapped_column(String)
    created_by_id: Mapped[str] = mapped_column(String)
    created_date: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_date: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("site_id", "request_id"),
        Index(None, "site_id", "staff_member_id", "start_date"),
        Index(None, "site_id", "session_id"),
        Index(None, "site_id", "schedule_id"),
        Index(None, "site_id", "status", "start_date"),
        Index(None, "site_id", "start_date", "id"),
        Index(None, "site_id", "created_date", "id"),
        Index(None, "site_id", "contact_email"),
        Index(None, "offer_expires"),
    )


class BookingEventRow(Base):
    """One event. `position` is the order events were written in (over all sites, shared
    with the outbox: one counter for both); `sequence` is the site's stream order and the
    cursor, NULL until the event is numbered after its commit (PostgreSQL;
    store/event_numbering.py).

    `delivers_itself`: the row is also the event's delivery item (no outbox row was written,
    store/outbox_repository.py), with the outbox's delivery columns: unsent while `sent_at`
    is NULL, leased while `claimed_until` is in the future, a dead letter once `dead_at` is
    set. False for an event whose delivery is an outbox item (the columns stay NULL)."""

    __tablename__ = "booking_events"

    position: Mapped[int] = mapped_column(
        AutoIncrement, DELIVERY_POSITIONS, primary_key=True, autoincrement=True
    )
    site_id: Mapped[str] = mapped_column(String)
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    id: Mapped[str] = mapped_column(String, unique=True)
    type: Mapped[str] = mapped_column(String)
    booking_id: Mapped[str] = mapped_column(String)
    booking: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor_type: Mapped[str] = mapped_column(String)
    actor_id: Mapped[str] = mapped_column(String)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivers_itself: Mapped[bool] = mapped_column(Boolean, server_default=false())
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("site_id", "sequence"),
        Index(None, "site_id", "booking_id"),
        #: The events still to be numbered, in the order they get their numbers.
        Index(
            None,
            "site_id",
            "position",
            postgresql_where=text("sequence IS NULL"),
            sqlite_where=text("sequence IS NULL"),
        ),
        #: The unsent events that are their own delivery item, by next attempt: the claim.
        Index(
            None,
            "next_attempt_at",
            postgresql_where=text("delivers_itself AND sent_at IS NULL"),
            sqlite_where=text("delivers_itself = 1 AND sent_at IS NULL"),
        ),
        #: The sent ones, by when: the outbox purge forgets their delivery state.
        Index(
            None,
            "sent_at",
            postgresql_where=text("delivers_itself AND sent_at IS NOT NULL"),
            sqlite_where=text("delivers_itself = 1 AND sent_at IS NOT NULL"),
        ),
    )


class OutboxRow(Base):
    """A durable delivery. Unsent while `sent_at` is NULL; leased while `claimed_until` is
    in the future; a dead letter (never claimed) once `dead_at` is set; `position` orders
    items enqueued at the same due time, across this table and the events that deliver
    themselves (one counter for both)."""

    __tablename__ = "outbox"

    position: Mapped[int] = mapped_column(
        AutoIncrement, DELIVERY_POSITIONS, primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String, unique=True)
    site_id: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    booking_id: Mapped[str] = mapped_column(String)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    claim_token: Mapped[str | None] = mapped_column(String)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(None, "sent_at", "next_attempt_at"),
        Index(None, "site_id", "booking_id", "sent_at"),
    )
