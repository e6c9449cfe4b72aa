"""Alembic environment: runs online against `config.attributes["database_url"]`."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine, pool

from bookings_server.store.models import Base
from bookings_server.store.types import UTCDateTime

#: Any constant: PostgreSQL servers migrating at the same time take turns on it.
_MIGRATION_LOCK_KEY = 7_242_611


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
        context.run_migrations()


def _render_item(type_: str, item: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes UTCDateTime columns as plain timestamptz: migrations stay
    independent of the application's Python types."""
    if type_ == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run_online() -> None:
    engine = create_engine(context.config.attributes["database_url"], poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


_run_online()
