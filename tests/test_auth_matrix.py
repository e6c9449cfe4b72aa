"""The auth matrix: every RPC, read from the descriptors, against every kind of credential.

A new RPC is covered automatically. One server serves the whole module; calls carry empty
requests, so "let through" means only that the auth layer did not refuse the call.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from bookings_server.api.auth.keys import SigningKeys, load_signing_keys
from bookings_server.api.auth.scopes import ScopeRule, method_path, read_scope_rules, services_named
from bookings_server.api.auth.tokens import mint_token
from bookings_server.api.servicers import SERVICE_NAMES
from bookings_server.config import Config
from bookings_server.domain.identity import ALL_SCOPES, IdentityType
from bookings_server.server import build_server

Metadata = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class ModuleServer:
    """The one server of this module."""

    config: Config
    address: str


def served_methods() -> list[MethodDescriptor]:
    """Every RPC of the served bookings.v1 services, straight from the descriptors."""
    return [method for service in services_named(SERVICE_NAMES) for method in service.methods]


@dataclass(frozen=True)
class Outcome:
    """How a call ended: its status code and the ErrorInfo, if any."""

    code: grpc.StatusCode
    error_info: error_details_pb2.ErrorInfo | None = None


def call_empty(
    channel: grpc.Channel, method: MethodDescriptor, metadata: Metadata | None
) -> Outcome:
    """Call `method` with an empty request; a stream is read to its first message or status."""
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    path = method_path(method)
    try:
        if method.server_streaming:
            stream = channel.unary_stream(
                path,
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString,
            )(request_class(), metadata=metadata, timeout=1.0)
            next(stream, None)
            stream.cancel()
        else:
            channel.unary_unary(
                path,
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString,
            )(request_class(), metadata=metadata, timeout=5.0)
    except grpc.RpcError as error:
        return Outcome(error.code(), error_info_of(error))
    return Outcome(grpc.StatusCode.OK)


def error_info_of(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    status = rpc_status.from_call(error)
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def passed_auth(outcome: Outcome) -> bool:
    """The auth layer let the call through (whatever the servicer answered next)."""
    if outcome.code is grpc.StatusCode.UNAUTHENTICATED:
        return False
    reason = outcome.error_info.reason if outcome.error_info else ""
    return not (outcome.code is grpc.StatusCode.PERMISSION_DENIED and reason == "MISSING_SCOPE")


METHODS = served_methods()
RULES = read_scope_rules(services_named(SERVICE_NAMES))


def rule_of(method: MethodDescriptor) -> ScopeRule:
    return RULES[method_path(method)]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[ModuleServer]:
    config = Config(address="127.0.0.1:0", data_dir=tmp_path_factory.mktemp("auth-matrix"))
    shutil.copyfile(sqlite_template, config.sqlite_path)
    grpc_server, port = build_server(config)
    grpc_server.start()
    yield ModuleServer(config, f"127.0.0.1:{port}")
    grpc_server.stop(grace=None).wait()


@pytest.fixture(scope="module")
def channel(server: ModuleServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as opened:
        yield opened


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def mint(
    keys: SigningKeys,
    *,
    site_id: str = "site-a",
    identity: IdentityType = IdentityType.APP,
    scopes: Sequence[str] = ALL_SCOPES,
    ttl: timedelta = timedelta(minutes=5),
) -> str:
    return mint_token(
        keys, site_id=site_id, identity_type=identity, identity_id="id-1", scopes=scopes, ttl=ttl
    )


def scopes_it_does_not_accept(method: MethodDescriptor) -> list[str]:
    return [scope for scope in ALL_SCOPES if scope not in rule_of(method).accepted_scopes]


#: Credential kind -> metadata for (server keys, method).
CREDENTIALS: dict[str, Callable[[SigningKeys, MethodDescriptor], Metadata | None]] = {
    "no token": lambda keys, method: None,
    "garbage": lambda keys, method: [("authorization", "Bearer not-a-jwt")],
    "not bearer": lambda keys, method: [("authorization", f"Basic {mint(keys)}")],
    "bad signature": lambda keys, method: bearer(
        mint(replace(keys, secret="another-secret-of-sufficient-length-0123"))
    ),
    "expired": lambda keys, method: bearer(mint(keys, ttl=timedelta(minutes=-5))),
    "wrong audience": lambda keys, method: bearer(mint(replace(keys, audience="elsewhere"))),
    "wrong issuer": lambda keys, method: bearer(mint(replace(keys, issuer="elsewhere"))),
    "valid without the scope": lambda keys, method: bearer(
        mint(keys, identity=IdentityType.MEMBER, scopes=scopes_it_does_not_accept(method))
    ),
    "valid with the scope": lambda keys, method: bearer(
        mint(keys, scopes=[rule_of(method).accepted_scopes[0]])
    ),
    "valid for another site": lambda keys, method: bearer(mint(keys, site_id="site-b")),
}
EXPECTED = {
    "no token": grpc.StatusCode.UNAUTHENTICATED,
    "garbage": grpc.StatusCode.UNAUTHENTICATED,
    "not bearer": grpc.StatusCode.UNAUTHENTICATED,
    "bad signature": grpc.StatusCode.UNAUTHENTICATED,
    "expired": grpc.StatusCode.UNAUTHENTICATED,
    "wrong audience": grpc.StatusCode.UNAUTHENTICATED,
    "wrong issuer": grpc.StatusCode.UNAUTHENTICATED,
    "valid without the scope": grpc.StatusCode.PERMISSION_DENIED,
    "valid with the scope": None,
    "valid for another site": None,
}


@pytest.mark.parametrize("credential", list(CREDENTIALS))
@pytest.mark.parametrize("method", METHODS, ids=[method_path(m) for m in METHODS])
def test_every_rpc_answers_each_credential_with_its_status(
    server: ModuleServer, channel: grpc.Channel, method: MethodDescriptor, credential: str
) -> None:
    keys = load_signing_keys(server.config)
    outcome = call_empty(channel, method, CREDENTIALS[credential](keys, method))
    expected = EXPECTED[credential]
    if expected is None:
        assert passed_auth(outcome), outcome
    else:
        assert outcome.code is expected, outcome
        assert outcome.error_info is not None
        assert outcome.error_info.domain == "bookings.v1"


@pytest.mark.parametrize("method", METHODS, ids=[method_path(m) for m in METHODS])
def test_permission_denied_names_the_scopes_that_would_have_been_accepted(
    server: ModuleServer, channel: grpc.Channel, method: MethodDescriptor
) -> None:
    keys = load_signing_keys(server.config)
    token = mint(keys, identity=IdentityType.VISITOR, scopes=())
    outcome = call_empty(channel, method, bearer(token))
    assert outcome.code is grpc.StatusCode.PERMISSION_DENIED
    assert outcome.error_info is not None
    assert outcome.error_info.reason == "MISSING_SCOPE"
    accepted = outcome.error_info.metadata["accepted_scopes"].split(",")
    assert set(accepted) == set(rule_of(method).accepted_scopes)


def test_the_matrix_covers_all_three_services_including_the_stream() -> None:
    paths = {method_path(method) for method in METHODS}
    assert "/bookings.v1.BookingsService/WatchBookingEvents" in paths
    assert "/bookings.v1.AvailabilityService/QueryAvailability" in paths
    assert "/bookings.v1.CatalogService/CreateService" in paths
    assert any(method.server_streaming for method in METHODS)


def catalog_writes() -> list[MethodDescriptor]:
    return [m for m in METHODS if IdentityType.OWNER in rule_of(m).granted_identities]


def test_catalog_writes_are_granted_to_owners() -> None:
    names = {method.name for method in catalog_writes()}
    assert {"CreateService", "UpdateService", "CreateSession", "CreateStaffMember"} <= names


@pytest.mark.parametrize("method", catalog_writes(), ids=lambda m: m.name)
def test_an_owner_without_scopes_may_write_the_catalog(
    server: ModuleServer, channel: grpc.Channel, method: MethodDescriptor
) -> None:
    token = mint(load_signing_keys(server.config), identity=IdentityType.OWNER, scopes=())
    assert passed_auth(call_empty(channel, method, bearer(token)))


def test_an_app_needs_the_all_permissions_scope_to_write_the_catalog(
    server: ModuleServer, channel: grpc.Channel
) -> None:
    (create_service,) = [m for m in METHODS if m.name == "CreateService"]
    keys = load_signing_keys(server.config)
    with_manage = mint(keys, scopes=["SCOPE.DC-BOOKINGS.MANAGE-BOOKINGS"])
    with_mega = mint(keys, scopes=["SCOPE.DC-BOOKINGS-MEGA.MANAGE-BOOKINGS"])
    denied = call_empty(channel, create_service, bearer(with_manage))
    assert denied.code is grpc.StatusCode.PERMISSION_DENIED
    assert denied.error_info is not None
    assert denied.error_info.metadata["granted_identities"] == "OWNER"
    assert passed_auth(call_empty(channel, create_service, bearer(with_mega)))


def test_an_owner_without_scopes_may_not_create_bookings(
    server: ModuleServer, channel: grpc.Channel
) -> None:
    (create_booking,) = [m for m in METHODS if m.name == "CreateBooking"]
    token = mint(load_signing_keys(server.config), identity=IdentityType.OWNER, scopes=())
    outcome = call_empty(channel, create_booking, bearer(token))
    assert outcome.code is grpc.StatusCode.PERMISSION_DENIED


def test_health_and_reflection_need_no_token(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    (answer,) = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
    )
    names = {service.name for service in answer.list_services_response.service}
    assert set(SERVICE_NAMES) <= names


def test_an_unknown_method_is_unimplemented_not_unauthenticated(channel: grpc.Channel) -> None:
    call = channel.unary_unary("/bookings.v1.BookingsService/NoSuchMethod")
    with pytest.raises(grpc.RpcError) as raised:
        call(b"", timeout=5)
    assert raised.value.code() is grpc.StatusCode.UNIMPLEMENTED


def test_refused_tokens_appear_in_no_log_record(
    server: ModuleServer, channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    keys = load_signing_keys(server.config)
    tokens = [
        mint(keys, ttl=timedelta(minutes=-5)),
        mint(replace(keys, audience="elsewhere")),
        mint(keys, identity=IdentityType.VISITOR, scopes=()),
    ]
    caplog.set_level("DEBUG")
    for token in tokens:
        outcome = call_empty(channel, METHODS[0], bearer(token))
        assert not passed_auth(outcome)
    assert caplog.records, "the access log should have recorded the calls"
    logged = caplog.text + "".join(repr(record.__dict__) for record in caplog.records)
    for token in tokens:
        assert token.split(".")[1] not in logged
        assert token.split(".")[2] not in logged
