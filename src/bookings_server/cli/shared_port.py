"""The one port N server processes share (`bookings serve --processes N`, SO_REUSEPORT).

The parent settles the port before any child starts, and holds it for the children's life:

- port 0 cannot be shared as it is (each process would pick a port of its own), so the
  parent binds one free port itself and gives every child that number;
- a port another program listens on is an error, as for one process (docs/operations.md),
  unless the operator asked to share it (`--reuse-port`);
- the parent keeps a socket bound to the port with SO_REUSEPORT, never listening: the kernel
  hands connections to listening sockets only, so it receives none, but no other program can
  take the port while the children start (a program without SO_REUSEPORT cannot bind it).
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from typing import Any


class SharedPortError(RuntimeError):
    """The address cannot be shared by several processes (taken, invalid, no SO_REUSEPORT)."""


@dataclass
class SharedPort:
    """The address every child listens on, and the parent's placeholder socket on it."""

    address: str
    port: int
    placeholder: socket.socket

    def close(self) -> None:
        self.placeholder.close()


def reserve_shared_port(address: str, *, join_others: bool) -> SharedPort:
    """Settle `address` (HOST:PORT) for several processes. `join_others` (--reuse-port)
    accepts a port other SO_REUSEPORT listeners already share."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise SharedPortError(
            "--processes above 1 needs SO_REUSEPORT, which this platform does not have; "
            "run one process per port instead"
        )
    host, port = _split(address)
    family, sockaddr = _resolve(address, host, port)
    if port != 0 and not join_others:
        _refuse_if_taken(address, family, sockaddr)
    placeholder = socket.socket(family, socket.SOCK_STREAM)
    try:
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        placeholder.bind(sockaddr)
    except OSError as error:
        placeholder.close()
        raise SharedPortError(f"cannot listen on {address}: {_why(error)}") from error
    bound = int(placeholder.getsockname()[1])
    shown_host = f"[{host}]" if ":" in host else host
    return SharedPort(f"{shown_host}:{bound}", bound, placeholder)


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise SharedPortError(f"cannot listen on {address}: not a HOST:PORT address")
    return host.strip("[]"), int(port)


def _resolve(address: str, host: str, port: int) -> tuple[socket.AddressFamily, tuple[Any, ...]]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        raise SharedPortError(f"cannot listen on {address}: {error}") from error
    family, _type, _proto, _name, sockaddr = infos[0]
    return family, sockaddr


def _refuse_if_taken(address: str, family: socket.AddressFamily, sockaddr: tuple[Any, ...]) -> None:
    """A probe bind without SO_REUSEPORT fails while anyone listens on the port."""
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            probe.bind(sockaddr)
        except OSError as error:
            raise SharedPortError(f"cannot listen on {address}: {_why(error)}") from error


def _why(error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            "the address is already in use (another bookings server?); "
            "stop it or choose another --address / BOOKINGS_ADDRESS"
        )
    return error.strerror or str(error)


def metrics_address_of(address: str | None, index: int) -> str | None:
    """Child `index`'s metrics address: one port per process (docs/operations.md), PORT +
    index from the given one; port 0 stays 0 (each child picks and prints its own)."""
    if not address:
        return address
    host, _, port = address.rpartition(":")
    if not port.isdigit() or int(port) == 0:
        return address
    return f"{host}:{int(port) + index}"
