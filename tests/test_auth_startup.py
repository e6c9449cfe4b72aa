"""Auth wiring: scope rules read at start-up, the principal inside handlers, keys, the CLI."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from bookings.v1 import bookings_service_pb2, bookings_service_pb2_grpc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import ServiceDescriptor

from bookings_server.api.auth.keys import SigningKeys, load_signing_keys
from bookings_server.api.auth.scopes import (
    ScopeRule,
    UndeclaredScopesError,
    read_scope_rules,
    services_named,
)
from bookings_server.api.auth.tokens import mint_token, verify_token
from bookings_server.api.context import current_principal
from bookings_server.api.interceptors.auth import AuthInterceptor
from bookings_server.api.interceptors.errors import ErrorMappingInterceptor
from bookings_server.api.servicers import SERVICE_NAMES
from bookings_server.cli.main import main
from bookings_server.cli.token import parse_ttl, print_local_owner_hint
from bookings_server.config import Config
from bookings_server.domain.identity import ALL_SCOPES, IdentityType, Scope
from bookings_server.server import build_server

if TYPE_CHECKING:
    from conftest import AuthMetadata, StartServer


def bookings_service_with_create_booking_unscoped() -> ServiceDescriptor:
    """A copy of BookingsService (another package) whose CreateBooking declares no scopes."""
    name = "bookings_test.v1.BookingsService"
    pool = descriptor_pool.Default()
    try:
        return pool.FindServiceByName(name)
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto()
    bookings_service_pb2.DESCRIPTOR.CopyToProto(file)
    file.name = "bookings_test/unscoped_bookings_service.proto"
    file.package = "bookings_test.v1"
    (create,) = [method for method in file.service[0].method if method.name == "CreateBooking"]
    create.ClearField("options")
    pool.AddSerializedFile(file.SerializeToString())
    return pool.FindServiceByName(name)


def test_every_served_rpc_declares_scopes() -> None:
    services = services_named(SERVICE_NAMES)
    rules = read_scope_rules(services)
    assert len(rules) == sum(len(service.methods) for service in services)
    assert all(rule.accepted_scopes for rule in rules.values())


def test_an_rpc_without_declared_scopes_is_named_when_reading_the_rules() -> None:
    with pytest.raises(UndeclaredScopesError) as raised:
        read_scope_rules([bookings_service_with_create_booking_unscoped()])
    assert raised.value.methods == ["/bookings_test.v1.BookingsService/CreateBooking"]


def test_the_server_refuses_to_start_when_an_rpc_declares_no_scopes(tmp_path: Path) -> None:
    guarded = (*services_named(SERVICE_NAMES), bookings_service_with_create_booking_unscoped())
    config = Config(address="127.0.0.1:0", data_dir=tmp_path)
    with pytest.raises(UndeclaredScopesError, match="CreateBooking"):
        build_server(config, guarded_services=guarded)


def test_the_rules_follow_the_proto_options() -> None:
    rules = read_scope_rules(services_named(SERVICE_NAMES))
    assert rules["/bookings.v1.BookingsService/CreateBooking"] == ScopeRule(
        (Scope.MANAGE_BOOKINGS, Scope.MANAGE_BOOKINGS_ALL)
    )
    assert set(rules["/bookings.v1.AvailabilityService/QueryAvailability"].accepted_scopes) == set(
        ALL_SCOPES
    )
    assert rules["/bookings.v1.CatalogService/CreateService"] == ScopeRule(
        (Scope.MANAGE_BOOKINGS_ALL,), frozenset({IdentityType.OWNER})
    )


KEYS = SigningKeys(secret="principal-test-secret-0123456789-abcdefgh", issuer="i", audience="a")
WHO = "/bookings_test.Probe/Who"
WHO_STREAM = "/bookings_test.Probe/WhoStream"
UNRULED = "/bookings_test.Probe/Unruled"


def who(request: bytes, context: grpc.ServicerContext) -> bytes:
    principal = current_principal()
    return f"{principal.site_id}/{principal.identity_type.value}/{principal.identity_id}".encode()


def who_stream(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
    for _ in range(3):
        yield current_principal().site_id.encode()


@pytest.fixture(scope="module")
def probe_channel() -> Iterator[grpc.Channel]:
    """A server with the real auth interceptor in front of handlers that echo the principal."""
    handlers = {
        "Who": grpc.unary_unary_rpc_method_handler(who),
        "WhoStream": grpc.unary_stream_rpc_method_handler(who_stream),
        "Unruled": grpc.unary_unary_rpc_method_handler(who),
    }
    rules = {WHO: ScopeRule((Scope.READ_CALENDAR,)), WHO_STREAM: ScopeRule((Scope.READ_CALENDAR,))}
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=2),
        interceptors=[AuthInterceptor(KEYS, rules), ErrorMappingInterceptor()],
    )
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("bookings_test.Probe", handlers)]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    server.stop(grace=None).wait()


def probe_token(site_id: str) -> list[tuple[str, str]]:
    token = mint_token(
        KEYS,
        site_id=site_id,
        identity_type=IdentityType.VISITOR,
        identity_id="visitor-9",
        scopes=[Scope.READ_CALENDAR],
    )
    return [("authorization", f"Bearer {token}")]


def test_the_handler_sees_the_verified_principal(probe_channel: grpc.Channel) -> None:
    answers = {
        site: probe_channel.unary_unary(WHO)(b"", metadata=probe_token(site), timeout=5)
        for site in ("site-a", "site-b", "site-c")
    }
    assert answers == {
        "site-a": b"site-a/VISITOR/visitor-9",
        "site-b": b"site-b/VISITOR/visitor-9",
        "site-c": b"site-c/VISITOR/visitor-9",
    }


def test_a_stream_keeps_its_principal_until_its_last_message(probe_channel: grpc.Channel) -> None:
    stream = probe_channel.unary_stream(WHO_STREAM)(b"", metadata=probe_token("site-s"), timeout=5)
    assert list(stream) == [b"site-s"] * 3


def test_a_registered_method_without_a_rule_is_refused(probe_channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        probe_channel.unary_unary(UNRULED)(b"", metadata=probe_token("site-a"), timeout=5)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_a_server_configured_with_an_es256_public_key_accepts_its_tokens(
    start_server: StartServer,
) -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    server = start_server(jwt_public_key=public_pem)
    issuer = SigningKeys(
        secret="unused-by-es256-0123456789-abcdefghijkl",
        issuer=server.config.jwt_issuer,
        audience=server.config.jwt_audience,
        public_key=public_pem,
        private_key=private_pem,
    )
    token = mint_token(
        issuer,
        site_id="site-a",
        identity_type=IdentityType.APP,
        identity_id="app-1",
        scopes=[Scope.MANAGE_BOOKINGS],
    )
    with grpc.insecure_channel(server.address) as channel:
        stub = bookings_service_pb2_grpc.BookingsServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.GetBooking(
                bookings_service_pb2.GetBookingRequest(booking_id="nope"),
                metadata=[("authorization", f"Bearer {token}")],
                timeout=5,
            )
    assert raised.value.code() not in (
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
    )


def test_the_auth_metadata_fixture_mints_with_the_servers_keys(
    start_server: StartServer, auth_metadata: AuthMetadata
) -> None:
    server = start_server()
    ((key, value),) = auth_metadata(server, site_id="site-z", identity="member", scopes=())
    principal = verify_token(load_signing_keys(server.config), value.removeprefix("Bearer "))
    assert key == "authorization"
    assert (principal.site_id, principal.identity_type, principal.scopes) == (
        "site-z",
        IdentityType.MEMBER,
        frozenset(),
    )


def mint_with_cli(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    assert main(["token", "mint", *arguments]) == 0
    output: str = capsys.readouterr().out
    assert output.count("\n") == 1
    return output.strip()


def test_token_mint_prints_only_a_token_for_the_data_dir_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOOKINGS_JWT_SECRET", raising=False)
    token = mint_with_cli(
        capsys, "--data-dir", str(tmp_path), "--site", "site-q", "--identity", "owner"
    )
    principal = verify_token(load_signing_keys(Config(data_dir=tmp_path)), token)
    assert principal.site_id == "site-q"
    assert principal.identity_type is IdentityType.OWNER
    assert principal.identity_id == "local-owner"
    assert principal.scopes == frozenset(ALL_SCOPES)


def test_token_mint_takes_scopes_permissions_id_and_ttl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOOKINGS_JWT_SECRET", raising=False)
    token = mint_with_cli(
        capsys,
        *("--data-dir", str(tmp_path), "--site", "s", "--identity", "visitor", "--id", "v-1"),
        *("--scope", Scope.READ_CALENDAR, "--permission", "BOOKINGS.MANAGE_PAYMENTS"),
        *("--ttl", "15m"),
    )
    principal = verify_token(load_signing_keys(Config(data_dir=tmp_path)), token)
    assert principal.identity_id == "v-1"
    assert principal.scopes == frozenset({Scope.READ_CALENDAR})
    assert principal.permissions == frozenset({"BOOKINGS.MANAGE_PAYMENTS"})


def test_token_mint_uses_the_secret_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "environment-secret-0123456789-abcdefghij"
    monkeypatch.setenv("BOOKINGS_JWT_SECRET", secret)
    token = mint_with_cli(capsys, "--data-dir", str(tmp_path), "--site", "s", "--identity", "app")
    verify_token(load_signing_keys(Config(data_dir=tmp_path / "x", jwt_secret=secret)), token)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604800)]
)
def test_ttls_read_as_durations(text: str, seconds: int) -> None:
    assert parse_ttl(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "0", "1w", "-5m", "h"])
def test_bad_ttls_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid ttl"):
        parse_ttl(text)


def test_serve_prints_a_local_owner_token_on_the_embedded_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Config(data_dir=tmp_path)
    print_local_owner_hint(config, 50123)
    out = capsys.readouterr().out
    token = out.splitlines()[1]
    assert verify_token(load_signing_keys(config), token).is_owner
    assert "grpcurl -plaintext" in out and "127.0.0.1:50123" in out


def test_serve_prints_no_token_when_a_secret_is_configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings: dict[str, Any] = {"jwt_secret": "configured-secret-0123456789-abcdefgh"}
    print_local_owner_hint(Config(data_dir=tmp_path, **settings), 50123)
    assert capsys.readouterr().out == ""
