"""The store probe behind health: one cheap query on a connection of its own, with short
timeouts, so that it neither waits behind the server's pool nor hangs on a dead database.

PostgreSQL: `SELECT 1` with `connect_timeout` (libpq allows 2 s at least) and a
`statement_timeout` of the probe timeout. A database that is stopped (SIGSTOP) cannot enforce
its own statement timeout, so the caller must still bound its wait (serving_health.py runs
the probe on a thread of its own and stops waiting after the timeout).

SQLite: the file opened afresh for each probe, read-only (the probe never creates a missing
database), with a busy timeout of the probe timeout, and a read of its schema: `SELECT 1`
alone would not even read the file.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from bookings_server.store.database import normalize_url

#: libpq's smallest connect timeout, in whole seconds.
_PG_MIN_CONNECT_TIMEOUT_S = 2


class StoreProbe:
    """Answers "is the store reachable?" by raising when it is not."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self._url = make_url(normalize_url(url))
        self._timeout_s = timeout_s
        self._engine = _probe_engine(self._url, timeout_s)
        self._query = text(
            "SELECT 1" if self._url.get_backend_name() != "sqlite" else _SQLITE_QUERY
        )

    def check(self) -> None:
        """Run the probe query; raises whatever the driver raises when the store fails.

        On PostgreSQL the connection is kept between probes and dropped after a failure, so
        the next probe starts on a fresh one.
        """
        try:
            with self._engine.connect() as connection:
                connection.execute(self._query).all()
        except Exception:
            self._engine.dispose()
            raise

    def close(self) -> None:
        self._engine.dispose()


#: Reads the schema page: fails when the file is gone, unreadable or not a database.
_SQLITE_QUERY = "SELECT count(*) FROM sqlite_master"


def _probe_engine(url: URL, timeout_s: float) -> Engine:
    """A one-connection engine with the probe's timeouts."""
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return create_engine(url)
        # A fresh connection each time (cheap for a file): an open one would keep reading a
        # database file that was deleted or replaced.
        return create_engine(
            _read_only(url), connect_args={"timeout": timeout_s}, poolclass=NullPool
        )
    options: dict[str, Any] = {"pool_size": 1, "max_overflow": 0, "pool_timeout": timeout_s}
    statement_timeout_ms = max(1, round(timeout_s * 1000))
    connect_args = {
        "connect_timeout": max(_PG_MIN_CONNECT_TIMEOUT_S, math.ceil(timeout_s)),
        "options": f"-c statement_timeout={statement_timeout_ms}",
        "application_name": "bookings-health-probe",
    }
    return create_engine(url, connect_args=connect_args, **options)


def _read_only(url: URL) -> URL:
    """The SQLite file's URL as a read-only URI."""
    path = quote(str(url.database))
    return url.set(database=f"file:{path}?mode=ro", query={"uri": "true"})
