"""The call's deadline bounds its store work (store/database.py): the lock wait, the
connection wait, PostgreSQL's statement and lock timeouts, a server that stops answering,
and the commit: nothing is committed once the deadline has passed."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PostgresServer
from sqlalchemy import Column, MetaData, String, Table, event, func, insert, select, text

from bookings_server.domain.deadline import Deadline, deadline_scope
from bookings_server.domain.errors import Unavailable
from bookings_server.store.database import Database

_rows = Table("rows", MetaData(), Column("id", String, primary_key=True))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    _rows.create(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def pg_database(postgres_server: PostgresServer) -> Iterator[Database]:
    name = f"deadlines_{uuid.uuid4().hex[:12]}"
    postgres_server.admin(f"CREATE DATABASE {name}")
    db = Database.from_url(postgres_server.url(name), pool_size=2, max_overflow=0)
    _rows.create(db.engine)
    yield db
    db.dispose()
    postgres_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _count(database: Database) -> int:
    with database.read() as session:
        return int(session.execute(select(func.count()).select_from(_rows)).scalar_one())


def test_a_transaction_whose_deadline_passed_does_not_commit(database: Database) -> None:
    with (
        pytest.raises(Unavailable) as raised,
        deadline_scope(Deadline.after(0.2)),
        database.write() as session,
    ):
        session.execute(insert(_rows).values(id="late"))
        time.sleep(0.3)  # the client gave up meanwhile
    assert raised.value.reason == "DEADLINE_EXCEEDED"
    assert _count(database) == 0
    with database.write() as session:  # without a deadline nothing changes
        session.execute(insert(_rows).values(id="on-time"))
    assert _count(database) == 1


def _hold_sqlite_write_lock(path: str) -> sqlite3.Connection:
    """Another connection (as another process would) holding SQLite's write lock."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_sqlite_write_waits_for_the_lock_no_longer_than_the_deadline(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    database = Database.from_url(f"sqlite:///{path}", busy_timeout_ms=5000)
    _rows.create(database.engine)
    holder = _hold_sqlite_write_lock(str(path))
    try:
        started = time.monotonic()
        with (
            pytest.raises(Unavailable) as raised,
            deadline_scope(Deadline.after(0.3)),
            database.write() as session,
        ):
            session.execute(insert(_rows).values(id="x"))
        assert raised.value.reason == "STORE_BUSY"
        assert time.monotonic() - started < 1.0
    finally:
        holder.rollback()
        holder.close()
        database.dispose()


def test_sqlite_writers_queued_behind_a_locked_out_writer_wait_one_busy_timeout(
    tmp_path: Path,
) -> None:
    """The in-process queue and SQLite's busy handler share one wait: a writer queued behind
    another that waits on a second process's lock fails after busy_timeout, not twice that."""
    path = tmp_path / "db.sqlite3"
    database = Database.from_url(f"sqlite:///{path}", busy_timeout_ms=600)
    _rows.create(database.engine)
    holder = _hold_sqlite_write_lock(str(path))
    waited: dict[str, float] = {}

    def writer(name: str) -> None:
        started = time.monotonic()
        try:
            with database.write() as session:
                session.execute(insert(_rows).values(id=name))
        except Unavailable:
            waited[name] = time.monotonic() - started

    try:
        first = threading.Thread(target=writer, args=("first",))
        second = threading.Thread(target=writer, args=("second",))
        first.start()
        time.sleep(0.1)  # the second writer queues behind the first
        second.start()
        first.join()
        second.join()
    finally:
        holder.rollback()
        holder.close()
        database.dispose()
    assert set(waited) == {"first", "second"}
    # Two waits would be at least 0.5 + 0.6 s for the second writer.
    assert max(waited.values()) < 0.95


def test_a_session_waits_for_a_connection_no_longer_than_its_lock_wait(tmp_path: Path) -> None:
    database = Database.from_url(
        f"sqlite:///{tmp_path / 'db.sqlite3'}", busy_timeout_ms=200, pool_size=1, max_overflow=0
    )
    holding, release = threading.Event(), threading.Event()

    def reader() -> None:
        with database.read() as session:
            session.execute(text("SELECT 1"))
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with pytest.raises(Unavailable) as raised, database.read() as session:
            session.execute(text("SELECT 1"))
        assert raised.value.reason == "STORE_OVERLOADED"
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
        thread.join()
        database.dispose()


@pytest.mark.postgres
def test_postgres_transactions_take_statement_and_lock_timeouts_from_the_deadline(
    pg_database: Database,
) -> None:
    with deadline_scope(Deadline.after(2.0)), pg_database.read() as session:
        statement_ms = int(session.execute(text("SHOW statement_timeout")).scalar_one()[:-2])
        lock_ms = int(session.execute(text("SHOW lock_timeout")).scalar_one()[:-2])
    assert 1500 < statement_ms <= 2000
    assert lock_ms == statement_ms  # the configured 5 s would outlast the deadline
    with pg_database.read() as session:  # no deadline: the configured lock timeout only
        assert session.execute(text("SHOW statement_timeout")).scalar_one() == "0"
        assert session.execute(text("SHOW lock_timeout")).scalar_one() == "5s"


@pytest.mark.postgres
def test_a_slow_postgres_statement_ends_at_the_deadline_as_store_busy(
    pg_database: Database,
) -> None:
    started = time.monotonic()
    with (
        pytest.raises(Unavailable) as raised,
        deadline_scope(Deadline.after(0.3)),
        pg_database.read() as session,
    ):
        session.execute(text("SELECT pg_sleep(5)"))
    assert raised.value.reason == "STORE_BUSY"  # 57014, statement_timeout
    assert time.monotonic() - started < 1.0


@pytest.mark.postgres
def test_a_postgres_backend_that_stops_answering_costs_the_transaction_its_deadline(
    pg_database: Database,
) -> None:
    """SIGSTOP: the server cancels nothing; the watchdog cuts the connection, the write is
    never committed (not even once the backend runs again), and the pool recovers."""
    started = time.monotonic()
    pid = 0
    try:
        with (
            pytest.raises(Unavailable) as raised,
            deadline_scope(Deadline.after(0.5)),
            pg_database.write() as session,
        ):
            session.execute(insert(_rows).values(id="abandoned"))
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            os.kill(pid, signal.SIGSTOP)
            session.execute(text("SELECT 1"))
        assert raised.value.reason == "DEADLINE_EXCEEDED"
        assert time.monotonic() - started < 1.5
    finally:
        if pid:
            os.kill(pid, signal.SIGCONT)
    time.sleep(0.2)
    assert _count(pg_database) == 0


@pytest.mark.postgres
def test_a_commit_the_server_never_confirms_is_commit_unconfirmed(pg_database: Database) -> None:
    """The backend stops right before COMMIT reaches it: the watchdog ends the call at its
    deadline, and the answer says the change may exist, because it does once the backend
    runs again and reads the COMMIT waiting in its socket."""
    pid = 0

    def stop_backend(connection: Any) -> None:
        os.kill(pid, signal.SIGSTOP)

    event.listen(pg_database.engine, "commit", stop_backend)
    try:
        with (
            pytest.raises(Unavailable) as raised,
            deadline_scope(Deadline.after(0.5)),
            pg_database.write() as session,
        ):
            session.execute(insert(_rows).values(id="unconfirmed"))
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert raised.value.reason == "COMMIT_UNCONFIRMED"
    finally:
        event.remove(pg_database.engine, "commit", stop_backend)
        if pid:
            os.kill(pid, signal.SIGCONT)
    deadline = time.monotonic() + 5
    while _count(pg_database) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _count(pg_database) == 1
