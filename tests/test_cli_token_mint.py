"""`bookings token mint`: it starts quickly, importing neither the server (gRPC, protobuf),
nor the store (SQLAlchemy, Alembic, psycopg), nor PyJWT and cryptography (docs/benchmarks.md,
"CLI start-up"); its --ttl is bounded text."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from bookings_server.api.auth.keys import load_signing_keys
from bookings_server.cli.token import MAX_TTL, parse_ttl
from bookings_server.config import Config

#: Packages (and their submodules) that `token mint` must not import.
HEAVY = (
    "grpc",
    "google.protobuf",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "jwt",
    "cryptography",
    "bookings_server.server",
    "bookings_server.store",
    "bookings_server.api.interceptors",
)


def imported_modules(stderr: str) -> set[str]:
    """The module names of a `python -X importtime` report."""
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:")
    }


def test_token_mint_imports_no_server_store_or_jwt_library(tmp_path: Path) -> None:
    command = [sys.executable, "-X", "importtime", "-m", "bookings_server.cli.main"]
    mint = ["token", "mint", "--site", "site-a", "--identity", "owner", "--data-dir", str(tmp_path)]
    result = subprocess.run([*command, *mint], capture_output=True, text=True, check=True)
    heavy = sorted(
        name
        for name in imported_modules(result.stderr)
        if any(name == root or name.startswith(f"{root}.") for root in HEAVY)
    )
    assert heavy == []
    claims = jwt.decode(
        result.stdout.strip(),
        load_signing_keys(Config(data_dir=tmp_path)).secret,
        algorithms=["HS256"],
        audience="bookings",
    )
    assert (claims["site_id"], claims["identity_type"]) == ("site-a", "OWNER")


@pytest.mark.parametrize(
    "text", ["3661d", "9" * 30 + "d", "1" * 10, "\uff11h", "\u0661\u0662m", "1 h", "1hh"]
)
def test_a_ttl_too_long_or_not_in_ascii_digits_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid ttl"):
        parse_ttl(text)


def test_the_longest_ttl_is_accepted() -> None:
    assert parse_ttl(f"{MAX_TTL.days}d") == MAX_TTL
