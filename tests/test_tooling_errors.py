"""docs/clients.md's grpcurl and buf curl blocks, run verbatim against a live demo server.

The README's own commands (list, describe, health, a read with a token, a NotFound) are run by
test_tooling_readme.py; these cover what it cannot: a booking created with an
`authorization` header by each tool, and the ErrorInfo/BadRequest details of errors as each
tool shows them. A block is the ```sh fence after a `<!-- block: NAME -->` comment; it runs
in bash with `localhost:50051` replaced by the live server's address.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from bookings.v1 import catalog_pb2, catalog_service_pb2, catalog_service_pb2_grpc
from demo_server import ROOT, DemoServer, start_demo_server
from google.rpc import error_details_pb2

CLIENTS_DOC = ROOT / "docs" / "clients.md"
DOC_ADDRESS = "localhost:50051"
_BLOCK = re.compile(r"<!-- block: ([\w-]+) -->\n```sh\n(.*?)```", re.DOTALL)
#: Exit statuses: grpcurl exits with 64 + the gRPC code, buf curl with 8 x the code.
GRPCURL_INVALID_ARGUMENT = 64 + grpc.StatusCode.INVALID_ARGUMENT.value[0]
BUF_CURL_NOT_FOUND = 8 * grpc.StatusCode.NOT_FOUND.value[0]
BUF_CURL_UNAUTHENTICATED = 8 * grpc.StatusCode.UNAUTHENTICATED.value[0]


def doc_blocks() -> dict[str, str]:
    return dict(_BLOCK.findall(CLIENTS_DOC.read_text()))


def run_block(name: str, server: DemoServer, **env: str) -> subprocess.CompletedProcess[str]:
    script = doc_blocks()[name].replace(DOC_ADDRESS, server.address)
    venv_bin = str(Path(sys.executable).parent)
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}", **env},
    )


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = start_demo_server(tmp_path_factory.mktemp("tooling") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token(demo_server: DemoServer) -> str:
    return demo_server.mint_token()


@pytest.fixture(scope="module")
def appointment_service_id(demo_server: DemoServer, token: str) -> str:
    with grpc.insecure_channel(demo_server.address) as channel:
        services = (
            catalog_service_pb2_grpc.CatalogServiceStub(channel)
            .ListServices(
                catalog_service_pb2.ListServicesRequest(page_size=100),
                metadata=[("authorization", f"Bearer {token}")],
                timeout=10,
            )
            .services
        )
    appointments = [
        s.id
        for s in services
        if s.type == catalog_pb2.SERVICE_TYPE_APPOINTMENT
        and not s.online_booking.require_manual_approval
    ]
    assert appointments, "the demo catalog has no appointment service without manual approval"
    return str(appointments[0])


@pytest.fixture(scope="module")
def free_slot(demo_server: DemoServer, token: str, appointment_service_id: str) -> str:
    """The JSON slot of the first bookable entry, found with the documented grpcurl block."""
    result = run_block(
        "grpcurl-availability", demo_server, TOKEN=token, SERVICE_ID=appointment_service_id
    )
    assert result.returncode == 0, result.stdout + result.stderr
    entries = json.loads(result.stdout)["availabilityEntries"]
    assert len(entries) == 1, result.stdout
    assert entries[0]["bookable"] is True
    return json.dumps(entries[0]["slot"])


def created_booking(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stdout + result.stderr
    booking: dict[str, Any] = json.loads(result.stdout)["booking"]
    return booking


def decode_error_info(value: str) -> error_details_pb2.ErrorInfo:
    """A Connect error detail value: unpadded base64 of the serialized message."""
    info = error_details_pb2.ErrorInfo()
    info.ParseFromString(base64.b64decode(value + "=" * (-len(value) % 4)))
    return info


def test_the_doc_has_every_block_these_tests_run() -> None:
    assert set(doc_blocks()) == {
        "grpcurl-availability",
        "grpcurl-create",
        "buf-curl-create",
        "grpcurl-invalid",
        "buf-curl-error",
        "decode-error-info",
    }


def test_grpcurl_creates_a_booking_with_an_authorization_header(
    demo_server: DemoServer, token: str, free_slot: str, appointment_service_id: str
) -> None:
    booking = created_booking(run_block("grpcurl-create", demo_server, TOKEN=token, SLOT=free_slot))

    assert booking["status"] == "BOOKING_STATUS_CREATED"
    assert booking["bookedEntity"]["slot"]["serviceId"] == appointment_service_id
    assert booking["bookedEntity"]["slot"]["startDate"] == json.loads(free_slot)["startDate"]
    assert booking["contactDetails"]["email"] == "ada@example.com"


def test_buf_curl_creates_a_booking_with_an_authorization_header(
    demo_server: DemoServer, token: str, free_slot: str, appointment_service_id: str
) -> None:
    result = run_block("buf-curl-create", demo_server, TOKEN=token, SLOT=free_slot)
    booking = created_booking(result)

    assert booking["status"] == "BOOKING_STATUS_CREATED"
    assert booking["bookedEntity"]["slot"]["serviceId"] == appointment_service_id
    assert booking["contactDetails"]["email"] == "grace@example.com"


def test_grpcurl_shows_the_error_info_and_bad_request_of_an_invalid_create(
    demo_server: DemoServer, token: str
) -> None:
    result = run_block("grpcurl-invalid", demo_server, TOKEN=token)

    assert result.returncode == GRPCURL_INVALID_ARGUMENT, result.stdout + result.stderr
    assert "Code: InvalidArgument" in result.stderr
    assert '"@type":"type.googleapis.com/google.rpc.ErrorInfo"' in result.stderr
    assert '"domain":"bookings.v1"' in result.stderr
    assert '"@type":"type.googleapis.com/google.rpc.BadRequest"' in result.stderr
    assert '"field":"booking.' in result.stderr


def test_buf_curl_prints_the_error_info_of_an_unknown_booking_as_json(
    demo_server: DemoServer, token: str
) -> None:
    result = run_block("buf-curl-error", demo_server, TOKEN=token)

    assert result.returncode == BUF_CURL_NOT_FOUND, result.stdout + result.stderr
    error = json.loads(result.stderr)
    assert error["code"] == "not_found"
    (detail,) = [d for d in error["details"] if d["type"] == "google.rpc.ErrorInfo"]
    info = decode_error_info(detail["value"])
    assert info.domain == "bookings.v1"
    assert info.reason


def test_the_documented_error_info_decoding_matches_what_the_server_sends(
    demo_server: DemoServer,
) -> None:
    bad_token = run_block("buf-curl-error", demo_server, TOKEN="nope")
    assert bad_token.returncode == BUF_CURL_UNAUTHENTICATED, bad_token.stderr
    (detail,) = json.loads(bad_token.stderr)["details"]

    decoded = run_block("decode-error-info", demo_server)

    assert decoded.returncode == 0, decoded.stderr
    assert f"'{detail['value']}=" in doc_blocks()["decode-error-info"]
    info = decode_error_info(detail["value"])
    assert f'reason: "{info.reason}"' in decoded.stdout
    assert 'domain: "bookings.v1"' in decoded.stdout
