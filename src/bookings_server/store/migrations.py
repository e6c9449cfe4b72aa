"""Alembic, driven from code: the scripts live inside the package, so an installed wheel can
migrate too (`bookings migrate`, and `bookings serve` on the embedded default)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from bookings_server.store.database import normalize_url

SCRIPT_LOCATION = Path(__file__).parent / "alembic"


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    config.attributes["database_url"] = normalize_url(url)
    return config


def migrate(url: str) -> None:
    """Upgrade the database at `url` to the newest revision (creating SQLite files)."""
    _ensure_sqlite_directory(url)
    command.upgrade(alembic_config(url), "head")


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(url: str) -> tuple[str, ...]:
    """The revisions the database is at; empty for a database never migrated."""
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.exists():
        return ()
    engine = create_engine(normalize_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def _ensure_sqlite_directory(url: str) -> None:
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other backends and in-memory databases."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)
