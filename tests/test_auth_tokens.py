"""Tokens and keys: what verify_token accepts, what it refuses, and where the secret lives."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from bookings_server.api.auth.keys import (
    SECRET_FILE_NAME,
    SigningKeyError,
    SigningKeys,
    load_signing_keys,
)
from bookings_server.api.auth.tokens import (
    MAX_ID_CLAIM_LENGTH,
    MAX_LIST_CLAIM_ENTRIES,
    mint_token,
    verify_token,
)
from bookings_server.config import Config
from bookings_server.domain.errors import Unauthenticated
from bookings_server.domain.identity import IdentityType, Permission, Principal, Scope

KEYS = SigningKeys(
    secret="a-test-secret-that-is-long-enough-0123456789", issuer="iss", audience="aud"
)


def mint(keys: SigningKeys = KEYS, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "site_id": "site-a",
        "identity_type": IdentityType.MEMBER,
        "identity_id": "member-7",
        "scopes": [Scope.READ_CALENDAR],
        "permissions": [Permission.MANAGE_PAYMENTS],
    }
    return mint_token(keys, **(arguments | overrides))


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "iss": "iss",
        "aud": "aud",
        "sub": "member-7",
        "exp": now + timedelta(minutes=5),
        "site_id": "site-a",
        "identity_type": "MEMBER",
    }
    return {key: value for key, value in (base | overrides).items() if value is not None}


def reason_of(token: str, keys: SigningKeys = KEYS) -> str:
    with pytest.raises(Unauthenticated) as raised:
        verify_token(keys, token)
    return raised.value.reason


def pem_pair(private_key: PrivateKeyTypes) -> tuple[str, str]:
    private = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_a_minted_token_verifies_to_its_principal() -> None:
    assert verify_token(KEYS, mint()) == Principal(
        site_id="site-a",
        identity_type=IdentityType.MEMBER,
        identity_id="member-7",
        scopes=frozenset({Scope.READ_CALENDAR}),
        permissions=frozenset({Permission.MANAGE_PAYMENTS}),
    )


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "INVALID_TOKEN"),
        ("not.a.jwt", "INVALID_TOKEN"),
        (mint(replace(KEYS, secret="another-secret-that-is-long-enough-98765")), "INVALID_TOKEN"),
        (mint(ttl=timedelta(minutes=-5)), "TOKEN_EXPIRED"),
        (mint(replace(KEYS, audience="other")), "INVALID_TOKEN"),
        (mint(replace(KEYS, issuer="other")), "INVALID_TOKEN"),
    ],
    ids=["empty", "garbage", "bad signature", "expired", "wrong audience", "wrong issuer"],
)
def test_unverifiable_tokens_are_unauthenticated(token: str, reason: str) -> None:
    assert reason_of(token) == reason


def test_a_token_before_its_not_before_time_is_refused() -> None:
    token = jwt.encode(claims(nbf=datetime.now(UTC) + timedelta(hours=1)), KEYS.secret, "HS256")
    assert reason_of(token) == "TOKEN_NOT_YET_VALID"


def test_a_little_clock_skew_is_tolerated() -> None:
    token = jwt.encode(claims(nbf=datetime.now(UTC) + timedelta(seconds=5)), KEYS.secret, "HS256")
    assert verify_token(KEYS, token).site_id == "site-a"


@pytest.mark.parametrize("claim", ["exp", "iss", "aud", "sub", "site_id", "identity_type"])
def test_a_token_missing_a_required_claim_is_refused(claim: str) -> None:
    token = jwt.encode(claims(**{claim: None}), KEYS.secret, "HS256")
    assert reason_of(token) == "INVALID_TOKEN"


@pytest.mark.parametrize(
    "bad",
    [
        {"identity_type": "ADMIN"},
        {"identity_type": ["OWNER"]},
        {"site_id": ""},
        {"site_id": 42},
        {"scopes": "SCOPE.DC-BOOKINGS.READ-CALENDAR"},
        {"permissions": [1]},
    ],
    ids=str,
)
def test_a_token_with_malformed_claims_is_refused(bad: dict[str, Any]) -> None:
    token = jwt.encode(claims(**bad), KEYS.secret, "HS256")
    assert reason_of(token) == "INVALID_TOKEN"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize(
    "value",
    ["9999999999", "0", True, False, None, [1], {"s": 1}, float("inf"), float("nan"), -1, 10**30],
    ids=repr,
)
def test_a_time_claim_that_is_not_a_json_number_in_range_is_invalid(claim: str, value: Any) -> None:
    token = jwt.encode(
        claims(exp=datetime.now(UTC) + timedelta(minutes=5)) | {claim: value}, KEYS.secret, "HS256"
    )
    assert reason_of(token) == "INVALID_TOKEN"


def test_time_claims_may_be_fractional_numbers() -> None:
    now = datetime.now(UTC).timestamp()
    token = jwt.encode(
        claims(exp=now + 300.5) | {"nbf": now - 0.25, "iat": now}, KEYS.secret, "HS256"
    )
    assert verify_token(KEYS, token).site_id == "site-a"


def test_a_token_issued_in_the_future_is_not_valid_yet() -> None:
    token = jwt.encode(claims(iat=datetime.now(UTC) + timedelta(hours=1)), KEYS.secret, "HS256")
    assert reason_of(token) == "TOKEN_NOT_YET_VALID"


@pytest.mark.parametrize(
    "bad",
    [
        {"site_id": " "},
        {"site_id": "site\x00a"},
        {"site_id": "site\nb"},
        {"site_id": "\ud800"},
        {"site_id": "s" * (MAX_ID_CLAIM_LENGTH + 1)},
        {"sub": ""},
        {"sub": ["member-7"]},
        {"sub": "m" * (MAX_ID_CLAIM_LENGTH + 1)},
        {"identity_type": "owner"},
        {"identity_type": None},
        {"scopes": [["SCOPE.DC-BOOKINGS.READ-CALENDAR"]]},
        {"scopes": ["s"] * (MAX_LIST_CLAIM_ENTRIES + 1)},
        {"scopes": ["s" * (MAX_ID_CLAIM_LENGTH + 1)]},
        {"permissions": {"BOOKINGS.MANAGE_PAYMENTS": True}},
        {"permissions": None},
    ],
    ids=repr,
)
def test_identity_and_list_claims_of_the_wrong_type_or_size_are_invalid(
    bad: dict[str, Any],
) -> None:
    token = jwt.encode(claims() | bad, KEYS.secret, "HS256")
    assert reason_of(token) == "INVALID_TOKEN"


def test_identity_claims_at_their_length_limit_are_accepted() -> None:
    longest = "s" * MAX_ID_CLAIM_LENGTH
    token = jwt.encode(
        claims(site_id=longest, sub="ü" * MAX_ID_CLAIM_LENGTH, scopes=[longest]),
        KEYS.secret,
        "HS256",
    )
    principal = verify_token(KEYS, token)
    assert (principal.site_id, principal.scopes) == (longest, frozenset({longest}))


def test_an_unsigned_token_is_refused() -> None:
    token = jwt.encode(claims(), key="", algorithm="none")
    assert reason_of(token) == "INVALID_TOKEN"


@pytest.mark.parametrize(
    "private_key",
    [
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP256R1()),
    ],
    ids=["RS256", "ES256"],
)
def test_tokens_signed_with_the_configured_public_keys_pair_verify(
    private_key: PrivateKeyTypes,
) -> None:
    private_pem, public_pem = pem_pair(private_key)
    issuer_keys = replace(KEYS, public_key=public_pem, private_key=private_pem)
    server_keys = replace(KEYS, public_key=public_pem)
    token = mint(issuer_keys)
    assert jwt.get_unverified_header(token)["alg"] == issuer_keys.public_algorithm
    assert verify_token(server_keys, token).identity_id == "member-7"
    assert reason_of(token, KEYS) == "INVALID_TOKEN"  # no public key configured: refused


def test_a_token_signed_by_another_key_pair_is_refused() -> None:
    _, public_pem = pem_pair(ec.generate_private_key(ec.SECP256R1()))
    other_private, other_public = pem_pair(ec.generate_private_key(ec.SECP256R1()))
    token = mint(replace(KEYS, public_key=other_public, private_key=other_private))
    assert reason_of(token, replace(KEYS, public_key=public_pem)) == "INVALID_TOKEN"


def test_an_rs256_token_is_refused_when_the_configured_key_is_ec() -> None:
    rsa_private, rsa_public = pem_pair(
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    _, ec_public = pem_pair(ec.generate_private_key(ec.SECP256R1()))
    token = mint(replace(KEYS, public_key=rsa_public, private_key=rsa_private))
    assert reason_of(token, replace(KEYS, public_key=ec_public)) == "INVALID_TOKEN"


def test_the_secret_is_created_once_in_the_data_dir_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    config = Config(data_dir=tmp_path / "data")
    first = load_signing_keys(config)
    second = load_signing_keys(config)
    secret_file = tmp_path / "data" / SECRET_FILE_NAME
    assert first.secret == second.secret
    assert len(first.secret) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert secret_file.read_text().strip() == first.secret


def test_each_data_dir_gets_its_own_random_secret(tmp_path: Path) -> None:
    one = load_signing_keys(Config(data_dir=tmp_path / "one"))
    two = load_signing_keys(Config(data_dir=tmp_path / "two"))
    assert one.secret != two.secret


def test_a_configured_secret_is_used_and_no_file_is_written(tmp_path: Path) -> None:
    keys = load_signing_keys(
        Config(data_dir=tmp_path, jwt_secret="configured-secret-0123456789-abcdef")
    )
    assert keys.secret == "configured-secret-0123456789-abcdef"
    assert not (tmp_path / SECRET_FILE_NAME).exists()


def test_a_public_key_that_is_not_pem_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError):
        load_signing_keys(Config(data_dir=tmp_path, jwt_public_key="not a key"))


def test_refusals_never_echo_the_token() -> None:
    token = mint(ttl=timedelta(minutes=-5))
    with pytest.raises(Unauthenticated) as raised:
        verify_token(KEYS, token)
    assert token not in str(raised.value)
    assert token.split(".")[1] not in str(raised.value)
