"""The worker's sender: each outbox item through the channel of its kind.

- PARTICIPANT_NOTIFICATION: email (smtp.py) when an SMTP host is configured, else the webhooks;
- BOOKING_EVENT and SMS_REMINDER: the site's webhooks (webhooks.py; there is no SMS gateway:
  an endpoint may send the reminder).

Without a webhooks file the webhook channel is the logging sender (every item one log line),
as before real delivery existed.
"""

from __future__ import annotations

from collections.abc import Mapping

from bookings_server.app.outbox_delivery import LoggingSender, Sender
from bookings_server.config import Config
from bookings_server.delivery.smtp import SmtpSender, SmtpSettings
from bookings_server.delivery.webhook_endpoints import load_webhook_endpoints
from bookings_server.delivery.webhooks import WebhookSender
from bookings_server.domain.outbox import OutboxItem, OutboxKind


class KindRouter:
    """Sends each item through the sender routed for its kind."""

    def __init__(self, routes: Mapping[OutboxKind, Sender]) -> None:
        self._routes = dict(routes)

    def send(self, item: OutboxItem) -> None:
        self._routes[item.kind].send(item)


def sender_from_config(config: Config) -> Sender:
    """The routed sender `config` describes; WebhookFileError when its webhooks file is bad."""
    webhooks: Sender = LoggingSender()
    if config.webhooks_file is not None:
        endpoints = load_webhook_endpoints(config.webhooks_file)
        webhooks = WebhookSender(endpoints, allow_private=config.webhooks_allow_private)
    routes = dict.fromkeys(OutboxKind, webhooks)
    if config.smtp_host:
        routes[OutboxKind.PARTICIPANT_NOTIFICATION] = SmtpSender(
            _smtp_settings(config, config.smtp_host)
        )
    return KindRouter(routes)


def _smtp_settings(config: Config, host: str) -> SmtpSettings:
    return SmtpSettings(
        host=host,
        port=config.smtp_port,
        sender=config.smtp_from,
        starttls=config.smtp_starttls,
        username=config.smtp_username,
        password=config.smtp_password,
    )
