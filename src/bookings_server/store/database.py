"""The Database: one engine per URL, read and write transactions bounded by the call's deadline.

Every transaction has a deadline: the call's (domain/deadline.py), brought forward to
`max_transaction_s` when that comes first. It bounds all the transaction's store work:

- one lock wait, at most `busy_timeout` (SQLite) or `lock_timeout` (PostgreSQL) and never past
  the deadline, shared by the wait for a connection permit (store/write_lock.py: a FIFO in
  front of the pool), SQLite's in-process writer queue and SQLite's busy handler;
- on PostgreSQL the connect timeout, `statement_timeout` and `lock_timeout`, and a watchdog
  that cuts a connection the server does not answer on (store/postgres_recipe.py);
- the commit: a transaction whose deadline passed rolls back instead (`DEADLINE_EXCEEDED`), so
  work the client gave up on is never written. A connection lost or cut while COMMIT was on
  its way is `COMMIT_UNCONFIRMED`: the only failure after which the change may exist.

Driver errors become domain errors in one place (store/failures.py), each store failure with
its own reason; the log gets one line per episode (store/failure_log.py), not one per call.
Inside a traced call each transaction is a span of the call's trace, `store.read` or
`store.write` (observability/store_spans.py).

SQLite (the embedded default) follows RELIABILITY.md (store/sqlite_recipe.py); PostgreSQL runs
through psycopg 3, and writers of one capacity unit serialize on a lock row (store/locks.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bookings_server.config import DEFAULT_DB_MAX_OVERFLOW, DEFAULT_DB_POOL_SIZE, Config
from bookings_server.domain.deadline import Deadline, current_deadline, earliest
from bookings_server.domain.errors import DomainError, Unavailable
from bookings_server.observability.store_spans import transaction_span
from bookings_server.store import postgres_recipe, sqlite_recipe
from bookings_server.store.catalog_cache import CatalogCache, flag_catalog_writes
from bookings_server.store.failure_log import FailureEpisodes
from bookings_server.store.failures import (
    STORE_BUSY,
    STORE_FULL,
    STORE_OVERLOADED,
    STORE_REASONS,
    STORE_UNAVAILABLE,
    failure,
    store_failure,
)
from bookings_server.store.locks import note_write_lock_wait
from bookings_server.store.watchdog import Watchdog
from bookings_server.store.write_lock import FifoSemaphore

DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
COMMIT_UNCONFIRMED = "COMMIT_UNCONFIRMED"
#: Failures logged once per episode rather than per call.
_EPISODE_REASONS = STORE_REASONS | {DEADLINE_EXCEEDED, COMMIT_UNCONFIRMED}

_WATCHDOG = Watchdog()


def normalize_url(url: str) -> str:
    """Select psycopg 3 for plain PostgreSQL URLs ("postgresql://" / "postgres://")."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """Engine plus transaction factories for one database URL."""

    def __init__(
        self,
        engine: Engine,
        *,
        lock_timeout_ms: int,
        busy_timeout_ms: int = 5000,
        connections: int = DEFAULT_DB_POOL_SIZE + DEFAULT_DB_MAX_OVERFLOW,
        max_transaction_s: float | None = None,
    ) -> None:
        self.engine = engine
        self._lock_timeout_ms = lock_timeout_ms
        sqlite = engine.dialect.name == "sqlite"
        self._wait_s = (busy_timeout_ms if sqlite else lock_timeout_ms) / 1000
        self._max_transaction_s = max_transaction_s
        self._writer_queue = FifoSemaphore() if sqlite else None
        self._connection_permits = FifoSemaphore(connections)
        self._episodes = FailureEpisodes(write_reasons=frozenset({STORE_FULL, STORE_BUSY}))
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        self._write = sessionmaker(
            bind=engine.execution_options(**{sqlite_recipe.WRITE_OPTION: True}),
            expire_on_commit=False,
        )
        flag_catalog_writes(self._write)
        #: The catalog as this process last loaded it (store/catalog_cache.py).
        self.catalog_cache = CatalogCache()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        busy_timeout_ms: int = 5000,
        lock_timeout_ms: int = 5000,
        pool_size: int = DEFAULT_DB_POOL_SIZE,
        max_overflow: int = DEFAULT_DB_MAX_OVERFLOW,
        max_transaction_s: float | None = None,
    ) -> Database:
        """Build the engine for `url`; nothing connects until the first session is used.

        `max_transaction_s` caps every transaction (a call's deadline may end it sooner): the
        server passes its --max-call-seconds; None leaves transactions outside any call
        unbounded (imports, CLI commands).
        """
        url = normalize_url(url)
        backend = make_url(url).get_backend_name()
        in_memory = backend == "sqlite" and make_url(url).database in (None, "", ":memory:")
        options: dict[str, Any] = {"pool_pre_ping": False}
        if backend == "sqlite":
            options["connect_args"] = {"check_same_thread": False}
        if not in_memory:
            # Sessions wait for a permit (bounded by their deadline) before the pool, so
            # only other engine users (migrations, probes) ever wait on pool_timeout.
            options.update(_pool_sizes(backend, pool_size, max_overflow), pool_timeout=5)
        engine = create_engine(url, **options)
        if backend == "sqlite":
            sqlite_recipe.install_sqlite_recipe(engine, busy_timeout_ms)
        else:
            postgres_recipe.install_postgres_recipe(engine, max_transaction_s)
        return cls(
            engine,
            lock_timeout_ms=lock_timeout_ms,
            busy_timeout_ms=busy_timeout_ms,
            connections=pool_size + max_overflow,
            max_transaction_s=max_transaction_s,
        )

    @classmethod
    def from_config(cls, config: Config) -> Database:
        """The server's database: its URL and pool, transactions bounded by the call maximum."""
        return cls.from_url(
            config.effective_database_url,
            pool_size=config.db_pool_size,
            max_overflow=config.db_max_overflow,
            max_transaction_s=config.max_call_seconds,
        )

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
        with transaction_span("read", self.dialect), self._transaction(write=False) as session:
            yield session

    @contextmanager
    def read_one_statement(self) -> Iterator[Session]:
        """A read session for a block that runs exactly one statement, its own snapshot: on
        SQLite without BEGIN and ROLLBACK (two statements fewer for the cheapest reads, such
        as the availability versions a cached answer is checked against)."""
        with (
            transaction_span("read", self.dialect),
            self._transaction(write=False, one_statement=True) as session,
        ):
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commits when the block succeeds, rolls back when it raises."""
        with transaction_span("write", self.dialect), self._transaction(write=True) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _transaction(self, *, write: bool, one_statement: bool = False) -> Iterator[Session]:
        deadline = earliest(current_deadline.get(), self._max_transaction_s)
        wait = Deadline.after(self._wait_s).sooner(deadline)
        cutoff = postgres_recipe.Cutoff(_WATCHDOG, deadline)
        committing = False
        started = time.perf_counter()
        try:
            with (
                self._writer_turn(wait, write=write),
                _holding(self._connection_permits, wait, STORE_OVERLOADED),
                self._session(write) as session,
            ):
                try:
                    self._begin(session, cutoff, deadline, wait, one_statement=one_statement)
                    if write and self.serializes_writers:
                        note_write_lock_wait(session, time.perf_counter() - started)
                    yield session
                    if write:
                        _check(deadline)
                        committing = True
                        session.commit()
                finally:
                    cutoff.disarm()
                    if cutoff.rang:
                        session.invalidate()  # its socket is cut: never back into the pool
        except Exception as error:
            translated = self._translated(error, cut=cutoff.rang, committing=committing)
            if translated is error:
                raise
            raise translated from error
        self._succeeded(wrote=write)

    def _session(self, write: bool) -> Session:
        return self._write() if write else self._read()

    def _writer_turn(self, wait: Deadline, *, write: bool) -> AbstractContextManager[None]:
        """SQLite writers of this process queue for the database, in arrival order."""
        if write and self._writer_queue is not None:
            return _holding(self._writer_queue, wait, STORE_BUSY)
        return nullcontext()

    def _begin(
        self,
        session: Session,
        cutoff: postgres_recipe.Cutoff,
        deadline: Deadline | None,
        wait: Deadline,
        *,
        one_statement: bool = False,
    ) -> None:
        if self.dialect == "sqlite":
            options = {
                sqlite_recipe.WAIT_UNTIL_OPTION: wait.at,
                sqlite_recipe.ONE_STATEMENT_OPTION: one_statement,
            }
            session.connection(execution_options=options)
        else:
            postgres_recipe.begin(session, cutoff, deadline, self._lock_timeout_ms)

    def _translated(self, error: Exception, *, cut: bool, committing: bool) -> Exception:
        """The domain error for `error` (logged once per episode), or `error` itself.

        A connection lost or cut while COMMIT was on its way leaves the outcome unknown: the
        server may have committed. That is `COMMIT_UNCONFIRMED`, never a plain failure.
        """
        translated: Exception | None
        if cut:
            translated = deadline_exceeded()
        elif isinstance(error, DomainError):
            translated = error
        else:
            translated = store_failure(error)
        if not isinstance(translated, DomainError):
            return error
        if committing and translated.reason in (DEADLINE_EXCEEDED, STORE_UNAVAILABLE):
            translated = commit_unconfirmed()
        if translated.reason in _EPISODE_REASONS and self._episodes.failed(
            translated.reason, error
        ):
            self._after_failure_started(translated.reason)
        return translated

    def _after_failure_started(self, reason: str) -> None:
        if reason == STORE_FULL and self.dialect == "sqlite":
            sqlite_recipe.checkpoint_truncate(self.engine)

    def _succeeded(self, *, wrote: bool) -> None:
        ended = self._episodes.succeeded(wrote=wrote)
        if STORE_FULL in ended and self.dialect == "sqlite":
            sqlite_recipe.checkpoint_truncate(self.engine)


def deadline_exceeded() -> DomainError:
    return Unavailable(
        "the database did not answer before the call's deadline; retry the call",
        reason=DEADLINE_EXCEEDED,
    )


def commit_unconfirmed() -> DomainError:
    return Unavailable(
        "the database did not confirm the commit: the change may have been made; retry the "
        "call (a CreateBooking with the same request_id)",
        reason=COMMIT_UNCONFIRMED,
    )


def _check(deadline: Deadline | None) -> None:
    """Refuse to commit once the deadline passed: the client stopped waiting for the answer."""
    if deadline is not None and deadline.expired():
        raise deadline_exceeded()


@contextmanager
def _holding(permits: FifoSemaphore, wait: Deadline, reason: str) -> Iterator[None]:
    """Hold a permit for the block; the store failure `reason` if none comes before `wait`."""
    if not permits.acquire(wait.remaining()):
        raise failure(reason)
    try:
        yield
    finally:
        permits.release()


def _pool_sizes(backend: str, pool_size: int, max_overflow: int) -> dict[str, int]:
    """SQLite keeps its overflow connections open too. The permits in front of the pool mean
    nothing ever waits in it, so an overflow connection returned while `pool_size` are idle
    is closed, and the next burst opens a new one: its pragmas, then a parse of the whole
    schema on its first statement. A SQLite file has no connection limit to spare."""
    if backend == "sqlite":
        return {"pool_size": pool_size + max_overflow, "max_overflow": 0}
    return {"pool_size": pool_size, "max_overflow": max_overflow}
