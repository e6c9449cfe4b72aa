"""Per-site rate limits: a token bucket per site for reads and one for writes, refusing with
RESOURCE_EXHAUSTED, RATE_LIMITED, RetryInfo and QuotaFailure; off by default; health and
reflection never limited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
import pytest
from bookings.v1 import bookings_service_pb2, bookings_service_pb2_grpc
from conftest import AuthMetadata, RunningServer, StartServer
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status

from bookings_server.api.interceptors.rate_limit import is_read
from bookings_server.api.interceptors.token_buckets import Limit, TokenBuckets
from bookings_server.cli.main import build_parser


@dataclass(frozen=True)
class Outcome:
    """What one call answered: its code and, when rate limited, the details."""

    code: grpc.StatusCode
    reason: str = ""
    retry_delay: timedelta | None = None
    quota: tuple[tuple[str, str], ...] = ()

    @property
    def limited(self) -> bool:
        return self.reason == "RATE_LIMITED"


def outcome(call: Any, request: object, metadata: Metadata) -> Outcome:
    try:
        call(request, metadata=metadata, timeout=10)
    except grpc.RpcError as error:
        return _failed(error)
    return Outcome(grpc.StatusCode.OK)


def _failed(error: grpc.RpcError) -> Outcome:
    status = rpc_status.from_call(error)
    assert status is not None
    reason: str = ""
    delay: timedelta | None = None
    quota: tuple[tuple[str, str], ...] = ()
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            delay = retry.retry_delay.ToTimedelta()
        elif detail.Is(error_details_pb2.QuotaFailure.DESCRIPTOR):
            failure = error_details_pb2.QuotaFailure()
            detail.Unpack(failure)
            quota = tuple((v.subject, v.description) for v in failure.violations)
    return Outcome(error.code(), reason, delay, quota)


@dataclass
class Site:
    """Calls as one site: a write (CancelBooking) and a read (GetBooking), both of an id that
    does not exist, so each is a real call that answers NOT_FOUND unless limited."""

    stub: bookings_service_pb2_grpc.BookingsServiceStub
    metadata: Metadata

    def write(self) -> Outcome:
        request = bookings_service_pb2.CancelBookingRequest(booking_id="missing", revision=1)
        return outcome(self.stub.CancelBooking, request, self.metadata)

    def read(self) -> Outcome:
        request = bookings_service_pb2.GetBookingRequest(booking_id="missing")
        return outcome(self.stub.GetBooking, request, self.metadata)


@pytest.fixture
def channels() -> Iterator[list[grpc.Channel]]:
    opened: list[grpc.Channel] = []
    yield opened
    for channel in opened:
        channel.close()


def site(
    server: RunningServer,
    auth_metadata: AuthMetadata,
    channels: list[grpc.Channel],
    site_id: str = "site-a",
) -> Site:
    channel = grpc.insecure_channel(server.address)
    channels.append(channel)
    stub = bookings_service_pb2_grpc.BookingsServiceStub(channel)
    return Site(stub, tuple(auth_metadata(server, site_id=site_id)))


Metadata = tuple[tuple[str, str], ...]
NOT_FOUND = grpc.StatusCode.NOT_FOUND
LIMITED = grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_site_gets_its_burst_then_refusals_saying_when_to_retry(
    start_server: StartServer, auth_metadata: AuthMetadata, channels: list[grpc.Channel]
) -> None:
    server = start_server(rate_limit_writes=0.2, rate_limit_burst=3)
    client = site(server, auth_metadata, channels)

    outcomes = [client.write() for _ in range(5)]

    assert [o.code for o in outcomes] == [NOT_FOUND] * 3 + [LIMITED] * 2
    refused = outcomes[3]
    assert refused.reason == "RATE_LIMITED"
    assert refused.quota == (("site:site-a", "writes"),)
    assert refused.retry_delay is not None
    assert timedelta(seconds=4) < refused.retry_delay <= timedelta(seconds=5)


def test_a_refused_site_is_served_again_after_the_retry_delay(
    start_server: StartServer, auth_metadata: AuthMetadata, channels: list[grpc.Channel]
) -> None:
    server = start_server(rate_limit_writes=4, rate_limit_burst=1)
    client = site(server, auth_metadata, channels)
    refused = next(o for o in (client.write() for _ in range(10)) if o.limited)
    assert refused.retry_delay is not None

    time.sleep(refused.retry_delay.total_seconds())

    assert client.write().code == NOT_FOUND


def test_each_site_has_its_own_buckets(
    start_server: StartServer, auth_metadata: AuthMetadata, channels: list[grpc.Channel]
) -> None:
    server = start_server(rate_limit_writes=0.1, rate_limit_burst=1)
    first, second = (site(server, auth_metadata, channels, s) for s in ("site-a", "site-b"))

    codes = [first.write().code, first.write().code, second.write().code]

    assert codes == [NOT_FOUND, LIMITED, NOT_FOUND]


def test_reads_and_writes_are_limited_separately(
    start_server: StartServer, auth_metadata: AuthMetadata, channels: list[grpc.Channel]
) -> None:
    server = start_server(rate_limit_reads=0.1, rate_limit_writes=0.1, rate_limit_burst=1)
    client = site(server, auth_metadata, channels)

    writes = [client.write(), client.write()]
    reads = [client.read(), client.read()]

    assert [o.code for o in writes + reads] == [NOT_FOUND, LIMITED, NOT_FOUND, LIMITED]
    assert (writes[1].quota, reads[1].quota) == (
        (("site:site-a", "writes"),),
        (("site:site-a", "reads"),),
    )


def test_a_stream_takes_a_read_token_when_it_opens(
    start_server: StartServer, auth_metadata: AuthMetadata, channels: list[grpc.Channel]
) -> None:
    server = start_server(rate_limit_reads=0.1, rate_limit_burst=1)
    client = site(server, auth_metadata, channels)
    client.read()

    stream = client.stub.WatchBookingEvents(
        bookings_service_pb2.WatchBookingEventsRequest(), metadata=client.metadata, timeout=10
    )
    with pytest.raises(grpc.RpcError) as refused:
        next(iter(stream))

    assert _failed(refused.value).quota == (("site:site-a", "reads"),)


def test_health_and_reflection_are_never_limited(
    start_server: StartServer, auth_metadata: AuthMetadata, channels: list[grpc.Channel]
) -> None:
    server = start_server(rate_limit_reads=0.1, rate_limit_writes=0.1, rate_limit_burst=1)
    channel = grpc.insecure_channel(server.address)
    channels.append(channel)
    health = health_pb2_grpc.HealthStub(channel)

    statuses = [health.Check(health_pb2.HealthCheckRequest(), timeout=5).status for _ in range(10)]
    listings = [ProtoReflectionDescriptorDatabase(channel).get_services() for _ in range(5)]

    assert statuses == [health_pb2.HealthCheckResponse.SERVING] * 10
    assert all("grpc.health.v1.Health" in listed for listed in listings)


def test_there_is_no_limit_by_default(
    start_server: StartServer, auth_metadata: AuthMetadata, channels: list[grpc.Channel]
) -> None:
    client = site(start_server(), auth_metadata, channels)

    codes = {client.write().code for _ in range(30)} | {client.read().code for _ in range(30)}

    assert codes == {NOT_FOUND}


def test_the_flags_and_variables_set_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKINGS_RATE_LIMIT_READS", "50")

    args = build_parser().parse_args(["serve", "--rate-limit-writes", "5.5"])

    assert (args.rate_limit_reads, args.rate_limit_writes, args.rate_limit_burst) == (50, 5.5, 0)


@pytest.mark.parametrize(
    ("method", "read"),
    [
        ("/bookings.v1.BookingsService/GetBooking", True),
        ("/bookings.v1.BookingsService/QueryBookings", True),
        ("/bookings.v1.BookingsService/WatchBookingEvents", True),
        ("/bookings.v1.CatalogService/ListServices", True),
        ("/bookings.v1.AvailabilityService/QueryAvailability", True),
        ("/bookings.v1.BookingsService/CreateBooking", False),
        ("/bookings.v1.BookingsService/BulkConfirmOrDeclineBooking", False),
        ("/bookings.v1.CatalogService/DeleteService", False),
    ],
)
def test_reads_are_the_get_list_query_and_watch_methods(method: str, read: bool) -> None:
    assert is_read(method) is read


# ---- the buckets ---------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(Limit(rate=2, burst=3), clock)

    burst = [buckets.take("site") for _ in range(4)]
    clock.now += 0.25
    half_way = buckets.take("site")
    clock.now += 0.25
    refilled = buckets.take("site")
    clock.now += 60
    after_a_pause = [buckets.take("site") for _ in range(4)]

    assert burst == [0, 0, 0, 0.5]
    assert half_way == pytest.approx(0.25)
    assert refilled == 0
    assert after_a_pause[:3] == [0, 0, 0] and after_a_pause[3] > 0


def test_a_burst_of_zero_means_one_seconds_worth() -> None:
    assert (Limit.per_second(2.5, 0), Limit.per_second(0.1, 0), Limit.per_second(0, 9)) == (
        Limit(2.5, 3),
        Limit(0.1, 1),
        None,
    )


def test_buckets_that_are_full_again_are_forgotten() -> None:
    clock = Clock()
    buckets = TokenBuckets(Limit(rate=1, burst=1), clock)
    for number in range(100):
        buckets.take(f"site-{number}")

    clock.now += 61
    buckets.take("site-0")

    assert buckets.tracked() == 1
