"""The webhook sender: each outbox item POSTed as JSON to its site's endpoints, signed per
the Standard Webhooks specification.

Headers: `webhook-id` is the outbox item's id (the same on every retry: receivers drop
duplicates by it), `webhook-timestamp` the attempt's Unix time, `webhook-signature`
`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` with the endpoint's secret (PyPI
standardwebhooks' `Webhook.sign`, which its `Webhook.verify` checks). The body is

    {"type": "bookings.booking_event", "timestamp": "<due time, ISO 8601>",
     "site_id": "...", "booking_id": "...", "data": {<the item's payload>}}

with `type` "bookings." + the item kind in lower case. A delivery succeeds when every endpoint
of the site answered 2xx; anything else (another status, a redirect, a timeout, a refused or
private target) fails the item, which the worker retries later on every endpoint. A site
without endpoints has nothing to deliver: its items are settled at once.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import ssl
from datetime import UTC, datetime

from bookings_server.delivery.http_post import Timeouts, port_of, post
from bookings_server.delivery.targets import PrivateTargetError, checked_addresses
from bookings_server.delivery.webhook_endpoints import Endpoints, WebhookEndpoint
from bookings_server.domain.outbox import OutboxItem

log = logging.getLogger("bookings.delivery")

USER_AGENT = "bookings-webhooks/1"
#: Connect within 5 s, then 15 s per read (the specification suggests 15 to 30 s).
DEFAULT_TIMEOUTS = Timeouts()


class WebhookDeliveryError(Exception):
    """At least one endpoint did not take the item; the message names each and why."""


def webhook_type(item: OutboxItem) -> str:
    """The Standard Webhooks event type of an item: "bookings.participant_notification"..."""
    return f"bookings.{item.kind.value.lower()}"


def webhook_body(item: OutboxItem) -> str:
    """The JSON body posted for `item` (compact; the same bytes on every attempt)."""
    envelope = {
        "type": webhook_type(item),
        "timestamp": item.due_at.isoformat(),
        "site_id": item.site_id,
        "booking_id": item.booking_id,
        "data": item.payload,
    }
    return json.dumps(envelope, separators=(",", ":"))


class WebhookSender:
    """Posts items to the endpoints of their site (webhook_endpoints.py)."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        allow_private: bool = False,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._endpoints = endpoints
        self._allow_private = allow_private
        self._timeouts = timeouts
        self._tls = tls or ssl.create_default_context()

    def send(self, item: OutboxItem) -> None:
        endpoints = self._endpoints.get(item.site_id, ())
        if not endpoints:
            log.info(
                "no webhook endpoint for the site; nothing to post",
                extra={"outbox_id": item.id, "site_id": item.site_id},
            )
            return
        body = webhook_body(item)
        problems = [p for p in (self._post(e, item, body) for e in endpoints) if p is not None]
        if problems:
            raise WebhookDeliveryError("; ".join(problems))

    def _post(self, endpoint: WebhookEndpoint, item: OutboxItem, body: str) -> str | None:
        """Post to one endpoint; None when it took the item, else what went wrong."""
        try:
            status = self._attempt(endpoint, item.id, body)
        except (OSError, http.client.HTTPException, PrivateTargetError) as error:
            return f"{endpoint.display}: {type(error).__name__}: {error}"
        if not 200 <= status < 300:
            return f"{endpoint.display}: HTTP {status}"
        log.info(
            "webhook delivered",
            extra={"outbox_id": item.id, "url": endpoint.display, "status": status},
        )
        return None

    def _attempt(self, endpoint: WebhookEndpoint, message_id: str, body: str) -> int:
        url = endpoint.url
        addresses = checked_addresses(
            url.hostname or "", port_of(url), allow_private=self._allow_private
        )
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(math.floor(now.timestamp())),
            "webhook-signature": endpoint.signer.sign(message_id, now, body),
        }
        return post(url, addresses, headers, body.encode(), self._timeouts, self._tls)
