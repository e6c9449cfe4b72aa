"""Hostile input is harmless (RELIABILITY.md promise 6): generated requests for every RPC,
random bytes at the wire, mutated page tokens and odd bearer tokens never produce INTERNAL,
UNKNOWN (an unhandled exception), a crash or a hang; a refusal never shows server internals
(paths, exception names, SQL) and never changes the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bookings_server.api.auth.keys import load_signing_keys
from fault.fault_support import FaultSize, SeededServer, all_methods, harness, method_path
from fault.fuzz_answers import FAILURES, Answer, leaks, send, sent_texts
from fault.fuzz_harvest import PagedRequest, harvest, is_paged
from fault.fuzz_jwts import DrawnToken, odd_tokens
from fault.fuzz_page_tokens import mutated_token
from fault.fuzz_store import StoreWatch
from fault.proto_strategies import ServerValues, message_strategy

METHODS = all_methods()
PAGED = [method for method in METHODS if is_paged(method)]
UNARY = [method for method in METHODS if not method.server_streaming]


#: Requests per Hypothesis run; the store goes back to its seeded state before each run.
BATCH = 500


@dataclass
class FuzzTarget:
    """The seeded server, a channel to it, what it handed out, and a watch on its store."""

    server: SeededServer
    channel: grpc.Channel
    values: ServerValues
    paged: dict[str, PagedRequest]
    store: StoreWatch


@pytest.fixture(scope="module")
def target(
    seeded_server: SeededServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    options = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
    with grpc.insecure_channel(seeded_server.address, options=options) as channel:
        found = harvest(channel, METHODS, seeded_server.metadata, seeded_server.ids)
        values = ServerValues(
            tuple(seeded_server.ids), tuple(p.token for p in found.paged), found.examples
        )
        seeded_copy = tmp_path_factory.mktemp("fuzz-store") / "seeded.sqlite3"
        store = StoreWatch(seeded_server.config.sqlite_path, seeded_copy)
        try:
            yield FuzzTarget(
                seeded_server, channel, values, {p.method.name: p for p in found.paged}, store
            )
        finally:
            store.close()


def _settings(examples: int, size: FaultSize) -> settings:
    """The large size only generates: a failure is reported as drawn, without shrinking."""
    phases = (Phase.generate,) if size.name == "large" else tuple(Phase)
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _run(
    target: FuzzTarget,
    examples: int,
    size: FaultSize,
    check: Callable[..., None],
    **strategies: st.SearchStrategy[Any],
) -> None:
    """`check` on `examples` draws of `strategies`, in runs of at most BATCH, each on the
    seeded store."""
    full, rest = divmod(examples, BATCH)
    for batch in [BATCH] * full + [rest] * bool(rest):
        target.store.restore_seeded()
        _settings(batch, size)(given(**strategies)(check))()


def _exchange(
    target: FuzzTarget,
    method: MethodDescriptor,
    request: Message | bytes,
    metadata: list[tuple[str, str]] | None = None,
) -> Answer:
    """Send one request and check what every answer must be; return the answer."""
    target.store.snapshot()
    answer = send(target.channel, method, request, metadata or target.server.metadata)
    assert answer.code not in FAILURES, f"{method.name} answered {answer} to {request!r}"
    assert answer.code != grpc.StatusCode.DEADLINE_EXCEEDED, f"{method.name} hung on {request!r}"
    if answer.code != grpc.StatusCode.OK:
        found = leaks(answer.texts, [method_path(method), *sent_texts(request)])
        assert not found, f"{method.name} answered {answer} to {request!r}: shows {found}"
        assert not target.store.changed(), (
            f"{method.name} refused {request!r} with {answer} but changed the store"
        )
    return answer


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_generated_requests_are_answered_precisely(
    method: MethodDescriptor,
    target: FuzzTarget,
    fault_size: FaultSize,
    fault_counts: Counter[str],
) -> None:
    codes: Counter[str] = Counter()

    def one(request: Message) -> None:
        fault_counts["generated requests tried"] += 1
        codes[_exchange(target, method, request).code.name] += 1

    requests = message_strategy(method.input_type, target.values)
    _run(target, fault_size.examples_per_method, fault_size, one, request=requests)
    assert sum(codes.values()) > 0


def _mutations(method: MethodDescriptor, values: ServerValues) -> st.SearchStrategy[bytes]:
    """Random bytes, and encodings of real requests truncated or with bytes flipped."""
    encoded = message_strategy(method.input_type, values).map(lambda m: m.SerializeToString())

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
    target: FuzzTarget,
    fault_size: FaultSize,
    fault_counts: Counter[str],
) -> None:
    def one(data: bytes) -> None:
        fault_counts["random byte requests tried"] += 1
        _exchange(target, method, data)

    mutations = _mutations(method, target.values)
    _run(target, fault_size.bytes_per_method, fault_size, one, data=mutations)


@pytest.mark.parametrize("method", PAGED, ids=lambda m: m.name)
def test_a_mutated_real_page_token_is_invalid_argument_on_page_token_or_a_page(
    method: MethodDescriptor,
    target: FuzzTarget,
    fault_size: FaultSize,
    fault_counts: Counter[str],
) -> None:
    """The request that got the token, sent again with the token changed."""
    paged = target.paged.get(method.name)
    assert paged is not None, f"{method.name} handed out no page token for a one-item page"

    def one(token: str) -> None:
        fault_counts["mutated page tokens tried"] += 1
        request = GetMessageClass(method.input_type)()
        request.CopyFrom(paged.request)
        request.page_token = token  # type: ignore[attr-defined]
        answer = _exchange(target, method, request)
        assert answer.code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), answer
        if answer.code == grpc.StatusCode.INVALID_ARGUMENT:
            assert "page_token" in answer.details, answer

    tokens = mutated_token(paged.token)
    _run(target, fault_size.examples_per_method, fault_size, one, token=tokens)


def _bearer(drawn: DrawnToken) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {drawn.token}")]


def test_a_token_with_a_malformed_claim_is_invalid_token_and_a_good_one_gets_in(
    target: FuzzTarget, fault_size: FaultSize, fault_counts: Counter[str]
) -> None:
    """docs/auth.md: a malformed claim (a time as a string, an id of the wrong type...) or
    header is UNAUTHENTICATED / INVALID_TOKEN, whatever the RPC; odd but valid claims pass."""
    keys = load_signing_keys(target.server.config)
    tokens = odd_tokens(
        secret=keys.secret,
        issuer=keys.issuer,
        audience=keys.audience,
        site_id=harness.SITE_ID,
    )

    def one(drawn: DrawnToken, method: MethodDescriptor) -> None:
        fault_counts["odd bearer tokens tried"] += 1
        request = GetMessageClass(method.input_type)()
        answer = _exchange(target, method, request, _bearer(drawn))
        assert not any(drawn.token in text for text in answer.texts)
        if drawn.malformed:
            assert (answer.code, answer.reason) == (
                grpc.StatusCode.UNAUTHENTICATED,
                "INVALID_TOKEN",
            ), answer
        else:
            assert answer.code != grpc.StatusCode.UNAUTHENTICATED, answer

    methods = st.sampled_from(UNARY)
    _run(target, fault_size.examples_per_method, fault_size, one, drawn=tokens, method=methods)


def test_server_survives_the_fuzzing(target: FuzzTarget) -> None:
    """Run last in this module: the server still answers health checks."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    health = health_pb2_grpc.HealthStub(target.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
