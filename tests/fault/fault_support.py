"""Shared pieces of the fault suite (imported by its conftest and its tests)."""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from bookings.v1 import (
    availability_service_pb2,
    bookings_service_pb2,
    catalog_service_pb2,
)
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message_factory import GetMessageClass

from bookings_server.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import bench_harness as harness


@dataclass(frozen=True)
class FaultSize:
    name: str
    #: Hypothesis examples per RPC (structured requests; also per paged RPC for mutated page
    #: tokens, and for odd bearer tokens) and per RPC (random bytes). Large: over 100,000.
    examples_per_method: int
    bytes_per_method: int
    #: kill -9 cycles and seconds of load before each kill.
    crash_cycles: int
    load_seconds: float
    load_threads: int
    #: Class sessions of capacity 12 the crash load books (small: they fill up, large: the
    #: load keeps creating bookings through all cycles).
    crash_sessions: int


SIZES = {
    "small": FaultSize("small", 20, 20, 2, 1.0, 6, 8),
    "large": FaultSize("large", 2000, 1500, 10, 3.0, 16, 150),
}

#: Counters printed at the end of the run (requests tried, crashes survived, ...).
COUNTS: Counter[str] = Counter()


def all_methods() -> list[MethodDescriptor]:
    """Every RPC of the three bookings.v1 services."""
    methods = []
    for module in (bookings_service_pb2, availability_service_pb2, catalog_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            methods.extend(service.methods)
    return methods


def method_path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


@dataclass
class SeededServer:
    """An in-process server with a small catalog and a few bookings of site SITE_ID."""

    address: str
    config: Config
    metadata: harness.Metadata
    #: Real ids of every kind (staff, services, sessions, bookings) to mix into requests.
    ids: list[str]


def selected_size() -> FaultSize:
    name = os.environ.get("BOOKINGS_FAULT_SIZE", "small")
    if name not in SIZES:
        raise ValueError(f"BOOKINGS_FAULT_SIZE must be one of {sorted(SIZES)}, not {name!r}")
    return SIZES[name]


def seed_ids(address: str, metadata: harness.Metadata) -> list[str]:
    """Seed a small catalog and a few bookings; return their ids (for generated requests).

    RPCs not implemented yet (UNIMPLEMENTED) end the seeding early: the suite still fuzzes,
    only with fewer real ids.
    """
    ids: list[str] = []
    try:
        with harness.stubs(address, metadata) as api:
            catalog = harness.seed_catalog(api, staff=3, sessions=4, class_capacity=3)
            ids += [
                *catalog.staff_ids,
                catalog.small_service_id,
                catalog.large_service_id,
                catalog.class_service_id,
                *catalog.session_ids,
            ]
            for i, session_id in enumerate(catalog.session_ids):
                request = harness.create_booking_request(
                    session_id, catalog.class_service_id, f"fault-seed-{i}"
                )
                reply = api.bookings.CreateBooking(request, metadata=metadata)
                ids.append(reply.booking.id)
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise
    return ids


#: A unary call that takes longer than this is a hang.
CALL_TIMEOUT = 15.0
#: Streams follow live events; they are read for this long, then cut by the deadline.
STREAM_TIMEOUT = 0.5


def call_method(
    channel: grpc.Channel,
    method: MethodDescriptor,
    request: Any,
    metadata: list[tuple[str, str]],
    *,
    raw: bool = False,
    stream_timeout: float = STREAM_TIMEOUT,
) -> grpc.StatusCode:
    """Send one request (a message, or bytes when `raw`) and return the status code.

    A stream still open at `stream_timeout` counts as OK (it was following live events).
    """
    serializer = None if raw else GetMessageClass(method.input_type).SerializeToString
    path = method_path(method)
    try:
        if method.server_streaming:
            stream = channel.unary_stream(path, request_serializer=serializer)(
                request, metadata=metadata, timeout=stream_timeout
            )
            for _ in stream:
                pass
        else:
            channel.unary_unary(path, request_serializer=serializer)(
                request, metadata=metadata, timeout=CALL_TIMEOUT
            )
    except grpc.RpcError as error:
        code: grpc.StatusCode = error.code()
        if code == grpc.StatusCode.DEADLINE_EXCEEDED and method.server_streaming:
            return grpc.StatusCode.OK
        return code
    return grpc.StatusCode.OK
