"""Where a webhook may go: the host's addresses, each one checked before any connection.

A site's endpoint URL is chosen by whoever writes the webhooks file, but the request leaves
from the worker's network: a URL naming (or resolving to) a loopback, private, link-local or
other non-public address could reach internal services (server-side request forgery). So the
host is resolved, every address must be public, and the request then goes to those checked
addresses only (http_post.py never resolves the name again, so a DNS answer that changes
between the check and the connection cannot redirect it). `allow_private` lifts the check,
for tests and closed networks.
"""

from __future__ import annotations

import ipaddress
import socket


class PrivateTargetError(Exception):
    """The endpoint's host is or resolves to a non-public address."""


def checked_addresses(host: str, port: int, *, allow_private: bool) -> tuple[str, ...]:
    """The addresses of `host` to connect to; PrivateTargetError when one is not public
    (unless `allow_private`), socket.gaierror when the name does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    refused = [address for address in addresses if not is_public(address)]
    if refused and not allow_private:
        raise PrivateTargetError(
            f"{host} resolves to {', '.join(refused)}, not a public address "
            "(--webhooks-allow-private allows it)"
        )
    return addresses


def is_public(address: str) -> bool:
    """True for a globally routable unicast address; False for loopback, private, link-local,
    shared, reserved, unspecified and multicast ones (IPv4 and IPv6, IPv4-mapped included)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
