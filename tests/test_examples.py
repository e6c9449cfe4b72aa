"""The example clients and the walkthrough of docs/clients.md, run against a real server.

One `bookings serve` process (embedded default, demo catalog) serves the whole module. The
Node.js and Python clients hold a demo appointment slot, book it from the hold and confirm it,
each as its own process with a token from `bookings token mint`, as a user would. The
walkthrough's `<!-- step: NAME -->` blocks (a hold, a booking from it, a waiting list, a bulk
decision) run in bash with a real grpcurl, after the `<!-- block: NAME -->` blocks they build
on (tests/test_tooling_errors.py checks those on their own). Node.js and npm are required:
without them these tests fail, they are never skipped.
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
from typing import Any

import grpc
import pytest
from bookings.v1 import (
    booking_pb2,
    bookings_service_pb2,
    bookings_service_pb2_grpc,
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
)
from demo_server import ROOT, DemoServer, start_demo_server

NODE_EXAMPLE = ROOT / "examples" / "node"
PYTHON_EXAMPLE = ROOT / "examples" / "python" / "client.py"
CLIENT_TIMEOUT_SECONDS = 60
_HELD = re.compile(r"^hold (\S+): the slot is kept until ", re.MULTILINE)
_CREATED_FROM_HOLD = re.compile(
    r"^created booking (\S+) from hold (\S+): BOOKING_STATUS_CREATED,", re.MULTILINE
)
_CONFIRMED = re.compile(r"^confirmed booking (\S+): BOOKING_STATUS_CONFIRMED,", re.MULTILINE)
CLIENTS_DOC = ROOT / "docs" / "clients.md"
DOC_ADDRESS = "localhost:50051"
_DOC_BLOCK = re.compile(r"<!-- (?:block|step): ([\w-]+) -->\n```sh\n(.*?)```", re.DOTALL)
_DOC_STEP = re.compile(r"<!-- step: ([\w-]+) -->")
#: The demo catalog's small class with a waiting list, used by the walkthrough.
YOGA_WITH_WAITING_LIST = "Yin Yoga (small room)"


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


def assert_held_booked_and_confirmed(
    result: subprocess.CompletedProcess[str], server: DemoServer, token: str
) -> None:
    """The client says it booked from its hold and confirmed, and the server agrees."""
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "services on the site" in result.stdout
    assert "[SERVICE_TYPE_APPOINTMENT]" in result.stdout
    held = _HELD.search(result.stdout)
    created = _CREATED_FROM_HOLD.search(result.stdout)
    confirmed = _CONFIRMED.search(result.stdout)
    assert held and created and confirmed, result.stdout
    hold_id, booking_id = held.group(1), confirmed.group(1)
    assert created.groups() == (booking_id, hold_id)
    with grpc.insecure_channel(server.address) as channel:
        bookings = bookings_service_pb2_grpc.BookingsServiceStub(channel)
        auth = (("authorization", f"Bearer {token}"),)
        stored = bookings.GetBooking(
            bookings_service_pb2.GetBookingRequest(booking_id=booking_id),
            metadata=auth,
            timeout=10,
        ).booking
        # Releasing a released hold returns it unchanged: here, used by the booking.
        hold = bookings.ReleaseHold(
            bookings_service_pb2.ReleaseHoldRequest(hold_id=hold_id), metadata=auth, timeout=10
        ).hold
    assert stored.status == booking_pb2.BOOKING_STATUS_CONFIRMED
    assert stored.hold_id == hold_id
    assert (hold.booking_id, hold.released) == (booking_id, True)
    assert hold.booked_entity.slot.start_date == stored.start_date


def assert_reports_the_status_and_reason(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "UNAUTHENTICATED" in result.stderr
    assert "reason: INVALID_TOKEN (domain bookings.v1)" in result.stderr


def test_node_client_holds_books_from_the_hold_and_confirms_a_demo_appointment(
    node_client: list[str], demo_server: DemoServer, owner_token: str
) -> None:
    result = run_client(node_client, demo_server, owner_token)
    assert_held_booked_and_confirmed(result, demo_server, owner_token)


def test_python_client_holds_books_from_the_hold_and_confirms_a_demo_appointment(
    demo_server: DemoServer, owner_token: str
) -> None:
    result = run_client(python_client(), demo_server, owner_token)
    assert_held_booked_and_confirmed(result, demo_server, owner_token)


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


# ---------------------------------------------------------------- the grpcurl walkthrough


def doc_blocks() -> dict[str, str]:
    """The `block` and `step` shell blocks of docs/clients.md, by name."""
    return dict(_DOC_BLOCK.findall(CLIENTS_DOC.read_text()))


def run_doc_block(name: str, server: DemoServer, **env: str) -> dict[str, Any]:
    """Run one block verbatim in bash against `server`; its JSON answer."""
    script = doc_blocks()[name].replace(DOC_ADDRESS, server.address)
    venv_bin = str(Path(sys.executable).parent)
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}", **env},
    )
    assert result.returncode == 0, f"{name}:\n{result.stdout}\n{result.stderr}"
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def demo_services(server: DemoServer, token: str) -> list[catalog_pb2.Service]:
    with grpc.insecure_channel(server.address) as channel:
        return list(
            catalog_service_pb2_grpc.CatalogServiceStub(channel)
            .ListServices(
                catalog_service_pb2.ListServicesRequest(page_size=100),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=10,
            )
            .services
        )


def service_named(server: DemoServer, token: str, name: str) -> str:
    (found,) = [s.id for s in demo_services(server, token) if s.name == name]
    return str(found)


def confirmable_appointment_service(server: DemoServer, token: str) -> str:
    """The first appointment service that needs no manual approval, as the examples pick it."""
    found = [
        s.id
        for s in demo_services(server, token)
        if s.type == catalog_pb2.SERVICE_TYPE_APPOINTMENT
        and not s.online_booking.require_manual_approval
    ]
    assert found, "the demo catalog has no appointment service without manual approval"
    return str(found[0])


def first_bookable_slot(server: DemoServer, token: str, service: str) -> str:
    """The JSON slot the documented availability query prints first."""
    answer = run_doc_block("grpcurl-availability", server, TOKEN=token, SERVICE_ID=service)
    (entry,) = answer["availabilityEntries"]
    assert entry["bookable"] is True
    return json.dumps(entry["slot"])


def test_the_doc_has_every_step_these_tests_run() -> None:
    assert _DOC_STEP.findall(CLIENTS_DOC.read_text()) == [
        "grpcurl-create-hold",
        "grpcurl-create-from-hold",
        "grpcurl-confirm-from-hold",
        "grpcurl-join-waiting-list",
        "grpcurl-bulk-confirm",
    ]


def test_grpcurl_holds_a_yoga_session_books_and_confirms_it_then_joins_its_waiting_list(
    demo_server: DemoServer, owner_token: str
) -> None:
    yoga = service_named(demo_server, owner_token, YOGA_WITH_WAITING_LIST)
    slot = first_bookable_slot(demo_server, owner_token, yoga)
    session_id = json.loads(slot)["sessionId"]

    hold = run_doc_block("grpcurl-create-hold", demo_server, TOKEN=owner_token, SLOT=slot)["hold"]
    booking = run_doc_block(
        "grpcurl-create-from-hold", demo_server, TOKEN=owner_token, HOLD_ID=hold["id"]
    )["booking"]
    confirmed = run_doc_block(
        "grpcurl-confirm-from-hold", demo_server, TOKEN=owner_token, BOOKING_ID=booking["id"]
    )["booking"]
    waiting = run_doc_block("grpcurl-join-waiting-list", demo_server, TOKEN=owner_token, SLOT=slot)[
        "booking"
    ]

    assert (hold["bookedEntity"]["slot"]["sessionId"], hold["totalParticipants"]) == (
        session_id,
        4,
    )
    assert "expiresDate" in hold
    assert booking["status"] == "BOOKING_STATUS_CREATED"
    assert (booking["holdId"], booking["totalParticipants"]) == (hold["id"], 4)
    assert booking["bookedEntity"]["slot"]["sessionId"] == session_id
    assert booking["contactDetails"]["email"] == "mary@example.com"
    assert (confirmed["id"], confirmed["status"]) == (booking["id"], "BOOKING_STATUS_CONFIRMED")
    assert waiting["status"] == "BOOKING_STATUS_WAITING_LIST"
    assert waiting["bookedEntity"]["slot"]["sessionId"] == session_id
    assert waiting["contactDetails"]["email"] == "emmy@example.com"


def test_grpcurl_bulk_confirm_decides_each_item_as_its_single_call_would(
    demo_server: DemoServer, owner_token: str
) -> None:
    haircut = confirmable_appointment_service(demo_server, owner_token)
    slot = first_bookable_slot(demo_server, owner_token, haircut)
    ada = run_doc_block("grpcurl-create", demo_server, TOKEN=owner_token, SLOT=slot)["booking"]
    grace = run_doc_block("buf-curl-create", demo_server, TOKEN=owner_token, SLOT=slot)["booking"]

    answer = run_doc_block(
        "grpcurl-bulk-confirm",
        demo_server,
        TOKEN=owner_token,
        ADA_ID=ada["id"],
        GRACE_ID=grace["id"],
    )

    confirmed, declined, unknown = answer["results"]
    assert confirmed["itemMetadata"] == {"id": ada["id"], "success": True}
    assert confirmed["item"]["status"] == "BOOKING_STATUS_CONFIRMED"
    assert declined["itemMetadata"] == {"id": grace["id"], "originalIndex": 1, "success": True}
    assert declined["item"]["status"] == "BOOKING_STATUS_DECLINED"
    metadata = unknown["itemMetadata"]
    assert (metadata["id"], metadata["originalIndex"]) == ("no-such-booking", 2)
    assert "success" not in metadata and "item" not in unknown
    assert metadata["error"]["code"] == grpc.StatusCode.NOT_FOUND.value[0]
    (info,) = metadata["error"]["details"]
    assert (info["domain"], info["reason"]) == ("bookings.v1", "BOOKING_NOT_FOUND")
    assert answer["bulkActionMetadata"] == {"totalSuccesses": 2, "totalFailures": 1}
