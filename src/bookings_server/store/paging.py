"""Keyset paging of the catalog lists: one page of rows and where the next page starts.

The store speaks positions (the sort key of the last row returned), never page tokens:
app/catalog.py signs a position into the next page token and verifies it when it comes back
(domain/page_tokens.py), so the store is only ever given a position this server issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from bookings_server.domain.errors import InvalidArgument

T = TypeVar("T")
K = TypeVar("K", covariant=True)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Keyset(Generic[T, K]):
    items: list[T]
    #: The sort key of the last item when more follow (the next page starts after it); None
    #: on the last page.
    next_after: K | None


def page_size(requested: int, path: str = "page_size") -> int:
    """0 is the default (50); more than 500 is served as 500 (AIP-158); negative is invalid."""
    if requested < 0:
        raise InvalidArgument.field(path, "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
