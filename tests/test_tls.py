"""TLS and mTLS on the server's port: real certificates (trustme), the Python gRPC client.

Servers come from build_server on port 0 (conftest's start_server) with their TLS files in
tmp_path; `bookings serve` is started for what only the command shows (exit code, message).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import grpc
import pytest
from bookings.v1 import catalog_service_pb2, catalog_service_pb2_grpc
from conftest import AuthMetadata, RunningServer, StartServer
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    load_pem_private_key,
)
from grpc_health.v1 import health_pb2
from server_process import bookings_serve
from tls_certificates import Authority, KeyPair, server_health, tls_channel, write_chain, write_key

from bookings_server.tls import TlsConfigError

SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture
def server_ca(tmp_path: Path) -> Authority:
    return Authority(tmp_path, "server-ca")


@pytest.fixture
def client_ca(tmp_path: Path) -> Authority:
    return Authority(tmp_path, "client-ca")


@pytest.fixture
def server_pair(server_ca: Authority) -> KeyPair:
    return server_ca.issue("server")


@pytest.fixture
def tls_server(start_server: StartServer, server_pair: KeyPair) -> RunningServer:
    return start_server(tls_cert_file=server_pair.cert, tls_key_file=server_pair.key)


@pytest.fixture
def mtls_server(
    start_server: StartServer, server_pair: KeyPair, client_ca: Authority
) -> RunningServer:
    return start_server(
        tls_cert_file=server_pair.cert,
        tls_key_file=server_pair.key,
        tls_client_ca_file=client_ca.cert,
    )


def refused(channel: grpc.Channel) -> grpc.StatusCode:
    """The code of a health check that must fail."""
    with pytest.raises(grpc.RpcError) as failure:
        server_health(channel)
    code: grpc.StatusCode = failure.value.code()
    return code


def access_records(caplog: pytest.LogCaptureFixture, count: int) -> list[logging.LogRecord]:
    """The access-log records, once `count` have arrived (written as calls end)."""
    deadline = time.monotonic() + 5
    while True:
        records = [record for record in caplog.records if record.name == "bookings.access"]
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.01)


def tls_messages(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bookings.tls" and r.levelno == level]


# ------------------------------------------------------------------------------------- TLS


def test_a_client_trusting_the_servers_ca_checks_health_and_calls_the_api_over_tls(
    tls_server: RunningServer, server_ca: Authority, auth_metadata: AuthMetadata
) -> None:
    with tls_channel(tls_server.address, server_ca) as channel:
        health = server_health(channel)
        listed = catalog_service_pb2_grpc.CatalogServiceStub(channel).ListServices(
            catalog_service_pb2.ListServicesRequest(),
            metadata=tuple(auth_metadata(tls_server)),
            timeout=10,
        )

    assert health == SERVING
    assert list(listed.services) == []


def test_a_plaintext_client_cannot_call_a_tls_server(tls_server: RunningServer) -> None:
    with grpc.insecure_channel(tls_server.address) as channel:
        assert refused(channel) == grpc.StatusCode.UNAVAILABLE


def test_a_client_that_does_not_trust_the_servers_ca_fails_the_handshake(
    tls_server: RunningServer, tmp_path: Path
) -> None:
    with tls_channel(tls_server.address, Authority(tmp_path, "other-ca")) as channel:
        assert refused(channel) == grpc.StatusCode.UNAVAILABLE


# ------------------------------------------------------------------------------------ mTLS


def test_mtls_admits_a_client_with_a_certificate_of_the_client_ca(
    mtls_server: RunningServer, server_ca: Authority, client_ca: Authority
) -> None:
    client = client_ca.issue("client", "reports@example.com")

    with tls_channel(mtls_server.address, server_ca, client) as channel:
        assert server_health(channel) == SERVING


def test_mtls_refuses_a_client_without_a_certificate_before_any_handler_runs(
    mtls_server: RunningServer,
    server_ca: Authority,
    client_ca: Authority,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bookings.access")
    with tls_channel(mtls_server.address, server_ca) as channel:
        code = refused(channel)
    # A call that does reach the server is logged; the refused one never was.
    client = client_ca.issue("client", "reports@example.com")
    with tls_channel(mtls_server.address, server_ca, client) as channel:
        server_health(channel)

    assert code == grpc.StatusCode.UNAVAILABLE
    (only,) = access_records(caplog, 1)
    assert only.peer.startswith("ipv4:127.0.0.1:")  # type: ignore[attr-defined]


def test_mtls_refuses_a_client_certificate_of_another_ca(
    mtls_server: RunningServer, server_ca: Authority, tmp_path: Path
) -> None:
    stranger = Authority(tmp_path, "stranger-ca").issue("stranger", "stranger@example.com")

    with tls_channel(mtls_server.address, server_ca, stranger) as channel:
        assert refused(channel) == grpc.StatusCode.UNAVAILABLE


# -------------------------------------------------------------------------------- rotation


def test_new_connections_get_a_rotated_certificate_without_a_restart(
    tls_server: RunningServer, server_pair: KeyPair, server_ca: Authority, tmp_path: Path
) -> None:
    opened_before = tls_channel(tls_server.address, server_ca)
    assert server_health(opened_before) == SERVING
    new_ca = Authority(tmp_path, "new-server-ca")

    new_ca.issue_into(server_pair)

    with tls_channel(tls_server.address, new_ca) as channel:
        assert server_health(channel) == SERVING
    with tls_channel(tls_server.address, server_ca) as channel:
        assert refused(channel) == grpc.StatusCode.UNAVAILABLE
    # A connection keeps the session it negotiated.
    assert server_health(opened_before) == SERVING
    opened_before.close()


def test_a_half_written_rotation_keeps_the_previous_certificate_until_both_files_are_new(
    tls_server: RunningServer,
    server_pair: KeyPair,
    server_ca: Authority,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bookings.tls")
    new_ca = Authority(tmp_path, "new-server-ca")
    leaf = new_ca.leaf()

    write_chain(leaf, server_pair.cert)  # the key file still holds the previous key
    for _ in range(2):
        with tls_channel(tls_server.address, server_ca) as channel:
            assert server_health(channel) == SERVING
    write_key(leaf, server_pair.key)
    with tls_channel(tls_server.address, new_ca) as channel:
        assert server_health(channel) == SERVING

    (warning,) = tls_messages(caplog, logging.WARNING)  # once, not once per connection
    assert "is not the key of the first certificate" in warning.error  # type: ignore[attr-defined]
    (reloaded,) = tls_messages(caplog, logging.INFO)
    assert reloaded.getMessage() == "tls: certificates reloaded"
    new_subject = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).subject
    assert reloaded.subject == new_subject.rfc4514_string()  # type: ignore[attr-defined]


def test_a_rotated_client_ca_admits_its_clients_and_refuses_the_previous_cas(
    mtls_server: RunningServer, server_ca: Authority, client_ca: Authority, tmp_path: Path
) -> None:
    previous_client = client_ca.issue("previous-client", "previous@example.com")
    new_client_ca = Authority(tmp_path, "new-client-ca")
    new_client = new_client_ca.issue("new-client", "new@example.com")

    client_ca.cert.write_bytes(new_client_ca.cert.read_bytes())

    with tls_channel(mtls_server.address, server_ca, new_client) as channel:
        assert server_health(channel) == SERVING
    with tls_channel(mtls_server.address, server_ca, previous_client) as channel:
        assert refused(channel) == grpc.StatusCode.UNAVAILABLE


# -------------------------------------------------------------------------- startup errors


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (("cert",), "--tls-cert-file is set but --tls-key-file is not"),
        (("key",), "--tls-key-file is set but --tls-cert-file is not"),
        (("client_ca",), "--tls-client-ca-file needs --tls-cert-file and --tls-key-file"),
        (("key", "client_ca"), "--tls-key-file is set but --tls-cert-file is not"),
    ],
)
def test_an_incomplete_tls_setting_is_a_startup_error(
    start_server: StartServer,
    server_pair: KeyPair,
    client_ca: Authority,
    given: tuple[str, ...],
    message: str,
) -> None:
    files = {"cert": server_pair.cert, "key": server_pair.key, "client_ca": client_ca.cert}

    with pytest.raises(TlsConfigError, match=message):
        start_server(**{f"tls_{name}_file": files[name] for name in given})


def test_an_unreadable_tls_file_is_a_startup_error(
    start_server: StartServer, server_pair: KeyPair, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.key"

    expected = re.escape(f"cannot read --tls-key-file {missing}: No such file or directory")
    with pytest.raises(TlsConfigError, match=expected):
        start_server(tls_cert_file=server_pair.cert, tls_key_file=missing)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("cert", r"--tls-cert-file .* holds no valid PEM certificate"),
        ("key", r"--tls-key-file .* holds no usable PEM private key \(an unencrypted one\)"),
        ("client_ca", r"--tls-client-ca-file .* holds no valid PEM certificate"),
    ],
)
def test_a_tls_file_that_is_not_valid_pem_is_a_startup_error(
    start_server: StartServer,
    server_pair: KeyPair,
    client_ca: Authority,
    broken: str,
    message: str,
) -> None:
    files = {"cert": server_pair.cert, "key": server_pair.key, "client_ca": client_ca.cert}
    files[broken].write_text("-----BEGIN NOTHING-----\nnot base64\n-----END NOTHING-----\n")

    with pytest.raises(TlsConfigError, match=message):
        start_server(**{f"tls_{name}_file": path for name, path in files.items()})


def test_an_encrypted_key_is_a_startup_error(
    start_server: StartServer, server_pair: KeyPair
) -> None:
    key = load_pem_private_key(server_pair.key.read_bytes(), password=None)
    server_pair.key.write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"secret"))
    )

    with pytest.raises(TlsConfigError, match=r"no usable PEM private key.*encrypted"):
        start_server(tls_cert_file=server_pair.cert, tls_key_file=server_pair.key)


def test_a_key_of_another_certificate_is_a_startup_error(
    start_server: StartServer, server_pair: KeyPair, server_ca: Authority
) -> None:
    other = server_ca.issue("other")

    with pytest.raises(TlsConfigError, match="is not the key of the first certificate"):
        start_server(tls_cert_file=server_pair.cert, tls_key_file=other.key)


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        (("--tls-cert-file", "{cert}"), {}, "--tls-cert-file is set but --tls-key-file is not"),
        ((), {"BOOKINGS_TLS_CLIENT_CA_FILE": "{ca}"}, "--tls-client-ca-file needs"),
        (
            ("--tls-cert-file", "{cert}", "--tls-key-file", "{ca}"),
            {},
            "--tls-key-file {ca} holds no usable PEM private key",
        ),
    ],
    ids=["cert-without-key", "client-ca-alone-from-env", "certificate-as-key"],
)
def test_bookings_serve_with_unusable_tls_settings_exits_1_with_one_line_and_no_traceback(
    server_pair: KeyPair,
    client_ca: Authority,
    tmp_path: Path,
    flags: tuple[str, ...],
    env: dict[str, str],
    message: str,
) -> None:
    paths = {"cert": server_pair.cert, "ca": client_ca.cert}
    process = bookings_serve(
        tmp_path / "data",
        *(flag.format(**paths) for flag in flags),
        env={name: value.format(**paths) for name, value in env.items()},
    )

    assert process.wait() == 1
    stderr = "".join(process.stderr)
    assert f"bookings: {message.format(**paths)}" in stderr
    assert "Traceback" not in stderr
    assert not any("serving on port" in line for line in process.stdout)
