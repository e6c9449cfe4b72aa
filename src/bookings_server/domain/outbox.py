"""Durable deliveries (SPEC 3.9, RELIABILITY.md promise 4): what the outbox holds and when.

Outbox items are written in the same transaction as the booking change that causes them and
delivered at least once by the worker (bookings_server/worker.py). Each carries a stable `id`
that receivers use to drop duplicates.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bookings_server.domain.booking import Booking

#: The SMS reminder is due this long before the booking starts.
SMS_REMINDER_LEAD = timedelta(hours=24)


class OutboxKind(enum.Enum):
    #: Every booking event (BOOKING_CREATED, BOOKING_CONFIRMED, ...), for webhook-style delivery.
    BOOKING_EVENT = "BOOKING_EVENT"
    #: The participant notification (`participant_notification.notify_participants`).
    PARTICIPANT_NOTIFICATION = "PARTICIPANT_NOTIFICATION"
    #: The SMS reminder (`send_sms_reminder`), due 24 h before the start.
    SMS_REMINDER = "SMS_REMINDER"


@dataclass(frozen=True)
class OutboxMessage:
    """An item to enqueue."""

    kind: OutboxKind
    booking_id: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxItem:
    """An item claimed for delivery. `attempts` counts earlier failed deliveries.

    `stored_as_event`: the item is a booking event that delivers itself (its id is the
    event's id), so the store settles it in the events table."""

    id: str
    site_id: str
    kind: OutboxKind
    booking_id: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int
    claim_token: str
    stored_as_event: bool = False


def notification_message(booking: Booking, now: datetime, event: str) -> OutboxMessage | None:
    """The participant notification for a booking change, if the caller asked for one.

    Only `notify_participants` sends anything; the message is delivered with it (SPEC 3.9).
    """
    if not booking.notify_participants:
        return None
    payload = {
        "event": event,
        "message": booking.notification_message,
        "contact": _contact(booking),
        "title": booking.title,
        "start": _iso(booking.start),
    }
    return OutboxMessage(OutboxKind.PARTICIPANT_NOTIFICATION, booking.id, now, payload)


def sms_reminder_message(booking: Booking, now: datetime) -> OutboxMessage | None:
    """The SMS reminder due 24 h before the start.

    None unless `send_sms_reminder`, and none when the start is less than 24 h away: a
    "reminder" arriving after the booking was made, possibly minutes before the start, would
    only duplicate the booking confirmation (documented in docs/bookings.md).
    """
    if not booking.send_sms_reminder or booking.start is None:
        return None
    due = booking.start - SMS_REMINDER_LEAD
    if due < now:
        return None
    payload = {
        "phone": booking.contact.phone,
        "contact": _contact(booking),
        "title": booking.title,
        "start": _iso(booking.start),
    }
    return OutboxMessage(OutboxKind.SMS_REMINDER, booking.id, due, payload)


def creation_messages(booking: Booking, now: datetime) -> list[OutboxMessage]:
    """Deliveries a new booking schedules (its BOOKING_CREATED event is enqueued with it)."""
    messages = (
        notification_message(booking, now, "BOOKING_CREATED"),
        sms_reminder_message(booking, now),
    )
    return [m for m in messages if m is not None]


def retry_delay(
    attempts: int,
    base: timedelta = timedelta(seconds=5),
    cap: timedelta = timedelta(hours=1),
) -> timedelta:
    """Exponential backoff after the `attempts`-th failure: base, 2*base, 4*base ... cap."""
    exponent = min(max(attempts - 1, 0), 30)
    delay: timedelta = base * (2**exponent)
    return min(delay, cap)


def _contact(booking: Booking) -> dict[str, str]:
    contact = booking.contact
    return {
        "contact_id": contact.contact_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
    }


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""
