"""What a store failure means for the caller: the one mapping from driver errors to domain errors.

- out of space: SQLITE_FULL, PostgreSQL 53100 disk_full -> ResourceExhausted `STORE_FULL`;
- no connection to be had: PostgreSQL class 53 (53300 too many connections, also when it
  turns a new connection away), no connection permit in time -> Unavailable `STORE_OVERLOADED`;
- a wait that timed out: SQLITE_BUSY, SQLITE_LOCKED, PostgreSQL 55P03 lock_not_available,
  57014 query_canceled (statement_timeout), 40001, 40P01 -> Unavailable `STORE_BUSY`;
- the database is gone: SQLITE_IOERR, SQLITE_CANTOPEN, PostgreSQL classes 08 and 57, a
  refused, lost or cut connection -> Unavailable `STORE_UNAVAILABLE`.

Anything else (a constraint, SQL the database refuses) is no availability problem: it stays a
driver error, the caller handles it or it is a bug (INTERNAL, logged with its traceback).
Messages are the server's own; driver text never reaches a client.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import exc

from bookings_server.domain.errors import (
    DomainError,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
)

STORE_FULL = "STORE_FULL"
STORE_OVERLOADED = "STORE_OVERLOADED"
STORE_BUSY = "STORE_BUSY"
STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
STORE_REASONS = frozenset({STORE_FULL, STORE_OVERLOADED, STORE_BUSY, STORE_UNAVAILABLE})

_SQLITE_REASONS = {
    "SQLITE_FULL": STORE_FULL,
    "SQLITE_BUSY": STORE_BUSY,
    "SQLITE_LOCKED": STORE_BUSY,
    "SQLITE_IOERR": STORE_UNAVAILABLE,
    "SQLITE_CANTOPEN": STORE_UNAVAILABLE,
}
_PG_REASONS = {
    "53100": STORE_FULL,
    "55P03": STORE_BUSY,  # lock_not_available (lock_timeout)
    "57014": STORE_BUSY,  # query_canceled (statement_timeout)
    "40001": STORE_BUSY,  # serialization_failure
    "40P01": STORE_BUSY,  # deadlock_detected
}
#: SQLSTATE classes: insufficient resources; connection exception; operator intervention.
_PG_CLASS_REASONS = {"53": STORE_OVERLOADED, "08": STORE_UNAVAILABLE, "57": STORE_UNAVAILABLE}
#: A refused connection carries no SQLSTATE, only the server's FATAL message.
_PG_OVERLOADED_TEXT = (
    "too many clients",
    "too many connections",
    "remaining connection slots are reserved",
)


def store_failure(error: Exception) -> DomainError | None:
    """The domain error a client gets for `error`, or None when it is no store failure."""
    if isinstance(error, exc.TimeoutError):  # the pool had no connection in time
        return failure(STORE_OVERLOADED)
    if not isinstance(error, exc.DBAPIError):
        return None
    if isinstance(error, exc.DataError) and "NUL (0x00)" in str(error.orig):
        # PostgreSQL cannot store NUL characters in text, SQLite can.
        return InvalidArgument(
            "text fields cannot contain NUL (0x00) characters", reason="INVALID_TEXT"
        )
    reason = _reason(error)
    return None if reason is None else failure(reason)


def failure(reason: str) -> DomainError:
    """The client's error for a store failure of `reason`."""
    if reason == STORE_FULL:
        return ResourceExhausted("the database is out of space; retry later", reason=reason)
    if reason == STORE_OVERLOADED:
        return Unavailable("the database has no free connection; retry the call", reason=reason)
    if reason == STORE_BUSY:
        return Unavailable("the database is busy; retry the call", reason=reason)
    return Unavailable("the database is unreachable; retry the call", reason=STORE_UNAVAILABLE)


def _reason(error: exc.DBAPIError) -> str | None:
    orig = error.orig
    if isinstance(orig, sqlite3.Error):
        return _SQLITE_REASONS.get(_primary_sqlite_name(orig))
    if isinstance(orig, psycopg.Error):
        return _postgres_reason(orig, invalidated=error.connection_invalidated)
    return STORE_UNAVAILABLE if error.connection_invalidated else None


def _primary_sqlite_name(error: sqlite3.Error) -> str:
    """ "SQLITE_IOERR" for "SQLITE_IOERR_WRITE": extended codes share their primary's name."""
    name: str = getattr(error, "sqlite_errorname", "") or ""
    for primary in _SQLITE_REASONS:
        if name == primary or name.startswith(primary + "_"):
            return primary
    return name


def _postgres_reason(error: psycopg.Error, *, invalidated: bool) -> str | None:
    sqlstate = error.sqlstate
    if sqlstate is None:
        # No SQLSTATE: the connection itself failed (refused, lost, cut, or turned away).
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            text = str(error).lower()
            if any(marker in text for marker in _PG_OVERLOADED_TEXT):
                return STORE_OVERLOADED
            return STORE_UNAVAILABLE
        return STORE_UNAVAILABLE if invalidated else None
    return _PG_REASONS.get(sqlstate) or _PG_CLASS_REASONS.get(sqlstate[:2])
