"""The SMTP sender: participant notifications mailed to the booking's contact (stdlib smtplib).

One connection per message: EHLO, STARTTLS when the server offers it (`starttls="auto"`;
`"always"` refuses to send to a server that does not offer it, `"never"` does not ask), EHLO
again, LOGIN when credentials are configured (never over a connection without TLS), then the
message. Any SMTP or network failure raises, so the worker retries the item later.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field

from bookings_server.delivery.notification_email import notification_email, notification_recipient
from bookings_server.domain.outbox import OutboxItem

log = logging.getLogger("bookings.delivery")

STARTTLS_MODES = ("auto", "always", "never")


class SmtpDeliveryError(Exception):
    """The connection does not meet the configured security (no STARTTLS, no TLS for LOGIN)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    sender: str = "bookings@localhost"
    #: One of STARTTLS_MODES.
    starttls: str = "auto"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: Seconds for connecting and for each command.
    timeout: float = 30.0


class SmtpSender:
    """Mails each participant notification; `tls` verifies the server (default: system CAs)."""

    def __init__(self, settings: SmtpSettings, tls: ssl.SSLContext | None = None) -> None:
        if settings.starttls not in STARTTLS_MODES:
            raise ValueError(f"starttls must be one of {', '.join(STARTTLS_MODES)}")
        self._settings = settings
        self._tls = tls or ssl.create_default_context()

    def send(self, item: OutboxItem) -> None:
        recipient = notification_recipient(item)
        if recipient is None:
            log.info(
                "participant notification without a usable email address; nothing to mail",
                extra={"outbox_id": item.id, "site_id": item.site_id},
            )
            return
        message = notification_email(item, self._settings.sender, recipient)
        settings = self._settings
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as client:
            self._log_in(client, secured=self._secure(client))
            client.send_message(message)
        log.info("notification mailed", extra={"outbox_id": item.id})

    def _secure(self, client: smtplib.SMTP) -> bool:
        """STARTTLS as configured; True when the connection is now encrypted."""
        mode = self._settings.starttls
        client.ehlo()
        offered = client.has_extn("starttls")
        if mode == "never" or (mode == "auto" and not offered):
            return False
        if not offered:
            raise SmtpDeliveryError(
                "the SMTP server does not offer STARTTLS (--smtp-starttls always)"
            )
        client.starttls(context=self._tls)
        client.ehlo()
        return True

    def _log_in(self, client: smtplib.SMTP, *, secured: bool) -> None:
        if self._settings.username is None:
            return
        if not secured:
            raise SmtpDeliveryError("refusing to send the SMTP credentials without STARTTLS")
        client.login(self._settings.username, self._settings.password or "")
