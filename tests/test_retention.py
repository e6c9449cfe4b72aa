"""Retention: the worker purges sent outbox items and old events in bounded batches, never an
unsent item, and a site's kept events always run without a gap up to the newest."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from booking_helpers import SITE, BookingEnv, booking_env, class_booking

from bookings_server.app.outbox_delivery import (
    OutboxWorker,
    Sender,
    WorkerSettings,
    WorkerThread,
)
from bookings_server.app.retention import RetentionPurge, RetentionSettings
from bookings_server.cli.main import build_parser
from bookings_server.domain.booking import Actor, EventType
from bookings_server.domain.identity import IdentityType
from bookings_server.domain.outbox import OutboxItem
from bookings_server.store.database import Database
from bookings_server.store.event_retention import EventRetention
from bookings_server.store.unit_of_work import SqlUnitOfWork

DAY = timedelta(days=1)
OWNER = Actor(IdentityType.OWNER, "owner-1")


@pytest.fixture
def env(database_url, start_server, auth_metadata) -> Iterator[BookingEnv]:  # type: ignore[no-untyped-def]
    with booking_env(database_url, start_server, auth_metadata) as environment:
        yield environment


@pytest.fixture
def uow(env: BookingEnv) -> Iterator[SqlUnitOfWork]:
    database = Database.from_url(env.database_url)
    yield SqlUnitOfWork(database)
    database.dispose()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FailingFor:
    """Delivers every item except those of the bookings in `failing`."""

    def __init__(self, *failing: str) -> None:
        self.failing = set(failing)

    def send(self, item: OutboxItem) -> None:
        if item.booking_id in self.failing:
            raise ConnectionError("receiver down")


def book(env: BookingEnv) -> str:
    """A class booking (one event, one BOOKING_EVENT outbox item); returns its id."""
    request = class_booking(env.catalog.session, env.catalog.class_service)
    return env.visitor().create(request).id


def outbox(uow: SqlUnitOfWork) -> dict[str, bool]:
    """booking id -> whether its item was sent, for every stored outbox item."""
    with uow.read(SITE) as tx:
        return {item.booking_id: item.sent_at is not None for item in tx.outbox.list_items()}


def event_sequences(uow: SqlUnitOfWork, site_id: str = SITE) -> list[int]:
    """The site's stream as a follower sees it (events are numbered after commit first)."""
    with uow.write(site_id) as tx:
        tx.bookings.number_events(1000)
    with uow.read(site_id) as tx:
        return [event.sequence for event in tx.bookings.events_after(0, 1000)]


def purged_through(uow: SqlUnitOfWork, site_id: str = SITE) -> int:
    with uow.read(site_id) as tx:
        return tx.event_history.purged_through()


def purge(
    uow: SqlUnitOfWork,
    now: datetime,
    *,
    sent_items: timedelta | None = 30 * DAY,
    events: timedelta | None = 30 * DAY,
    batch_size: int = 500,
) -> bool:
    """One purge batch at `now`; True when more may be left."""
    settings = RetentionSettings(sent_items=sent_items, events=events, batch_size=batch_size)
    return RetentionPurge(uow, settings, Clock(now)).purge_batch()


def deliver_all(uow: SqlUnitOfWork, sender: Sender, now: datetime) -> None:
    worker = OutboxWorker(uow, sender, clock=Clock(now))
    while worker.run_once():
        pass


# ---- sent outbox items -------------------------------------------------------------------------


def test_sent_items_are_purged_after_the_retention_and_unsent_items_never(
    env: BookingEnv, uow: SqlUnitOfWork
) -> None:
    sent, unsent = book(env), book(env)
    sent_at = datetime.now(UTC)
    deliver_all(uow, FailingFor(unsent), sent_at)

    purge(uow, sent_at + 29 * DAY, events=None)
    before = outbox(uow)
    purge(uow, sent_at + 31 * DAY, events=None)

    assert before == {sent: True, unsent: False}
    assert outbox(uow) == {unsent: False}


def test_the_outbox_purge_deletes_at_most_one_batch_per_transaction(
    env: BookingEnv, uow: SqlUnitOfWork
) -> None:
    for _ in range(5):
        book(env)
    sent_at = datetime.now(UTC)
    deliver_all(uow, FailingFor(), sent_at)
    later = sent_at + 31 * DAY

    progress = []
    for _ in range(3):
        more = purge(uow, later, events=None, batch_size=2)
        progress.append((more, len(outbox(uow))))

    assert progress == [(True, 3), (True, 1), (False, 0)]


def test_a_retention_of_zero_days_keeps_everything(env: BookingEnv, uow: SqlUnitOfWork) -> None:
    book(env)
    now = datetime.now(UTC)
    deliver_all(uow, FailingFor(), now)
    forever = RetentionSettings.from_days(0, 0)

    RetentionPurge(uow, forever, Clock(now + 10_000 * DAY)).purge_batch()

    assert list(outbox(uow).values()) == [True]
    assert len(event_sequences(uow)) == 1


# ---- events ------------------------------------------------------------------------------------


def test_events_are_purged_after_the_retention_and_the_horizon_recorded(
    env: BookingEnv, uow: SqlUnitOfWork
) -> None:
    for _ in range(3):
        book(env)
    now = datetime.now(UTC)

    purge(uow, now + 29 * DAY, sent_items=None)
    kept = event_sequences(uow)
    purge(uow, now + 31 * DAY, sent_items=None)
    book(env)

    assert (kept, purged_through(uow)) == ([1, 2, 3], 3)
    assert event_sequences(uow) == [4]


def _append(uow: SqlUnitOfWork, booking_id: str, at: datetime, site_id: str = SITE) -> None:
    """An event of the booking (copied into `site_id`) that occurred at `at`."""
    with uow.read(SITE) as tx:
        booking = tx.bookings.get_booking(booking_id)
    with uow.write(site_id) as tx:
        moved = dataclasses.replace(booking, site_id=site_id)
        tx.bookings.append_event(EventType.BOOKING_CONFIRMED, moved, OWNER, at)


def test_the_event_purge_removes_only_a_prefix_of_a_sites_stream(
    env: BookingEnv, uow: SqlUnitOfWork
) -> None:
    """A younger event ahead of older ones (clock skew between servers) keeps them until it
    expires too: the kept events never have a hole a cursor could fall into."""
    booking_id = book(env)  # event 1, occurred now
    now = datetime.now(UTC)
    _append(uow, booking_id, now + 5 * DAY)  # event 2: younger
    _append(uow, booking_id, now)  # event 3: as old as event 1

    purge(uow, now + 31 * DAY, sent_items=None)
    first = (event_sequences(uow), purged_through(uow))
    purge(uow, now + 36 * DAY, sent_items=None)

    assert first == ([2, 3], 1)
    assert (event_sequences(uow), purged_through(uow)) == ([], 3)


def test_the_event_purge_goes_site_by_site(env: BookingEnv, uow: SqlUnitOfWork) -> None:
    booking_id = book(env)
    now = datetime.now(UTC)
    _append(uow, booking_id, now + 10 * DAY, site_id="site-b")

    purge(uow, now + 31 * DAY, sent_items=None)

    assert (event_sequences(uow), purged_through(uow)) == ([], 1)
    assert (event_sequences(uow, "site-b"), purged_through(uow, "site-b")) == ([1], 0)


# ---- the worker applies it ---------------------------------------------------------------------


def test_the_worker_purges_between_rounds(
    env: BookingEnv, uow: SqlUnitOfWork, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        book(env)
    clock = Clock(datetime.now(UTC) + 31 * DAY)
    settings = WorkerSettings(poll_interval=0.02, retention=RetentionSettings(batch_size=2))
    thread = WorkerThread(OutboxWorker(uow, FailingFor(), settings, clock), settings.stall_after)

    with caplog.at_level(logging.INFO, logger="bookings.worker"):
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while event_sequences(uow) and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            thread.stop()

    assert event_sequences(uow) == []
    done = [r for r in caplog.records if r.getMessage() == "retention purge done"]
    assert [(r.events, r.outbox_items) for r in done] == [(3, 0)]  # type: ignore[attr-defined]


def test_a_failing_purge_does_not_hold_up_deliveries(
    env: BookingEnv,
    uow: SqlUnitOfWork,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    booking_id = book(env)

    def broken(*args: object) -> int:
        # Deliveries read booking_events (an event may be its own delivery item), so the
        # event purge is broken by itself rather than by renaming a column.
        raise RuntimeError("the event purge is broken")

    monkeypatch.setattr(EventRetention, "purge_before", broken)
    settings = WorkerSettings(poll_interval=0.02)
    thread = WorkerThread(OutboxWorker(uow, FailingFor(), settings), settings.stall_after)

    with caplog.at_level(logging.WARNING, logger="bookings.worker"):
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while not outbox(uow)[booking_id] and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            thread.stop()

    assert outbox(uow) == {booking_id: True}
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == ["retention purge failed; retrying later"]


# ---- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_retention_days_come_from_flags_or_environment(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOKINGS_OUTBOX_RETENTION_DAYS", "7")
    monkeypatch.setenv("BOOKINGS_EVENT_RETENTION_DAYS", "0")

    from_env = build_parser().parse_args([command])
    from_flag = build_parser().parse_args([command, "--event-retention-days", "90"])

    assert (from_env.outbox_retention_days, from_env.event_retention_days) == (7, 0)
    assert from_flag.event_retention_days == 90


def test_a_negative_retention_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["worker", "--outbox-retention-days", "-1"])

    assert exited.value.code == 2
    assert "0 (forever) or more days" in capsys.readouterr().err
