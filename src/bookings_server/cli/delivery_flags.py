"""The flags that say where the outbox worker delivers: webhooks, dead letters, SMTP.

On `bookings worker` and on `bookings serve` (for `--run-worker`); each also a BOOKINGS_*
variable. The SMTP credentials come from BOOKINGS_SMTP_USERNAME and BOOKINGS_SMTP_PASSWORD
only, never from a flag (it would show in the process list). Format and behaviour:
docs/operations.md, "Delivery".
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bookings_server.config import Config, env
from bookings_server.delivery.smtp import STARTTLS_MODES


def add_delivery_flags(parser: argparse.ArgumentParser) -> None:
    defaults = Config()
    webhooks_file = env("WEBHOOKS_FILE")
    parser.add_argument(
        "--webhooks-file",
        type=Path,
        default=Path(webhooks_file) if webhooks_file else None,
        help="YAML or JSON file mapping each site id to its webhook endpoints [{url, secret}] "
        "(env BOOKINGS_WEBHOOKS_FILE; default none: webhook items are only logged)",
    )
    parser.add_argument(
        "--webhooks-allow-private",
        action=argparse.BooleanOptionalAction,
        default=env("WEBHOOKS_ALLOW_PRIVATE", "false") in ("1", "true", "yes"),
        help="let webhooks reach loopback, private and link-local addresses "
        "(env BOOKINGS_WEBHOOKS_ALLOW_PRIVATE=true; default off: such targets are refused)",
    )
    parser.add_argument(
        "--delivery-max-attempts",
        type=_positive,
        default=env("DELIVERY_MAX_ATTEMPTS", str(defaults.delivery_max_attempts)),
        help="failed attempts after which an outbox item becomes a dead letter "
        "(env BOOKINGS_DELIVERY_MAX_ATTEMPTS; default %(default)s)",
    )
    _add_smtp_flags(parser, defaults)


def _add_smtp_flags(parser: argparse.ArgumentParser, defaults: Config) -> None:
    parser.add_argument(
        "--smtp-host",
        default=env("SMTP_HOST"),
        help="SMTP relay that mails participant notifications (env BOOKINGS_SMTP_HOST; "
        "default none: they go to the webhooks)",
    )
    parser.add_argument(
        "--smtp-port",
        type=int,
        default=env("SMTP_PORT", str(defaults.smtp_port)),
        help="SMTP port (env BOOKINGS_SMTP_PORT; default %(default)s)",
    )
    parser.add_argument(
        "--smtp-from",
        default=env("SMTP_FROM", defaults.smtp_from),
        help="From address of the notifications (env BOOKINGS_SMTP_FROM; default %(default)s)",
    )
    parser.add_argument(
        "--smtp-starttls",
        choices=STARTTLS_MODES,
        default=env("SMTP_STARTTLS", defaults.smtp_starttls),
        help="auto: STARTTLS when the server offers it; always: refuse to send without; never "
        "(env BOOKINGS_SMTP_STARTTLS; default %(default)s)",
    )


def delivery_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Config fields of the delivery flags, and the SMTP credentials from the environment."""
    return {
        "webhooks_file": args.webhooks_file,
        "webhooks_allow_private": args.webhooks_allow_private,
        "delivery_max_attempts": args.delivery_max_attempts,
        "smtp_host": args.smtp_host or None,
        "smtp_port": args.smtp_port,
        "smtp_from": args.smtp_from,
        "smtp_starttls": args.smtp_starttls,
        "smtp_username": env("SMTP_USERNAME"),
        "smtp_password": env("SMTP_PASSWORD"),
    }


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value
