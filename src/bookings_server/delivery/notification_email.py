"""The email of a participant notification (outbox kind PARTICIPANT_NOTIFICATION).

Its payload (domain/outbox.py `notification_message`, domain/waiting_list.py `offer_message`)
names the event, the business's message, the booking's title and start, and the contact. The
Message-ID is derived from the outbox item id, so a notification sent again after a retry
carries the same one (mail clients and archives can tell the copies apart from new mail).
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from bookings_server.domain.outbox import OutboxItem


def notification_recipient(item: OutboxItem) -> str | None:
    """The contact's email address, None when the booking has none usable (nothing to mail)."""
    contact = item.payload.get("contact") or {}
    address = str(contact.get("email") or "").strip()
    if "@" not in address or any(c in address for c in "\r\n,;<> "):
        return None
    return address


def notification_email(item: OutboxItem, sender: str, recipient: str) -> EmailMessage:
    """The message to `recipient` for the notification `item`."""
    payload = item.payload
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = _one_line(_subject(payload))
    message["Message-ID"] = f"<{item.id}@{_domain(sender)}>"
    message.set_content(_text(payload))
    return message


def _subject(payload: dict[str, Any]) -> str:
    event = str(payload.get("event") or "BOOKING_UPDATED").replace("_", " ").capitalize()
    title = str(payload.get("title") or "")
    return f"{event}: {title}" if title else event


def _text(payload: dict[str, Any]) -> str:
    contact = payload.get("contact") or {}
    name = str(contact.get("first_name") or "").strip()
    lines = [f"Hello {name}," if name else "Hello,", ""]
    if payload.get("message"):
        lines += [str(payload["message"]), ""]
    if payload.get("start"):
        lines.append(f"{payload.get('title') or 'Your booking'} starts {payload['start']}.")
    if payload.get("offer_expires"):
        lines.append(f"The offer expires {payload['offer_expires']}.")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    """Header text without line breaks (a title holding one must not add a header)."""
    return " ".join(text.split())


def _domain(address: str) -> str:
    domain = address.rpartition("@")[2].strip(" >")
    return domain or "bookings.invalid"
