"""Minting and verifying the bearer JWTs (claim names: docs/auth.md).

Claims: `iss`, `aud`, `exp`, `nbf`, `iat` (registered), `sub` (identity id), `site_id`,
`identity_type` ("OWNER", "APP", "MEMBER", "VISITOR"), `scopes` and `permissions` (lists of
strings). Failures raise domain `Unauthenticated` whose message never contains the token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from bookings_server.api.auth.keys import HS256, SigningKeys
from bookings_server.domain.errors import Unauthenticated
from bookings_server.domain.identity import IdentityType, Principal

#: Clock skew tolerated on exp/nbf/iat.
LEEWAY = timedelta(seconds=30)
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", "site_id", "identity_type"]


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
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": keys.issuer,
        "aud": keys.audience,
        "sub": identity_id,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "site_id": site_id,
        "identity_type": identity_type.value,
        "scopes": list(scopes),
        "permissions": list(permissions),
    }
    if keys.private_key is not None and keys.public_algorithm is not None:
        return jwt.encode(claims, keys.private_key, algorithm=keys.public_algorithm)
    return jwt.encode(claims, keys.secret, algorithm=HS256)


def verify_token(keys: SigningKeys, token: str) -> Principal:
    """The principal a token names, after checking signature, exp, nbf, iss and aud."""
    key, algorithm = _verification_key(keys, token)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=keys.audience,
            issuer=keys.issuer,
            leeway=LEEWAY,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED") from error
    except jwt.ImmatureSignatureError as error:
        raise Unauthenticated("the token is not valid yet", reason="TOKEN_NOT_YET_VALID") from error
    except jwt.InvalidAudienceError as error:
        raise Unauthenticated("the token is for another audience", "INVALID_TOKEN") from error
    except jwt.InvalidIssuerError as error:
        raise Unauthenticated("the token has an unknown issuer", reason="INVALID_TOKEN") from error
    except jwt.InvalidSignatureError as error:
        raise Unauthenticated("the token signature is invalid", reason="INVALID_TOKEN") from error
    except jwt.InvalidTokenError as error:
        raise Unauthenticated("the token is invalid", reason="INVALID_TOKEN") from error
    return _principal_from(claims)


def _verification_key(keys: SigningKeys, token: str) -> tuple[Any, str]:
    """The key for the token's declared algorithm; any other algorithm is refused."""
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
    site_id = claims["site_id"]
    identity_id = claims["sub"]
    if not isinstance(site_id, str) or not site_id:
        raise _bad_claim("site_id")
    if not isinstance(identity_id, str) or not identity_id:
        raise _bad_claim("sub")
    try:
        identity_type = IdentityType(claims["identity_type"])
    except (ValueError, TypeError) as error:
        raise _bad_claim("identity_type") from error
    return Principal(
        site_id=site_id,
        identity_type=identity_type,
        identity_id=identity_id,
        scopes=_string_set(claims, "scopes"),
        permissions=_string_set(claims, "permissions"),
    )


def _string_set(claims: dict[str, Any], name: str) -> frozenset[str]:
    values = claims.get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _bad_claim(name)
    return frozenset(values)


def _bad_claim(name: str) -> Unauthenticated:
    return Unauthenticated(f"the token claim {name!r} is missing or malformed", "INVALID_TOKEN")
