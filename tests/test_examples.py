"""The Node.js and Python example clients book and confirm a demo appointment on a real server.

One `bookings serve` process (embedded default, demo catalog) serves the whole module; each
client runs as its own process with a token from `bookings token mint`, as a user would.
Node.js and npm are required: without them these tests fail, they are never skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from bookings.v1 import booking_pb2, bookings_service_pb2, bookings_service_pb2_grpc
from demo_server import ROOT, DemoServer, start_demo_server

NODE_EXAMPLE = ROOT / "examples" / "node"
PYTHON_EXAMPLE = ROOT / "examples" / "python" / "client.py"
CLIENT_TIMEOUT_SECONDS = 60
_CONFIRMED = re.compile(r"^confirmed booking (\S+): BOOKING_STATUS_CONFIRMED,", re.MULTILINE)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = start_demo_server(tmp_path_factory.mktemp("examples") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def owner_token(demo_server: DemoServer) -> str:
    return demo_server.mint_token()


@pytest.fixture(scope="session")
def node_client() -> list[str]:
    """`node examples/node/client.js`, with its npm dependencies installed from the lockfile."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Node.js example needs Node.js >= 18 and npm")
    install_node_dependencies()
    return [node, str(NODE_EXAMPLE / "client.js")]


def install_node_dependencies() -> None:
    """`npm ci`, unless node_modules already holds exactly what package-lock.json pins."""
    if _installed_packages() == _locked_packages():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH: it installs the Node.js example's dependencies")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
        cwd=NODE_EXAMPLE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"npm ci in examples/node failed:\n{result.stdout}\n{result.stderr}")


def _locked_packages() -> dict[str, str]:
    return _package_versions(NODE_EXAMPLE / "package-lock.json")


def _installed_packages() -> dict[str, str]:
    return _package_versions(NODE_EXAMPLE / "node_modules" / ".package-lock.json")


def _package_versions(lockfile: Path) -> dict[str, str]:
    if not lockfile.exists():
        return {}
    packages = json.loads(lockfile.read_text())["packages"]
    return {name: entry["version"] for name, entry in packages.items() if name}


def run_client(
    command: list[str], server: DemoServer, token: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env={**os.environ, "BOOKINGS_TOKEN": token, "BOOKINGS_ADDRESS": server.address},
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT_SECONDS,
        check=False,
    )


def python_client() -> list[str]:
    return [sys.executable, str(PYTHON_EXAMPLE)]


def assert_booked_and_confirmed(
    result: subprocess.CompletedProcess[str], server: DemoServer, token: str
) -> None:
    """The client says it confirmed a booking, and the server agrees."""
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "services on the site" in result.stdout
    assert "[SERVICE_TYPE_APPOINTMENT]" in result.stdout
    assert "created booking " in result.stdout
    match = _CONFIRMED.search(result.stdout)
    assert match, result.stdout
    with grpc.insecure_channel(server.address) as channel:
        stored = (
            bookings_service_pb2_grpc.BookingsServiceStub(channel)
            .GetBooking(
                bookings_service_pb2.GetBookingRequest(booking_id=match.group(1)),
                metadata=[("authorization", f"Bearer {token}")],
                timeout=10,
            )
            .booking
        )
    assert stored.status == booking_pb2.BOOKING_STATUS_CONFIRMED


def assert_reports_the_status_and_reason(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "UNAUTHENTICATED" in result.stderr
    assert "reason: INVALID_TOKEN (domain bookings.v1)" in result.stderr


def test_node_client_books_and_confirms_a_demo_appointment(
    node_client: list[str], demo_server: DemoServer, owner_token: str
) -> None:
    result = run_client(node_client, demo_server, owner_token)
    assert_booked_and_confirmed(result, demo_server, owner_token)


def test_python_client_books_and_confirms_a_demo_appointment(
    demo_server: DemoServer, owner_token: str
) -> None:
    result = run_client(python_client(), demo_server, owner_token)
    assert_booked_and_confirmed(result, demo_server, owner_token)


def test_node_client_exits_non_zero_with_the_grpc_status_and_error_reason(
    node_client: list[str], demo_server: DemoServer
) -> None:
    result = run_client(node_client, demo_server, "not-a-token")
    assert_reports_the_status_and_reason(result)


def test_python_client_exits_non_zero_with_the_grpc_status_and_error_reason(
    demo_server: DemoServer,
) -> None:
    result = run_client(python_client(), demo_server, "not-a-token")
    assert_reports_the_status_and_reason(result)
