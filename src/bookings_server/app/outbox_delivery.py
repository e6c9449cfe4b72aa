"""Outbox delivery: the loop of `bookings worker` (or of a thread of `bookings serve`).

Each round: claim a batch of due items (a lease, in one short transaction), hand each to the
sender outside any transaction, then mark it sent. An item is marked sent only after the
sender returned, so a worker that dies between sending and marking leaves the item leased;
the lease runs out and the item is delivered again (at least once, never dropped). A sender
that raises gets the item back with exponential backoff (domain/outbox.py `retry_delay`).
Receivers de-duplicate by `OutboxItem.id`.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bookings_server.app.clock import Clock, utc_now
from bookings_server.config import Config
from bookings_server.domain.errors import Unavailable
from bookings_server.domain.outbox import OutboxItem, retry_delay

if TYPE_CHECKING:
    # Only for annotations: `bookings worker --help` must not load SQLAlchemy.
    from bookings_server.app.unit_of_work import UnitOfWork

log = logging.getLogger("bookings.worker")

#: The site the worker's transactions are opened for: none in particular. The worker only
#: uses `tx.outbox_queue`, which spans every site; no site-bound repository is touched.
ANY_SITE = ""


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
        unit_of_work: UnitOfWork,
        sender: Sender,
        settings: WorkerSettings = WorkerSettings(),
        clock: Clock = utc_now,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._sender = sender
        self._settings = settings
        self._clock = clock

    def run_once(self) -> int:
        """Claim and deliver one batch; returns how many items were claimed."""
        with self._unit_of_work.write(ANY_SITE) as tx:
            items = tx.outbox_queue.claim_due(
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
        # "not delivered", and the item must come back later rather than be lost. So the
        # catch-all is deliberate: log the failure and back off (`_retry_later`).
        except Exception as error:  # noqa: BLE001
            self._retry_later(item, error)
            return
        with self._unit_of_work.write(ANY_SITE) as tx:
            if not tx.outbox_queue.mark_sent(item.id, item.claim_token, self._clock()):
                log.warning(
                    "outbox lease lost; the item will be delivered again",
                    extra={"outbox_id": item.id},
                )

    def _retry_later(self, item: OutboxItem, error: Exception) -> None:
        """Give a failed item back for another attempt after the backoff delay."""
        attempts = item.attempts + 1
        delay = retry_delay(attempts, self._settings.retry_base, self._settings.retry_cap)
        log.warning(
            "outbox delivery failed",
            extra={"outbox_id": item.id, "attempt": attempts, "error": repr(error)},
        )
        with self._unit_of_work.write(ANY_SITE) as tx:
            tx.outbox_queue.mark_failed(
                item.id, item.claim_token, repr(error), self._clock() + delay
            )


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


def start_worker_thread(config: Config) -> WorkerThread | None:
    """The in-server worker when `config.run_worker`, started; None otherwise."""
    if not config.run_worker:
        return None
    from bookings_server.app.unit_of_work import SqlUnitOfWork
    from bookings_server.store.database import Database

    database = Database.from_url(config.effective_database_url)
    thread = WorkerThread(OutboxWorker(SqlUnitOfWork(database), LoggingSender()))
    thread.start()
    return thread
