"""Booking events that are their own delivery item (store/outbox_repository.py): an event
whose transaction enqueues nothing else for its booking writes no outbox row; its event row
is claimed, leased, retried, dead-lettered and retried again like an outbox item, in order
with the booking's outbox items, and the event retention never loses its delivery."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from booking_helpers import SITE, BookingEnv, booking_env, class_booking
from bookings.v1 import booking_pb2
from conftest import PostgresServer
from sqlalchemy import text
from test_create_events import OWNER, a_booking

from bookings_server.app.bookings.lifecycle import Notification, record_change
from bookings_server.app.outbox_delivery import OutboxWorker, WorkerSettings
from bookings_server.app.retention import ANY_SITE
from bookings_server.cli.main import main
from bookings_server.delivery.webhooks import webhook_body
from bookings_server.domain.booking import Booking, EventType
from bookings_server.domain.identity import IdentityType, Principal
from bookings_server.domain.outbox import OutboxItem, OutboxKind, OutboxMessage
from bookings_server.store.booking_codec import booking_to_dict
from bookings_server.store.database import Database
from bookings_server.store.outbox_backlog import read_outbox_backlog
from bookings_server.store.outbox_repository import OutboxState
from bookings_server.store.unit_of_work import SqlUnitOfWork

T0 = datetime(2030, 1, 1, 9, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    opened = Database.from_url(database_url)
    yield opened
    opened.dispose()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[Database]:
    name = f"event_rows_{uuid.uuid4().hex[:12]}"
    postgres_server.admin(f"CREATE DATABASE {name} TEMPLATE {postgres_server.template}")
    opened = Database.from_url(postgres_server.url(name))
    yield opened
    opened.dispose()
    postgres_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class ListSender:
    """Records deliveries; raises while `failing`."""

    def __init__(self) -> None:
        self.sent: list[OutboxItem] = []
        self.failing = False

    def send(self, item: OutboxItem) -> None:
        if self.failing:
            raise ConnectionError("receiver down")
        self.sent.append(item)


def notification(booking: Booking, now: datetime) -> OutboxMessage:
    return OutboxMessage(OutboxKind.PARTICIPANT_NOTIFICATION, booking.id, now, {"n": booking.id})


def write_event(
    database: Database,
    booking: Booking,
    now: datetime,
    *,
    event_type: EventType = EventType.BOOKING_CREATED,
    with_notification: bool = False,
) -> None:
    """One transaction: optionally a notification of the booking, then its event."""
    with SqlUnitOfWork(database).write(SITE) as tx:
        if with_notification:
            tx.outbox.enqueue(notification(booking, now), now)
        tx.bookings.append_event(event_type, booking, OWNER, now)


def states(database: Database) -> list[OutboxState]:
    with SqlUnitOfWork(database).read(SITE) as tx:
        return tx.outbox.list_items()


def count(database: Database, sql: str) -> int:
    with database.read() as session:
        return int(session.execute(text(sql)).scalar_one())


def claim(database: Database, now: datetime, limit: int = 50) -> list[OutboxItem]:
    with SqlUnitOfWork(database).write(ANY_SITE) as tx:
        return tx.outbox_queue.claim_due(now=now, limit=limit, lease=LEASE)


def worker(database: Database, sender: ListSender, clock: Clock, **settings: Any) -> OutboxWorker:
    return OutboxWorker(SqlUnitOfWork(database), sender, WorkerSettings(**settings), clock)


def drain(outbox_worker: OutboxWorker, rounds: int = 20) -> None:
    for _ in range(rounds):
        if outbox_worker.run_once() == 0:
            return


def events(database: Database) -> list[dict[str, Any]]:
    with database.read() as session:
        rows = session.execute(
            text("SELECT id, sequence, delivers_itself FROM booking_events ORDER BY position")
        )
        return [dict(row._mapping) for row in rows]


# ---- the layout ----------------------------------------------------------------------------


def test_an_event_with_nothing_else_due_writes_no_outbox_row_and_is_delivered_once_with_todays_body(
    database: Database,
) -> None:
    booking = a_booking("b-1")
    write_event(database, booking, T0)
    sender = ListSender()

    outbox_rows = count(database, "SELECT count(*) FROM outbox")
    [state] = states(database)
    drain(worker(database, sender, Clock(T0 + timedelta(seconds=1))))

    [event] = events(database)
    [item] = sender.sent
    assert outbox_rows == 0
    assert (state.stored_as_event, state.kind, state.id) == (
        True,
        OutboxKind.BOOKING_EVENT,
        event["id"],
    )
    assert bool(event["delivers_itself"])
    assert (item.id, item.stored_as_event, item.attempts) == (event["id"], True, 0)
    body = json.loads(webhook_body(item))
    assert list(body) == ["type", "timestamp", "site_id", "booking_id", "data"]
    assert list(body["data"]) == ["event_id", "type", "cursor", "actor", "booking"]
    assert body == {
        "type": "bookings.booking_event",
        "timestamp": T0.isoformat(),
        "site_id": SITE,
        "booking_id": "b-1",
        "data": {
            "event_id": event["id"],
            "type": "BOOKING_CREATED",
            "cursor": "1",
            "actor": {"identity_type": OWNER.identity_type.value, "identity_id": OWNER.identity_id},
            "booking": json.loads(json.dumps(booking_to_dict(booking))),
        },
    }
    assert states(database)[0].sent_at == T0 + timedelta(seconds=1)


def test_with_a_notification_both_go_to_the_outbox_in_enqueue_order(database: Database) -> None:
    write_event(database, a_booking("b-1"), T0, with_notification=True)

    outbox_rows = count(database, "SELECT count(*) FROM outbox")
    [event] = events(database)
    listed = states(database)

    assert outbox_rows == 2
    assert not event["delivers_itself"]
    assert [(s.kind, s.stored_as_event) for s in listed] == [
        (OutboxKind.PARTICIPANT_NOTIFICATION, False),
        (OutboxKind.BOOKING_EVENT, False),
    ]


def test_an_event_of_another_booking_delivers_itself_though_the_transaction_enqueued(
    database: Database,
) -> None:
    with SqlUnitOfWork(database).write(SITE) as tx:
        tx.outbox.enqueue(notification(a_booking("b-1"), T0), T0)
        tx.bookings.append_event(EventType.BOOKING_CREATED, a_booking("b-2"), OWNER, T0)

    assert [(s.kind, s.booking_id, s.stored_as_event) for s in states(database)] == [
        (OutboxKind.PARTICIPANT_NOTIFICATION, "b-1", False),
        (OutboxKind.BOOKING_EVENT, "b-2", True),
    ]


def test_create_writes_an_outbox_row_for_its_event_only_with_another_delivery(
    database_url,
    start_server,
    auth_metadata,  # type: ignore[no-untyped-def]
) -> None:
    env: BookingEnv
    with booking_env(database_url, start_server, auth_metadata) as env:
        request = class_booking(env.catalog.session, env.catalog.class_service)
        plain = env.visitor().create(request)
        notify = booking_pb2.ParticipantNotification(notify_participants=True, message="Hi")
        request = class_booking(env.catalog.session, env.catalog.class_service)
        notified = env.visitor().create(request, participant_notification=notify)
        database = Database.from_url(database_url)
        try:
            listed = [(s.booking_id, s.kind, s.stored_as_event) for s in states(database)]
            outbox_rows = count(database, "SELECT count(*) FROM outbox")
        finally:
            database.dispose()

    assert outbox_rows == 2
    assert listed == [
        (plain.id, OutboxKind.BOOKING_EVENT, True),
        (notified.id, OutboxKind.PARTICIPANT_NOTIFICATION, False),
        (notified.id, OutboxKind.BOOKING_EVENT, False),
    ]


def test_a_lifecycle_change_with_a_notification_keeps_its_event_in_the_outbox_after_it(
    database: Database,
) -> None:
    booking = dataclasses.replace(a_booking("b-1"), notify_participants=True)
    principal = Principal(SITE, IdentityType.OWNER, "owner-1")
    with SqlUnitOfWork(database).write(SITE) as tx:
        record_change(tx, principal, booking, EventType.BOOKING_CONFIRMED, Notification(True), T0)
    with SqlUnitOfWork(database).write(SITE) as tx:
        record_change(tx, principal, booking, EventType.BOOKING_CANCELED, Notification(), T0)

    assert [(s.kind, s.stored_as_event) for s in states(database)] == [
        (OutboxKind.PARTICIPANT_NOTIFICATION, False),
        (OutboxKind.BOOKING_EVENT, False),
        (OutboxKind.BOOKING_EVENT, True),
    ]


# ---- order -----------------------------------------------------------------------------------


def test_per_booking_order_holds_across_both_tables_at_equal_timestamps(
    database: Database,
) -> None:
    booking = a_booking("b-1")
    write_event(database, booking, T0)  # delivers itself
    write_event(
        database, booking, T0, event_type=EventType.BOOKING_CONFIRMED, with_notification=True
    )  # notification, then the event, both in the outbox
    write_event(database, booking, T0, event_type=EventType.BOOKING_CANCELED)  # itself
    sender = ListSender()

    drain(worker(database, sender, Clock(T0 + timedelta(seconds=1))))

    delivered = [
        (item.kind, item.payload.get("type"), item.stored_as_event) for item in sender.sent
    ]
    assert delivered == [
        (OutboxKind.BOOKING_EVENT, "BOOKING_CREATED", True),
        (OutboxKind.PARTICIPANT_NOTIFICATION, None, False),
        (OutboxKind.BOOKING_EVENT, "BOOKING_CONFIRMED", False),
        (OutboxKind.BOOKING_EVENT, "BOOKING_CANCELED", True),
    ]
    assert [item.payload.get("cursor") for item in sender.sent] == ["1", None, "2", "3"]


def test_one_claim_leases_only_the_first_unsent_item_of_a_booking_across_both_tables(
    database: Database,
) -> None:
    booking = a_booking("b-1")
    write_event(database, booking, T0, with_notification=True)
    write_event(database, booking, T0, event_type=EventType.BOOKING_CONFIRMED)
    write_event(database, a_booking("b-2"), T0)

    claimed = claim(database, T0 + timedelta(seconds=1))

    assert [(item.booking_id, item.kind) for item in claimed] == [
        ("b-1", OutboxKind.PARTICIPANT_NOTIFICATION),
        ("b-2", OutboxKind.BOOKING_EVENT),
    ]


def test_a_failing_event_row_holds_back_the_later_outbox_items_of_its_booking(
    database: Database,
) -> None:
    booking = a_booking("b-1")
    write_event(database, booking, T0)
    write_event(
        database, booking, T0, event_type=EventType.BOOKING_CONFIRMED, with_notification=True
    )
    sender = ListSender()
    sender.failing = True
    clock = Clock(T0 + timedelta(seconds=1))
    outbox_worker = worker(database, sender, clock)

    drain(outbox_worker)
    sender.failing = False
    drain(outbox_worker)  # the event row waits for its retry: nothing else goes
    held_back = list(sender.sent)
    clock.now += timedelta(minutes=1)
    drain(outbox_worker)

    assert held_back == []
    assert [item.kind for item in sender.sent] == [
        OutboxKind.BOOKING_EVENT,
        OutboxKind.PARTICIPANT_NOTIFICATION,
        OutboxKind.BOOKING_EVENT,
    ]
    assert sender.sent[0].stored_as_event and sender.sent[0].attempts == 1


# ---- leases, retries, dead letters ------------------------------------------------------------


def test_an_expired_lease_delivers_an_event_row_again(database: Database) -> None:
    write_event(database, a_booking("b-1"), T0)

    [first] = claim(database, T0)
    within_lease = claim(database, T0 + LEASE - timedelta(seconds=1))
    [again] = claim(database, T0 + LEASE + timedelta(seconds=1))
    with SqlUnitOfWork(database).write(ANY_SITE) as tx:
        stale = tx.outbox_queue.mark_sent(first.id, first.claim_token, T0, stored_as_event=True)
        fresh = tx.outbox_queue.mark_sent(again.id, again.claim_token, T0, stored_as_event=True)

    assert within_lease == []
    assert (again.id, again.payload) == (first.id, first.payload)
    assert again.claim_token != first.claim_token
    assert (stale, fresh) == (False, True)
    assert claim(database, T0 + 2 * LEASE) == []


def test_a_failing_event_row_backs_off_becomes_a_dead_letter_and_the_cli_lists_and_retries_it(
    database: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_event(database, a_booking("b-1"), T0)
    sender = ListSender()
    sender.failing = True
    clock = Clock(T0)
    outbox_worker = worker(database, sender, clock, max_attempts=3)
    store = ["--database-url", database_url]

    outbox_worker.run_once()
    [after_one] = states(database)
    for _ in range(3):
        clock.now += timedelta(hours=1)
        outbox_worker.run_once()
    [dead] = states(database)
    listed = main(["outbox", "list", "--failed", *store]), capsys.readouterr().out
    retried = main(["outbox", "retry", dead.id, *store]), capsys.readouterr().out
    sender.failing = False
    clock.now = datetime.now(UTC) + timedelta(seconds=1)  # the CLI makes it due at its now
    outbox_worker.run_once()
    relisted = main(["outbox", "list", *store]), capsys.readouterr().out

    assert (after_one.attempts, after_one.next_attempt_at) == (1, T0 + timedelta(seconds=5))
    assert "receiver down" in (after_one.last_error or "")
    assert (dead.attempts, dead.sent_at, dead.dead_at, dead.stored_as_event) == (
        3,
        None,
        T0 + timedelta(hours=2),
        True,
    )
    row = listed[1].splitlines()[1].split("\t")
    assert listed[0] == 0
    assert row[:5] == [dead.id, SITE, "BOOKING_EVENT", "b-1", "3"]
    assert row[5].startswith("dead since ") and "receiver down" in row[6]
    assert retried == (0, "bookings: 1 dead letter(s) due again\n")
    [delivered] = sender.sent
    assert delivered.id == dead.id and delivered.attempts == 0
    assert relisted == (0, "id\tsite\tkind\tbooking\tattempts\tstate\tlast_error\n")
    assert count(database, "SELECT count(*) FROM outbox") == 0


def test_the_backlog_counts_due_event_rows(database: Database) -> None:
    write_event(database, a_booking("b-1"), T0)
    write_event(database, a_booking("b-2"), T0 + timedelta(seconds=1), with_notification=True)

    backlog = read_outbox_backlog(database, T0 + timedelta(seconds=2), 5.0)

    assert (backlog.due, backlog.oldest_due_at) == (3, T0)


# ---- retention -------------------------------------------------------------------------------


def test_retention_never_loses_an_undelivered_event_delivery(database: Database) -> None:
    old = T0 - timedelta(days=40)
    for booking_id in ("sent", "dead", "leased"):
        write_event(database, a_booking(booking_id), old)
    with SqlUnitOfWork(database).write(ANY_SITE) as tx:
        queue = tx.outbox_queue
        by_booking = {
            item.booking_id: item for item in queue.claim_due(now=T0, limit=10, lease=LEASE)
        }
        queue.mark_sent(
            by_booking["sent"].id, by_booking["sent"].claim_token, T0, stored_as_event=True
        )
        dead = by_booking["dead"]
        queue.mark_dead(dead.id, dead.claim_token, "gone", T0, stored_as_event=True)
    leased = by_booking["leased"]

    with SqlUnitOfWork(database).write(ANY_SITE) as tx:
        purged = tx.event_retention.purge_before(T0 - timedelta(days=30), 100)
    moved = {state.booking_id: state for state in states(database)}
    with SqlUnitOfWork(database).write(ANY_SITE) as tx:
        settled = tx.outbox_queue.mark_sent(leased.id, leased.claim_token, T0, stored_as_event=True)
        retried = tx.outbox_queue.retry_dead(dead.id, T0)
    sender = ListSender()
    drain(worker(database, sender, Clock(T0 + timedelta(seconds=1))))

    assert purged == 3 and events(database) == []
    assert set(moved) == {"dead", "leased"}
    assert all(not state.stored_as_event for state in moved.values())
    assert (moved["dead"].id, moved["dead"].dead_at, moved["dead"].last_error) == (
        dead.id,
        T0,
        "gone",
    )
    assert moved["leased"].id == leased.id
    assert (settled, retried) == (True, True)
    [redelivered] = sender.sent
    assert (redelivered.id, redelivered.payload) == (dead.id, dead.payload)
    assert webhook_body(redelivered) == webhook_body(dead)


def test_the_outbox_purge_forgets_a_sent_event_rows_delivery_and_keeps_the_event(
    database: Database,
) -> None:
    write_event(database, a_booking("sent"), T0)
    write_event(database, a_booking("unsent"), T0 + timedelta(days=1))
    drain(worker(database, ListSender(), Clock(T0 + timedelta(seconds=1))))

    with SqlUnitOfWork(database).write(ANY_SITE) as tx:
        early = tx.outbox_queue.purge_sent(sent_before=T0, limit=10)
    with SqlUnitOfWork(database).write(ANY_SITE) as tx:
        purged = tx.outbox_queue.purge_sent(sent_before=T0 + timedelta(days=30), limit=10)

    assert (early, purged) == (0, 1)
    assert [(s.booking_id, s.sent_at) for s in states(database)] == [("unsent", None)]
    assert [bool(event["delivers_itself"]) for event in events(database)] == [False, True]


# ---- PostgreSQL: numbering and concurrent claimers -------------------------------------------


@pytest.mark.postgres
def test_postgres_an_event_row_is_numbered_at_claim_and_its_cursor_is_its_own_sequence(
    postgres_database: Database,
) -> None:
    for booking_id in ("b-1", "b-2", "b-3"):
        write_event(postgres_database, a_booking(booking_id), T0)
    unnumbered = [event["sequence"] for event in events(postgres_database)]

    claimed = claim(postgres_database, T0 + timedelta(seconds=1))

    numbers = {event["id"]: event["sequence"] for event in events(postgres_database)}
    assert unnumbered == [None, None, None]
    assert [item.booking_id for item in claimed] == ["b-1", "b-2", "b-3"]
    assert [item.payload["cursor"] for item in claimed] == ["1", "2", "3"]
    assert all(item.payload["cursor"] == str(numbers[item.id]) for item in claimed)


@pytest.mark.postgres
def test_postgres_a_claimer_skips_event_rows_another_claimer_holds(
    postgres_database: Database,
) -> None:
    for index in range(10):
        write_event(postgres_database, a_booking(f"b-{index}"), T0)
    with SqlUnitOfWork(postgres_database).write(SITE) as tx:
        # Numbered beforehand: a claimer that numbers holds the site's numbering lock to its
        # commit, and claimers of unnumbered events of one site take turns on it.
        tx.bookings.number_events(100)
    now = T0 + timedelta(seconds=1)
    held: list[OutboxItem] = []
    others: list[OutboxItem] = []
    first_claimed = threading.Event()
    second_done = threading.Event()

    def first() -> None:
        with SqlUnitOfWork(postgres_database).write(ANY_SITE) as tx:
            held.extend(tx.outbox_queue.claim_due(now=now, limit=4, lease=LEASE))
            first_claimed.set()
            second_done.wait(30)  # still uncommitted while the other claims

    thread = threading.Thread(target=first)
    thread.start()
    assert first_claimed.wait(30)
    others.extend(claim(postgres_database, now))
    second_done.set()
    thread.join(30)

    assert len(held) == 4 and len(others) == 6
    assert not {item.id for item in held} & {item.id for item in others}
    assert claim(postgres_database, now) == []


def test_concurrent_workers_never_deliver_one_event_row_twice_within_a_lease(
    database: Database,
) -> None:
    for index in range(40):
        write_event(database, a_booking(f"b-{index}"), T0)
    now = T0 + timedelta(seconds=1)
    claimed: list[list[OutboxItem]] = [[], []]
    start = threading.Barrier(2)

    def claimer(mine: list[OutboxItem]) -> None:
        start.wait(30)
        while batch := claim(database, now, limit=3):
            mine.extend(batch)

    threads = [threading.Thread(target=claimer, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    ids = [item.id for mine in claimed for item in mine]
    assert len(ids) == len(set(ids)) == 40
