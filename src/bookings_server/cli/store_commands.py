"""`bookings migrate` and `bookings catalog import FILE.yaml`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bookings_server.config import Config
from bookings_server.domain.errors import DomainError

AddFlags = Callable[[argparse.ArgumentParser], None]


def add_store_commands(commands: Any, add_store_flags: AddFlags) -> None:
    migrate_parser = commands.add_parser(
        "migrate",
        help="upgrade the database schema to the newest version",
        description="Apply every pending migration (Alembic upgrade head). Safe to run again; "
        "several servers starting together take turns on PostgreSQL.",
    )
    add_store_flags(migrate_parser)
    migrate_parser.set_defaults(run=_migrate)

    catalog = commands.add_parser("catalog", help="manage the catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    importer = catalog_commands.add_parser(
        "import",
        help="create or update a whole catalog from a YAML file, all or nothing",
        description="Create or update the staff members, services and sessions of FILE in one "
        "transaction; entities are matched on their `key`, so importing again updates them. "
        "A bad file changes nothing. Format: docs/catalog.md.",
    )
    importer.add_argument("file", type=Path, help="the catalog YAML file")
    importer.add_argument("--site", default="", help="site id (default: the file's `site`)")
    add_store_flags(importer)
    importer.set_defaults(run=_import)


def _config(args: argparse.Namespace) -> Config:
    return Config(database_url=args.database_url, data_dir=args.data_dir)


# The commands import the store and the use cases when they run, not when the parser is built.


def _migrate(args: argparse.Namespace) -> int:
    from bookings_server.store.migrations import current_revisions, migrate

    url = _config(args).effective_database_url
    migrate(url)
    print(f"bookings: database at revision {', '.join(current_revisions(url))}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from bookings_server.app.catalog_file import line_index, parse_catalog
    from bookings_server.app.catalog_import import import_catalog
    from bookings_server.store.database import Database
    from bookings_server.store.migrations import migrate
    from bookings_server.store.unit_of_work import SqlUnitOfWork

    config = _config(args)
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"bookings: cannot read {args.file}: {error}", file=sys.stderr)
        return 1
    if config.is_embedded:
        migrate(config.effective_database_url)
    database = Database.from_url(config.effective_database_url)
    try:
        document = parse_catalog(text, args.site)
        summary = import_catalog(SqlUnitOfWork(database), document)
    except DomainError as error:
        _report(args.file, line_index(text), error)
        return 1
    finally:
        database.dispose()
    print(
        f"bookings: imported {args.file} into site {summary.site_id}: "
        f"{summary.staff_members} staff members, {summary.services} services, "
        f"{summary.sessions} sessions ({summary.created} created, {summary.updated} updated); "
        "nothing else changed"
    )
    return 0


def _report(file: Path, lines: dict[str, int], error: DomainError) -> None:
    from bookings_server.app.catalog_file import line_of

    print(f"bookings: {file}: nothing imported", file=sys.stderr)
    if not error.violations:
        print(f"  {error.message}", file=sys.stderr)
    for violation in error.violations:
        line = line_of(lines, violation.field)
        where = f"{file}:{line}: " if line else f"{file}: "
        name = f"{violation.field}: " if violation.field else ""
        print(f"  {where}{name}{violation.description}", file=sys.stderr)
