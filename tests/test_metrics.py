"""Prometheus metrics: what /metrics says after known calls to a real server.

The registry belongs to the process and the tests of one process share it, so each test
scrapes before and after its calls and checks the differences, which are exact. The
endpoint of `bookings serve --metrics-address`, one port per process and --reuse-port are in
test_metrics_processes.py.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from booking_helpers import (
    SITE,
    BookingEnv,
    appointment_booking,
    booking_env,
    class_booking,
    course_booking,
    failure,
    hour_from_now,
)
from bookings.v1 import booking_pb2
from bookings.v1 import bookings_service_pb2 as pb
from conftest import AuthMetadata, StartServer
from metrics_scrape import Scrape, all_handled, scrape, scrape_when

from bookings_server.domain.outbox import OutboxKind, OutboxMessage
from bookings_server.observability.metrics_endpoint import start_metrics_endpoint
from bookings_server.store.database import Database
from bookings_server.store.outbox_backlog import MAX_COUNTED, OutboxBacklog, read_outbox_backlog
from bookings_server.store.unit_of_work import SqlUnitOfWork

BOOKINGS = "bookings.v1.BookingsService"
CONFIRMED = booking_pb2.BOOKING_STATUS_CONFIRMED


@pytest.fixture
def metrics_url() -> Iterator[str]:
    endpoint = start_metrics_endpoint("127.0.0.1:0")
    yield endpoint.url
    endpoint.close()


def _with_metrics(start_server: StartServer) -> Callable[..., Any]:
    """start_server for servers with metrics on (the test serves the endpoint itself)."""
    return lambda **overrides: start_server(metrics_address="127.0.0.1:0", **overrides)


@pytest.fixture
def env(
    database_url: str, start_server: StartServer, auth_metadata: AuthMetadata
) -> Iterator[BookingEnv]:
    with booking_env(database_url, _with_metrics(start_server), auth_metadata) as environment:
        yield environment


@pytest.fixture
def sqlite_env(
    sqlite_url: str, start_server: StartServer, auth_metadata: AuthMetadata
) -> Iterator[BookingEnv]:
    with booking_env(sqlite_url, _with_metrics(start_server), auth_metadata) as environment:
        yield environment


def confirm_or_decline(env: BookingEnv, booking: booking_pb2.Booking) -> booking_pb2.Booking:
    request = pb.ConfirmOrDeclineBookingRequest(booking_id=booking.id)
    reply = env.client().stub.ConfirmOrDeclineBooking(request, metadata=env.client().metadata)
    return reply.booking


def cancel(env: BookingEnv, booking: booking_pb2.Booking) -> booking_pb2.Booking:
    request = pb.CancelBookingRequest(booking_id=booking.id, revision=booking.revision)
    return env.client().stub.CancelBooking(request, metadata=env.client().metadata).booking


def confirmed(request: booking_pb2.Booking) -> booking_pb2.Booking:
    request.status = CONFIRMED
    return request


def after_calls(url: str, calls: int, make_calls: Callable[[], object]) -> Scrape:
    """What `calls` calls made by `make_calls` changed on /metrics, once all are handled."""
    before = scrape(url)
    make_calls()
    return scrape_when(url, all_handled(before, calls)).minus(before)


def test_a_known_mix_of_calls_is_counted_exactly(env: BookingEnv, metrics_url: str) -> None:
    catalog = env.catalog
    visitor = env.visitor()
    start = hour_from_now(30)
    appointment = appointment_booking(catalog.appointment_service, catalog.staff, start)

    def mix() -> None:
        session = visitor.create(class_booking(catalog.session, catalog.class_service))
        slot = visitor.create(appointment, request_id="mix-appointment")
        course = visitor.create(course_booking(catalog.course_service))
        visitor.create(appointment, request_id="mix-appointment")  # a retry: no new booking
        confirm_or_decline(env, session)
        confirm_or_decline(env, slot)
        cancel(env, course)
        again = appointment_booking(catalog.appointment_service, catalog.staff, start)
        assert failure(lambda: visitor.create(again)).reason == "SLOT_NOT_AVAILABLE"
        assert failure(lambda: visitor.get("no-such-booking")).code == grpc.StatusCode.NOT_FOUND

    delta = after_calls(metrics_url, 9, mix)

    unary = {"grpc_type": "unary", "grpc_service": BOOKINGS}
    assert delta.value("grpc_server_started_total", **unary, grpc_method="CreateBooking") == 5
    handled = "grpc_server_handled_total"
    assert delta.value(handled, **unary, grpc_method="CreateBooking", grpc_code="OK") == 4
    assert (
        delta.value(handled, **unary, grpc_method="CreateBooking", grpc_code="FAILED_PRECONDITION")
        == 1
    )
    assert delta.value(handled, **unary, grpc_method="ConfirmOrDeclineBooking", grpc_code="OK") == 2
    assert delta.value(handled, **unary, grpc_method="CancelBooking", grpc_code="OK") == 1
    assert delta.value(handled, **unary, grpc_method="GetBooking", grpc_code="NOT_FOUND") == 1
    assert (
        delta.value("grpc_server_handling_seconds_count", **unary, grpc_method="CreateBooking") == 5
    )
    assert _by_type(delta, "bookings_created_total") == {"APPOINTMENT": 1, "CLASS": 1, "COURSE": 1}
    assert _by_type(delta, "bookings_confirmed_total") == {"APPOINTMENT": 1, "CLASS": 1}
    assert _by_type(delta, "bookings_canceled_total") == {"COURSE": 1}
    assert _by_type(delta, "bookings_declined_total") == {}
    assert _by_reason(delta, "bookings_capacity_declines_total") == {"SLOT_NOT_AVAILABLE": 1}
    assert _by_reason(delta, "bookings_store_busy_answers_total") == {}


def test_a_decline_for_want_of_room_is_a_capacity_decline(
    env: BookingEnv, metrics_url: str
) -> None:
    catalog = env.catalog

    def calls() -> None:
        waiting = env.visitor().create(class_booking(catalog.session, catalog.class_service))
        env.client().create(confirmed(class_booking(catalog.session, catalog.class_service, 3)))
        assert confirm_or_decline(env, waiting).status == booking_pb2.BOOKING_STATUS_DECLINED

    delta = after_calls(metrics_url, 3, calls)

    assert _by_type(delta, "bookings_declined_total") == {"CLASS": 1}
    assert _by_reason(delta, "bookings_capacity_declines_total") == {"DECLINED": 1}


def test_a_confirmed_booking_that_overbooks_is_a_double_booked_confirmation(
    env: BookingEnv, metrics_url: str
) -> None:
    catalog = env.catalog

    def calls() -> None:
        owner = env.client()
        owner.create(confirmed(class_booking(catalog.session, catalog.class_service, 3)))
        second = owner.create(confirmed(class_booking(catalog.session, catalog.class_service)))
        assert second.double_booked

    delta = after_calls(metrics_url, 2, calls)

    assert _by_type(delta, "bookings_confirmed_total") == {"CLASS": 2}
    assert _by_type(delta, "bookings_double_booked_confirmations_total") == {"CLASS": 1}


def test_bulk_creates_count_by_type_with_their_bookings_and_as_unknown_without(
    sqlite_env: BookingEnv, metrics_url: str
) -> None:
    catalog = sqlite_env.catalog
    item = pb.CreateBookingRequest(booking=class_booking(catalog.session, catalog.class_service))
    owner = sqlite_env.client()

    def calls() -> None:
        for return_entity in (True, False):
            request = pb.BulkCreateBookingRequest(
                create_booking_requests=[item, item], return_entity=return_entity
            )
            owner.stub.BulkCreateBooking(request, metadata=owner.metadata)

    delta = after_calls(metrics_url, 2, calls)

    assert _by_type(delta, "bookings_created_total") == {"CLASS": 2, "UNKNOWN": 2}


def test_every_capacity_lock_taken_records_its_wait(env: BookingEnv, metrics_url: str) -> None:
    catalog = env.catalog

    delta = after_calls(
        metrics_url,
        1,
        lambda: env.visitor().create(class_booking(catalog.session, catalog.class_service)),
    )

    assert delta.value("bookings_capacity_lock_wait_seconds_count") == 1


def test_the_lock_wait_is_the_time_a_writer_waited_for_the_lock(
    sqlite_env: BookingEnv, metrics_url: str
) -> None:
    """On SQLite the capacity lock is the database's write lock, taken at BEGIN: a writer
    that waits for another process's transaction records that wait."""
    catalog = sqlite_env.catalog
    request = class_booking(catalog.session, catalog.class_service)
    visitor = sqlite_env.visitor()
    holder = _hold_sqlite_write_lock(sqlite_env.database_url)
    before = scrape(metrics_url)
    try:
        threading.Timer(0.8, holder.rollback).start()  # the call waits most of that
        visitor.create(request)
    finally:
        holder.close()
    delta = scrape_when(metrics_url, all_handled(before, 1)).minus(before)

    assert delta.value("bookings_capacity_lock_wait_seconds_count") == 1
    assert delta.value("bookings_capacity_lock_wait_seconds_bucket", le="0.25") == 0
    assert delta.value("bookings_capacity_lock_wait_seconds_bucket", le="2.5") == 1


def test_a_store_busy_answer_is_counted_by_its_reason(
    sqlite_url: str, start_server: StartServer, auth_metadata: AuthMetadata, metrics_url: str
) -> None:
    impatient = _with_metrics(start_server)
    with booking_env(
        sqlite_url, lambda **o: impatient(max_call_seconds=0.3, **o), auth_metadata
    ) as env:
        catalog = env.catalog
        holder = _hold_sqlite_write_lock(sqlite_url)
        try:
            request = class_booking(catalog.session, catalog.class_service)
            delta = after_calls(
                metrics_url, 1, lambda: failure(lambda: env.visitor().create(request))
            )
        finally:
            holder.rollback()
            holder.close()

    assert _by_reason(delta, "bookings_store_busy_answers_total") == {"STORE_BUSY": 1}
    assert delta.total("grpc_server_handled_total", grpc_code="UNAVAILABLE") == 1


def test_open_event_streams_are_the_watchers_gauge(env: BookingEnv, metrics_url: str) -> None:
    before = scrape(metrics_url).value("bookings_event_watchers")
    owner = env.client()
    stream = owner.stub.WatchBookingEvents(
        pb.WatchBookingEventsRequest(), metadata=owner.metadata, timeout=20
    )
    env.client().create(class_booking(env.catalog.session, env.catalog.class_service))
    next(stream)

    watching = scrape(metrics_url).value("bookings_event_watchers")
    stream.cancel()
    after = scrape_when(metrics_url, lambda s: s.value("bookings_event_watchers") == before)

    assert watching == before + 1
    assert after.value("bookings_event_watchers") == before
    assert (
        after.value(
            "grpc_server_handled_total",
            grpc_type="server_stream",
            grpc_service=BOOKINGS,
            grpc_method="WatchBookingEvents",
            grpc_code="CANCELLED",
        )
        >= 1
    )


def test_the_outbox_gauges_show_the_due_items_and_the_oldest_ones_wait(
    sqlite_env: BookingEnv, metrics_url: str
) -> None:
    now = datetime.now(UTC)
    _enqueue(sqlite_env.database_url, now - timedelta(seconds=60), now - timedelta(seconds=5))
    _enqueue(sqlite_env.database_url, now + timedelta(days=1))  # not due yet: no backlog

    result = scrape(metrics_url)

    assert result.value("bookings_outbox_backlog") == 2
    assert 60 <= result.value("bookings_outbox_oldest_due_age_seconds") < 90


def test_the_backlog_count_stops_at_its_cap_and_the_age_still_tells_the_oldest(
    sqlite_url: str,
) -> None:
    now = datetime.now(UTC)
    oldest = now - timedelta(hours=2)
    _enqueue(sqlite_url, oldest, *(now - timedelta(seconds=1),) * MAX_COUNTED)

    database = Database.from_url(sqlite_url)
    try:
        backlog = read_outbox_backlog(database, now, timeout_s=5)
    finally:
        database.dispose()

    assert backlog == OutboxBacklog(MAX_COUNTED, oldest)


def test_a_scrape_without_a_database_still_answers_without_the_outbox_gauges(
    start_server: StartServer, tmp_path: Any, metrics_url: str
) -> None:
    _with_metrics(start_server)(database_url=f"sqlite:///{tmp_path}/absent/dir/db.sqlite3")

    result = scrape(metrics_url)

    assert result.has("bookings_created_total")
    assert not result.has("bookings_outbox_backlog")


def _by_type(delta: Scrape, name: str) -> dict[str, float]:
    return _by_label(delta, name, "service_type")


def _by_reason(delta: Scrape, name: str) -> dict[str, float]:
    return _by_label(delta, name, "reason")


def _by_label(delta: Scrape, name: str, label: str) -> dict[str, float]:
    """The non-zero changes of `name`'s series, by the value of `label`."""
    return {
        dict(labels)[label]: value
        for (sample, labels), value in delta.samples.items()
        if sample == name and value
    }


def _hold_sqlite_write_lock(url: str) -> sqlite3.Connection:
    """Another connection (as another process would) holding SQLite's write lock."""
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False)
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _enqueue(url: str, *due: datetime) -> None:
    database = Database.from_url(url)
    try:
        with SqlUnitOfWork(database).write(SITE) as tx:
            for when in due:
                message = OutboxMessage(OutboxKind.BOOKING_EVENT, "booking-1", due_at=when)
                tx.outbox.enqueue(message, when)
    finally:
        database.dispose()
