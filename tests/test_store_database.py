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

from bookings_server.domain.errors import Unavailable
from bookings_server.store.database import Database, normalize_url
from bookings_server.store.locks import lock_capacity_unit
from bookings_server.store.migrations import current_revisions, head_revisions, migrate
from bookings_server.store.models import Base
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
    with database.read() as session:
        pragma = {
            name: session.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }
    database.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "busy_timeout": 1234,
        "foreign_keys": 1,
        "synchronous": 1,
    }


@pytest.mark.postgres
def test_postgres_capacity_unit_lock_serializes_writers_of_one_unit(
    postgres_server: Any,
) -> None:
    """SQLite needs no lock row: BEGIN IMMEDIATE already serializes all its writers."""
    name = f"locks_{uuid.uuid4().hex[:12]}"
    postgres_server.admin(f"CREATE DATABASE {name} TEMPLATE {postgres_server.template}")
    database = Database.from_url(postgres_server.url(name))
    try:
        # First round: the lock row is new (the waiter blocks on the uncommitted insert);
        # second round: the row exists (the waiter blocks on FOR UPDATE).
        for _ in range(2):
            _assert_unit_is_held_exclusively(database)
    finally:
        database.dispose()


def _assert_unit_is_held_exclusively(database: Database) -> None:
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
        with pytest.raises(Unavailable), database.write() as session:
            lock_capacity_unit(session, "site-a", "session:s1", lock_timeout_ms=100)
        with database.write() as session:  # another unit, or another site, is free
            lock_capacity_unit(session, "site-a", "session:s2", lock_timeout_ms=100)
            lock_capacity_unit(session, "site-b", "session:s1", lock_timeout_ms=100)
    finally:
        release.set()
        thread.join()
