"""The outbox (SPEC 3.9, RELIABILITY.md promise 4): what a booking enqueues, and a worker that
delivers at least once, in order per booking, with backoff, even when killed mid-batch."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from booking_helpers import (
    SITE,
    BookingEnv,
    add_service,
    add_session,
    booking_env,
    class_booking,
    hour_from_now,
)
from bookings.v1 import booking_pb2
from sqlalchemy import text

from bookings_server.app.outbox_delivery import (
    OutboxWorker,
    WorkerSettings,
    WorkerThread,
    start_worker_thread,
)
from bookings_server.config import Config
from bookings_server.domain.catalog import ServiceType
from bookings_server.domain.outbox import OutboxItem, OutboxKind
from bookings_server.store.database import Database
from bookings_server.store.outbox_repository import OutboxState
from bookings_server.store.unit_of_work import SqlUnitOfWork

TESTS = Path(__file__).resolve().parent
NOTIFY = booking_pb2.ParticipantNotification(notify_participants=True, message="See you!")


@pytest.fixture
def env(database_url, start_server, auth_metadata) -> Iterator[BookingEnv]:  # type: ignore[no-untyped-def]
    with booking_env(database_url, start_server, auth_metadata) as environment:
        yield environment


@pytest.fixture
def database(env: BookingEnv) -> Iterator[Database]:
    opened = Database.from_url(env.database_url)
    yield opened
    opened.dispose()


def items(database: Database, booking_id: str | None = None) -> list[OutboxState]:
    with SqlUnitOfWork(database).read(SITE) as tx:
        return tx.outbox.list_items(booking_id=booking_id)


def kinds(states: list[OutboxState]) -> list[OutboxKind]:
    return [state.kind for state in states]


def book_with_deliveries(env: BookingEnv) -> booking_pb2.Booking:
    """A class booking 72 h ahead with a notification and an SMS reminder."""
    request = class_booking(env.catalog.session, env.catalog.class_service)
    return env.visitor().create(request, participant_notification=NOTIFY, send_sms_reminder=True)


class ListSender:
    """Records deliveries in memory; fails the kinds in `failing` while they are listed."""

    def __init__(self, failing: set[OutboxKind] | None = None) -> None:
        self.sent: list[OutboxItem] = []
        self.failing = failing or set()

    def send(self, item: OutboxItem) -> None:
        if item.kind in self.failing:
            raise ConnectionError("receiver down")
        self.sent.append(item)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def drain(worker: OutboxWorker, rounds: int = 10) -> None:
    for _ in range(rounds):
        if worker.run_once() == 0:
            return


# ---- what a booking enqueues -----------------------------------------------------------------


def test_a_booking_enqueues_its_event_notification_and_reminder(
    env: BookingEnv, database: Database
) -> None:
    booking = book_with_deliveries(env)

    stored = items(database, booking.id)

    assert kinds(stored) == [
        OutboxKind.PARTICIPANT_NOTIFICATION,
        OutboxKind.SMS_REMINDER,
        OutboxKind.BOOKING_EVENT,
    ]
    reminder = stored[1]
    assert reminder.due_at == booking.start_date.ToDatetime(UTC) - timedelta(hours=24)


def test_no_notification_unless_notify_participants(env: BookingEnv, database: Database) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    quiet = booking_pb2.ParticipantNotification(notify_participants=False, message="unsent")

    booking = env.visitor().create(request, participant_notification=quiet)

    assert kinds(items(database, booking.id)) == [OutboxKind.BOOKING_EVENT]
    assert booking.participant_notification.message == ""


def test_no_sms_reminder_when_the_start_is_less_than_24_hours_away(
    env: BookingEnv, database: Database
) -> None:
    service = add_service(env.database_url, ServiceType.CLASS)
    session_id = add_session(env.database_url, service.id, hour_from_now(10))

    booking = env.visitor().create(class_booking(session_id, service.id), send_sms_reminder=True)

    assert kinds(items(database, booking.id)) == [OutboxKind.BOOKING_EVENT]
    assert booking.send_sms_reminder


# ---- the worker ------------------------------------------------------------------------------


def test_the_worker_delivers_due_items_and_marks_them_sent(
    env: BookingEnv, database: Database
) -> None:
    booking = book_with_deliveries(env)
    sender = ListSender()

    drain(OutboxWorker(SqlUnitOfWork(database), sender))

    assert kinds([s for s in items(database, booking.id) if s.sent_at is not None]) == [
        OutboxKind.PARTICIPANT_NOTIFICATION,
        OutboxKind.BOOKING_EVENT,
    ]
    assert sender.sent[0].payload["message"] == "See you!"
    assert sender.sent[1].payload["type"] == "BOOKING_CREATED"


def test_the_sms_reminder_is_sent_when_due(env: BookingEnv, database: Database) -> None:
    booking = book_with_deliveries(env)
    clock, sender = Clock(), ListSender()
    clock.now = booking.start_date.ToDatetime(UTC) - timedelta(hours=23)

    drain(OutboxWorker(SqlUnitOfWork(database), sender, clock=clock))

    assert OutboxKind.SMS_REMINDER in [item.kind for item in sender.sent]


def test_a_failed_delivery_is_retried_with_backoff(env: BookingEnv, database: Database) -> None:
    booking = book_with_deliveries(env)
    clock = Clock()
    sender = ListSender(failing={OutboxKind.PARTICIPANT_NOTIFICATION})
    settings = WorkerSettings(retry_base=timedelta(seconds=10))
    worker = OutboxWorker(SqlUnitOfWork(database), sender, settings, clock)

    drain(worker)
    failed = items(database, booking.id)[0]
    clock.now += timedelta(seconds=5)
    drain(worker)
    sender.failing.clear()
    clock.now += timedelta(seconds=6)
    drain(worker)

    assert (failed.attempts, failed.sent_at, failed.last_error) == (
        1,
        None,
        "ConnectionError('receiver down')",
    )
    assert kinds([s for s in items(database, booking.id) if s.sent_at is not None]) == [
        OutboxKind.PARTICIPANT_NOTIFICATION,
        OutboxKind.BOOKING_EVENT,
    ]


def test_an_item_failing_its_last_allowed_attempt_is_a_dead_letter_that_holds_nothing_back(
    env: BookingEnv, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    booking = book_with_deliveries(env)
    clock = Clock()
    sender = ListSender(failing={OutboxKind.PARTICIPANT_NOTIFICATION})
    worker = OutboxWorker(SqlUnitOfWork(database), sender, WorkerSettings(max_attempts=2), clock)

    with caplog.at_level(logging.ERROR, logger="bookings.worker"):
        for _ in range(3):
            drain(worker)
            clock.now += timedelta(hours=1)

    notification = items(database, booking.id)[0]
    assert (notification.attempts, notification.sent_at) == (2, None)
    assert notification.dead_at is not None
    assert [item.kind for item in sender.sent] == [OutboxKind.BOOKING_EVENT]
    [given_up] = [r for r in caplog.records if "dead letter" in r.getMessage()]
    assert (given_up.outbox_id, given_up.attempt) == (notification.id, 2)  # type: ignore[attr-defined]


def test_a_retried_dead_letter_is_due_at_once_with_a_fresh_count_of_attempts(
    env: BookingEnv, database: Database
) -> None:
    booking = book_with_deliveries(env)
    clock = Clock()
    sender = ListSender(failing={OutboxKind.PARTICIPANT_NOTIFICATION})
    worker = OutboxWorker(SqlUnitOfWork(database), sender, WorkerSettings(max_attempts=1), clock)
    drain(worker)
    dead = items(database, booking.id)[0]

    with SqlUnitOfWork(database).write("") as tx:
        retried = tx.outbox_queue.retry_dead(dead.id, clock.now)
        again = tx.outbox_queue.retry_dead(dead.id, clock.now)
    sender.failing.clear()
    drain(worker)

    assert (retried, again) == (True, False)
    delivered = items(database, booking.id)[0]
    assert (delivered.attempts, delivered.dead_at, delivered.sent_at is not None) == (0, None, True)


def test_a_booking_waits_for_its_failing_earlier_item(env: BookingEnv, database: Database) -> None:
    first, second = book_with_deliveries(env), book_with_deliveries(env)
    sender = ListSender(failing={OutboxKind.PARTICIPANT_NOTIFICATION})

    drain(OutboxWorker(SqlUnitOfWork(database), sender))

    assert sender.sent == []
    assert all(s.sent_at is None for s in items(database, first.id) + items(database, second.id))


def test_a_worker_killed_between_send_and_mark_delivers_the_item_again(
    env: BookingEnv, database: Database, tmp_path: Path
) -> None:
    booking = book_with_deliveries(env)
    record = tmp_path / "deliveries.txt"
    record.touch()
    environment = {
        **os.environ,
        "OUTBOX_RECORD": str(record),
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "bookings_server.cli.main", "worker"]
    options = [
        "--database-url",
        env.database_url,
        "--lease-seconds",
        "1",
        "--poll-interval",
        "0.05",
    ]

    worker = subprocess.Popen(
        [*command, *options, "--sender", "outbox_senders:RecordThenHangSender"],
        env=environment,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not record.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    first_delivery = record.read_text().split()[0]
    assert all(s.sent_at is None for s in items(database, booking.id))

    time.sleep(1.1)
    subprocess.run(
        [*command, *options, "--sender", "outbox_senders:RecordingSender", "--once"],
        env=environment,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=60,
    )

    delivered = [line.split()[0] for line in record.read_text().splitlines()]
    assert delivered[:2] == [first_delivery, first_delivery]
    assert [
        s.sent_at is not None for s in items(database, booking.id) if s.id == first_delivery
    ] == [True]


def test_the_server_process_can_run_the_worker_in_a_thread(
    env: BookingEnv, database: Database
) -> None:
    booking = book_with_deliveries(env)

    thread = start_worker_thread(Config(database_url=env.database_url, run_worker=True))
    assert thread is not None
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if sum(s.sent_at is not None for s in items(database, booking.id)) == 2:
                break
            time.sleep(0.05)
    finally:
        thread.stop()

    assert [s.kind for s in items(database, booking.id) if s.sent_at is None] == [
        OutboxKind.SMS_REMINDER
    ]


# ---- resilience: the loop outlives every failure ------------------------------------------------

#: Retries and backoffs in milliseconds, so a test sees many of them.
QUICK = WorkerSettings(
    poll_interval=0.01,
    retry_base=timedelta(milliseconds=10),
    retry_cap=timedelta(milliseconds=40),
    failure_backoff_base=timedelta(milliseconds=10),
    failure_backoff_cap=timedelta(milliseconds=40),
)


class RaisingFor:
    """Raises `error` for the items of the bookings in `failing`, delivers the others."""

    def __init__(self, error: Exception, *failing: str) -> None:
        self.error = error
        self.failing = set(failing)
        self.sent: list[OutboxItem] = []

    def send(self, item: OutboxItem) -> None:
        if item.booking_id in self.failing:
            raise self.error
        self.sent.append(item)


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def running(database: Database, sender: RaisingFor | ListSender) -> WorkerThread:
    thread = WorkerThread(OutboxWorker(SqlUnitOfWork(database), sender, QUICK), QUICK.stall_after)
    thread.start()
    return thread


@pytest.mark.parametrize("error", [RuntimeError("sender bug"), ValueError("bad payload")])
def test_a_sender_that_keeps_raising_neither_stops_the_worker_nor_loses_the_item(
    env: BookingEnv, database: Database, error: Exception
) -> None:
    failing, other = book_with_deliveries(env), book_with_deliveries(env)
    sender = RaisingFor(error, failing.id)

    thread = running(database, sender)
    try:
        wait_until(lambda: items(database, failing.id)[0].attempts >= 3)
        wait_until(lambda: len(sender.sent) == 2)
        healthy = thread.problem()
    finally:
        thread.stop()

    assert healthy is None
    assert {item.booking_id for item in sender.sent} == {other.id}
    first = items(database, failing.id)[0]
    assert (first.sent_at, first.last_error) == (None, repr(error))


def test_each_failed_delivery_is_one_line_and_its_traceback_is_logged_once(
    env: BookingEnv, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    booking = book_with_deliveries(env)
    clock = Clock()
    sender = RaisingFor(RuntimeError("receiver said no"), booking.id)
    worker = OutboxWorker(SqlUnitOfWork(database), sender, QUICK, clock)

    with caplog.at_level(logging.WARNING, logger="bookings.worker"):
        for _ in range(3):
            drain(worker)
            clock.now += timedelta(seconds=1)

    failures = [r for r in caplog.records if r.getMessage().startswith("outbox delivery failed")]
    first_item = items(database, booking.id)[0].id
    assert [(r.outbox_id, r.error_type, r.attempt) for r in failures] == [  # type: ignore[attr-defined]
        (first_item, "RuntimeError", 1),
        (first_item, "RuntimeError", 2),
        (first_item, "RuntimeError", 3),
    ]
    assert [r.exc_info is not None for r in failures] == [True, False, False]


def _rename_outbox(database: Database, old: str, new: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


def test_a_round_that_fails_is_retried_with_backoff_until_the_store_is_back(
    env: BookingEnv, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A store failure that is not "busy" (here: the outbox table missing) used to end the
    worker thread for good."""
    sender = ListSender()
    thread = running(database, sender)
    try:
        with caplog.at_level(logging.WARNING, logger="bookings.worker"):
            _rename_outbox(database, "outbox", "outbox_away")
            try:
                wait_until(lambda: len(_round_failures(caplog)) >= 4)
            finally:
                _rename_outbox(database, "outbox_away", "outbox")
        booking = book_with_deliveries(env)
        wait_until(lambda: len(sender.sent) == 2)
        alive = thread.problem() is None
    finally:
        thread.stop()

    failures = _round_failures(caplog)[:4]
    assert alive
    assert [r.failed_rounds for r in failures] == [1, 2, 3, 4]  # type: ignore[attr-defined]
    assert [r.retry_in_s for r in failures] == [0.01, 0.02, 0.04, 0.04]  # type: ignore[attr-defined]
    assert [r.exc_info is not None for r in failures] == [True, False, False, False]
    assert {item.booking_id for item in sender.sent} == {booking.id}


def _round_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "outbox round failed; retrying"]


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the worker may swallow it, so it ends the thread."""


class BlockingSender:
    """Blocks in `send` until released; raises WorkerKilled instead when told to."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.kill = False

    def send(self, item: OutboxItem) -> None:
        self.entered.set()
        self.release.wait(30)
        if self.kill:
            raise WorkerKilled


def test_a_worker_blocked_in_its_sender_reports_no_progress_then_recovers(
    env: BookingEnv, database: Database
) -> None:
    book_with_deliveries(env)
    sender = BlockingSender()
    settings = dataclasses.replace(QUICK, stall_after=timedelta(milliseconds=200))
    thread = WorkerThread(
        OutboxWorker(SqlUnitOfWork(database), sender, settings), settings.stall_after
    )
    thread.start()
    try:
        assert sender.entered.wait(20)
        time.sleep(0.3)
        stuck = thread.problem()
        sender.release.set()
        wait_until(lambda: thread.problem() is None)
    finally:
        sender.release.set()
        thread.stop()

    assert stuck is not None and "no progress" in stuck


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_worker_thread_that_died_reports_it(env: BookingEnv, database: Database) -> None:
    book_with_deliveries(env)
    sender = BlockingSender()
    sender.kill = True
    sender.release.set()
    thread = WorkerThread(OutboxWorker(SqlUnitOfWork(database), sender, QUICK), QUICK.stall_after)

    thread.start()
    wait_until(lambda: thread.problem() is not None)

    assert thread.problem() == "the outbox worker thread has stopped"
