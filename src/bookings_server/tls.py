"""Server TLS and mTLS from PEM files, re-read when they change (grpcio's dynamic credentials).

grpcio calls the fetcher of `dynamic_ssl_server_credentials` before the TLS handshake of every
new connection (on a gRPC core thread, holding the GIL); answering None keeps the certificates in
use, a new `ServerCertificateConfiguration` replaces them for that connection and the later
ones. Connections already open keep the session they negotiated. So a rotation costs each new
connection one read of the (small) files, and needs no timer, no signal and no restart.

gRPC's core would hand changed files straight to OpenSSL and, when they do not load, keep the
previous ones with an error line for every new connection. So a rotation that is half written
(the new certificate next to the old key) is checked here first, with the checks of start-up,
and refused with one log line until the files are whole again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import grpc
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from bookings_server.config import Config

log = logging.getLogger("bookings.tls")

#: The flags, as errors name the files.
_CERT = "--tls-cert-file"
_KEY = "--tls-key-file"
_CLIENT_CA = "--tls-client-ca-file"


class TlsConfigError(ValueError):
    """The TLS settings or files cannot be used: the server refuses to start."""


@dataclass(frozen=True)
class Pem:
    """The contents of the TLS files, as grpcio takes them."""

    cert_chain: bytes
    key: bytes
    client_ca: bytes | None

    def configuration(self) -> grpc.ServerCertificateConfiguration:
        return grpc.ssl_server_certificate_configuration(
            [(self.key, self.cert_chain)], root_certificates=self.client_ca
        )


@dataclass(frozen=True)
class TlsFiles:
    """Where the server's certificate chain (leaf first), its key and the client CAs are."""

    cert: Path
    key: Path
    client_ca: Path | None

    def read(self) -> Pem:
        """The files' bytes; TlsConfigError when one cannot be read."""
        return Pem(
            cert_chain=_read(self.cert, _CERT),
            key=_read(self.key, _KEY),
            client_ca=None if self.client_ca is None else _read(self.client_ca, _CLIENT_CA),
        )

    def check(self, pem: Pem) -> dict[str, object]:
        """Raise TlsConfigError unless `pem` is a certificate chain, its unencrypted key and,
        for mTLS, CA certificates; return what the log says about them."""
        leaf = _certificates(pem.cert_chain, _CERT, self.cert)[0]
        _require_key_of(leaf, pem.key, self.key)
        client_cas = None
        if pem.client_ca is not None and self.client_ca is not None:
            client_cas = len(_certificates(pem.client_ca, _CLIENT_CA, self.client_ca))
        return {
            "subject": leaf.subject.rfc4514_string(),
            "not_after": leaf.not_valid_after_utc.isoformat(),
            "client_cas": client_cas,
        }


def tls_files(config: Config) -> TlsFiles | None:
    """The configured TLS files, or None to serve plaintext; TlsConfigError when incomplete."""
    cert, key, client_ca = config.tls_cert_file, config.tls_key_file, config.tls_client_ca_file
    if cert is not None and key is not None:
        return TlsFiles(cert, key, client_ca)
    if cert is not None or key is not None:
        given, missing = (_CERT, _KEY) if key is None else (_KEY, _CERT)
        raise TlsConfigError(
            f"{given} is set but {missing} is not: TLS needs both the certificate and its key "
            "(--tls-cert-file and --tls-key-file, or BOOKINGS_TLS_CERT_FILE and "
            "BOOKINGS_TLS_KEY_FILE)"
        )
    if client_ca is not None:
        raise TlsConfigError(
            f"{_CLIENT_CA} needs {_CERT} and {_KEY}: the server asks for "
            "client certificates in a TLS handshake, which needs its own certificate"
        )
    return None


def server_credentials(config: Config) -> grpc.ServerCredentials | None:
    """TLS credentials re-read as the files change (mTLS with a client CA); None: plaintext."""
    files = tls_files(config)
    if files is None:
        return None
    certificates = ReloadingCertificates(files)
    # types-grpcio leaves out the None (no change) that grpcio documents for the fetcher.
    fetcher = cast("Callable[[], grpc.ServerCertificateConfiguration]", certificates.fetch)
    return grpc.dynamic_ssl_server_credentials(
        certificates.initial,
        fetcher,
        require_client_authentication=files.client_ca is not None,
    )


class ReloadingCertificates:
    """The certificates in use, and the fetcher grpcio calls before each new handshake."""

    def __init__(self, files: TlsFiles) -> None:
        self._files = files
        pem = files.read()
        log.info("tls: certificates loaded", extra=files.check(pem))
        self.initial = pem.configuration()
        self._seen = pem
        self._problem: str | None = None
        self._lock = threading.Lock()

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """New certificates when the files changed to usable ones; None keeps those in use."""
        with self._lock:
            try:
                pem = self._files.read()
                if pem == self._seen:
                    return None
                self._seen = pem
                fields = self._files.check(pem)
            except TlsConfigError as error:
                self._keep_current(str(error))
                return None
            self._problem = None
            log.info("tls: certificates reloaded", extra=fields)
            return pem.configuration()

    def _keep_current(self, problem: str) -> None:
        """Say once per problem (not once per connection) why the files are not used."""
        if problem != self._problem:
            self._problem = problem
            log.warning(
                "tls: the certificate files changed but cannot be used; "
                "new connections keep the previous certificates",
                extra={"error": problem},
            )


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TlsConfigError(f"cannot read {setting} {path}: {error.strerror or error}") from None


def _certificates(data: bytes, setting: str, path: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TlsConfigError(f"{setting} {path} holds no valid PEM certificate") from None


def _require_key_of(leaf: x509.Certificate, key_pem: bytes, path: Path) -> None:
    """The key must load without a password and be the one the leaf certificate names."""
    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise TlsConfigError(
            f"{_KEY} {path} holds no usable PEM private key (an unencrypted one): {error}"
        ) from None
    if _public_bytes(key.public_key()) != _public_bytes(leaf.public_key()):
        raise TlsConfigError(f"{_KEY} {path} is not the key of the first certificate in {_CERT}")


def _public_bytes(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
