"""The webhooks file: which endpoints each site's outbox items are posted to.

YAML (or JSON, for a `.json` file): a mapping from site id to a list of endpoints, each with
its `url` (http or https) and its `secret` (Standard Webhooks format: `whsec_` then the
base64 of 24 to 64 random bytes):

    site-a:
      - url: https://hooks.example.com/bookings
        secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

Read once when the worker starts; a file that does not follow the format stops it with a
message naming the site and endpoint (never the secret).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import yaml
from standardwebhooks import Webhook

_SECRET_PREFIX = "whsec_"
#: Secret sizes the Standard Webhooks specification allows for HMAC-SHA256 (bytes).
_SECRET_BYTES = range(24, 65)

Endpoints = Mapping[str, tuple["WebhookEndpoint", ...]]


class WebhookFileError(ValueError):
    """The webhooks file cannot be read or does not follow the format."""


@dataclass(frozen=True)
class WebhookEndpoint:
    """One receiver: where to post, and the signer holding its secret."""

    url: SplitResult
    signer: Webhook = field(repr=False)

    @property
    def display(self) -> str:
        """The URL without its query or credentials, for logs and errors."""
        host = self.url.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{self.url.port}" if self.url.port is not None else ""
        return f"{self.url.scheme}://{host}{port}{self.url.path}"


def load_webhook_endpoints(path: Path) -> Endpoints:
    """Every site's endpoints from the file at `path`; WebhookFileError when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
        raise WebhookFileError(f"cannot read the webhooks file {path}: {error}") from error
    if not isinstance(document, dict):
        raise WebhookFileError(f"{path}: expected a mapping from site id to endpoints")
    return {
        str(site): _site_endpoints(path, str(site), entries) for site, entries in document.items()
    }


def _site_endpoints(path: Path, site: str, entries: Any) -> tuple[WebhookEndpoint, ...]:
    if not isinstance(entries, list):
        raise WebhookFileError(f"{path}: site {site!r}: expected a list of endpoints")
    return tuple(
        _endpoint(f"{path}: site {site!r}, endpoint {number}", entry)
        for number, entry in enumerate(entries, start=1)
    )


def _endpoint(where: str, entry: Any) -> WebhookEndpoint:
    if not isinstance(entry, dict) or set(entry) != {"url", "secret"}:
        raise WebhookFileError(f"{where}: expected exactly the keys url and secret")
    return WebhookEndpoint(_url(where, entry["url"]), _signer(where, entry["secret"]))


def _url(where: str, value: Any) -> SplitResult:
    url = _split(value)
    if url is None or url.scheme not in ("http", "https") or not url.hostname:
        raise WebhookFileError(
            f"{where}: url must be an http:// or https:// URL with a host and a valid port"
        )
    return url


def _split(value: Any) -> SplitResult | None:
    """`value` as a URL with a valid (or no) port; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        url = urlsplit(value)
        valid_port = url.port != 0
    except ValueError:  # bad brackets or port
        return None
    return url if valid_port else None


def _signer(where: str, value: Any) -> Webhook:
    if not isinstance(value, str) or not value.startswith(_SECRET_PREFIX):
        raise WebhookFileError(f"{where}: secret must be whsec_ followed by base64")
    encoded = value.removeprefix(_SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as error:
        raise WebhookFileError(f"{where}: secret is not valid base64 after whsec_") from error
    if len(key) not in _SECRET_BYTES:
        raise WebhookFileError(f"{where}: secret must hold 24 to 64 bytes, not {len(key)}")
    return Webhook(key)
