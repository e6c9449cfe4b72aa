"""The JSON line format (logs.py) and the access-log interceptor's fast path, without a server."""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import grpc
import pytest

from bookings_server.api.interceptors.access_log import AccessLogInterceptor, new_call_id
from bookings_server.logs import JsonFormatter, _utc_timestamp, current_call_id


@pytest.mark.parametrize(
    "fraction", [0.0, 0.0005, 0.0015, 0.4995, 0.9995, 0.9999994, 0.9999995, 0.9999996]
)
def test_the_timestamp_is_datetimes_isoformat_to_the_millisecond(fraction: float) -> None:
    moments = [math.floor(random.uniform(0, 4e9)) + fraction for _ in range(200)]
    moments += [random.uniform(0, 4e9) for _ in range(2000)]
    for moment in moments:
        expected = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
        assert _utc_timestamp(moment) == expected, moment


def record(**extra: Any) -> logging.LogRecord:
    return logging.getLogger("bookings.access").makeRecord(
        "bookings.access", logging.INFO, __file__, 1, "rpc", (), None, extra=extra
    )


def test_extra_fields_follow_the_standard_ones_in_the_order_given() -> None:
    line = JsonFormatter().format(record(method="/a.B/C", code="OK", duration_ms=1.5, peer="x"))

    assert list(json.loads(line)) == [
        "ts",
        "level",
        "logger",
        "message",
        "method",
        "code",
        "duration_ms",
        "peer",
    ]


def test_what_another_formatter_stored_on_the_record_is_not_a_field() -> None:
    shared = record(code="OK")
    logging.Formatter("%(asctime)s %(message)s").format(shared)  # sets message and asctime

    entry = json.loads(JsonFormatter().format(shared))

    assert "asctime" not in entry
    assert entry["message"] == "rpc"
    assert entry["code"] == "OK"


def test_with_pid_every_line_names_the_process_that_wrote_it() -> None:
    with_pid = json.loads(JsonFormatter(with_pid=True).format(record(code="OK")))
    without = json.loads(JsonFormatter().format(record(code="OK")))

    assert with_pid["pid"] == record().process
    assert "pid" not in without


class FakeContext:
    """What the interceptor asks of a grpc.ServicerContext, for a call that ends OK."""

    def __init__(self) -> None:
        self.callbacks: list[Any] = []

    def add_callback(self, callback: Any) -> bool:
        self.callbacks.append(callback)
        return True

    def is_active(self) -> bool:
        return True

    def peer(self) -> str:
        return "ipv4:127.0.0.1:52770"

    def code(self) -> None:
        return None

    def details(self) -> None:
        return None

    def time_remaining(self) -> None:
        return None


class Details:
    method = "/grpc.health.v1.Health/Check"


def call(handler_body: Any) -> FakeContext:
    """One unary call through the access-log interceptor; its callbacks run as grpc would."""
    handler: grpc.RpcMethodHandler[Any, Any] = grpc.unary_unary_rpc_method_handler(handler_body)
    details: Any = Details()
    wrapped = AccessLogInterceptor().intercept_service(lambda _: handler, details)
    assert wrapped is not None and wrapped.unary_unary is not None
    context = FakeContext()
    wrapped.unary_unary(b"", cast(grpc.ServicerContext, context))
    for callback in context.callbacks:
        callback()
    return context


@pytest.fixture
def access_records() -> Iterator[list[logging.LogRecord]]:
    """The records `bookings.access` hands its handlers (level left to the test)."""

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    records: list[logging.LogRecord] = []
    logger = logging.getLogger("bookings.access")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_access_line_has_every_documented_field_and_the_calls_id(
    access_records: list[logging.LogRecord],
) -> None:
    logging.getLogger("bookings.access").setLevel(logging.INFO)
    seen: list[str | None] = []

    call(lambda request, context: seen.append(current_call_id.get()))

    (line,) = access_records
    entry = json.loads(JsonFormatter().format(line))
    assert entry["message"] == "rpc"
    assert entry["method"] == "/grpc.health.v1.Health/Check"
    assert entry["code"] == "OK"
    assert entry["duration_ms"] >= 0
    assert entry["peer"] == "ipv4:127.0.0.1:52770"
    assert entry["call_id"] == seen[0]


def test_with_info_off_no_line_is_built_but_the_call_still_has_an_id(
    access_records: list[logging.LogRecord],
) -> None:
    logging.getLogger("bookings.access").setLevel(logging.WARNING)
    seen: list[str | None] = []

    context = call(lambda request, context: seen.append(current_call_id.get()))

    assert access_records == []
    assert context.callbacks == []  # nothing to do when the call ends
    assert seen[0] is not None and len(seen[0]) == 16
    assert current_call_id.get() is None  # reset after the call


def test_call_ids_are_sixteen_hex_digits_and_do_not_repeat() -> None:
    ids = [new_call_id() for _ in range(100_000)]

    assert len(set(ids)) == len(ids)
    assert all(len(call_id) == 16 and set(call_id) <= set("0123456789abcdef") for call_id in ids)


def test_call_ids_do_not_follow_the_global_random_seed() -> None:
    state = random.getstate()
    try:
        random.seed(7)
        first = new_call_id()
        random.seed(7)
        second = new_call_id()
    finally:
        random.setstate(state)

    assert second != first
