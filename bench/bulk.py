"""Bulk-load bookings through the store layer (Core executemany), not through RPCs.

Rows are built from domain Bookings with the repository's own row mapping and the columns'
own type processors, so they are exactly what CreateBooking would store, by a worker process
while the parent inserts the previous batch with one executemany (SQLAlchemy's
insertmanyvalues on PostgreSQL).

Placement is deterministic by index k, so loading 1,000 and later topping up to 1,000,000
gives the same first 1,000:
- k < 100: CONFIRMED appointments of the 5-staff service inside the 7-day query window
  (both the 1k and the 1M runs see exactly these in the window);
- every other k: appointments of the 20 staff members on days outside the query windows
  (up to 9 years back and a year ahead), one per staff member and 30-minute slot, 80 %
  CONFIRMED, 10 % CANCELED, 10 % DECLINED.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench_harness import Catalog
from sqlalchemy import TextClause, text
from sqlalchemy.dialects import sqlite

from bookings_server.domain.booking import (
    Actor,
    BookedSlot,
    Booking,
    BookingStatus,
    ContactDetails,
    PaymentStatus,
    SlotResource,
)
from bookings_server.domain.identity import IdentityType
from bookings_server.store.booking_repository import booking_columns
from bookings_server.store.database import Database
from bookings_server.store.models.bookings import BookingRow

IN_WINDOW = 100
PAST_DAYS = 3300
SLOTS_PER_DAY = 16
BATCH = 5000
SLOT = timedelta(minutes=30)
#: High bits of every bulk booking id (the low 48 bits are the index k).
RUN_PREFIX = uuid.UUID("b0b0b0b0-0000-4000-8000-000000000000").int
ACTOR = Actor(IdentityType.OWNER, "bulk-loader")
STATUSES = (BookingStatus.CONFIRMED,) * 8 + (BookingStatus.CANCELED, BookingStatus.DECLINED)


def placement(k: int, catalog: Catalog) -> tuple[str, str, datetime, BookingStatus]:
    """(staff id, service id, start, status) of the k-th bulk booking."""
    monday = catalog.window_start
    if k < IN_WINDOW:
        staff = k % 5
        rest = k // 5
        day, slot = rest % 7, (rest // 7) * 5
        start = monday + timedelta(days=day, hours=9) + slot * SLOT
        return catalog.staff_ids[staff], catalog.small_service_id, start, BookingStatus.CONFIRMED
    j = k - IN_WINDOW
    staff_count = len(catalog.staff_ids)
    staff, m = j % staff_count, j // staff_count
    slot, d = m % SLOTS_PER_DAY, m // SLOTS_PER_DAY
    # outside [monday - 1 day, monday + 32 days): every query window of the benchmark
    offset = -(d + 2) if d < PAST_DAYS else 33 + (d - PAST_DAYS)
    start = monday + timedelta(days=offset, hours=9) + slot * SLOT
    service = catalog.small_service_id if staff < 5 else catalog.large_service_id
    return catalog.staff_ids[staff], service, start, STATUSES[k % len(STATUSES)]


def booking_id(k: int, run: uuid.UUID) -> str:
    """A UUID whose low 48 bits count up: ids arrive in index order (append-only B-trees)."""
    return str(uuid.UUID(int=(run.int >> 48 << 48) | k))


def booking_row(
    k: int, site_id: str, catalog: Catalog, now: datetime, run: uuid.UUID
) -> dict[str, Any]:
    staff_id, service_id, start, status = placement(k, catalog)
    booking = Booking(
        id=booking_id(k, run),
        site_id=site_id,
        status=status,
        payment_status=PaymentStatus.UNDEFINED,
        participants=1,
        revision=2,
        created_by=ACTOR,
        slot=BookedSlot(
            service_id=service_id,
            start=start,
            end=start + SLOT,
            timezone="Europe/London",
            resource=SlotResource(id=staff_id),
        ),
        contact=ContactDetails(first_name="Bulk", last_name=str(k), email=f"bulk{k}@example.com"),
        total_participants=1,
        start=start,
        end=start + SLOT,
        created_date=now,
        updated_date=now,
    )
    values = booking_columns(booking, timedelta(0))
    values.update(
        site_id=site_id,
        id=booking.id,
        request_id=None,
        request_hash=None,
        created_by_type=ACTOR.identity_type.value,
        created_by_id=ACTOR.identity_id,
        created_date=now,
    )
    return values


def build_batch(job: tuple[int, int, str, Catalog, str]) -> list[dict[str, Any]]:
    """Rows low .. high-1 with their values already in the driver's form.

    Runs in a worker process, in parallel with the inserts. Each value goes through its
    column type's own bind processor (UTCDateTime, JSON...), the very code SQLAlchemy would
    run at insert time, so the stored bytes are the same.
    """
    low, high, site_id, catalog, dialect_name = job
    # PostgreSQL takes the rows through table.insert() (multi-row VALUES), which processes
    # the values itself
    processors = sqlite_bind_processors() if dialect_name == "sqlite" else {}
    now = datetime.now(UTC)
    run = uuid.UUID(int=RUN_PREFIX)
    rows = []
    for k in range(low, high):
        row = booking_row(k, site_id, catalog, now, run)
        for name, process in processors.items():
            row[name] = process(row[name])
        rows.append(row)
    return rows


def sqlite_bind_processors() -> dict[str, Callable[[Any], Any]]:
    dialect = sqlite.dialect()
    processors = {}
    for column in BookingRow.__table__.columns:
        process = column.type._cached_bind_processor(dialect)
        if process is not None:
            processors[column.name] = process
    return processors


def raw_insert() -> TextClause:
    """INSERT INTO bookings with untyped parameters: the values are already processed."""
    names = [column.name for column in BookingRow.__table__.columns]
    return text(
        f"INSERT INTO bookings ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
    )


def load_bookings(url: str, *, site_id: str, catalog: Catalog, first: int, count: int) -> None:
    """Insert bookings first .. first+count-1 (see the module docstring for where they go)."""
    capacity = len(catalog.staff_ids) * SLOTS_PER_DAY * (PAST_DAYS + 365) + IN_WINDOW
    if first + count > capacity:
        raise ValueError(f"at most {capacity:,} non-overlapping bulk bookings fit this catalog")
    database = Database.from_url(url)
    insert = raw_insert() if database.dialect == "sqlite" else BookingRow.__table__.insert()
    end = first + count
    jobs = [
        (low, min(low + BATCH, end), site_id, catalog, database.dialect)
        for low in range(first, end, BATCH)
    ]
    try:
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            for rows in pool.imap(build_batch, jobs):
                with database.write() as session:
                    if database.dialect == "sqlite":
                        # the default 2 MB page cache thrashes on a 1 GB table's indexes
                        session.connection().exec_driver_sql("PRAGMA cache_size=-1000000")
                    session.execute(insert, rows)
        if database.dialect == "postgresql":
            with database.write() as session:
                session.connection().exec_driver_sql("ANALYZE bookings")
    finally:
        database.dispose()
