"""SQLite connections: the RELIABILITY.md recipe, a bounded busy wait, and a WAL that stays small.

The driver's own transaction handling is off (`isolation_level = None`); write sessions open
with `BEGIN IMMEDIATE`, read sessions with a deferred `BEGIN`, and one-statement reads with
none: SQLite runs a lone statement as its own read transaction, one snapshot. Each transaction sets
`busy_timeout` to what is left of its one lock wait (store/database.py), so the in-process
writer queue and SQLite's busy handler together wait no longer than that (within 50 ms).

The WAL is checkpointed every `WAL_AUTOCHECKPOINT_PAGES` pages (SQLite's default is 1000, about
4 MiB) and truncated back to `JOURNAL_SIZE_LIMIT_BYTES` whenever a checkpoint resets it;
`checkpoint_truncate` empties it after a disk-full episode, so freed space stays free.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

log = logging.getLogger("bookings.store")

#: Execution option set on the write engine: BEGIN IMMEDIATE.
WRITE_OPTION = "bookings_write"
#: Execution option: monotonic instant the transaction's lock wait ends.
WAIT_UNTIL_OPTION = "bookings_wait_until"
#: Execution option of a read that runs one statement: no BEGIN (store/database.py).
ONE_STATEMENT_OPTION = "bookings_one_statement"

#: How far a connection's busy_timeout may be from the transaction's wait before it is set.
BUSY_TIMEOUT_TOLERANCE_MS = 50
#: Connection info key: the busy_timeout the connection has now.
_BUSY_TIMEOUT_KEY = "bookings_busy_timeout_ms"

WAL_AUTOCHECKPOINT_PAGES = 256
JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024


def install_sqlite_recipe(engine: Engine, busy_timeout_ms: int) -> None:
    """PRAGMAs on every new connection; BEGIN (IMMEDIATE) with a bounded busy wait."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        record.info[_BUSY_TIMEOUT_KEY] = int(busy_timeout_ms)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        wait_until = options.get(WAIT_UNTIL_OPTION)
        if wait_until is not None:
            _bound_busy_wait(connection, max(0, int((wait_until - time.monotonic()) * 1000)))
        if not options.get(ONE_STATEMENT_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")


def _bound_busy_wait(connection: Connection, wait_ms: int) -> None:
    """Set the connection's busy_timeout to `wait_ms`, unless it is that already (within
    `BUSY_TIMEOUT_TOLERANCE_MS`): the common transaction, with its whole wait left, costs no
    statement."""
    if abs(connection.info[_BUSY_TIMEOUT_KEY] - wait_ms) > BUSY_TIMEOUT_TOLERANCE_MS:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
        connection.info[_BUSY_TIMEOUT_KEY] = wait_ms


def checkpoint_truncate(engine: Engine) -> None:
    """Copy the WAL into the database file and truncate it to zero bytes, if SQLite can now."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        busy, wal_pages, _copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
        log.info("wal checkpoint", extra={"truncated": not busy, "wal_pages": wal_pages})
    except sqlite3.Error as error:  # still full, or busy: the next episode end tries again
        log.info("wal checkpoint failed", extra={"error": str(error)})
    finally:
        raw.close()
