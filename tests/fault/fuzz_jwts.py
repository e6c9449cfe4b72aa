"""Bearer tokens for the auth path of the fuzz, signed with the server's own secret.

Each claim is drawn either from values docs/auth.md accepts (integer or fractional times,
unicode ids at the length limit, unknown scopes) or from malformed ones (times as strings,
booleans, null, lists, infinity, numbers past the year 9999; ids empty, too long, with NUL or
of the wrong type; lists of the wrong shape), and sometimes the header is swapped for one
naming another algorithm. A token with any malformed part must be UNAUTHENTICATED /
INVALID_TOKEN; the others must get past authentication.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from bookings_server.domain.identity import ALL_SCOPES, IdentityType

#: A claim left out of the token.
ABSENT = object()
_NOW = time.time()
_HOUR = 3600.0
GOOD_TIMES = {
    "exp": (int(_NOW + 12 * _HOUR), _NOW + 12 * _HOUR + 0.5, 253402300799),
    "nbf": (ABSENT, int(_NOW - _HOUR), _NOW - 0.25, 0),
    "iat": (ABSENT, int(_NOW - _HOUR), 0.0),
}
BAD_TIMES = (
    "9999999999",
    "0",
    "",
    True,
    False,
    None,
    [1],
    {"seconds": 1},
    float("inf"),
    float("-inf"),
    float("nan"),
    -1,
    253402300800,
    10**30,
    -(10**30),
)
GOOD_IDS = ("ü-site", "s" * 100, "'; DROP TABLE bookings; --", "%_\\", "\U0001d518")
BAD_IDS = ("", " ", "a\x00b", "\n", "\ud800", "s" * 101, 42, None, True, ["x"], {"x": 1})
GOOD_LISTS = ((), ("SCOPE.UNKNOWN",), ("x" * 100,), ("'; DROP TABLE x; --",))
BAD_LISTS = ("SCOPE.DC-BOOKINGS.READ-CALENDAR", [1], [None], [["a"]], {"a": 1}, None, ["x"] * 101)
BAD_IDENTITIES = ("owner", "ADMIN", "", 1, None, ["OWNER"], {"OWNER": 1})
#: Headers that name an algorithm the server must refuse (the token is still HS256-signed).
BAD_HEADERS: tuple[dict[str, Any], ...] = (
    {"alg": "none", "typ": "JWT"},
    {"alg": "HS512", "typ": "JWT"},
    {"alg": "RS256", "typ": "JWT"},
    {"alg": ["HS256"], "typ": "JWT"},
    {"alg": None},
    {},
)


@dataclass(frozen=True)
class DrawnToken:
    token: str
    #: Whether a claim or the header was drawn malformed: the token must be INVALID_TOKEN.
    malformed: bool


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign_hs256(header: dict[str, Any], claims: dict[str, Any], secret: str) -> str:
    """A JWS compact token, written by hand so claims may be any JSON (NaN, huge numbers)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@st.composite
def _claim(draw: st.DrawFn, good: tuple[Any, ...], bad: tuple[Any, ...]) -> tuple[Any, bool]:
    """A value and whether it is malformed (about one claim in six is)."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(bad)), True
    return draw(st.sampled_from(good)), False


@st.composite
def odd_tokens(
    draw: st.DrawFn, *, secret: str, issuer: str, audience: str, site_id: str
) -> DrawnToken:
    """An HS256 token whose claims are drawn as the module docstring says."""
    drawn = {
        "exp": draw(_claim(GOOD_TIMES["exp"], BAD_TIMES)),
        "nbf": draw(_claim(GOOD_TIMES["nbf"], BAD_TIMES)),
        "iat": draw(_claim(GOOD_TIMES["iat"], BAD_TIMES)),
        "site_id": draw(_claim((site_id, *GOOD_IDS), BAD_IDS)),
        "sub": draw(_claim(("owner-1", *GOOD_IDS), BAD_IDS)),
        "identity_type": draw(_claim(tuple(i.value for i in IdentityType), BAD_IDENTITIES)),
        "scopes": draw(_claim(tuple(ALL_SCOPES + extra for extra in GOOD_LISTS), BAD_LISTS)),
        "permissions": draw(_claim((ABSENT, *GOOD_LISTS), BAD_LISTS)),
    }
    claims = {"iss": issuer, "aud": audience}
    claims |= {name: _json(value) for name, (value, _) in drawn.items() if value is not ABSENT}
    header, bad_header = draw(_claim(({"alg": "HS256", "typ": "JWT"},), BAD_HEADERS))
    malformed = bad_header or any(bad for _, bad in drawn.values())
    return DrawnToken(sign_hs256(header, claims, secret), malformed)


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
