"""The keys tokens are verified (and, locally, minted) with.

HS256 uses a shared secret: `Config.jwt_secret`, else `<data_dir>/jwt-secret`, created with a
random value on first use (never a secret in the code). RS256/ES256 tokens are verified with a
configured PEM public key; the algorithm follows the key type, so an RSA key never verifies an
ES256 token and the public key is never usable as an HMAC secret.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bookings_server.config import Config

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

SECRET_FILE_NAME = "jwt-secret"
HS256 = "HS256"


class SigningKeyError(RuntimeError):
    """The configured key material cannot be used (unreadable file, bad PEM, unknown key type)."""


@dataclass(frozen=True)
class SigningKeys:
    """Verification (and local minting) material plus the expected issuer and audience."""

    secret: str
    issuer: str
    audience: str
    #: PEM public key for RS256/ES256 tokens, if configured.
    public_key: str | None = None
    #: PEM private key matching `public_key`; only tests and tools that mint RS/ES tokens set it.
    private_key: str | None = None

    @cached_property
    def verifying_key(self) -> PublicKeyTypes | None:
        """The parsed public key (parsed once, not per call)."""
        if self.public_key is None:
            return None
        return _load_public_key(self.public_key)

    @cached_property
    def public_algorithm(self) -> str | None:
        """ "RS256" or "ES256" following the public key's type; None without a public key."""
        if self.verifying_key is None:
            return None
        return _algorithm_of(self.verifying_key)


def _load_public_key(pem: str) -> PublicKeyTypes:
    # cryptography is imported only where a public key is used: `bookings token mint` (HS256)
    # starts without it (docs/benchmarks.md, CLI start-up).
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        return load_pem_public_key(pem.encode())
    except ValueError as error:
        raise SigningKeyError("jwt public key is not a PEM public key") from error


def _algorithm_of(key: PublicKeyTypes) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise SigningKeyError("jwt public key must be an RSA or EC (P-256) key")


def load_signing_keys(config: Config) -> SigningKeys:
    """The keys of a configuration; creates the data-dir secret if none is configured."""
    secret = config.jwt_secret or read_or_create_secret(config.data_dir / SECRET_FILE_NAME)
    keys = SigningKeys(
        secret=secret,
        issuer=config.jwt_issuer,
        audience=config.jwt_audience,
        public_key=config.jwt_public_key,
    )
    if keys.public_key is not None:
        _algorithm_of(_load_public_key(keys.public_key))  # a bad key fails at start-up
    return keys


def read_or_create_secret(path: Path) -> str:
    """Read the secret at `path`, creating it (mode 0600) with a random value if missing.

    Creation is atomic (write a private temp file, then hard-link it into place), so servers
    started together on one data directory all end up with the same secret.
    """
    existing = _read_secret(path)
    if existing is not None:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):  # another process created it first
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    secret = _read_secret(path)
    if secret is None:
        raise SigningKeyError(f"{path} is empty")
    return secret


def _read_secret(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SigningKeyError(f"cannot read {path}: {error.strerror}") from error
    return text or None
