"""The store base: migrations, sessions, the SQLite recipe and capacity-unit locks."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, Table, select, text

from bookings_server.cli.main import build_parser
from bookings_server.config import DEFAULT_DB_MAX_OVERFLOW, DEFAULT_DB_POOL_SIZE, Config
from bookings_server.domain.deadline import Deadline, deadline_scope
from bookings_server.domain.errors import Unavailable
from bookings_server.store.database import Database, normalize_url
from bookings_server.store.locks import lock_capacity_unit
from bookings_server.store.migrations import current_revisions, head_revisions, migrate
from bookings_server.store.models import Base
from bookings_server.store.postgres_recipe import TCP_SETTINGS
from bookings_server.store.types import UTCDateTime

_probe = Table(
    "probe", MetaData(), Column("id", String, primary_key=True), Column("at", UTCDateTime)
)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url, busy_timeout_ms=200, lock_timeout_ms=200)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'empty.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"empty_{uuid.uuid4().hex[:12]}"
    server.admin(f"CREATE DATABASE {name}")
    yield server.url(name)
    server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_postgresql_urls_select_psycopg_3() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_migrate_upgrades_an_empty_database_to_head(empty_database_url: str) -> None:
    assert current_revisions(empty_database_url) == ()
    migrate(empty_database_url)
    assert current_revisions(empty_database_url) == head_revisions()
    migrate(empty_database_url)  # a second run is a no-op
    assert current_revisions(empty_database_url) == head_revisions()


def test_models_and_migrations_agree(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_instants_round_trip_as_aware_utc(database: Database) -> None:
    _probe.create(database.engine)
    paris = timezone(timedelta(hours=2))
    with database.write() as session:
        session.execute(
            _probe.insert().values(id="a", at=datetime(2026, 5, 1, 12, 0, tzinfo=paris))
        )
    with database.read() as session:
        stored = session.execute(select(_probe.c.at)).scalar_one()
    assert stored == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(database: Database) -> None:
    _probe.create(database.engine)
    with pytest.raises(Exception, match="naive datetime"), database.write() as session:
        session.execute(_probe.insert().values(id="a", at=datetime(2026, 5, 1, 12, 0)))


def test_a_write_session_commits_on_success_and_rolls_back_on_error(database: Database) -> None:
    _probe.create(database.engine)
    with database.write() as session:
        session.execute(_probe.insert().values(id="kept"))
    with pytest.raises(RuntimeError), database.write() as session:
        session.execute(_probe.insert().values(id="dropped"))
        raise RuntimeError("handler failed")
    with database.read() as session:
        assert session.execute(select(_probe.c.id)).scalars().all() == ["kept"]


def test_dialect_names_the_backend(database: Database, database_url: str) -> None:
    assert database.dialect == ("sqlite" if database_url.startswith("sqlite") else "postgresql")


def test_sqlite_write_sessions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a second writer waits for the first, even if the first only read."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    migrate(url)
    database = Database.from_url(url, busy_timeout_ms=100)
    holding, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with database.write() as session:
            session.execute(text("SELECT 1"))
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=first_writer)
    thread.start()
    try:
        assert holding.wait(5)
        with pytest.raises(Unavailable), database.write() as session:
            session.execute(text("SELECT 1"))
        with database.read() as session:  # readers are not blocked
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        release.set()
        thread.join()
        database.dispose()


def test_sqlite_connections_use_the_reliability_pragmas(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'db.sqlite3'}", busy_timeout_ms=1234)
    names = ("journal_mode", "foreign_keys", "synchronous", "wal_autocheckpoint")
    with database.read() as session:
        pragma = {name: session.execute(text(f"PRAGMA {name}")).scalar() for name in names}
        pragma["journal_size_limit"] = session.execute(text("PRAGMA journal_size_limit")).scalar()
        busy_timeout = session.execute(text("PRAGMA busy_timeout")).scalar()
    database.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,
        "wal_autocheckpoint": 256,
        "journal_size_limit": 4 * 1024 * 1024,
    }
    # Set per transaction: what is left of its one lock wait, at most busy_timeout.
    assert 1000 < busy_timeout <= 1234


@pytest.mark.postgres
def test_postgres_capacity_unit_lock_serializes_writers_of_one_unit(
    postgres_server: Any,
) -> None:
    """SQLite needs no lock row: BEGIN IMMEDIATE already serializes all its writers."""
    name = f"locks_{uuid.uuid4().hex[:12]}"
    postgres_server.admin(f"CREATE DATABASE {name} TEMPLATE {postgres_server.template}")
    database = Database.from_url(postgres_server.url(name))
    impatient = Database.from_url(postgres_server.url(name), lock_timeout_ms=100)
    try:
        # First round: the lock row is new (the waiter blocks on the uncommitted insert);
        # second round: the row exists (the waiter blocks on FOR UPDATE).
        for _ in range(2):
            _assert_unit_is_held_exclusively(database, impatient)
    finally:
        database.dispose()
        impatient.dispose()


def _assert_unit_is_held_exclusively(database: Database, impatient: Database) -> None:
    holding, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with database.write() as session:
            lock_capacity_unit(session, "site-a", "session:s1")
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=first_writer)
    thread.start()
    try:
        assert holding.wait(5)
        with pytest.raises(Unavailable), impatient.write() as session:
            lock_capacity_unit(session, "site-a", "session:s1")
        with impatient.write() as session:  # another unit, or another site, is free
            lock_capacity_unit(session, "site-a", "session:s2")
            lock_capacity_unit(session, "site-b", "session:s1")
    finally:
        release.set()
        thread.join()


def test_pool_sizing_comes_from_the_flags_and_their_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOOKINGS_DB_MAX_OVERFLOW", "2")
    args = build_parser().parse_args(["serve", "--db-pool-size", "3", "--max-call-seconds", "7"])
    assert (args.db_pool_size, args.db_max_overflow, args.max_call_seconds) == (3, 2, 7.0)
    config = Config(data_dir=tmp_path, db_pool_size=3, db_max_overflow=2)
    database = Database.from_config(config)
    pool: Any = database.engine.pool
    # SQLite keeps the overflow open too (store/database.py `_pool_sizes`).
    assert (pool.size(), pool._max_overflow) == (5, 0)
    database.dispose()


def test_the_default_pool_fits_several_processes_under_postgres_default_connections() -> None:
    """docs/store.md: processes x (pool + overflow) + workers + probes <= 100 - 3 reserved."""
    processes = 6
    per_process = DEFAULT_DB_POOL_SIZE + DEFAULT_DB_MAX_OVERFLOW
    workers = probes = processes
    assert processes * per_process + workers + probes <= 100 - 3


@pytest.mark.postgres
def test_postgres_connections_use_tcp_keepalives_and_a_connect_timeout_from_the_deadline(
    postgres_server: Any,
) -> None:
    database = Database.from_url(postgres_server.url("postgres"), pool_size=1, max_overflow=0)
    with deadline_scope(Deadline.after(4.5)), database.read() as session:
        dbapi_connection: Any = session.connection().connection.dbapi_connection
        parameters = dbapi_connection.info.get_parameters()
    database.dispose()
    assert parameters["connect_timeout"] == "4"
    assert {name: parameters[name] for name in TCP_SETTINGS} == TCP_SETTINGS
