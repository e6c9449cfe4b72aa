"""Serializing the writers of one capacity unit (RELIABILITY.md).

`SELECT ... FOR UPDATE` on booking rows cannot protect an empty slot: there is no row to lock
until the first booking exists. So each capacity unit gets a row of its own in
`capacity_locks`, created on first use, and every writer locks it before counting.

Each lock taken records how long it was waited for (observability/store_spans.py): the two
statements on PostgreSQL; on SQLite the wait for the database's write lock at BEGIN, which
`Database` notes on the session (`note_write_lock_wait`), for the transaction's first lock.
"""

from __future__ import annotations

import time

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from bookings_server.observability.store_spans import capacity_lock_acquired
from bookings_server.store.models.catalog import CapacityLockRow

_locks: Table = CapacityLockRow.__table__  # type: ignore[assignment]
_KEY = (_locks.c.site_id == bindparam("l_site_id"), _locks.c.unit_key == bindparam("l_unit_key"))
# Built once (no per-call statement construction), run as Core on the transaction's connection.
_CREATE_LOCK_ROW = (
    pg_insert(_locks)
    .values(site_id=bindparam("l_site_id"), unit_key=bindparam("l_unit_key"))
    .on_conflict_do_nothing(index_elements=["site_id", "unit_key"])
)
_LOCK_ROW = select(_locks.c.unit_key).where(*_KEY).with_for_update()
#: Where a SQLite write session keeps the seconds its BEGIN waited for the write lock.
_WRITE_LOCK_WAIT = "bookings.write_lock_wait_s"


def note_write_lock_wait(session: Session, seconds: float) -> None:
    """SQLite: the write transaction of `session` waited `seconds` for the write lock."""
    session.info[_WRITE_LOCK_WAIT] = seconds


def lock_capacity_unit(session: Session, site_id: str, unit_key: str) -> None:
    """Hold the unit's lock until the session's transaction ends.

    PostgreSQL: make sure the lock row exists, then lock it (`FOR UPDATE`). Both statements
    wait at most the transaction's `lock_timeout`, which `Database` set when the transaction
    began (the configured lock timeout, or less when the call's deadline is nearer); a
    timeout surfaces as `Unavailable` (`STORE_BUSY`) from `Database.write()`.
    SQLite: write sessions begin with `BEGIN IMMEDIATE`, which already serializes every
    writer of the database, so there is nothing more to do.
    """
    if session.get_bind().dialect.name != "postgresql":
        # Held since BEGIN: its wait counts once, for the first unit locked.
        capacity_lock_acquired(session.info.pop(_WRITE_LOCK_WAIT, 0.0))
        return
    connection = session.connection()
    key = {"l_site_id": site_id, "l_unit_key": unit_key}
    started = time.perf_counter()
    # The insert too may wait: on a lock row another writer created but has not committed.
    connection.execute(_CREATE_LOCK_ROW, key)
    connection.execute(_LOCK_ROW, key)
    capacity_lock_acquired(time.perf_counter() - started)
