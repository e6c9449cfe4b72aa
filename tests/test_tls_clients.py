"""TLS and mTLS with the real clients: grpcurl, buf curl and the Node.js example, against
`bookings serve` processes with certificates made on the fly (trustme).

Two servers serve the module, both on the demo catalog: one with TLS from the flags, one with
mTLS from the BOOKINGS_TLS_* variables. The file names are those of docs/operations.md, whose
TLS commands run here verbatim. Node.js and npm are required, as in tests/test_examples.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from bookings.v1 import booking_pb2, bookings_service_pb2, bookings_service_pb2_grpc
from demo_server import ROOT, DemoServer
from server_process import bookings_serve
from test_examples import NODE_EXAMPLE, install_node_dependencies
from tls_certificates import Authority, KeyPair, server_health, tls_channel

VENV_BIN = Path(sys.executable).parent
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
DOC_ADDRESS = "localhost:50051"
_DOC_BLOCK = re.compile(r"<!-- tls-commands: (tls|mtls) -->\n```sh\n(.*?)```", re.DOTALL)
_CONFIRMED = re.compile(r"^confirmed booking (\S+): BOOKING_STATUS_CONFIRMED,", re.MULTILINE)
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Pki:
    """The files of docs/operations.md: ca.pem, server.pem/.key, client-ca.pem, client.pem/.key."""

    directory: Path
    server_ca: Authority
    server: KeyPair
    client_ca: Authority
    client: KeyPair


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    server_ca = Authority(directory, "ca")
    client_ca = Authority(directory, "client-ca")
    return Pki(
        directory,
        server_ca,
        server_ca.issue("server"),
        client_ca,
        client_ca.issue("client", "reports@example.com"),
    )


def serve(data_dir: Path, *flags: str, env: dict[str, str] | None = None) -> DemoServer:
    """`bookings serve` on a free port of the embedded default; once it says it is serving."""
    process = bookings_serve(data_dir, *flags, env=env)
    try:
        return DemoServer(process, process.port(), data_dir)
    except AssertionError:
        process.stop()
        raise


def tls_flags(pki: Pki) -> tuple[str, ...]:
    return ("--tls-cert-file", str(pki.server.cert), "--tls-key-file", str(pki.server.key))


def mtls_environment(pki: Pki) -> dict[str, str]:
    return {
        "BOOKINGS_TLS_CERT_FILE": str(pki.server.cert),
        "BOOKINGS_TLS_KEY_FILE": str(pki.server.key),
        "BOOKINGS_TLS_CLIENT_CA_FILE": str(pki.client_ca.cert),
    }


@pytest.fixture(scope="module")
def tls_server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = serve(tmp_path_factory.mktemp("tls") / "data", *tls_flags(pki))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mtls_server(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = serve(tmp_path_factory.mktemp("mtls") / "data", env=mtls_environment(pki))
    yield server
    server.stop()


def dialled(server: DemoServer) -> str:
    """The address clients dial: the name the server's certificate holds."""
    return f"localhost:{server.port}"


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", **env},
    )


def grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    return run([str(VENV_BIN / "grpcurl"), *args])


def buf_curl(*args: str) -> subprocess.CompletedProcess[str]:
    return run([str(VENV_BIN / "buf"), "curl", "--protocol", "grpc", *args])


# ---------------------------------------------------------------------- grpcurl, buf curl


def test_grpcurl_with_the_ca_lists_the_services_by_reflection_and_checks_health_over_tls(
    tls_server: DemoServer, pki: Pki
) -> None:
    listed = grpcurl("-cacert", str(pki.server_ca.cert), dialled(tls_server), "list")
    health = grpcurl(
        "-cacert",
        str(pki.server_ca.cert),
        "-d",
        '{"service": "bookings.v1.BookingsService"}',
        dialled(tls_server),
        "grpc.health.v1.Health/Check",
    )

    assert listed.returncode == 0, listed.stderr
    assert set(listed.stdout.split()) >= {
        "bookings.v1.BookingsService",
        "bookings.v1.AvailabilityService",
        "bookings.v1.CatalogService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    assert health.returncode == 0, health.stderr
    assert '"status": "SERVING"' in health.stdout


def test_grpcurl_with_a_client_certificate_calls_an_mtls_server_set_up_from_the_environment(
    mtls_server: DemoServer, pki: Pki
) -> None:
    token = mtls_server.mint_token()

    result = grpcurl(
        *("-cacert", str(pki.server_ca.cert)),
        *("-cert", str(pki.client.cert), "-key", str(pki.client.key)),
        *("-H", f"authorization: Bearer {token}", "-d", "{}"),
        dialled(mtls_server),
        "bookings.v1.CatalogService/ListServices",
    )

    assert result.returncode == 0, result.stderr
    assert '"name": "Haircut"' in result.stdout


def test_grpcurl_without_a_client_certificate_cannot_dial_an_mtls_server(
    mtls_server: DemoServer, pki: Pki
) -> None:
    result = grpcurl("-cacert", str(pki.server_ca.cert), dialled(mtls_server), "list")

    assert result.returncode != 0
    assert f'Failed to dial target host "{dialled(mtls_server)}"' in result.stderr


def test_buf_curl_checks_health_over_mtls_with_its_cacert_cert_and_key_flags(
    mtls_server: DemoServer, pki: Pki
) -> None:
    result = buf_curl(
        *("--cacert", str(pki.server_ca.cert)),
        *("--cert", str(pki.client.cert), "--key", str(pki.client.key)),
        f"https://{dialled(mtls_server)}/grpc.health.v1.Health/Check",
    )

    assert result.returncode == 0, result.stderr
    assert '"status": "SERVING"' in result.stdout


# -------------------------------------------------------------------------------- Node.js


def node_client(server: DemoServer, **env: str) -> subprocess.CompletedProcess[str]:
    """The Node example against `server` with the owner token and the given TLS variables."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Node.js example needs Node.js >= 18 and npm")
    install_node_dependencies()
    return run(
        [node, str(NODE_EXAMPLE / "client.js")],
        BOOKINGS_TOKEN=server.mint_token(),
        BOOKINGS_ADDRESS=dialled(server),
        **env,
    )


def confirmed_on_the_server(
    result: subprocess.CompletedProcess[str], channel: grpc.Channel, token: str
) -> bool:
    """The client reports a confirmed booking, and GetBooking (over TLS) agrees."""
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    confirmed = _CONFIRMED.search(result.stdout)
    assert confirmed is not None, result.stdout
    stored = (
        bookings_service_pb2_grpc.BookingsServiceStub(channel)
        .GetBooking(
            bookings_service_pb2.GetBookingRequest(booking_id=confirmed.group(1)),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
        .booking
    )
    return bool(stored.status == booking_pb2.BOOKING_STATUS_CONFIRMED)


def test_node_client_books_over_tls_trusting_the_ca_of_bookings_ca_file(
    tls_server: DemoServer, pki: Pki
) -> None:
    result = node_client(tls_server, BOOKINGS_CA_FILE=str(pki.server_ca.cert))

    with tls_channel(tls_server.address, pki.server_ca) as channel:
        assert confirmed_on_the_server(result, channel, tls_server.mint_token())


def test_node_client_books_over_mtls_with_its_client_certificate_and_key(
    mtls_server: DemoServer, pki: Pki
) -> None:
    result = node_client(
        mtls_server,
        BOOKINGS_CA_FILE=str(pki.server_ca.cert),
        BOOKINGS_CLIENT_CERT_FILE=str(pki.client.cert),
        BOOKINGS_CLIENT_KEY_FILE=str(pki.client.key),
    )

    with tls_channel(mtls_server.address, pki.server_ca, pki.client) as channel:
        assert confirmed_on_the_server(result, channel, mtls_server.mint_token())


def test_node_client_without_a_client_certificate_fails_against_mtls_with_unavailable(
    mtls_server: DemoServer, pki: Pki
) -> None:
    result = node_client(mtls_server, BOOKINGS_CA_FILE=str(pki.server_ca.cert))

    assert result.returncode == 1, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "error: ListServices failed: UNAVAILABLE (14)" in result.stderr


# ----------------------------------------------------------------------- the server's logs


def refused_handshakes(server: DemoServer, pki: Pki) -> None:
    """A client without a certificate, then a plaintext one: both UNAVAILABLE."""
    for channel in (
        tls_channel(server.address, pki.server_ca),
        grpc.insecure_channel(server.address),
    ):
        with channel, pytest.raises(grpc.RpcError) as refused:
            server_health(channel)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def mtls_flags(pki: Pki) -> tuple[str, ...]:
    return (*tls_flags(pki), "--tls-client-ca-file", str(pki.client_ca.cert))


def test_a_failed_handshake_is_one_grpc_core_line_on_stderr_and_never_an_access_log_line(
    pki: Pki, tmp_path: Path
) -> None:
    server = serve(tmp_path / "data", *mtls_flags(pki))
    try:
        refused_handshakes(server, pki)
        no_certificate = server.process.wait_for_stderr(
            lambda line: "PEER_DID_NOT_RETURN_A_CERTIFICATE" in line
        )
        plaintext = server.process.wait_for_stderr(lambda line: "WRONG_VERSION_NUMBER" in line)
    finally:
        server.stop()

    for line in (no_certificate, plaintext):
        assert "ssl_transport_security.cc" in line and "Handshake failed" in line
    assert not [line for line in server.process.stderr if '"bookings.access"' in line]


def test_grpc_verbosity_error_hides_the_handshake_lines(pki: Pki, tmp_path: Path) -> None:
    server = serve(tmp_path / "data", *mtls_flags(pki), env={"GRPC_VERBOSITY": "ERROR"})
    try:
        refused_handshakes(server, pki)
        # A call that gets through, so that every earlier line has been written.
        with tls_channel(server.address, pki.server_ca, pki.client) as channel:
            server_health(channel)
        server.process.wait_for_stderr(lambda line: '"bookings.access"' in line)
    finally:
        server.stop()

    assert not [line for line in server.process.stderr if "Handshake failed" in line]


# --------------------------------------------------------------- docs/operations.md, verbatim


@dataclass(frozen=True)
class DocCommand:
    """A grpcurl or buf curl line of a `tls-commands` block and the `# =>` texts under it."""

    server: str
    line: str
    expected: tuple[str, ...] = ()

    @property
    def must_fail(self) -> bool:
        return any(text.startswith("Failed to dial") for text in self.expected)


def doc_commands() -> list[DocCommand]:
    commands: list[DocCommand] = []
    for server, block in _DOC_BLOCK.findall(OPERATIONS_DOC.read_text()):
        for line in block.splitlines():
            if line.startswith(("grpcurl ", "buf curl ")):
                commands.append(DocCommand(server, line))
            elif line.startswith("# => ") and commands:
                last = commands[-1]
                expected = (*last.expected, line.removeprefix("# => "))
                commands[-1] = DocCommand(last.server, last.line, expected)
    return commands


def test_the_operations_guide_shows_tls_and_mtls_commands_for_both_tools() -> None:
    commands = doc_commands()

    for server in ("tls", "mtls"):
        lines = [command.line for command in commands if command.server == server]
        assert any(line.startswith("grpcurl -cacert ca.pem") for line in lines)
        assert any("buf curl" in line and "--cacert ca.pem" in line for line in lines)
    assert any(command.must_fail for command in commands if command.server == "mtls")


@pytest.mark.parametrize(
    "command", doc_commands(), ids=lambda command: f"{command.server}: {command.line[:80]}"
)
def test_a_tls_command_of_the_operations_guide_works_as_shown(
    command: DocCommand, pki: Pki, request: pytest.FixtureRequest
) -> None:
    server: DemoServer = request.getfixturevalue(f"{command.server}_server")

    result = subprocess.run(
        ["bash", "-c", command.line.replace(DOC_ADDRESS, dialled(server))],
        cwd=pki.directory,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
        env={
            **os.environ,
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "TOKEN": server.mint_token(),
        },
    )
    output = result.stdout + result.stderr

    assert (result.returncode != 0) == command.must_fail, output
    for text in command.expected:
        assert text in output
