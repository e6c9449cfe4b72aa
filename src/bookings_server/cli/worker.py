"""The outbox delivery worker (`bookings worker`, or a thread of `bookings serve`).

Each round: claim a batch of due items (a lease, in one short transaction), hand each to the
sender outside any transaction, then mark it sent. An item is marked sent only after the
sender returned, so a worker that dies between sending and marking leaves the item leased;
the lease runs out and the item is delivered again (at least once, never dropped). A sender
that raises gets the item back with exponential backoff (domain/outbox.py `retry_delay`).
Receivers de-duplicate by `OutboxItem.id`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bookings_server.cli.bootstrap import SchemaOutdatedError, prepare_store
from bookings_server.config import Config, env
from bookings_server.domain.errors import Unavailable
from bookings_server.domain.outbox import OutboxItem, retry_delay
from bookings_server.logs import configure_logging
from bookings_server.serving import STOP_SIGNALS
from bookings_server.store import outbox_repository
from bookings_server.store.database import Database

log = logging.getLogger("bookings.worker")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Sender(Protocol):
    """Delivers one item (email, SMS, webhook...). Raising means "not delivered, retry"."""

    def send(self, item: OutboxItem) -> None: ...


class LoggingSender:
    """The default sender: writes each delivery to the log."""

    def send(self, item: OutboxItem) -> None:
        log.info(
            "outbox delivery",
            extra={
                "outbox_id": item.id,
                "kind": item.kind.value,
                "site_id": item.site_id,
                "booking_id": item.booking_id,
                "attempt": item.attempts + 1,
                "payload": json.dumps(item.payload, sort_keys=True),
            },
        )


@dataclass(frozen=True)
class WorkerSettings:
    batch_size: int = 50
    #: How long a claimed item stays reserved for its worker before another may take it.
    lease: timedelta = timedelta(seconds=60)
    #: Seconds to sleep when nothing was due.
    poll_interval: float = 1.0
    retry_base: timedelta = timedelta(seconds=5)
    retry_cap: timedelta = timedelta(hours=1)


class OutboxWorker:
    def __init__(
        self,
        database: Database,
        sender: Sender,
        settings: WorkerSettings = WorkerSettings(),
        clock: Clock = utc_now,
    ) -> None:
        self._database = database
        self._sender = sender
        self._settings = settings
        self._clock = clock

    def run_once(self) -> int:
        """Claim and deliver one batch; returns how many items were claimed."""
        with self._database.write() as session:
            items = outbox_repository.claim_due(
                session,
                now=self._clock(),
                limit=self._settings.batch_size,
                lease=self._settings.lease,
            )
        for item in items:
            self._deliver(item)
        return len(items)

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set; sleeps `poll_interval` whenever nothing was due."""
        while not stop.is_set():
            try:
                claimed = self.run_once()
            except Unavailable:
                log.warning("database busy, retrying the outbox round")
                claimed = 0
            if claimed == 0:
                stop.wait(self._settings.poll_interval)

    def _deliver(self, item: OutboxItem) -> None:
        try:
            self._sender.send(item)
        # The sender is pluggable code talking to the outside world: whatever it raises means
        # "not delivered", and the item must come back later rather than be lost.
        except Exception as error:
            attempts = item.attempts + 1
            delay = retry_delay(attempts, self._settings.retry_base, self._settings.retry_cap)
            log.warning(
                "outbox delivery failed",
                extra={"outbox_id": item.id, "attempt": attempts, "error": repr(error)},
            )
            with self._database.write() as session:
                outbox_repository.mark_failed(
                    session, item.id, item.claim_token, repr(error), self._clock() + delay
                )
            return
        with self._database.write() as session:
            if not outbox_repository.mark_sent(session, item.id, item.claim_token, self._clock()):
                log.warning(
                    "outbox lease lost; the item will be delivered again",
                    extra={"outbox_id": item.id},
                )


def load_sender(spec: str) -> Sender:
    """`module:attribute` naming a Sender class (or factory) that takes no arguments."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--sender must be module:attribute, not {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    sender: Sender = factory()
    return sender


class WorkerThread:
    """The worker inside `bookings serve` (Config.run_worker): a daemon thread."""

    def __init__(self, worker: OutboxWorker) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=worker.run, args=(self._stop,), name="outbox-worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)


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
        default="bookings_server.cli.worker:LoggingSender",
        help="module:attribute of the Sender class to use (default: log each delivery)",
    )
    worker.add_argument("--batch-size", type=int, default=defaults.batch_size)
    worker.add_argument(
        "--lease-seconds",
        type=float,
        default=defaults.lease.total_seconds(),
        help="how long a claimed item is reserved before another worker may retry it",
    )
    worker.add_argument("--poll-interval", type=float, default=defaults.poll_interval)
    worker.set_defaults(run=_run_worker)


def _run_worker(args: argparse.Namespace) -> int:
    configure_logging("INFO")
    config = Config(database_url=args.database_url, data_dir=args.data_dir)
    settings = WorkerSettings(
        batch_size=args.batch_size,
        lease=timedelta(seconds=args.lease_seconds),
        poll_interval=args.poll_interval,
    )
    try:
        prepare_store(config, load_demo=False)
    except SchemaOutdatedError as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    database = Database.from_url(config.effective_database_url)
    worker = OutboxWorker(database, load_sender(args.sender), settings)
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


def add_run_worker_flag(parser: argparse.ArgumentParser) -> None:
    """`bookings serve --run-worker`: deliver the outbox from a thread of the server."""
    parser.add_argument(
        "--run-worker",
        action=argparse.BooleanOptionalAction,
        default=env("RUN_WORKER", "false") in ("1", "true", "yes"),
        help="also deliver the outbox (logging sender) from a thread of this process "
        "(env BOOKINGS_RUN_WORKER=true; default off: run `bookings worker` instead)",
    )


def start_worker_thread(config: Config) -> WorkerThread | None:
    """The in-server worker when `config.run_worker`, started; None otherwise."""
    if not config.run_worker:
        return None
    thread = WorkerThread(
        OutboxWorker(Database.from_url(config.effective_database_url), LoggingSender())
    )
    thread.start()
    return thread
