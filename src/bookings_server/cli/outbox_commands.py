"""`bookings outbox list [--failed]` and `bookings outbox retry ID...`: the operator's view of
undelivered outbox items, across every site.

An item whose last allowed attempt failed (`--delivery-max-attempts`) is a dead letter: the
worker no longer tries it. `list --failed` shows those with their last error; `retry` makes
them due at once with a fresh count of attempts, for the next worker round.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bookings_server.config import Config

if TYPE_CHECKING:
    # Only for annotations: building the parser must not load SQLAlchemy.
    from bookings_server.store.outbox_repository import OutboxQueue, OutboxState

AddFlags = Callable[[argparse.ArgumentParser], None]

#: Characters of the last error shown per item.
_ERROR_WIDTH = 160


def add_outbox_commands(commands: Any, add_store_flags: AddFlags) -> None:
    outbox = commands.add_parser("outbox", help="list and retry undelivered outbox items")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    lister = outbox_commands.add_parser(
        "list",
        help="list undelivered items (every site), oldest first",
        description="One tab-separated line per unsent item: id, site, kind, booking, "
        "attempts, state (due: its next attempt; dead: since when) and the last error.",
    )
    lister.add_argument("--failed", action="store_true", help="only the dead letters")
    lister.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    add_store_flags(lister)
    lister.set_defaults(run=_list)
    retry = outbox_commands.add_parser(
        "retry",
        help="deliver dead letters again",
        description="Make each dead letter ID due now with a fresh count of attempts.",
    )
    retry.add_argument("ids", nargs="+", metavar="ID", help="outbox item id (from `list`)")
    add_store_flags(retry)
    retry.set_defaults(run=_retry)


def _list(args: argparse.Namespace) -> int:
    from bookings_server.cli.bootstrap import SchemaOutdatedError

    try:
        with _outbox_queue(args, write=False) as queue:
            states = queue.unsent(dead_only=args.failed, limit=args.limit)
    except SchemaOutdatedError as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    print("id\tsite\tkind\tbooking\tattempts\tstate\tlast_error")
    for state in states:
        print(_line(state))
    return 0


def _retry(args: argparse.Namespace) -> int:
    from bookings_server.cli.bootstrap import SchemaOutdatedError

    now = datetime.now(UTC)
    try:
        with _outbox_queue(args, write=True) as queue:
            missing = [item_id for item_id in args.ids if not queue.retry_dead(item_id, now)]
    except SchemaOutdatedError as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    print(f"bookings: {len(args.ids) - len(missing)} dead letter(s) due again")
    for item_id in missing:
        print(f"bookings: no dead letter with id {item_id}", file=sys.stderr)
    return 1 if missing else 0


def _line(state: OutboxState) -> str:
    if state.dead_at is not None:
        status = f"dead since {state.dead_at.isoformat()}"
    else:
        status = f"due {state.next_attempt_at.isoformat()}"
    error = " ".join((state.last_error or "").split())[:_ERROR_WIDTH]
    fields = (state.id, state.site_id, state.kind.value, state.booking_id, str(state.attempts))
    return "\t".join((*fields, status, error))


@contextmanager
def _outbox_queue(args: argparse.Namespace, *, write: bool) -> Iterator[OutboxQueue]:
    """Every site's outbox in one transaction on the store of the flags (SQLite migrated first,
    as for the worker; SchemaOutdatedError for an outdated PostgreSQL schema)."""
    from bookings_server.app.retention import ANY_SITE
    from bookings_server.cli.bootstrap import prepare_store
    from bookings_server.store.database import Database
    from bookings_server.store.unit_of_work import SqlUnitOfWork

    config = Config(database_url=args.database_url, data_dir=args.data_dir)
    prepare_store(config, load_demo=False)
    database = Database.from_url(config.effective_database_url)
    uow = SqlUnitOfWork(database)
    try:
        with uow.write(ANY_SITE) if write else uow.read(ANY_SITE) as tx:
            yield tx.outbox_queue
    finally:
        database.dispose()
