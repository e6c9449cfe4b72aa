"""What `bookings serve` does to the store before serving.

SQLite databases are migrated automatically (the file belongs to this server); the embedded
default is also seeded with the demo catalog while it is empty. A PostgreSQL database is
migrated by the operator (`bookings migrate`); serve refuses to start on an outdated schema.
"""

from __future__ import annotations

from importlib import resources

from bookings_server.app.catalog_file import parse_catalog
from bookings_server.app.catalog_import import ImportSummary, catalog_is_empty, import_catalog
from bookings_server.config import Config
from bookings_server.store.database import Database
from bookings_server.store.migrations import current_revisions, head_revisions, migrate
from bookings_server.store.unit_of_work import SqlUnitOfWork

DEMO_CATALOG = "demo-catalog.yaml"


class SchemaOutdatedError(RuntimeError):
    """The database is not at the newest migration; run `bookings migrate`."""


def prepare_store(config: Config, *, load_demo: bool = True) -> ImportSummary | None:
    """Migrate SQLite, seed the empty embedded default with the demo catalog, and check that
    any other database is up to date. Returns the demo import's summary when it ran."""
    url = config.effective_database_url
    if not config.is_embedded:
        if set(current_revisions(url)) != set(head_revisions()):
            raise SchemaOutdatedError(
                "the database schema is not up to date: run `bookings migrate` first"
            )
        return None
    migrate(url)
    if config.database_url is not None or not load_demo:
        return None
    database = Database.from_url(url)
    try:
        uow = SqlUnitOfWork(database)
        if not catalog_is_empty(uow):
            return None
        return import_catalog(uow, parse_catalog(demo_catalog_text()))
    finally:
        database.dispose()


def demo_catalog_text() -> str:
    return resources.files("bookings_server.store").joinpath(DEMO_CATALOG).read_text("utf-8")
