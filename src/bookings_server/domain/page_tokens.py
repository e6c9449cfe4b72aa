"""Page tokens: one signed, versioned codec for every paged list (AIP-158 `page_token`).

A token carries where the previous page ended (a few typed fields, see `TokenFields`) and is
signed with HMAC-SHA256 under a server-side key. The signature also covers the format
version, the site id and a description of the query the token was issued for, none of which
is in the token itself: a token is accepted only by the same kind of query, with the same
selecting fields, on the same site, and only if no byte of it was changed. Every decoded field
is still type- and range-checked: a value no position can hold is refused like a forgery.

Every refusal is the same INVALID_ARGUMENT (reason INVALID_PAGE_TOKEN, field `page_token`):
a client cannot tell a tampered token from one of another query or site, and need not.

Layout: base64url without padding of `version (1 byte) | tag (32 bytes) | payload`, the
payload being the position as compact JSON (instants as integer microseconds since the
epoch). The tag is HMAC(key, header + "\\n" + payload) with the header the JSON array
[version, site id, query]; compact JSON never holds a raw newline, so the split is
unambiguous.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bookings_server.domain.errors import InvalidArgument

__all__ = [
    "FORMAT_VERSION",
    "INVALID_PAGE_TOKEN",
    "PageTokenCodec",
    "TokenFields",
    "TokenValue",
    "invalid_page_token",
]

#: Bumped when the layout or a position's fields change: tokens of other versions are refused.
FORMAT_VERSION = 1
INVALID_PAGE_TOKEN = "INVALID_PAGE_TOKEN"
#: Longer tokens are refused before any decoding (the longest issued is well under 2,000).
MAX_TOKEN_LENGTH = 4096
#: Longest text field (ids are at most 100 characters, names 200).
MAX_TEXT_LENGTH = 1000
#: Largest count field (an int32, like every count of the API).
MAX_COUNT = 2**31 - 1
#: What the key is derived with from a configured secret (see `PageTokenCodec.from_secret`).
KEY_LABEL = b"bookings.v1 page tokens"

_TAG_BYTES = hashlib.sha256().digest_size
_MIN_KEY_BYTES = 32
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MIN_INSTANT = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND
_MAX_INSTANT = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND

#: What a position is made of: texts (ids, names), flags, counts and UTC instants.
TokenValue = str | bool | int | datetime
P = TypeVar("P")


def invalid_page_token() -> InvalidArgument:
    """The one answer to a token this server did not issue for this query and site."""
    return InvalidArgument.on_field(
        "page_token",
        "is not a page token of this query on this site: send it with the same request "
        "that returned it, or start without one",
        INVALID_PAGE_TOKEN,
    )


class TokenFields:
    """The fields of a verified token, read in order, each checked for its type and range."""

    def __init__(self, values: list[object]) -> None:
        self._values = values
        self._next = 0

    def _take(self) -> object:
        if self._next >= len(self._values):
            raise invalid_page_token()
        value = self._values[self._next]
        self._next += 1
        return value

    def text(self) -> str:
        value = self._take()
        if not isinstance(value, str) or len(value) > MAX_TEXT_LENGTH:
            raise invalid_page_token()
        return value

    def flag(self) -> bool:
        value = self._take()
        if not isinstance(value, bool):
            raise invalid_page_token()
        return value

    def count(self) -> int:
        """A whole number from 0 to MAX_COUNT."""
        return self._integer(0, MAX_COUNT)

    def instant(self) -> datetime:
        """A UTC instant that datetime can represent."""
        return _EPOCH + self._integer(_MIN_INSTANT, _MAX_INSTANT) * _MICROSECOND

    def finish(self) -> None:
        """Refuse fields left unread."""
        if self._next != len(self._values):
            raise invalid_page_token()

    def _integer(self, low: int, high: int) -> int:
        value = self._take()
        # bool is an int subclass; JSON's true is not a number here.
        if type(value) is not int or not low <= value <= high:
            raise invalid_page_token()
        return value


class PageTokenCodec:
    """Issues and verifies page tokens under one key.

    Every server process on one database must hold the same key, so that any of them accepts
    the tokens of the others (see `from_secret`).
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"a page token key has at least {_MIN_KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def from_secret(cls, secret: str) -> PageTokenCodec:
        """The codec keyed by HMAC(secret, KEY_LABEL): a secret shared for another purpose
        (the JWT HS256 secret) is never used as this key itself, and the key reveals nothing
        about it."""
        if not secret:
            raise ValueError("the page token secret is empty")
        return cls(hmac.new(secret.encode(), KEY_LABEL, hashlib.sha256).digest())

    def encode(self, site_id: str, query: Sequence[str], position: Sequence[TokenValue]) -> str:
        """The token of the page after `position`, for `query` (the kind of list and its
        selecting fields, in a fixed order) on `site_id`."""
        payload = _dumps([_plain(value) for value in position])
        raw = bytes([FORMAT_VERSION]) + self._tag(site_id, query, payload) + payload
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(
        self,
        token: str,
        site_id: str,
        query: Sequence[str],
        read: Callable[[TokenFields], P],
    ) -> P | None:
        """The position `token` holds, built by `read` from its fields; None for an empty
        token (the first page). InvalidArgument INVALID_PAGE_TOKEN unless this codec issued
        the token for the same query and site, in this format version."""
        if not token:
            return None
        payload = self._verified_payload(token, site_id, query)
        try:
            values = json.loads(payload)
        except ValueError as error:
            raise invalid_page_token() from error
        if not isinstance(values, list):
            raise invalid_page_token()
        fields = TokenFields(values)
        position = read(fields)
        fields.finish()
        return position

    def _verified_payload(self, token: str, site_id: str, query: Sequence[str]) -> bytes:
        raw = _base64url(token)
        if len(raw) <= _TAG_BYTES or raw[0] != FORMAT_VERSION:
            raise invalid_page_token()
        tag, payload = raw[1 : 1 + _TAG_BYTES], raw[1 + _TAG_BYTES :]
        if not hmac.compare_digest(tag, self._tag(site_id, query, payload)):
            raise invalid_page_token()
        return payload

    def _tag(self, site_id: str, query: Sequence[str], payload: bytes) -> bytes:
        header = _dumps([FORMAT_VERSION, site_id, list(query)])
        return hmac.new(self._key, header + b"\n" + payload, hashlib.sha256).digest()


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _plain(value: TokenValue) -> str | bool | int:
    if isinstance(value, datetime):
        assert value.tzinfo is not None, "positions hold aware instants"
        return (value - _EPOCH) // _MICROSECOND
    return value


def _base64url(token: str) -> bytes:
    """The bytes of unpadded base64url text in its one canonical spelling, else refused
    (a changed last character that decodes to the same bytes is still a changed token)."""
    if len(token) > MAX_TOKEN_LENGTH or not _BASE64URL.fullmatch(token):
        raise invalid_page_token()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as error:
        raise invalid_page_token() from error
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != token:
        raise invalid_page_token()
    return raw
