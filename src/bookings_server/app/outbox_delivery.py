"""Outbox delivery: the loop of `bookings worker` (or of a thread of `bookings serve`).

Each round: claim a batch of due items (a lease, in one short transaction), hand each to the
sender outside any transaction, then mark it sent. An item is marked sent only after the
sender returned, so a worker that dies between sending and marking leaves the item leased;
the lease runs out and the item is delivered again (at least once, never dropped). A sender
that raises gets the item back with exponential backoff (domain/outbox.py `retry_delay`), so
it is retried later, never lost, and holds back only the later items of its own booking
(the order promise). Receivers de-duplicate by `OutboxItem.id`. The item's last allowed
attempt (`WorkerSettings.max_attempts`) that fails makes it a dead letter instead: never
claimed again until an operator retries it (`bookings outbox retry`).

The sender is injected: app/ knows only the `Sender` protocol; the real senders (webhooks,
SMTP) are adapters in bookings_server/delivery/, composed by the command that runs the worker.

The loop outlives every failure of a round (the store away, a bug): it logs one line (one
traceback per distinct failure, app/failure_log.py), backs off exponentially up to a cap, and
goes on. Between rounds it purges what outlived its retention (app/retention.py). It records
its progress, which the server's health reports (`WorkerThread.problem`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.failure_log import FailureLog
from bookings_server.app.retention import ANY_SITE, RetentionPurge, RetentionSettings
from bookings_server.config import Config
from bookings_server.domain.outbox import OutboxItem, retry_delay

if TYPE_CHECKING:
    # Only for annotations: `bookings worker --help` must not load SQLAlchemy.
    from bookings_server.app.unit_of_work import UnitOfWork

log = logging.getLogger("bookings.worker")


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
    #: Failed attempts after which an item becomes a dead letter.
    max_attempts: int = Config.delivery_max_attempts
    #: Waits after a failed round (store down, a bug): base, 2*base ... cap.
    failure_backoff_base: timedelta = timedelta(seconds=1)
    failure_backoff_cap: timedelta = timedelta(seconds=30)
    #: A worker that made no progress for this long is reported stuck by health.
    stall_after: timedelta = timedelta(seconds=60)
    retention: RetentionSettings = field(default_factory=RetentionSettings)


class Progress:
    """When the worker last got something done; read by health from another thread."""

    def __init__(self) -> None:
        self._at = time.monotonic()

    def beat(self) -> None:
        self._at = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since the last beat."""
        return time.monotonic() - self._at


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
        self._failures = FailureLog(log)
        self._retention = RetentionPurge(unit_of_work, settings.retention, clock)
        # Imported here: `bookings worker --help` must not load the booking rules either.
        from bookings_server.app.bookings.waiting_list import OfferSweep

        self._offers = OfferSweep(unit_of_work, clock)
        self._next_purge = time.monotonic()
        #: Beats after every settled item and every completed round.
        self.progress = Progress()

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
            self.progress.beat()
        return len(items)

    def run(self, stop: threading.Event) -> None:
        """Deliver and purge until `stop` is set; sleeps `poll_interval` when idle.

        A round that raises is logged and retried after a backoff; the loop never ends on an
        exception. Items a failed round had claimed come back when their lease runs out.
        """
        failed_rounds = 0
        while not stop.is_set():
            try:
                busy = self._round()
            # The loop must outlive whatever a round raises (store, sender plumbing, a bug):
            # a dead worker delivers nothing. Log, back off, try again.
            except Exception as error:  # noqa: BLE001
                failed_rounds += 1
                stop.wait(self._after_failed_round(error, failed_rounds))
                continue
            failed_rounds = 0
            self.progress.beat()
            if not busy:
                stop.wait(self._settings.poll_interval)

    def _round(self) -> bool:
        """One delivery batch, the waiting-list offers that ran out, then one purge batch when
        due; True when there is more to do."""
        claimed = self.run_once()
        swept = self._sweep_offers()
        return self._purge_if_due() or claimed > 0 or swept

    def _sweep_offers(self) -> bool:
        """Pass on offers that ran out (app/bookings/waiting_list.py); True when more may be
        left. Like the purge, a failing sweep never holds up deliveries."""
        try:
            return self._offers.sweep_batch()
        except Exception as error:  # noqa: BLE001 - housekeeping, logged and retried next round
            self._failures.failed("waiting-list sweep failed; retrying next round", error)
            return False

    def _purge_if_due(self) -> bool:
        """One purge batch when due; True when more may be left. A failed purge waits for the
        next interval."""
        if time.monotonic() < self._next_purge:
            return False
        try:
            more = self._retention.purge_batch()
        # Housekeeping must never hold up deliveries: a purge that fails (whatever the
        # reason) is logged and tried again at the next interval, the round goes on.
        except Exception as error:  # noqa: BLE001
            self._failures.failed("retention purge failed; retrying later", error)
            more = False
        if not more:
            self._next_purge = time.monotonic() + self._settings.retention.interval
        return more

    def _after_failed_round(self, error: Exception, failed_rounds: int) -> float:
        """Log the failure; returns the seconds to wait before the next round."""
        delay = retry_delay(
            failed_rounds, self._settings.failure_backoff_base, self._settings.failure_backoff_cap
        ).total_seconds()
        self._failures.failed(
            "outbox round failed; retrying",
            error,
            failed_rounds=failed_rounds,
            retry_in_s=delay,
        )
        return delay

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
            if not tx.outbox_queue.mark_sent(
                item.id, item.claim_token, self._clock(), stored_as_event=item.stored_as_event
            ):
                log.warning(
                    "outbox lease lost; the item will be delivered again",
                    extra={"outbox_id": item.id},
                )

    def _retry_later(self, item: OutboxItem, error: Exception) -> None:
        """Give a failed item back for another attempt after the backoff delay, or make it a
        dead letter when that was its last allowed attempt."""
        attempts = item.attempts + 1
        if attempts >= self._settings.max_attempts:
            self._give_up(item, error, attempts)
            return
        delay = retry_delay(attempts, self._settings.retry_base, self._settings.retry_cap)
        self._failures.failed(
            "outbox delivery failed; retrying later",
            error,
            outbox_id=item.id,
            kind=item.kind.value,
            attempt=attempts,
            retry_in_s=delay.total_seconds(),
        )
        with self._unit_of_work.write(ANY_SITE) as tx:
            tx.outbox_queue.mark_failed(
                item.id,
                item.claim_token,
                repr(error),
                self._clock() + delay,
                stored_as_event=item.stored_as_event,
            )

    def _give_up(self, item: OutboxItem, error: Exception, attempts: int) -> None:
        """Make a failed item a dead letter; one ERROR line with its traceback (rare: once per
        item, after `max_attempts` failures)."""
        log.error(
            "outbox delivery failed for the last time; the item is a dead letter",
            exc_info=error,
            extra={
                "outbox_id": item.id,
                "kind": item.kind.value,
                "attempt": attempts,
                "error_type": type(error).__name__,
            },
        )
        with self._unit_of_work.write(ANY_SITE) as tx:
            tx.outbox_queue.mark_dead(
                item.id,
                item.claim_token,
                repr(error),
                self._clock(),
                stored_as_event=item.stored_as_event,
            )


class WorkerThread:
    """The worker inside `bookings serve` (Config.run_worker): a daemon thread."""

    def __init__(self, worker: OutboxWorker, stall_after: timedelta) -> None:
        self._worker = worker
        self._stall_after = stall_after.total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def problem(self) -> str | None:
        """None while the loop is alive and made progress within `stall_after`; else why not.

        Reads only what the worker records, so it answers at once even when the worker is
        blocked (in a sender, on the store)."""
        if not self._thread.is_alive():
            return "the outbox worker thread has stopped"
        idle = self._worker.progress.idle_for()
        if idle > self._stall_after:
            return f"the outbox worker made no progress for {idle:.0f} s"
        return None

    def _run(self) -> None:
        try:
            self._worker.run(self._stop)
        finally:
            if not self._stop.is_set():
                log.error("the outbox worker thread stopped; nothing is delivered any more")


def start_worker_thread(config: Config, sender: Sender | None = None) -> WorkerThread | None:
    """The in-server worker when `config.run_worker`, started, delivering through `sender`
    (default: the logging sender); None otherwise."""
    if not config.run_worker:
        return None
    from bookings_server.app.unit_of_work import SqlUnitOfWork
    from bookings_server.store.database import Database

    database = Database.from_url(config.effective_database_url)
    retention = RetentionSettings.from_days(
        config.outbox_retention_days, config.event_retention_days
    )
    settings = WorkerSettings(retention=retention, max_attempts=config.delivery_max_attempts)
    worker = OutboxWorker(SqlUnitOfWork(database), sender or LoggingSender(), settings)
    thread = WorkerThread(worker, settings.stall_after)
    thread.start()
    return thread
