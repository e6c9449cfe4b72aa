"""Every store failure has its own status (store/failures.py), from real driver errors:
disk full, too many connections, a busy database, a database that is gone. No driver text
reaches the error a client gets, and the log has one line per episode, not one per call."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PostgresServer
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, text

from bookings_server.domain.errors import DomainError, ResourceExhausted, Unavailable
from bookings_server.store.database import Database

_blobs = Table("blobs", MetaData(), Column("id", Integer, primary_key=True), Column("data", String))
_MESSAGES = {
    "STORE_FULL": "the database is out of space; retry later",
    "STORE_OVERLOADED": "the database has no free connection; retry the call",
    "STORE_BUSY": "the database is busy; retry the call",
    "STORE_UNAVAILABLE": "the database is unreachable; retry the call",
}


def _assert_store_failure(raised: pytest.ExceptionInfo[DomainError], reason: str) -> None:
    assert raised.value.reason == reason
    assert raised.value.message == _MESSAGES[reason]  # the server's words, never the driver's


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = f"failures_{uuid.uuid4().hex[:12]}"
    postgres_server.admin(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    postgres_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _limited_sqlite(path: Path, spare_pages: int) -> Database:
    """A SQLite database that may grow by `spare_pages` pages: SQLITE_FULL after that, the
    same error a full disk gives (PRAGMA max_page_count)."""
    database = Database.from_url(f"sqlite:///{path}")
    _blobs.create(database.engine)
    with database.read() as session:
        pages = session.execute(text("PRAGMA page_count")).scalar_one()

    def limit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + spare_pages}")

    database.engine.dispose()
    event.listen(database.engine, "connect", limit)
    return database


def _fill(database: Database) -> None:
    with database.write() as session:
        session.execute(insert(_blobs), [{"data": "x" * 4000} for _ in range(50)])


def test_a_full_sqlite_database_is_resource_exhausted_store_full(tmp_path: Path) -> None:
    database = _limited_sqlite(tmp_path / "full.sqlite3", spare_pages=20)
    with pytest.raises(ResourceExhausted) as raised:
        _fill(database)
    _assert_store_failure(raised, "STORE_FULL")
    with database.read() as session:  # nothing of the failed transaction was written
        assert session.execute(text("SELECT count(*) FROM blobs")).scalar() == 0
    database.dispose()


def test_a_full_store_logs_one_line_per_episode_and_one_when_it_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = _limited_sqlite(tmp_path / "full.sqlite3", spare_pages=20)
    caplog.set_level(logging.INFO, logger="bookings.store")
    for _ in range(20):
        with pytest.raises(ResourceExhausted):
            _fill(database)
    with database.write() as session:  # a small write still fits
        session.execute(insert(_blobs).values(data="small"))
    messages = [r.getMessage() for r in caplog.records if r.name == "bookings.store"]
    assert messages.count("store failing") == 1
    assert messages.count("store recovered") == 1
    failing = next(r for r in caplog.records if r.getMessage() == "store failing")
    assert failing.exc_info is None  # no traceback
    assert "full" in failing.__dict__["error"]  # the driver's text, for the operator only
    database.dispose()


def test_the_wal_is_truncated_when_a_disk_full_episode_ends(tmp_path: Path) -> None:
    path = tmp_path / "full.sqlite3"
    database = _limited_sqlite(path, spare_pages=20)
    with pytest.raises(ResourceExhausted):
        _fill(database)
    with database.write() as session:
        session.execute(insert(_blobs).values(data="small"))
    assert Path(f"{path}-wal").stat().st_size == 0
    database.dispose()


def test_a_sqlite_file_that_cannot_be_opened_is_store_unavailable(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}")
    with pytest.raises(Unavailable) as raised, database.read() as session:
        session.execute(text("SELECT 1"))
    _assert_store_failure(raised, "STORE_UNAVAILABLE")


@pytest.mark.postgres
def test_a_refused_postgres_connection_is_store_unavailable_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe is closed
    database = Database.from_url(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    started = time.monotonic()
    with pytest.raises(Unavailable) as raised, database.read() as session:
        session.execute(text("SELECT 1"))
    _assert_store_failure(raised, "STORE_UNAVAILABLE")
    assert time.monotonic() - started < 1


@pytest.mark.postgres
def test_a_postgres_that_turns_connections_away_is_store_overloaded(
    postgres_server: PostgresServer, pg_url: str
) -> None:
    """53300: a role at its connection limit gets the same refusal as a full server."""
    role = f"limited_{uuid.uuid4().hex[:8]}"
    postgres_server.admin(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
    database = Database.from_url(pg_url.replace("postgres@", f"{role}@", 1))
    try:
        with pytest.raises(Unavailable) as raised, database.read() as session:
            session.execute(text("SELECT 1"))
        _assert_store_failure(raised, "STORE_OVERLOADED")
    finally:
        database.dispose()
        postgres_server.admin(f"DROP ROLE {role}")


@pytest.mark.postgres
def test_a_postgres_statement_timeout_is_store_busy(pg_url: str) -> None:
    database = Database.from_url(pg_url)
    with pytest.raises(Unavailable) as raised, database.read() as session:
        session.execute(text("SET LOCAL statement_timeout = 50"))
        session.execute(text("SELECT pg_sleep(5)"))
    _assert_store_failure(raised, "STORE_BUSY")
    database.dispose()


@pytest.mark.postgres
def test_a_terminated_postgres_connection_is_store_unavailable_and_the_next_call_works(
    pg_url: str,
) -> None:
    """57P01 admin_shutdown (what a restart does to a connection); the pool recovers."""
    database = Database.from_url(pg_url, pool_size=1, max_overflow=0)
    with pytest.raises(Unavailable) as raised, database.write() as session:
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    _assert_store_failure(raised, "STORE_UNAVAILABLE")
    with database.read() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
    database.dispose()


@pytest.mark.postgres
def test_a_pooled_connection_the_server_dropped_is_replaced_without_failing_the_call(
    postgres_server: PostgresServer, pg_url: str
) -> None:
    """The transaction's first statement (its timeouts) doubles as pool_pre_ping."""
    database = Database.from_url(pg_url, pool_size=1, max_overflow=0)
    with database.read() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    postgres_server.admin(f"SELECT pg_terminate_backend({pid})")
    time.sleep(0.1)
    with database.read() as session:
        assert session.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    database.dispose()


@pytest.fixture
def small_filesystem() -> Iterator[Path]:
    """A 1 MiB tmpfs owned by the postgres user, where this machine lets the tests mount one."""
    directory = Path(tempfile.mkdtemp(prefix="bookings-tiny-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(directory)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.skip("cannot mount a small filesystem here")
    try:
        shutil.chown(directory, "postgres", "postgres")
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.postgres
def test_a_full_postgres_disk_is_resource_exhausted_store_full(
    postgres_server: PostgresServer, pg_url: str, small_filesystem: Path
) -> None:
    """53100 disk_full, from a table in a tablespace on a 1 MiB filesystem."""
    space = f"tiny_{uuid.uuid4().hex[:8]}"
    postgres_server.admin(f"CREATE TABLESPACE {space} LOCATION '{small_filesystem}'")
    database = Database.from_url(pg_url)
    try:
        with database.write() as session:
            session.execute(text(f"CREATE TABLE blobs (data text) TABLESPACE {space}"))
        with pytest.raises(ResourceExhausted) as raised, database.write() as session:
            session.execute(
                text("INSERT INTO blobs SELECT md5(g::text) FROM generate_series(1, 100000) g")
            )
        _assert_store_failure(raised, "STORE_FULL")
    finally:
        database.dispose()
        with_drop = Database.from_url(pg_url)
        with with_drop.write() as session:
            session.execute(text("DROP TABLE IF EXISTS blobs"))
        with_drop.dispose()
        postgres_server.admin(f"DROP TABLESPACE {space}")
