"""Page tokens (domain/page_tokens.py): signed for one query on one site, refused otherwise."""

from __future__ import annotations

import base64
import string
from datetime import UTC, datetime, timedelta

import pytest

from bookings_server.domain import page_tokens
from bookings_server.domain.errors import InvalidArgument
from bookings_server.domain.page_tokens import (
    INVALID_PAGE_TOKEN,
    MAX_COUNT,
    PageTokenCodec,
    TokenFields,
)

CODEC = PageTokenCodec.from_secret("a secret every server process shares")
SITE = "site-a"
QUERY = ("bookings", "filter-digest")
MOMENT = datetime(2026, 5, 4, 9, 30, 15, 123456, tzinfo=UTC)
POSITION = (True, MOMENT, "naïve café ☕", 7)


def read_position(fields: TokenFields) -> tuple[bool, datetime, str, int]:
    return fields.flag(), fields.instant(), fields.text(), fields.count()


def decode(token: str, site: str = SITE, query: tuple[str, ...] = QUERY, codec=CODEC):
    return codec.decode(token, site, query, read_position)


TOKEN = CODEC.encode(SITE, QUERY, POSITION)


def refused(call) -> bool:
    """True when `call` raises the page token refusal: INVALID_ARGUMENT INVALID_PAGE_TOKEN on
    `page_token`."""
    with pytest.raises(InvalidArgument) as raised:
        call()
    error = raised.value
    assert error.reason == INVALID_PAGE_TOKEN
    assert [v.field for v in error.violations] == ["page_token"]
    assert error.metadata["field"] == "page_token"
    return True


def raw_bytes(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def spelled(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_token_gives_back_the_position_it_was_issued_for() -> None:
    assert decode(TOKEN) == POSITION


def test_no_token_is_the_first_page() -> None:
    assert decode("") is None


def test_a_token_is_url_safe_text() -> None:
    assert set(TOKEN) <= set(string.ascii_letters + string.digits + "-_")


def test_a_token_of_another_site_is_refused() -> None:
    assert refused(lambda: decode(TOKEN, site="site-b"))


@pytest.mark.parametrize(
    "query",
    [("bookings", "other-digest"), ("services", "filter-digest"), ("bookings",), ()],
)
def test_a_token_of_another_query_is_refused(query: tuple[str, ...]) -> None:
    assert refused(lambda: decode(TOKEN, query=query))


def test_a_token_signed_under_another_key_is_refused() -> None:
    other = PageTokenCodec.from_secret("another deployment's secret")
    assert refused(lambda: decode(other.encode(SITE, QUERY, POSITION)))


def test_processes_with_the_same_secret_accept_each_others_tokens() -> None:
    same = PageTokenCodec.from_secret("a secret every server process shares")
    assert decode(TOKEN, codec=same) == POSITION


def test_the_key_is_derived_from_the_secret_not_the_secret_itself() -> None:
    secret = "a secret every server process shares".ljust(32, "!")
    as_key = PageTokenCodec(secret.encode())
    token = PageTokenCodec.from_secret(secret).encode(SITE, QUERY, POSITION)
    assert refused(lambda: decode(token, codec=as_key))


@pytest.mark.parametrize(
    "part",
    ["version", "tag", "payload"],
)
def test_changing_any_byte_of_any_part_is_refused(part: str) -> None:
    raw = raw_bytes(TOKEN)
    indices = {"version": range(0, 1), "tag": range(1, 33), "payload": range(33, len(raw))}[part]
    for index in indices:
        for flip in (0x01, 0x80, 0xFF):
            forged = bytearray(raw)
            forged[index] ^= flip
            assert refused(lambda forged=forged: decode(spelled(bytes(forged)))), (index, flip)


def test_changing_any_character_is_refused() -> None:
    for index, char in enumerate(TOKEN):
        for other in "AB_-z9":
            if other != char:
                forged = TOKEN[:index] + other + TOKEN[index + 1 :]
                assert refused(lambda forged=forged: decode(forged)), (index, other)


def test_a_truncated_or_extended_token_is_refused() -> None:
    for length in range(1, len(TOKEN)):
        assert refused(lambda length=length: decode(TOKEN[:length])), length
    for suffix in ("A", "AA", "AAAA", "=", "==", " ", "\n"):
        assert refused(lambda suffix=suffix: decode(TOKEN + suffix)), suffix


@pytest.mark.parametrize(
    "garbage",
    ["not-a-token", "%%%", "eyJvZmZzZXQiOiAtMX0=", "bm90IGEgdG9rZW4", "A", "  ", "ü", "A" * 5000],
)
def test_garbage_is_refused(garbage: str) -> None:
    assert refused(lambda: decode(garbage))


def test_a_token_of_an_earlier_format_version_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(page_tokens, "FORMAT_VERSION", 0)
    old = CODEC.encode(SITE, QUERY, POSITION)
    monkeypatch.undo()
    assert refused(lambda: decode(old))


def signed(*values: object) -> str:
    """A genuinely signed token holding `values`: what only a leaked key could forge."""
    return CODEC.encode(SITE, QUERY, values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "values",
    [
        (True, MOMENT, "text", 2**80),  # past any count
        (True, MOMENT, "text", -1),
        (True, MOMENT, "text", MAX_COUNT + 1),
        (True, 10**20, "text", 7),  # past datetime's range
        (True, -(10**20), "text", 7),
        (1, MOMENT, "text", 7),  # a number where a flag goes
        (True, MOMENT, "text", True),  # a flag where a count goes
        (True, MOMENT, 5, 7),
        (True, MOMENT, "x" * 1001, 7),
        (True, MOMENT, "text"),  # a field missing
        (True, MOMENT, "text", 7, 8),  # a field too many
    ],
)
def test_every_field_is_type_and_range_checked_even_when_signed(values: tuple) -> None:
    assert refused(lambda: decode(signed(*values)))


def test_instants_keep_their_microseconds_at_the_edges_of_the_range() -> None:
    edges = [
        datetime.min.replace(tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
        MOMENT + timedelta(microseconds=1),
    ]
    for moment in edges:
        token = CODEC.encode(SITE, QUERY, (moment,))
        assert CODEC.decode(token, SITE, QUERY, TokenFields.instant) == moment


def test_a_key_is_long_enough_and_a_secret_not_empty() -> None:
    with pytest.raises(ValueError):
        PageTokenCodec(b"short")
    with pytest.raises(ValueError):
        PageTokenCodec.from_secret("")
