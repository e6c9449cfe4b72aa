"""The bulk calls on the wire (SPEC section 12): limits, and one result per item.

Each item runs exactly as its single call would, in its own transaction, in request order (so
items touching the same capacity unit are decided in that order; each transaction takes its
locks in key order, so concurrent bulk calls never deadlock). A failed item's result carries
the status, message and google.rpc details the single call would have answered; an
unexpected error is not an item's failure but the whole call's (INTERNAL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from bookings.v1 import bookings_service_pb2 as pb

from bookings_server.api.bookings.convert import booking_to_proto
from bookings_server.api.status import to_status_proto
from bookings_server.domain.booking import Booking
from bookings_server.domain.errors import DomainError, InvalidArgument

#: Wix's limits.
MAX_CREATE_ITEMS = 8
MAX_CONFIRM_ITEMS = 300

Item = TypeVar("Item")


def check_item_count(items: Sequence[object], field: str, limit: int) -> None:
    """A bulk request names 1 to `limit` items, else INVALID_ARGUMENT on the list."""
    if not 1 <= len(items) <= limit:
        raise InvalidArgument.field(field, f"must hold 1 to {limit} items, not {len(items)}")


def run_items(
    items: Sequence[Item],
    run: Callable[[Item], Booking],
    *,
    return_entity: bool,
    item_id: Callable[[Item], str] | None = None,
) -> tuple[list[pb.BulkBookingResult], pb.BulkActionMetadata]:
    """Every item through `run`, in order; the results and their totals. `item_id` names the
    booking a failed item is about, when the item names one."""
    results = [
        _result(index, item, run, item_id, return_entity) for index, item in enumerate(items)
    ]
    successes = sum(1 for r in results if r.item_metadata.success)
    totals = pb.BulkActionMetadata(
        total_successes=successes, total_failures=len(results) - successes
    )
    return results, totals


def _result(
    index: int,
    item: Item,
    run: Callable[[Item], Booking],
    item_id: Callable[[Item], str] | None,
    return_entity: bool,
) -> pb.BulkBookingResult:
    try:
        booking = run(item)
    except DomainError as error:
        named = item_id(item) if item_id is not None else ""
        failed = pb.ItemMetadata(id=named, original_index=index, success=False)
        failed.error.ParseFromString(to_status_proto(error).SerializeToString())
        return pb.BulkBookingResult(item_metadata=failed)
    result = pb.BulkBookingResult(
        item_metadata=pb.ItemMetadata(id=booking.id, original_index=index, success=True)
    )
    if return_entity:
        result.item.CopyFrom(booking_to_proto(booking))
    return result
