"""Certificates made on the fly (trustme), written as the PEM files the server and clients read.

Server certificates name `localhost` and `127.0.0.1`, the two ways the tests dial a server, so
every client checks the host name as it would in production (no override, no `-insecure`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc
import trustme
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVER_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class KeyPair:
    """A PEM certificate chain file (leaf first) and the file of its private key."""

    cert: Path
    key: Path

    @classmethod
    def named(cls, directory: Path, name: str) -> KeyPair:
        return cls(directory / f"{name}.pem", directory / f"{name}.key")


class Authority:
    """A throwaway CA; its certificate is the PEM file `<directory>/<name>.pem`."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self._ca = trustme.CA(organization_name=name)
        self.cert = directory / f"{name}.pem"
        self._ca.cert_pem.write_to_path(str(self.cert))

    def leaf(self, *identities: str) -> trustme.LeafCert:
        """A certificate for `identities` (default: the server names), not yet written."""
        return self._ca.issue_cert(*(identities or SERVER_NAMES))

    def issue(self, name: str, *identities: str) -> KeyPair:
        """Write `<name>.pem` and `<name>.key` in the CA's directory."""
        pair = KeyPair.named(self.directory, name)
        self.issue_into(pair, *identities)
        return pair

    def issue_into(self, pair: KeyPair, *identities: str) -> None:
        """Overwrite `pair`'s files with a new certificate of this CA (a rotation)."""
        leaf = self.leaf(*identities)
        write_chain(leaf, pair.cert)
        write_key(leaf, pair.key)


def write_chain(leaf: trustme.LeafCert, path: Path) -> None:
    path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))


def write_key(leaf: trustme.LeafCert, path: Path) -> None:
    path.write_bytes(leaf.private_key_pem.bytes())


def tls_channel(address: str, trusted: Authority, client: KeyPair | None = None) -> grpc.Channel:
    """A Python channel trusting only `trusted`, presenting `client` if given.

    A subchannel pool of its own: a new channel is a new connection (a new handshake), never
    one another channel of the test opened earlier."""
    credentials = grpc.ssl_channel_credentials(
        root_certificates=trusted.cert.read_bytes(),
        private_key=None if client is None else client.key.read_bytes(),
        certificate_chain=None if client is None else client.cert.read_bytes(),
    )
    return grpc.secure_channel(
        address, credentials, options=[("grpc.use_local_subchannel_pool", 1)]
    )


def server_health(channel: grpc.Channel) -> int:
    """Health `Check` of the whole server (""): SERVING, or grpc.RpcError."""
    response = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=10
    )
    status: int = response.status
    return status
