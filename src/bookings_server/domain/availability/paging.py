"""QueryAvailability page tokens: an `EntryPosition`, signed (domain/page_tokens.py) for the
query's fingerprint and the caller's site."""

from __future__ import annotations

from bookings_server.domain.availability.entries import EntryPosition
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.page_tokens import PageTokenCodec, TokenFields

__all__ = ["decode_position", "encode_position"]


def _scope(query: AvailabilityQuery) -> tuple[str, str]:
    return ("availability", query.fingerprint())


def encode_position(
    tokens: PageTokenCodec, site_id: str, query: AvailabilityQuery, position: EntryPosition
) -> str:
    """The token of the page after `position`."""
    return tokens.encode(
        site_id, _scope(query), (position.bookable, *position.key, position.day_count)
    )


def decode_position(
    tokens: PageTokenCodec, site_id: str, query: AvailabilityQuery
) -> EntryPosition | None:
    """Where the query's page token says its page starts after; None without a token.
    InvalidArgument INVALID_PAGE_TOKEN for a token not issued for this query and site."""
    return tokens.decode(query.page_token, site_id, _scope(query), _read_position)


def _read_position(fields: TokenFields) -> EntryPosition:
    bookable = fields.flag()
    key = (
        fields.instant(),
        fields.instant(),
        fields.text(),
        fields.text(),
        fields.text(),
        fields.text(),
    )
    return EntryPosition(bookable, key, fields.count())
