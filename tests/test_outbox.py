"""The outbox (SPEC 3.9, RELIABILITY.md promise 4): what a booking enqueues, and a worker that
delivers at least once, in order per booking, with backoff, even when killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
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

from bookings_server.app.outbox_delivery import OutboxWorker, WorkerSettings, start_worker_thread
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
