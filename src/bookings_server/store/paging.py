"""Keyset paging with opaque page tokens.

A token carries the sort key of the last item returned and a fingerprint of the query's
filters; it is base64url JSON, opaque to clients. Tampering cannot reach other sites' rows
(every query filters by site first); a token that does not decode, or belongs to another
query, is INVALID_ARGUMENT on `page_token`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bookings_server.domain.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    #: Empty on the last page.
    next_page_token: str


def page_size(requested: int, path: str = "page_size") -> int:
    """0 is the default (50); more than 500 is served as 500 (AIP-158); negative is invalid."""
    if requested < 0:
        raise InvalidArgument.field(path, "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def fingerprint(kind: str, *filters: object) -> str:
    text = json.dumps([kind, *[str(f) for f in filters]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_token(query: str, after: Sequence[str]) -> str:
    payload = json.dumps({"q": query, "a": list(after)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_token(token: str, query: str, keys: int, path: str = "page_token") -> list[str] | None:
    """The sort key after which the page starts; None for the first page (empty token)."""
    if not token:
        return None
    error = InvalidArgument.field(path, "not a page token of this query; start without one")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as bad:
        raise error from bad
    if not isinstance(payload, dict) or payload.get("q") != query:
        raise error
    after = payload.get("a")
    if (
        not isinstance(after, list)
        or len(after) != keys
        or not all(isinstance(v, str) for v in after)
    ):
        raise error
    return after
