"""`bookings worker` (and `bookings serve --run-worker`): the command around the outbox
delivery loop of app/outbox_delivery.py, delivering through the senders of
bookings_server/delivery/ that the delivery flags configure (cli/delivery_flags.py)."""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import timedelta

from bookings_server.app.outbox_delivery import LoggingSender, Sender, WorkerSettings
from bookings_server.app.retention import RetentionSettings
from bookings_server.cli.delivery_flags import add_delivery_flags, delivery_settings
from bookings_server.config import Config, env
from bookings_server.logs import configure_logging

__all__ = [
    "LoggingSender",
    "add_retention_flags",
    "add_run_worker_flag",
    "add_worker_command",
    "load_sender",
]

log = logging.getLogger("bookings.worker")


def load_sender(spec: str) -> Sender:
    """`module:attribute` naming a Sender class (or factory) that takes no arguments."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--sender must be module:attribute, not {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    sender: Sender = factory()
    return sender


def add_worker_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    add_store_flags: Callable[[argparse.ArgumentParser], None],
) -> None:
    """`bookings worker`: deliver outbox items until SIGTERM/SIGINT (or once, --once)."""
    worker = commands.add_parser(
        "worker",
        help="deliver the outbox (notifications, reminders, events)",
        description="Deliver due outbox items through the sender, at least once each.",
    )
    add_store_flags(worker)
    defaults = WorkerSettings()
    worker.add_argument("--once", action="store_true", help="deliver one batch and exit")
    worker.add_argument(
        "--sender",
        # e.g. bookings_server.cli.worker:LoggingSender (re-exported from app/outbox_delivery.py)
        default=None,
        help="module:attribute of a Sender class to use instead of the configured webhooks "
        "and SMTP (default: the delivery flags below)",
    )
    worker.add_argument("--batch-size", type=int, default=defaults.batch_size)
    worker.add_argument(
        "--lease-seconds",
        type=float,
        default=defaults.lease.total_seconds(),
        help="how long a claimed item is reserved before another worker may retry it",
    )
    worker.add_argument("--poll-interval", type=float, default=defaults.poll_interval)
    add_retention_flags(worker)
    add_delivery_flags(worker)
    worker.set_defaults(run=_run_worker)


def add_retention_flags(parser: argparse.ArgumentParser) -> None:
    """How long the worker keeps sent outbox items and booking events (whole days, 0 forever)."""
    defaults = Config()
    parser.add_argument(
        "--outbox-retention-days",
        type=_days,
        default=env("OUTBOX_RETENTION_DAYS", str(defaults.outbox_retention_days)),
        help="days a sent outbox item is kept before the worker purges it, 0 forever "
        "(env BOOKINGS_OUTBOX_RETENTION_DAYS; default %(default)s)",
    )
    parser.add_argument(
        "--event-retention-days",
        type=_days,
        default=env("EVENT_RETENTION_DAYS", str(defaults.event_retention_days)),
        help="days a booking event is kept before the worker purges it, 0 forever; "
        "WatchBookingEvents cursors older than the oldest kept event fail CURSOR_EXPIRED "
        "(env BOOKINGS_EVENT_RETENTION_DAYS; default %(default)s)",
    )


def _days(text: str) -> int:
    """A retention in whole days: 0 (forever) or more."""
    days = int(text)
    if days < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (forever) or more days, not {days}")
    return days


def _run_worker(args: argparse.Namespace) -> int:
    # Imported here: building the `bookings` parser must stay free of SQLAlchemy and gRPC.
    from bookings_server.app.outbox_delivery import OutboxWorker
    from bookings_server.app.unit_of_work import SqlUnitOfWork
    from bookings_server.cli.bootstrap import SchemaOutdatedError, prepare_store
    from bookings_server.delivery.webhook_endpoints import WebhookFileError
    from bookings_server.serving import STOP_SIGNALS
    from bookings_server.store.database import Database

    configure_logging("INFO")
    config = Config(
        database_url=args.database_url, data_dir=args.data_dir, **delivery_settings(args)
    )
    settings = WorkerSettings(
        batch_size=args.batch_size,
        lease=timedelta(seconds=args.lease_seconds),
        poll_interval=args.poll_interval,
        max_attempts=config.delivery_max_attempts,
        retention=RetentionSettings.from_days(
            args.outbox_retention_days, args.event_retention_days
        ),
    )
    try:
        sender = _sender(args, config)
        prepare_store(config, load_demo=False)
    except (SchemaOutdatedError, WebhookFileError) as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    database = Database.from_url(config.effective_database_url)
    worker = OutboxWorker(SqlUnitOfWork(database), sender, settings)
    try:
        if args.once:
            worker.run_once()
            return 0
        stop = threading.Event()
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda *_: stop.set())
        log.info("outbox worker started")
        worker.run(stop)
        return 0
    finally:
        database.dispose()


def _sender(args: argparse.Namespace, config: Config) -> Sender:
    """`--sender` when given, else the webhooks and SMTP the delivery flags configure."""
    if args.sender:
        return load_sender(args.sender)
    from bookings_server.delivery.routing import sender_from_config

    return sender_from_config(config)


def add_run_worker_flag(parser: argparse.ArgumentParser) -> None:
    """`bookings serve --run-worker`: deliver the outbox from a thread of the server."""
    parser.add_argument(
        "--run-worker",
        action=argparse.BooleanOptionalAction,
        default=env("RUN_WORKER", "false") in ("1", "true", "yes"),
        help="also deliver the outbox (through the delivery flags' webhooks and SMTP) from a "
        "thread of this process "
        "(env BOOKINGS_RUN_WORKER=true; default off: run `bookings worker` instead)",
    )
