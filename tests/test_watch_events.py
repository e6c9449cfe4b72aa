"""WatchBookingEvents: replay after a cursor, follow live, resume after a reconnect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import grpc
import pytest
from booking_helpers import failure
from bookings.v1 import bookings_service_pb2 as pb
from conftest import AuthMetadata, RunningServer, StartServer
from lifecycle_support import (
    LifecycleEnv,
    Seeder,
    class_booking_request,
    error_reason,
    lifecycle_env,
    stub,
)

from bookings_server.app.bookings.events import EventFollower
from bookings_server.app.retention import RetentionPurge, RetentionSettings
from bookings_server.config import Config
from bookings_server.domain.errors import FailedPrecondition
from bookings_server.server import build_server
from bookings_server.serving import DrainControls, drain

CREATED = pb.EVENT_TYPE_BOOKING_CREATED
CONFIRMED = pb.EVENT_TYPE_BOOKING_CONFIRMED
CANCELED = pb.EVENT_TYPE_BOOKING_CANCELED


@pytest.fixture
def env(
    start_server: StartServer, database_url: str, auth_metadata: AuthMetadata
) -> Iterator[LifecycleEnv]:
    with lifecycle_env(
        database_url, start_server(database_url=database_url), auth_metadata
    ) as environment:
        yield environment


def _watch(env: LifecycleEnv, after: str = "", metadata: Any = None) -> Any:
    request = pb.WatchBookingEventsRequest(after_cursor=after)
    return env.client.WatchBookingEvents(request, metadata=metadata or env.metadata, timeout=20)


def _take(stream: Any, count: int) -> list[pb.BookingEvent]:
    events = [response.event for response in islice(stream, count)]
    assert len(events) == count
    return events


def test_replays_the_sites_history_in_order(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session()
    booking = env.create(class_booking_request(setup))
    confirmed = env.confirm_or_decline(booking)
    stream = _watch(env)
    created_event, confirmed_event = _take(stream, 2)
    stream.cancel()
    assert (created_event.type, confirmed_event.type) == (CREATED, CONFIRMED)
    assert confirmed_event.booking == confirmed
    assert created_event.booking.id == booking.id
    assert int(created_event.cursor) < int(confirmed_event.cursor)
    assert created_event.id != confirmed_event.id
    assert confirmed_event.actor.identity_id == "owner-1"
    assert confirmed_event.HasField("occurred_date")


def test_follows_new_events_live(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session()
    stream = _watch(env)
    booking = env.create(class_booking_request(setup))
    (event,) = _take(stream, 1)
    stream.cancel()
    assert (event.type, event.booking.id) == (CREATED, booking.id)


def test_reconnecting_with_the_last_cursor_misses_nothing(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=10)
    first = [env.create(class_booking_request(setup)) for _ in range(3)]
    stream = _watch(env)
    seen = _take(stream, 2)
    stream.cancel()
    # While disconnected: the third creation was not read yet, and more changes happen.
    env.confirm_or_decline(first[0])
    later = env.create(class_booking_request(setup))
    resumed = _watch(env, after=seen[-1].cursor)
    rest = _take(resumed, 3)
    resumed.cancel()
    assert [(e.type, e.booking.id) for e in rest] == [
        (CREATED, first[2].id),
        (CONFIRMED, first[0].id),
        (CREATED, later.id),
    ]
    cursors = [int(e.cursor) for e in seen + rest]
    assert cursors == sorted(set(cursors))


def test_events_committed_through_another_server_arrive(
    env: LifecycleEnv, start_server: StartServer, database_url: str
) -> None:
    other = start_server(database_url=database_url)
    setup = env.seeder.class_session()
    stream = _watch(env)
    with grpc.insecure_channel(other.address) as channel:
        booking = stub(channel).CreateBooking(class_booking_request(setup), metadata=env.metadata)
    (event,) = _take(stream, 1)
    stream.cancel()
    assert event.booking.id == booking.booking.id


def test_other_sites_events_are_not_streamed(
    env: LifecycleEnv, auth_metadata: AuthMetadata
) -> None:
    setup = env.seeder.class_session()
    other_site = Seeder(env.seeder.database_url, site_id="site-b")
    try:
        other_setup = other_site.class_session()
    finally:
        other_site.close()
    site_b = auth_metadata(env.server, site_id="site-b")
    first = env.create(class_booking_request(setup))
    env.client.CreateBooking(class_booking_request(other_setup), metadata=site_b)
    last = env.create(class_booking_request(setup))
    stream = _watch(env)
    events = _take(stream, 2)
    stream.cancel()
    assert [e.booking.id for e in events] == [first.id, last.id]


def test_malformed_cursor_is_invalid(env: LifecycleEnv) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        next(_watch(env, after="not-a-cursor"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(raised.value) == "INVALID_ARGUMENT"


def test_draining_the_server_ends_open_streams_at_once(
    tmp_path: Path, database_url: str, auth_metadata: AuthMetadata
) -> None:
    controls = DrainControls()
    config = Config(address="127.0.0.1:0", data_dir=tmp_path, database_url=database_url)
    server, port = build_server(config, controls=controls)
    server.start()
    running = RunningServer(server, port, config)
    with lifecycle_env(database_url, running, auth_metadata) as env:
        env.create(class_booking_request(env.seeder.class_session()))
        stream = _watch(env)
        _take(stream, 1)  # the stream is open on the server
        started = time.monotonic()
        drain(server, controls, grace=15)
        assert list(stream) == []
    assert time.monotonic() - started < 5


# ---- retention: a cursor the purge overtook ---------------------------------------------------


def _purge_every_event_so_far(env: LifecycleEnv) -> None:
    """What the worker does once today's events are older than the 30-day retention."""
    later = datetime.now(UTC) + timedelta(days=31)
    retention = RetentionSettings(sent_items=None, events=timedelta(days=30))
    RetentionPurge(env.seeder.uow, retention, lambda: later).purge_batch()


def test_a_cursor_older_than_the_oldest_kept_event_is_cursor_expired(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=10)
    env.create(class_booking_request(setup))
    env.create(class_booking_request(setup))
    stream = _watch(env)
    (seen,) = _take(stream, 1)
    stream.cancel()
    _purge_every_event_so_far(env)
    kept = env.create(class_booking_request(setup))

    expired = failure(lambda: next(_watch(env, after=seen.cursor)))
    resumed = _watch(env, after=expired.metadata["oldest_cursor"])
    (event,) = _take(resumed, 1)
    resumed.cancel()

    assert (expired.code, expired.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "CURSOR_EXPIRED",
    )
    assert expired.metadata["oldest_cursor"] == "2"
    assert event.booking.id == kept.id


def test_the_empty_cursor_starts_at_the_oldest_kept_event(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session()
    env.create(class_booking_request(setup))
    _purge_every_event_so_far(env)
    kept = env.create(class_booking_request(setup))

    stream = _watch(env)
    (event,) = _take(stream, 1)
    stream.cancel()

    assert event.booking.id == kept.id


def test_a_follower_the_purge_overtakes_fails_instead_of_skipping(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=10)
    for _ in range(3):
        env.create(class_booking_request(setup))
    events = EventFollower(env.seeder.uow, batch_size=1).follow(
        env.seeder.site_id, 0, active=lambda: True, stopping=threading.Event()
    )
    first = next(events)

    _purge_every_event_so_far(env)

    with pytest.raises(FailedPrecondition) as raised:
        next(events)
    assert first.sequence == 1
    assert (raised.value.reason, raised.value.metadata) == (
        "CURSOR_EXPIRED",
        {"oldest_cursor": "3"},
    )
