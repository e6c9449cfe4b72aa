"""Event numbers in commit order (store/event_numbering.py): writers of a site never wait for
each other on PostgreSQL, and the WatchBookingEvents cursor stays gap-free.

PostgreSQL writers insert their events unnumbered; readers of the stream number committed
events afterwards under the site's lock. The tests hold one writer's transaction open while
others commit (out of order: the held event was written first), on two server processes
with a follower on each, and check that every event arrives exactly once, in order, with
consecutive cursors, and that the open transaction held back neither the writers nor the
followers.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from booking_helpers import SITE, booking_env, class_booking
from bookings.v1 import bookings_service_pb2 as pb
from conftest import AuthMetadata, PostgresServer, StartServer
from lifecycle_support import Seeder, class_booking_request, stub
from race_helpers import channels, run_together, server_processes
from test_create_events import OWNER, a_booking, append, stream

from bookings_server.api.auth.keys import load_signing_keys
from bookings_server.config import Config
from bookings_server.domain.booking import Booking, EventType
from bookings_server.domain.errors import Unavailable
from bookings_server.store.booking_repository import BookingRepository
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork

#: CreateBooking calls racing each other, spread over the two servers and the sessions.
WRITERS = 40
SESSIONS = 4


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (the rules tested here are PostgreSQL's)."""
    name = f"commit_order_{uuid.uuid4().hex[:12]}"
    postgres_server.admin(f"CREATE DATABASE {name} TEMPLATE {postgres_server.template}")
    yield postgres_server.url(name)
    postgres_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    opened = Database.from_url(postgres_url)
    yield opened
    opened.dispose()


@contextmanager
def open_writer(database: Database, booking: Booking) -> Iterator[None]:
    """A write transaction that appended an event of `booking` and stays open (not
    committed) until the block ends; then it commits."""
    appended, release = threading.Event(), threading.Event()

    def transaction() -> None:
        with database.write() as session:
            BookingRepository(session, booking.site_id).append_event(
                EventType.BOOKING_CONFIRMED, booking, OWNER, datetime.now(UTC)
            )
            appended.set()
            release.wait(60)

    writer = threading.Thread(target=transaction)
    writer.start()
    try:
        assert appended.wait(10)
        yield
    finally:
        release.set()
        writer.join(30)


@pytest.mark.postgres
def test_a_writer_does_not_wait_for_an_open_writer_of_its_site(postgres_url: str) -> None:
    """The event write takes no site-wide lock: with a 200 ms lock wait, a second writer of
    the site commits while the first is still open."""
    database = Database.from_url(postgres_url)
    impatient = Database.from_url(postgres_url, lock_timeout_ms=200)
    try:
        with open_writer(database, a_booking("open")), impatient.write() as session:
            BookingRepository(session, SITE).append_event(
                EventType.BOOKING_CREATED, a_booking("second"), OWNER, datetime.now(UTC)
            )
    finally:
        database.dispose()
        impatient.dispose()


@pytest.mark.postgres
def test_an_event_committed_last_is_numbered_after_those_committed_before_it(
    database: Database,
) -> None:
    with open_writer(database, a_booking("written-first")):
        with database.write() as session:
            BookingRepository(session, SITE).append_event(
                EventType.BOOKING_CREATED, a_booking("committed-first"), OWNER, datetime.now(UTC)
            )
        meanwhile = stream(database)
    assert meanwhile == [(1, "committed-first")]
    assert stream(database) == [(1, "committed-first"), (2, "written-first")]


@pytest.mark.postgres
def test_numbers_become_visible_in_the_order_they_are_given(postgres_url: str) -> None:
    """A numberer waits for the site's previous numberer to commit: a later number never
    becomes visible before an earlier one (a follower past it would skip the earlier)."""
    database = Database.from_url(postgres_url)
    impatient = Database.from_url(postgres_url, lock_timeout_ms=200)
    numbered, release = threading.Event(), threading.Event()

    def slow_numberer() -> None:
        with database.write() as session:
            BookingRepository(session, SITE).number_events(100)
            numbered.set()
            release.wait(30)

    try:
        append(database, "first")
        numberer = threading.Thread(target=slow_numberer)
        numberer.start()
        try:
            assert numbered.wait(10)
            append(database, "second")
            with pytest.raises(Unavailable), impatient.write() as session:
                BookingRepository(session, SITE).number_events(100)
        finally:
            release.set()
            numberer.join(10)
        assert stream(database) == [(1, "first"), (2, "second")]
    finally:
        database.dispose()
        impatient.dispose()


class Follower:
    """A WatchBookingEvents stream read on a thread: (cursor, event id, type, booking id)."""

    def __init__(self, client: Any, metadata: Any) -> None:
        self.events: list[tuple[int, str, int, str]] = []
        self.failure: BaseException | None = None
        self._arrived = threading.Condition()
        self._call = client.WatchBookingEvents(
            pb.WatchBookingEventsRequest(), metadata=metadata, timeout=120
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 60) -> bool:
        with self._arrived:
            return self._arrived.wait_for(
                lambda: len(self.events) >= count or self.failure is not None, timeout
            )

    def stop(self) -> None:
        self._call.cancel()
        self._thread.join(10)

    def _read(self) -> None:
        try:
            for response in self._call:
                event = response.event
                with self._arrived:
                    self.events.append((int(event.cursor), event.id, event.type, event.booking.id))
                    self._arrived.notify_all()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                self.failure = error
        finally:
            with self._arrived:
                self._arrived.notify_all()


@pytest.mark.postgres
def test_followers_see_every_event_once_in_order_while_two_servers_write(
    postgres_url: str, auth_metadata: AuthMetadata, tmp_path: Path
) -> None:
    seeder = Seeder(postgres_url)
    data_dir = tmp_path / "servers"
    load_signing_keys(Config(data_dir=data_dir))  # one secret, shared by both servers
    try:
        sessions = [seeder.class_session(capacity=WRITERS) for _ in range(SESSIONS)]
        with server_processes(postgres_url, data_dir, 2) as servers:
            opened = channels([server.address for server in servers])
            clients = [stub(channel) for channel in opened]
            metadata = [auth_metadata(server) for server in servers]
            followers = [Follower(c, m) for c, m in zip(clients, metadata, strict=True)]
            try:
                first = clients[0].CreateBooking(
                    class_booking_request(sessions[0]), metadata=metadata[0]
                )
                with seeder.uow.read(SITE) as tx:
                    held_booking = tx.bookings.get_booking(first.booking.id)

                def create(index: int) -> str:
                    server = index % len(clients)
                    request = class_booking_request(sessions[index % SESSIONS])
                    answer = clients[server].CreateBooking(request, metadata=metadata[server])
                    return str(answer.booking.id)

                with open_writer(seeder.database, held_booking):
                    created = run_together([lambda i=i: create(i) for i in range(WRITERS)])
                    # Everything committed so far reaches the followers past the open one.
                    caught_up = [f.wait_for(1 + WRITERS) for f in followers]
                everything = [f.wait_for(2 + WRITERS) for f in followers]
            finally:
                for follower in followers:
                    follower.stop()
                for channel in opened:
                    channel.close()
        stored = stream(seeder.database)
    finally:
        seeder.close()

    failures = [r for r in created if isinstance(r, BaseException)]
    assert not failures, f"{len(failures)} CreateBooking calls failed: {failures[0]!r}"
    assert [f.failure for f in followers] == [None, None]
    assert caught_up == [True, True] and everything == [True, True]
    seen = followers[0].events
    assert followers[1].events == seen
    assert [cursor for cursor, *_ in seen] == list(range(1, WRITERS + 3))
    assert len({event_id for _, event_id, _, _ in seen}) == len(seen)
    assert seen[0][3] == first.booking.id
    assert sorted(booking_id for *_, booking_id in seen[1:-1]) == sorted(map(str, created))
    assert seen[-1][2:] == (pb.EVENT_TYPE_BOOKING_CONFIRMED, first.booking.id)
    assert [(cursor, booking_id) for cursor, _, _, booking_id in seen] == stored


def test_a_booking_events_delivery_carries_its_cursor(
    database_url: str, start_server: StartServer, auth_metadata: AuthMetadata
) -> None:
    """The webhook payload names the event's cursor, also when the event was numbered only
    after its commit (PostgreSQL: the worker's claim numbers it)."""
    with booking_env(database_url, start_server, auth_metadata) as env:
        request = class_booking(env.catalog.session, env.catalog.class_service)
        booking = env.visitor().create(request)
    database = Database.from_url(database_url)
    lease = timedelta(seconds=60)
    try:
        uow = SqlUnitOfWork(database)
        with uow.write("") as tx:
            (item,) = tx.outbox_queue.claim_due(now=datetime.now(UTC), limit=10, lease=lease)
        with uow.read(SITE) as tx:
            (event,) = tx.bookings.events_after(0, 10)
        with uow.write("") as tx:  # the lease ran out: the next attempt
            later = datetime.now(UTC) + 2 * lease
            (again,) = tx.outbox_queue.claim_due(now=later, limit=10, lease=lease)
    finally:
        database.dispose()
    assert (item.booking_id, item.payload["event_id"]) == (booking.id, event.id)
    assert item.payload["cursor"] == event.cursor == "1"
    assert again.payload == item.payload
