"""Verified bearer tokens remembered until they expire (issue 16).

Verifying a JWT (an HMAC or a signature, then every claim's type) is the same work for every
call a client makes with one token; a client keeps its token for up to its lifetime. So the
outcome is kept per raw token string: a later call with the same bytes gets the same
principal, once its validity window (exp, nbf and iat, with the same leeway) is checked again
at the call's instant, which is the only part of verification that depends on when it runs.
A cached token whose exp has passed is refused exactly as verification refuses it
(TOKEN_EXPIRED) and forgotten.

- Refusals are not cached: a bad token costs a verification every time, as before, and no
  garbage a client sends can fill the cache.
- The cache belongs to one TokenVerifier, and a verifier to one SigningKeys (frozen, loaded
  once when the server is built): new keys mean a new verifier with an empty cache, so no
  token verified under other keys is ever answered from it.
- It is bounded: at most `max_entries` tokens (least recently used go first), and tokens
  longer than MAX_CACHED_TOKEN_LENGTH are verified every time. A typical token (about 500
  characters, four scopes) takes about 2 KiB with its principal: some 20 MiB when full.
- One lock guards it (the server's worker threads share one verifier); verification itself
  runs outside the lock, so two threads missing on one token both verify it, harmlessly.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from bookings_server.api.auth.keys import SigningKeys
from bookings_server.api.auth.tokens import VerifiedToken, verify_token_at
from bookings_server.domain.errors import Unauthenticated
from bookings_server.domain.identity import Principal

#: Tokens remembered at once.
DEFAULT_MAX_ENTRIES = 10_000
#: Longer tokens are not remembered (the bound on the cache's memory: entries x this).
MAX_CACHED_TOKEN_LENGTH = 4096


class TokenVerifier:
    """verify_token for one key set, remembering verified tokens until they expire."""

    def __init__(
        self,
        keys: SigningKeys,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._verified: OrderedDict[str, VerifiedToken] = OrderedDict()

    def verify(self, token: str) -> Principal:
        """The principal `token` names, or domain Unauthenticated exactly as verify_token."""
        now = self._clock()
        with self._lock:
            known = self._verified.get(token)
            if known is not None:
                self._verified.move_to_end(token)
        if known is not None:
            try:
                known.validity.check(now)
            except Unauthenticated:
                self._forget(token)
                raise
            return known.principal
        verified = verify_token_at(self._keys, token, now)
        if len(token) <= MAX_CACHED_TOKEN_LENGTH:
            self._remember(token, verified)
        return verified.principal

    def __len__(self) -> int:
        with self._lock:
            return len(self._verified)

    def _remember(self, token: str, verified: VerifiedToken) -> None:
        with self._lock:
            self._verified[token] = verified
            self._verified.move_to_end(token)
            while len(self._verified) > self._max_entries:
                self._verified.popitem(last=False)

    def _forget(self, token: str) -> None:
        with self._lock:
            self._verified.pop(token, None)
