"""Oversized requests, huge repeated fields and absurd ranges are refused up front
(RELIABILITY.md promise 6) with RESOURCE_EXHAUSTED or INVALID_ARGUMENT."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from bookings.v1 import availability_service_pb2
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor

from fault.fault_support import (
    CALL_TIMEOUT,
    SeededServer,
    all_methods,
    call_method,
    harness,
)
from fault.proto_strategies import repeated_paths, with_huge_repeated

REFUSALS = {grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT}
#: Far more entries than any list in the contract may hold (pages <= 1000, recurrences <= 500).
HUGE = 10_000

REPEATED = [
    (method, path) for method in all_methods() for path in repeated_paths(method.input_type)
]


def _path_name(item: tuple[MethodDescriptor, tuple[FieldDescriptor, ...]]) -> str:
    method, path = item
    return f"{method.name}:{'.'.join(f.name for f in path)}"


@pytest.mark.parametrize("method", all_methods(), ids=lambda m: m.name)
def test_message_over_the_size_limit_is_refused(
    method: MethodDescriptor,
    channel: grpc.Channel,
    seeded_server: SeededServer,
    fault_counts: Counter[str],
) -> None:
    oversized = b"\x0a" + _varint(seeded_server.config.max_message_bytes + 1024)
    oversized += b"x" * (seeded_server.config.max_message_bytes + 1024)
    # A refusal comes at once; the long deadline keeps a slow upload from passing for a stream.
    code = call_method(
        channel, method, oversized, seeded_server.metadata, raw=True, stream_timeout=CALL_TIMEOUT
    )
    fault_counts["oversized requests refused"] += 1
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize("item", REPEATED, ids=_path_name)
def test_huge_repeated_field_is_refused(
    item: tuple[MethodDescriptor, tuple[FieldDescriptor, ...]],
    channel: grpc.Channel,
    seeded_server: SeededServer,
    fault_counts: Counter[str],
) -> None:
    method, path = item
    request = with_huge_repeated(method.input_type, path, HUGE)
    assert request.ByteSize() < seeded_server.config.max_message_bytes
    code = call_method(channel, method, request, seeded_server.metadata)
    fault_counts["huge repeated fields refused"] += 1
    assert code in REFUSALS, f"{_path_name(item)} with {HUGE} entries answered {code.name}"


@pytest.mark.parametrize("days", [32, 366, 3650 * 100])
def test_absurd_availability_range_is_refused(
    days: int, channel: grpc.Channel, seeded_server: SeededServer
) -> None:
    start = datetime.now(UTC)
    request = availability_service_pb2.QueryAvailabilityRequest(
        service_id=[seeded_server.ids[3] if len(seeded_server.ids) > 3 else "unknown"],
        start_date=harness.ts(start),
        end_date=harness.ts(start + timedelta(days=min(days, 2_900_000))),
    )
    method = availability_service_pb2.DESCRIPTOR.services_by_name[
        "AvailabilityService"
    ].methods_by_name["QueryAvailability"]
    code = call_method(channel, method, request, seeded_server.metadata)
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
