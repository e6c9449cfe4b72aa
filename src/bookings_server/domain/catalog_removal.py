"""Deleting services, staff members and sessions (the catalog's end of life), as rules.

A deleted entity leaves lists, availability and new bookings at once, and stays readable by
id for the bookings that reference it. While bookings still need it (active: CREATED,
PENDING, CONFIRMED or WAITING_LIST, and not yet ended) it is not deleted, unless the caller
asks for those bookings to be canceled in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bookings_server.domain.booking import BookingStatus
from bookings_server.domain.errors import FailedPrecondition

HAS_ACTIVE_BOOKINGS = "HAS_ACTIVE_BOOKINGS"
#: The statuses of bookings that still need what they booked.
ACTIVE_STATUSES = (
    BookingStatus.CREATED,
    BookingStatus.PENDING,
    BookingStatus.CONFIRMED,
    BookingStatus.WAITING_LIST,
)
#: The participant notification of a booking canceled by a delete, unless the caller words it.
DEFAULT_MESSAGE = "This booking was canceled: what it booked is no longer offered."


@dataclass(frozen=True)
class EntityReference:
    """A catalog entity bookings may reference."""

    kind: Literal["service", "staff_member", "session"]
    id: str


@dataclass(frozen=True)
class DeleteOptions:
    """What happens to the entity's active bookings."""

    cancel_bookings: bool = False
    message: str = ""


def check_removable(reference: EntityReference, active: int, options: DeleteOptions) -> None:
    """FAILED_PRECONDITION HAS_ACTIVE_BOOKINGS (with the count) unless nothing needs the
    entity or the caller asked to cancel what does."""
    if active and not options.cancel_bookings:
        raise FailedPrecondition(
            f"{active} active booking(s) still need {reference.kind} {reference.id!r}; cancel "
            "them first, or delete with cancel_bookings",
            HAS_ACTIVE_BOOKINGS,
            active_bookings=str(active),
        )
