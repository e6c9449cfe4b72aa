"""CLI plumbing for auth: the JWT flags/environment of `serve`, and `bookings token mint`."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bookings_server.cli.console import say
from bookings_server.config import Config, env
from bookings_server.domain.identity import ALL_SCOPES, IdentityType

#: Scopes of a minted token when no --scope is given: all four (a full local developer token).
DEFAULT_MINT_SCOPES = ALL_SCOPES
#: The site of the owner token `bookings serve` prints: the demo catalog's site.
LOCAL_SITE = "demo-site"
LOCAL_TOKEN_TTL = timedelta(hours=24)

#: Longest lifetime of a minted token (ten years, like the longest duration of the API).
MAX_TTL = timedelta(days=3660)
#: At most 9 ASCII digits: 999999999d is still a timedelta, so the bound is checked, not hit.
_TTL = re.compile(r"(\d{1,9})([smhd]?)", re.ASCII)
_TTL_UNITS = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def add_auth_flags(parser: argparse.ArgumentParser) -> None:
    """JWT verification settings. The HS256 secret is read from BOOKINGS_JWT_SECRET only (a
    flag would show it in the process list); without it, <data-dir>/jwt-secret is used."""
    defaults = Config()
    parser.add_argument(
        "--jwt-issuer",
        default=env("JWT_ISSUER", defaults.jwt_issuer),
        help="expected token issuer (env BOOKINGS_JWT_ISSUER; default %(default)s)",
    )
    parser.add_argument(
        "--jwt-audience",
        default=env("JWT_AUDIENCE", defaults.jwt_audience),
        help="expected token audience (env BOOKINGS_JWT_AUDIENCE; default %(default)s)",
    )
    parser.add_argument(
        "--jwt-public-key-file",
        type=Path,
        default=env("JWT_PUBLIC_KEY_FILE"),
        help="PEM RSA or EC P-256 public key: also accept RS256/ES256 tokens "
        "(env BOOKINGS_JWT_PUBLIC_KEY_FILE, or the PEM itself in BOOKINGS_JWT_PUBLIC_KEY)",
    )


def auth_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Config fields from the flags of `add_auth_flags` and the environment."""
    public_key = env("JWT_PUBLIC_KEY")
    if args.jwt_public_key_file is not None:
        public_key = Path(args.jwt_public_key_file).read_text()
    return {
        "jwt_secret": env("JWT_SECRET"),
        "jwt_public_key": public_key,
        "jwt_issuer": args.jwt_issuer,
        "jwt_audience": args.jwt_audience,
    }


def parse_ttl(text: str) -> timedelta:
    """ "90" or "90s", "15m", "1h", "7d": more than zero, at most MAX_TTL."""
    match = _TTL.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"invalid ttl {text!r}: use e.g. 90s, 15m, 1h, 7d")
    ttl = timedelta(**{_TTL_UNITS[match.group(2)]: int(match.group(1))})
    if ttl > MAX_TTL:
        raise argparse.ArgumentTypeError(f"invalid ttl {text!r}: at most {MAX_TTL.days}d")
    return ttl


def add_token_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    add_store_flags: Callable[[argparse.ArgumentParser], None],
) -> None:
    """`bookings token mint ...`; `add_store_flags` adds --data-dir/--database-url."""
    token = commands.add_parser("token", help="local tokens")
    actions = token.add_subparsers(dest="token_command", required=True)
    mint = actions.add_parser("mint", help="print a signed bearer token (HS256, configured key)")
    add_store_flags(mint)
    add_auth_flags(mint)
    mint.add_argument("--site", required=True, help="site id (tenant) the token is for")
    mint.add_argument(
        "--identity",
        required=True,
        choices=[identity.value.lower() for identity in IdentityType],
        help="identity type",
    )
    mint.add_argument("--id", help="identity id (the `sub` claim; default local-<identity>)")
    mint.add_argument(
        "--scope",
        action="append",
        default=[],
        help="scope to grant (repeatable; default: all four bookings scopes)",
    )
    mint.add_argument(
        "--permission", action="append", default=[], help="override permission (repeatable)"
    )
    mint.add_argument("--ttl", type=parse_ttl, default=timedelta(hours=1), help="default 1h")
    mint.set_defaults(run=_mint)


def _mint(args: argparse.Namespace) -> int:
    from bookings_server.api.auth.keys import load_signing_keys
    from bookings_server.api.auth.tokens import mint_token

    config = Config(data_dir=args.data_dir, **auth_settings(args))
    identity = IdentityType(args.identity.upper())
    token = mint_token(
        load_signing_keys(config),
        site_id=args.site,
        identity_type=identity,
        identity_id=args.id or f"local-{args.identity}",
        scopes=args.scope or DEFAULT_MINT_SCOPES,
        permissions=args.permission,
        ttl=args.ttl,
    )
    print(token)
    return 0


def print_local_owner_hint(config: Config, port: int) -> None:
    """On the embedded default (no configured secret), print an owner token and a grpcurl line."""
    if not config.is_embedded or config.jwt_secret is not None:
        return
    from bookings_server.api.auth.keys import load_signing_keys
    from bookings_server.api.auth.tokens import mint_token

    token = mint_token(
        load_signing_keys(config),
        site_id=LOCAL_SITE,
        identity_type=IdentityType.OWNER,
        identity_id="local-owner",
        scopes=DEFAULT_MINT_SCOPES,
        ttl=LOCAL_TOKEN_TTL,
    )
    host = config.address.rsplit(":", 1)[0] or "127.0.0.1"
    if host in ("0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    say(f'bookings: owner token for site "{LOCAL_SITE}" (valid 24h):\n{token}')
    say(
        f"bookings: try  grpcurl {_transport_flags(config)} -H 'authorization: Bearer {token}' "
        f"-d '{{}}' {host}:{port} bookings.v1.CatalogService/ListServices"
    )


def _transport_flags(config: Config) -> str:
    """grpcurl's flags for the server's transport: plaintext, TLS, or mTLS."""
    if config.tls_cert_file is None:
        return "-plaintext"
    flags = "-cacert <the CA that signed --tls-cert-file>"
    if config.tls_client_ca_file is not None:
        flags += " -cert <client.pem> -key <client.key>"
    return flags
