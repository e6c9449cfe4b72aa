"""Minting and verifying the bearer JWTs (claim names: docs/auth.md).

Claims: `iss`, `aud`, `exp`, `nbf`, `iat` (registered), `sub` (identity id), `site_id`,
`identity_type` ("OWNER", "APP", "MEMBER", "VISITOR"), `scopes` and `permissions` (lists of
strings). Every claim is type-checked strictly (docs/auth.md): a claim of the wrong JSON type
or out of its bounds is INVALID_TOKEN. Failures raise domain `Unauthenticated` whose message
never contains the token.

PyJWT (and with it cryptography) is imported where a token is verified or signed with a
private key, not with this module: `bookings token mint` signs HS256 without it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bookings_server.api.auth.keys import HS256, SigningKeys
from bookings_server.domain.errors import Unauthenticated
from bookings_server.domain.identity import IdentityType, Principal

#: Clock skew tolerated on exp/nbf/iat.
LEEWAY = timedelta(seconds=30)
#: Latest NumericDate accepted: the end of the year 9999, the last second datetime holds.
MAX_NUMERIC_DATE = 253402300799
#: Longest `site_id`, `sub` and scope or permission name; most entries a list claim may hold.
MAX_ID_CLAIM_LENGTH = 100
MAX_LIST_CLAIM_ENTRIES = 100
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", "site_id", "identity_type"]
_TIME_CLAIMS = ("exp", "nbf", "iat")
#: One empty set for every token without permissions (or scopes): remembered tokens share it.
_NO_NAMES: frozenset[str] = frozenset()


def mint_token(
    keys: SigningKeys,
    *,
    site_id: str,
    identity_type: IdentityType,
    identity_id: str,
    scopes: Sequence[str] = (),
    permissions: Sequence[str] = (),
    ttl: timedelta = timedelta(hours=1),
) -> str:
    """A signed token: HS256 with the shared secret, or RS256/ES256 if a private key is held."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": keys.issuer,
        "aud": keys.audience,
        "sub": identity_id,
        "iat": now,
        "nbf": now,
        "exp": now + int(ttl.total_seconds()),
        "site_id": site_id,
        "identity_type": identity_type.value,
        "scopes": list(scopes),
        "permissions": list(permissions),
    }
    if keys.private_key is not None and keys.public_algorithm is not None:
        import jwt

        return jwt.encode(claims, keys.private_key, algorithm=keys.public_algorithm)
    return _sign_hs256(claims, keys.secret)


def _sign_hs256(claims: dict[str, Any], secret: str) -> str:
    """The compact JWS of `claims` with an HS256 signature (RFC 7515, RFC 7518 section 3.2).

    Written here rather than with PyJWT so that minting, which is all `bookings token mint`
    does, imports neither PyJWT nor cryptography (docs/benchmarks.md, "CLI start-up"); the
    tests verify what it writes with PyJWT.
    """
    header = _b64url(json.dumps({"alg": HS256, "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def verify_token(keys: SigningKeys, token: str) -> Principal:
    """The principal a token names, after checking signature, iss, aud, every claim's type,
    then exp, nbf and iat."""
    return verify_token_at(keys, token, time.time()).principal


@dataclass(frozen=True)
class Validity:
    """When a verified token may be used: up to `expires` (exp) and from `not_before` (the
    later of nbf and iat), each with LEEWAY; None where the claim is absent."""

    expires: float | None
    not_before: float | None

    def check(self, now: float) -> None:
        """Raise TOKEN_EXPIRED or TOKEN_NOT_YET_VALID unless `now` is inside the window."""
        leeway = LEEWAY.total_seconds()
        if self.expires is not None and self.expires <= now - leeway:
            raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED")
        if self.not_before is not None and self.not_before > now + leeway:
            raise Unauthenticated("the token is not valid yet", reason="TOKEN_NOT_YET_VALID")


@dataclass(frozen=True)
class VerifiedToken:
    """What a token verified to, and the window outside which it must be refused again."""

    principal: Principal
    validity: Validity


def verify_token_at(keys: SigningKeys, token: str, now: float) -> VerifiedToken:
    """verify_token at the instant `now`, with the token's validity window (for caching:
    nothing but the time checks depends on when a token is verified)."""
    key, algorithm = _verification_key(keys, token)
    claims = _decode(keys, token, key, algorithm)
    validity = _validity(claims)
    validity.check(now)
    return VerifiedToken(_principal_from(claims), validity)


def _decode(keys: SigningKeys, token: str, key: Any, algorithm: str) -> dict[str, Any]:
    """The claims of a token whose signature, issuer and audience hold.

    PyJWT's own time checks are off: they accept any value `int()` takes ("9999999999",
    true), so the times are checked here once their types are (`_validity`, `Validity.check`).
    """
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=keys.audience,
            issuer=keys.issuer,
            options={
                "require": _REQUIRED_CLAIMS,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidAudienceError as error:
        raise Unauthenticated("the token is for another audience", "INVALID_TOKEN") from error
    except jwt.InvalidIssuerError as error:
        raise Unauthenticated("the token has an unknown issuer", reason="INVALID_TOKEN") from error
    except jwt.InvalidSignatureError as error:
        raise Unauthenticated("the token signature is invalid", reason="INVALID_TOKEN") from error
    except jwt.InvalidTokenError as error:
        raise Unauthenticated("the token is invalid", reason="INVALID_TOKEN") from error
    return claims


def _validity(claims: dict[str, Any]) -> Validity:
    """The time claims, type-checked (before any time is compared, so a string `exp` is
    INVALID_TOKEN, never TOKEN_EXPIRED)."""
    expires, not_before, issued = (_numeric_date(claims, name) for name in _TIME_CLAIMS)
    starts = [moment for moment in (not_before, issued) if moment is not None]
    return Validity(expires=expires, not_before=max(starts) if starts else None)


def _numeric_date(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate claim (RFC 7519): a JSON number of seconds, not a string or a boolean."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad_claim(name)
    if not (math.isfinite(value) and 0 <= value <= MAX_NUMERIC_DATE):
        raise _bad_claim(name)
    return float(value)


def _verification_key(keys: SigningKeys, token: str) -> tuple[Any, str]:
    """The key for the token's declared algorithm; any other algorithm is refused."""
    import jwt

    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError as error:
        raise Unauthenticated("the token is malformed", reason="INVALID_TOKEN") from error
    if algorithm == HS256:
        return keys.secret, HS256
    if keys.public_algorithm is not None and algorithm == keys.public_algorithm:
        return keys.verifying_key, algorithm
    raise Unauthenticated("the token algorithm is not accepted", reason="INVALID_TOKEN")


def _principal_from(claims: dict[str, Any]) -> Principal:
    identity_type = claims["identity_type"]
    if not isinstance(identity_type, str) or identity_type not in IdentityType.__members__:
        raise _bad_claim("identity_type")
    return Principal(
        site_id=_id_claim(claims, "site_id"),
        identity_type=IdentityType(identity_type),
        identity_id=_id_claim(claims, "sub"),
        scopes=_string_set(claims, "scopes"),
        permissions=_string_set(claims, "permissions"),
    )


def _id_claim(claims: dict[str, Any], name: str) -> str:
    """A non-blank string of printable characters (no NUL, control or surrogate characters:
    the value goes into every store query), at most MAX_ID_CLAIM_LENGTH long."""
    value = claims[name]
    if not isinstance(value, str) or not value.strip():
        raise _bad_claim(name)
    if len(value) > MAX_ID_CLAIM_LENGTH or not value.isprintable():
        raise _bad_claim(name)
    return value


def _string_set(claims: dict[str, Any], name: str) -> frozenset[str]:
    """A JSON list of at most MAX_LIST_CLAIM_ENTRIES strings of at most MAX_ID_CLAIM_LENGTH."""
    values = claims.get(name, [])
    if not isinstance(values, list) or len(values) > MAX_LIST_CLAIM_ENTRIES:
        raise _bad_claim(name)
    if not all(isinstance(v, str) and len(v) <= MAX_ID_CLAIM_LENGTH for v in values):
        raise _bad_claim(name)
    return frozenset(values) if values else _NO_NAMES


def _bad_claim(name: str) -> Unauthenticated:
    return Unauthenticated(f"the token claim {name!r} is missing or malformed", "INVALID_TOKEN")
