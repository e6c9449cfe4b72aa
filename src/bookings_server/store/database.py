"""The Database: one engine per URL, read and write sessions, backend recipes.

SQLite (the embedded default) follows RELIABILITY.md: the driver's own transaction handling is
switched off (`isolation_level = None`) and every write session opens with `BEGIN IMMEDIATE`, so
writers queue on the database lock (up to `busy_timeout`) instead of failing or overbooking.
Read sessions open with a plain deferred `BEGIN` and see one WAL snapshot. Within one process,
writers first queue in arrival order on an in-process lock (store/write_lock.py) for at most
`busy_timeout`, so SQLite's busy handler only ever arbitrates between processes. No pool
pre-ping: a connection to a local file does not go stale.

PostgreSQL runs through psycopg 3; writers of one capacity unit serialize on a lock row
(store/locks.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from bookings_server.domain.errors import InvalidArgument, Unavailable
from bookings_server.store.write_lock import FifoLock

#: Execution option set on the write engine; the SQLite `begin` hook reads it.
_WRITE_OPTION = "bookings_write"

#: PostgreSQL SQLSTATEs that mean "busy, try again": lock_not_available, serialization
#: failure, deadlock, query canceled (statement/lock timeout), too many connections.
_PG_TRANSIENT = frozenset({"55P03", "40001", "40P01", "57014", "53300"})


def normalize_url(url: str) -> str:
    """Select psycopg 3 for plain PostgreSQL URLs ("postgresql://" / "postgres://")."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """Engine plus session factories for one database URL."""

    def __init__(
        self, engine: Engine, *, lock_timeout_ms: int, busy_timeout_ms: int = 5000
    ) -> None:
        self.engine = engine
        self.lock_timeout_ms = lock_timeout_ms
        self._busy_timeout_s = busy_timeout_ms / 1000
        self._writer_queue = FifoLock() if engine.dialect.name == "sqlite" else None
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        self._write = sessionmaker(
            bind=engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        busy_timeout_ms: int = 5000,
        lock_timeout_ms: int = 5000,
        pool_size: int = 20,
    ) -> Database:
        """Build the engine for `url`; nothing connects until the first session is used."""
        url = normalize_url(url)
        backend = make_url(url).get_backend_name()
        in_memory = backend == "sqlite" and make_url(url).database in (None, "", ":memory:")
        options: dict[str, Any] = {"pool_pre_ping": backend != "sqlite"}
        if backend == "sqlite":
            options["connect_args"] = {"check_same_thread": False}
        if not in_memory:
            options.update(pool_size=pool_size, max_overflow=pool_size)
        engine = create_engine(url, **options)
        if backend == "sqlite":
            _install_sqlite_recipe(engine, busy_timeout_ms)
        return cls(engine, lock_timeout_ms=lock_timeout_ms, busy_timeout_ms=busy_timeout_ms)

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @property
    def serializes_writers(self) -> bool:
        """True when a write transaction excludes every other writer from its BEGIN (SQLite):
        nothing another writer commits can appear between two statements of it."""
        return self._writer_queue is not None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session: one snapshot, rolled back at the end."""
        with _translate_busy_errors(), self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commits when the block succeeds, rolls back when it raises."""
        with (
            _translate_busy_errors(),
            self._queued_writer(),
            self._write() as session,
            session.begin(),
        ):
            yield session

    def _queued_writer(self) -> AbstractContextManager[None]:
        if self._writer_queue is None:
            return nullcontext()
        return _holding(self._writer_queue, self._busy_timeout_s)

    def dispose(self) -> None:
        self.engine.dispose()


def _install_sqlite_recipe(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def _holding(lock: FifoLock, timeout_s: float) -> Iterator[None]:
    """Hold `lock` for the block; `Unavailable` if it does not come within `timeout_s`."""
    if not lock.acquire(timeout_s):
        raise Unavailable("the database is busy; retry the call", reason="STORE_BUSY")
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _translate_busy_errors() -> Iterator[None]:
    """A busy database or a lock wait that timed out is `Unavailable` (retryable).

    Also the safety net for text PostgreSQL cannot store (NUL characters, which SQLite
    accepts): InvalidArgument rather than an internal error.
    """
    try:
        yield
    except exc.DataError as error:
        if "NUL (0x00)" in str(error.orig):
            raise InvalidArgument(
                "text fields cannot contain NUL (0x00) characters", reason="INVALID_TEXT"
            ) from error
        raise
    except exc.OperationalError as error:
        if _is_transient(error):
            raise Unavailable(
                "the database is busy; retry the call", reason="STORE_BUSY"
            ) from error
        raise


def _is_transient(error: exc.OperationalError) -> bool:
    if error.connection_invalidated:
        return True
    if hasattr(error.orig, "sqlstate"):
        # psycopg: no SQLSTATE at all means the connection itself failed.
        sqlstate: str | None = getattr(error.orig, "sqlstate", None)
        return sqlstate is None or sqlstate in _PG_TRANSIENT or sqlstate.startswith("08")
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message
