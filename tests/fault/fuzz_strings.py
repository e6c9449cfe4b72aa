"""Hostile text pools for the fuzz: ids, clock times, emails, cursors and field-mask paths.

Ids carry what breaks naive SQL and logs (quotes, LIKE wildcards, backslashes, NUL, unicode,
over-long values); real ids come mutated the same way, so a lookup that trims, lower-cases or
pattern-matches an id would find a row it should not.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

#: What SQL, LIKE patterns, logs and terminals treat specially.
HOSTILE_IDS = (
    "'; DROP TABLE bookings; --",
    "' OR '1'='1",
    '"; SELECT * FROM sqlite_master; --',
    "%",
    "_",
    "\\",
    "%_\\",
    "\\%",
    "*",
    "?",
    "$1",
    ":id",
    "%s",
    "{0}",
    "\x00",
    "id\x00suffix",
    "\r\n",
    "\t",
    " ",
    "NULL",
    "null",
    "0",
    "-1",
    "ü",
    "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522",
    "\u202eevil",
    "\ufeff",
    "e\u0301",
    "x" * 101,
    "x" * 5000,
    "../../etc/passwd",
    "/etc/passwd",
)
#: Clock times: valid, the end-of-day "24:00", out of range, odd digits and shapes.
CLOCK_TIMES = (
    "00:00",
    "09:00",
    "17:30",
    "23:59",
    "24:00",
    "24:01",
    "25:00",
    "12:60",
    "99:99",
    "9",
    "9:00",
    "-1:00",
    "²³:00",
    "\uff11\uff12:\uff10\uff10",
    "12:00\x00",
    "12:00:00",
    "",
)
EMAILS = ("a@b.example", "@", "a@", "no-at-sign", "a@b\x00", "x" * 400 + "@b.example", "%@_")
#: Event-stream cursors: decimal digits, past int64, signs, non-ASCII digits.
CURSORS = ("0", "1", "-1", "9" * 19, "9" * 30, "9" * 5000, "1e3", "²", "\uff13", " 1", "0x1")
FIELD_MASK_PATHS = ("name", "capacity", "id", "type", "a.b.c", "*", "", ".", "name.", "\x00")


def mutated_ids(ids: Sequence[str]) -> list[str]:
    """Each real id with a wildcard, NUL, case or whitespace change."""
    variants = []
    for real in ids:
        variants += [real + "%", real[:-1] + "_", real.upper(), f" {real}", real + "\x00"]
    return variants


def id_strategy(ids: Sequence[str]) -> st.SearchStrategy[str]:
    """Real ids, mutated real ids and hostile ids."""
    hostile = st.sampled_from(HOSTILE_IDS)
    if not ids:
        return hostile
    return st.one_of(st.sampled_from(list(ids)), st.sampled_from(mutated_ids(ids)), hostile)
