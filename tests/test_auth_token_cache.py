"""TokenVerifier: verified tokens remembered until they expire, answering as verification does."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import jwt
import pytest

from bookings_server.api.auth import token_cache
from bookings_server.api.auth.keys import SigningKeys
from bookings_server.api.auth.token_cache import MAX_CACHED_TOKEN_LENGTH, TokenVerifier
from bookings_server.api.auth.tokens import LEEWAY, mint_token, verify_token, verify_token_at
from bookings_server.domain.errors import Unauthenticated
from bookings_server.domain.identity import IdentityType, Permission, Scope

KEYS = SigningKeys(
    secret="a-test-secret-that-is-long-enough-0123456789", issuer="iss", audience="aud"
)
OTHER_KEYS = replace(KEYS, secret="another-secret-that-is-long-enough-98765")


def mint(keys: SigningKeys = KEYS, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "site_id": "site-a",
        "identity_type": IdentityType.MEMBER,
        "identity_id": "member-7",
        "scopes": [Scope.READ_CALENDAR],
        "permissions": [Permission.MANAGE_PAYMENTS],
    }
    return mint_token(keys, **(arguments | overrides))


class Clock:
    """A settable time.time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens the verifier verified (rather than answered from its cache)."""
    verified: list[str] = []

    def counting(keys: SigningKeys, token: str, now: float) -> Any:
        verified.append(token)
        return verify_token_at(keys, token, now)

    monkeypatch.setattr(token_cache, "verify_token_at", counting)
    return verified


def refusal(verifier: TokenVerifier, token: str) -> tuple[str, str]:
    with pytest.raises(Unauthenticated) as raised:
        verifier.verify(token)
    return raised.value.reason, str(raised.value)


def test_a_remembered_token_gives_exactly_the_principal_verification_gives(
    verifications: list[str],
) -> None:
    verifier = TokenVerifier(KEYS)
    token = mint()

    first, second = verifier.verify(token), verifier.verify(token)

    assert first == second == verify_token(KEYS, token)
    assert (second.site_id, second.identity_id) == ("site-a", "member-7")
    assert second.scopes == frozenset({Scope.READ_CALENDAR})
    assert verifications == [token]  # the second call was answered from the cache


def test_a_remembered_token_is_refused_once_its_expiry_has_passed() -> None:
    clock = Clock()
    verifier = TokenVerifier(KEYS, clock=clock)
    token = mint(ttl=timedelta(minutes=5))
    verifier.verify(token)

    clock.now += 300 + LEEWAY.total_seconds() + 1
    reason, message = refusal(verifier, token)

    with pytest.raises(Unauthenticated) as direct:
        verify_token_at(KEYS, token, clock.now)
    assert (
        (reason, message)
        == (direct.value.reason, str(direct.value))
        == (
            "TOKEN_EXPIRED",
            "the token has expired",
        )
    )
    assert len(verifier) == 0  # forgotten


def test_a_remembered_token_is_accepted_up_to_its_expiry_within_the_leeway() -> None:
    clock = Clock()
    verifier = TokenVerifier(KEYS, clock=clock)
    token = mint(ttl=timedelta(minutes=5))
    verifier.verify(token)

    clock.now += 300 + LEEWAY.total_seconds() - 1

    assert verifier.verify(token).site_id == "site-a"


def test_a_remembered_token_is_refused_before_its_not_before_time() -> None:
    clock = Clock()
    verifier = TokenVerifier(KEYS, clock=clock)
    token = mint()
    verifier.verify(token)

    clock.now -= 3600  # the wall clock stepped back an hour

    assert refusal(verifier, token)[0] == "TOKEN_NOT_YET_VALID"


def test_a_refused_token_is_not_remembered(verifications: list[str]) -> None:
    verifier = TokenVerifier(KEYS)
    forged = mint(OTHER_KEYS)

    assert refusal(verifier, forged)[0] == "INVALID_TOKEN"
    assert refusal(verifier, forged)[0] == "INVALID_TOKEN"

    assert verifications == [forged, forged]
    assert len(verifier) == 0


def test_a_token_not_yet_valid_is_not_remembered() -> None:
    verifier = TokenVerifier(KEYS)
    early = jwt.encode(
        {
            "iss": "iss",
            "aud": "aud",
            "sub": "member-7",
            "site_id": "site-a",
            "identity_type": "MEMBER",
            "exp": time.time() + 7200,
            "nbf": time.time() + 3600,
        },
        KEYS.secret,
        "HS256",
    )

    assert refusal(verifier, early)[0] == "TOKEN_NOT_YET_VALID"
    assert len(verifier) == 0


def test_a_verifier_of_other_keys_never_accepts_a_token_another_verifier_remembered() -> None:
    token = mint()
    TokenVerifier(KEYS).verify(token)

    assert refusal(TokenVerifier(OTHER_KEYS), token)[0] == "INVALID_TOKEN"


def test_the_least_recently_used_token_is_forgotten_beyond_the_bound(
    verifications: list[str],
) -> None:
    verifier = TokenVerifier(KEYS, max_entries=2)
    one, two, three = (mint(identity_id=f"member-{n}") for n in range(3))
    verifier.verify(one)
    verifier.verify(two)
    verifier.verify(one)  # one is now the most recently used

    verifier.verify(three)  # evicts two
    verifier.verify(one)
    verifier.verify(two)

    assert len(verifier) == 2
    assert verifications == [one, two, three, two]


def test_a_token_longer_than_the_cached_length_is_verified_every_time(
    verifications: list[str],
) -> None:
    verifier = TokenVerifier(KEYS)
    long_token = mint(scopes=["s" * 100] * 40)
    assert len(long_token) > MAX_CACHED_TOKEN_LENGTH

    verifier.verify(long_token)
    verifier.verify(long_token)

    assert verifications == [long_token, long_token]


def test_threads_sharing_one_verifier_each_get_their_own_tokens_principal() -> None:
    verifier = TokenVerifier(KEYS, max_entries=16)  # fewer entries than tokens: constant churn
    tokens = {f"member-{n}": mint(identity_id=f"member-{n}") for n in range(40)}
    wrong: list[tuple[str, str]] = []

    def caller(offset: int) -> None:
        names = list(tokens)
        for round_ in range(300):
            name = names[(offset + round_ * 7) % len(names)]
            got = verifier.verify(tokens[name]).identity_id
            if got != name:
                wrong.append((name, got))

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert wrong == []
    assert len(verifier) <= 16
