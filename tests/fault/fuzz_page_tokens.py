"""Page tokens for the fuzz: real ones (fuzz_harvest.py obtains them), and those mutated.

`mutated_token` changes a token the ways a client might: its text (truncated, characters
swapped for others in and out of the base64url alphabet, padding), its decoded bytes, or,
where a piece decodes to a JSON object, one field's value (huge and negative numbers, wrong
types, far dates, NUL), a field removed or added. Tokens with several "."-separated pieces (a
payload and a signature) are mutated piece by piece.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

from hypothesis import strategies as st

#: JSON values (as text, so numbers may be longer than Python writes) a field is swapped for.
ODD_JSON_VALUES = (
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999",
    "9" * 5000,
    "1e308",
    "1e999",
    "-0.5",
    "NaN",
    "Infinity",
    "true",
    "null",
    '""',
    '"\\u0000"',
    '"x"',
    "[]",
    "{}",
    '[["a"]]',
    '"0001-01-01T00:00:00+00:00"',
    '"9999-12-31T23:59:59-14:00"',
    '"2026-01-01T00:00:00"',
    '"not-a-date"',
    '"\'; DROP TABLE bookings; --"',
)
#: Tokens no server issued.
JUNK_TOKENS = (
    "bm90IGEgdG9rZW4",
    "%%%",
    "eyJvZmZzZXQiOiAtMX0=",
    "e30",
    "bnVsbA",
    "W10",
    "=",
    ".",
    "..",
    "\x00",
    "A" * 5000,
)
_ALPHABET_AND_OTHERS = "AZaz09-_+/=.%\x00é "


def _b64_decode(piece: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4))
    except (binascii.Error, ValueError):
        return None


def _b64_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@st.composite
def _mutated_text(draw: st.DrawFn, piece: str) -> str:
    if not piece:
        return draw(st.sampled_from(JUNK_TOKENS))
    at = draw(st.integers(0, len(piece) - 1))
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return piece[:at]
    if choice == 1:
        return piece[:at] + draw(st.sampled_from(_ALPHABET_AND_OTHERS)) + piece[at + 1 :]
    if choice == 2:
        return piece + "=" * draw(st.integers(1, 3))
    if choice == 3:
        return piece.swapcase()
    return piece[:at] + draw(st.sampled_from(_ALPHABET_AND_OTHERS)) + piece[at:]


@st.composite
def _mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    changed = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        if not changed:
            changed.append(draw(st.integers(0, 255)))
            continue
        at = draw(st.integers(0, len(changed) - 1))
        if draw(st.booleans()):
            changed[at] = draw(st.integers(0, 255))
        else:
            del changed[at]
    return bytes(changed)


@st.composite
def _mutated_json(draw: st.DrawFn, body: dict[str, object]) -> bytes:
    """The object with one field's value replaced, removed, or a field added (JSON text)."""
    fields = {key: json.dumps(value) for key, value in body.items()}
    keys = sorted(fields)
    action = draw(st.integers(0, 2)) if keys else 2
    if action == 0:
        fields[draw(st.sampled_from(keys))] = draw(st.sampled_from(ODD_JSON_VALUES))
    elif action == 1:
        del fields[draw(st.sampled_from(keys))]
    else:
        fields[draw(st.sampled_from(["x", "", *keys]))] = draw(st.sampled_from(ODD_JSON_VALUES))
    text = "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in fields.items()) + "}"
    return text.encode()


@st.composite
def _mutated_piece(draw: st.DrawFn, piece: str) -> str:
    data = _b64_decode(piece)
    body = _json_object(data)
    kind = draw(st.sampled_from(["text", "bytes", "json"] if body is not None else ["text"]))
    if kind == "json" and body is not None:
        return _b64_encode(draw(_mutated_json(body)))
    if kind == "bytes" and data is not None:
        return _b64_encode(draw(_mutated_bytes(data)))
    return draw(_mutated_text(piece))


def _json_object(data: bytes | None) -> dict[str, object] | None:
    if data is None:
        return None
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


@st.composite
def mutated_token(draw: st.DrawFn, token: str) -> str:
    """`token` with one of its "."-separated pieces mutated."""
    pieces = token.split(".")
    at = draw(st.integers(0, len(pieces) - 1))
    pieces[at] = draw(_mutated_piece(pieces[at]))
    return ".".join(pieces)


def page_token_strategy(tokens: Sequence[str]) -> st.SearchStrategy[str]:
    """Real tokens (of any query), mutated real tokens, and junk."""
    junk = st.sampled_from(JUNK_TOKENS)
    if not tokens:
        return junk
    real = st.sampled_from(list(tokens))
    return st.one_of(junk, real, real.flatmap(mutated_token))
