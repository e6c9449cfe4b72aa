"""Hostile input is harmless (RELIABILITY.md promise 6): generated requests for every RPC and
random bytes at the wire never produce INTERNAL, UNKNOWN (an unhandled exception), a crash or
a hang."""

from __future__ import annotations

from collections import Counter
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fault.fault_support import FaultSize, SeededServer, all_methods, call_method
from fault.proto_strategies import message_strategy

#: Answers that mean the server failed rather than judged the request.
FAILURES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}

METHODS = all_methods()


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _check(code: grpc.StatusCode, method: MethodDescriptor, request: Any) -> None:
    assert code not in FAILURES, f"{method.name} answered {code.name} to {request!r}"
    assert code != grpc.StatusCode.DEADLINE_EXCEEDED, f"{method.name} hung on {request!r}"


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_generated_requests_are_answered_precisely(
    method: MethodDescriptor,
    channel: grpc.Channel,
    seeded_server: SeededServer,
    fault_size: FaultSize,
    fault_counts: Counter[str],
) -> None:
    codes: Counter[str] = Counter()

    @_settings(fault_size.examples_per_method)
    @given(request=message_strategy(method.input_type, seeded_server.ids))
    def one(request: Message) -> None:
        code = call_method(channel, method, request, seeded_server.metadata)
        codes[code.name] += 1
        fault_counts["generated requests tried"] += 1
        _check(code, method, request)

    one()
    assert sum(codes.values()) > 0


def _mutations(method: MethodDescriptor, ids: list[str]) -> st.SearchStrategy[bytes]:
    """Random bytes, and encodings of real requests truncated or with bytes flipped."""
    encoded = message_strategy(method.input_type, ids).map(lambda m: m.SerializeToString())

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(encoded))
        if not data:
            return draw(st.binary(min_size=1, max_size=64))
        if draw(st.booleans()):
            return bytes(data[: draw(st.integers(0, len(data) - 1))])
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)

    return st.one_of(
        st.binary(max_size=256),
        mutated(),
        st.sampled_from(
            [
                b"\xff" * 16,  # invalid tag / varint overflow
                b"\x0a\xff\xff\xff\xff\x0f",  # length-delimited field claiming 4 GiB
                b"\x08" + b"\xff" * 10,  # 10-byte varint
                b"\x0a\x02\xc3\x28",  # invalid UTF-8 in a string field
                b"\x0b\x0c",  # deprecated group start/end
            ]
        ),
    )


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_random_bytes_at_the_wire_are_answered_precisely(
    method: MethodDescriptor,
    channel: grpc.Channel,
    seeded_server: SeededServer,
    fault_size: FaultSize,
    fault_counts: Counter[str],
) -> None:
    @_settings(fault_size.bytes_per_method)
    @given(data=_mutations(method, seeded_server.ids))
    def one(data: bytes) -> None:
        code = call_method(channel, method, data, seeded_server.metadata, raw=True)
        fault_counts["random byte requests tried"] += 1
        _check(code, method, data)

    one()


def test_server_survives_the_fuzzing(channel: grpc.Channel) -> None:
    """Run last in this module: the server still answers health checks."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
