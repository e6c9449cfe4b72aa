"""A server refuses to start on a port another process holds, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import StartServer
from server_process import bookings_serve

from bookings_server.server import PortInUseError


def test_a_second_server_on_the_same_port_fails_with_a_clear_message(
    start_server: StartServer,
) -> None:
    first = start_server()

    with pytest.raises(PortInUseError, match=f"cannot listen on {first.address}: .*already in use"):
        start_server(address=first.address)


def test_bookings_serve_on_a_taken_port_exits_non_zero_and_says_why(
    start_server: StartServer, tmp_path: Path
) -> None:
    first = start_server()

    second = bookings_serve(tmp_path / "second", address=first.address)

    assert second.wait() != 0
    stderr = "".join(second.stderr)
    assert f"bookings: cannot listen on {first.address}" in stderr
    assert "already in use" in stderr
    assert "Traceback" not in stderr
