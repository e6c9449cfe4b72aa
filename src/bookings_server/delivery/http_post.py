"""One HTTP(S) POST to addresses checked beforehand (targets.py), with connect and read
timeouts, following no redirects (Standard Webhooks counts a 3xx as a failure)."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult


@dataclass(frozen=True)
class Timeouts:
    """Seconds to open the TCP connection, and for each read or write after that (the TLS
    handshake, sending the request, every read of the response)."""

    connect: float = 5.0
    read: float = 15.0


def post(
    url: SplitResult,
    addresses: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    timeouts: Timeouts,
    tls: ssl.SSLContext,
) -> int:
    """POST `body` to `url` at the first of `addresses` that accepts; returns the status."""
    connection = _connection(url, addresses, timeouts, tls)
    try:
        connection.request("POST", _target(url), body=body, headers=dict(headers))
        return connection.getresponse().status
    finally:
        connection.close()


def port_of(url: SplitResult) -> int:
    """The URL's port, or its scheme's (443 for https, else 80)."""
    return url.port or (443 if url.scheme == "https" else 80)


def _connection(
    url: SplitResult, addresses: Sequence[str], timeouts: Timeouts, tls: ssl.SSLContext
) -> http.client.HTTPConnection:
    host = url.hostname or ""
    if url.scheme == "https":
        return _PinnedHTTPSConnection(host, port_of(url), addresses, timeouts, tls)
    return _PinnedHTTPConnection(host, port_of(url), addresses, timeouts)


def _target(url: SplitResult) -> str:
    path = url.path or "/"
    return f"{path}?{url.query}" if url.query else path


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Talks to `host` (its Host header) at the given addresses, never resolving it again."""

    def __init__(self, host: str, port: int, addresses: Sequence[str], timeouts: Timeouts) -> None:
        super().__init__(host, port, timeout=timeouts.read)
        self._addresses = addresses
        self._timeouts = timeouts

    def connect(self) -> None:
        self.sock = _open_socket(self._addresses, self.port, self._timeouts)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, over TLS: the certificate is verified for `host` (SNI too)."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: Sequence[str],
        timeouts: Timeouts,
        tls: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeouts.read, context=tls)
        self._addresses = addresses
        self._timeouts = timeouts
        self._tls = tls

    def connect(self) -> None:
        raw = _open_socket(self._addresses, self.port, self._timeouts)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _open_socket(addresses: Sequence[str], port: int, timeouts: Timeouts) -> socket.socket:
    """A connection to the first address that accepts within the connect timeout."""
    error: OSError = ConnectionError("the host has no address")
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=timeouts.connect)
        except OSError as failure:
            error = failure
            continue
        sock.settimeout(timeouts.read)
        return sock
    raise error
