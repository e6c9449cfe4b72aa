"""Recurrence rules for the fuzz, drawn from the RRULE grammar with extreme values.

A rule is 0-6 `NAME=value` parts joined by ";" (sometimes with an "RRULE:" prefix, empty
parts or doubled separators). Names are the accepted ones, other RFC 5545 ones and junk;
values are the accepted ones and their edges: integers far past int64 and past Python's
4300-digit `int()` limit, signs, non-ASCII digits, dates in the years 1, 9999 and beyond.
"""

from __future__ import annotations

from hypothesis import strategies as st

#: Integers as text: edges of the accepted ranges, int64 and beyond, past `int()`'s
#: 4300-digit limit, and text `str.isdigit` accepts but `int()` refuses (superscripts,
#: circled digits) or reads (fullwidth, Arabic-Indic).
INTEGERS = (
    "0",
    "1",
    "2",
    "52",
    "53",
    "500",
    "501",
    "-1",
    "+3",
    "007",
    "0000001",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "99999999999999999999",
    "9" * 4301,
    "1" * 180,
    "1e3",
    "0x10",
    "1_0",
    " 5",
    "\u00b2",
    "\u00b9\u2070",
    "\u2460",
    "\uff13",
    "\u0663",
    "",
)
UNTILS = (
    "99991231T235959Z",
    "99991231",
    "00010101",
    "00010101T000000Z",
    "19691231T235959Z",
    "19700101",
    "20261231",
    "20261231T180000",
    "22001231T235959Z",
    "22010101",
    "100000101",
    "20261231T240000",
    "20260230",
    "2026-12-31",
    "20261231T000000+0100",
    "99999999T999999Z",
    "\uff12\uff10\uff12\uff16\uff11\uff12\uff13\uff11",
    "Z",
)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU", "mo", "XX", "1MO", "-1FR", "", "MO ", "MONDAY")
FREQUENCIES = ("WEEKLY", "weekly", "DAILY", "MONTHLY", "YEARLY", "SECONDLY", "", "WEEKLYX")
NAMES = ("FREQ", "BYDAY", "INTERVAL", "COUNT", "UNTIL", "BYHOUR", "WKST", "BYSETPOS", "X-Y")

_days = st.one_of(
    st.lists(st.sampled_from(DAYS[:7]), min_size=1, max_size=7, unique=True),
    st.lists(st.sampled_from(DAYS), min_size=1, max_size=8),
).map(",".join)


def _integers(valid: int) -> st.SearchStrategy[str]:
    """Valid numbers (1..valid) a third of the time, so a rule's other numbers get read."""
    return st.one_of(
        st.integers(1, valid).map(str),
        st.sampled_from(INTEGERS),
        st.integers(-(2**70), 2**70).map(str),
    )


_VALUES: dict[str, st.SearchStrategy[str]] = {
    "FREQ": st.sampled_from(FREQUENCIES),
    "BYDAY": _days,
    "INTERVAL": _integers(52),
    "COUNT": _integers(500),
    "UNTIL": st.sampled_from(UNTILS),
}


def _part_named(name: str) -> st.SearchStrategy[str]:
    return _VALUES.get(name, _integers(10)).map(lambda value: f"{name}={value}")


@st.composite
def _part(draw: st.DrawFn) -> str:
    part = draw(st.sampled_from(NAMES).flatmap(_part_named))
    return part.lower() if draw(st.integers(0, 9)) == 0 else part


def _one_in(draw: st.DrawFn, n: int) -> bool:
    """True one draw in `n` (False first: Hypothesis favours a choice's first option)."""
    return draw(st.sampled_from([False] * (n - 1) + [True]))


def _maybe(draw: st.DrawFn, name: str) -> list[str]:
    """The part `name`, one draw in two."""
    return [draw(_part_named(name))] if _one_in(draw, 2) else []


@st.composite
def rrules(draw: st.DrawFn) -> str:
    """Mostly a well-formed weekly rule with an end (so the draw reaches the numbers and dates
    behind the first checks) whose values come from the extreme pools; sometimes a part of
    another name, odd separators or prefixes, no FREQ or no end."""
    end = draw(st.sampled_from(["COUNT"] * 4 + ["UNTIL"] * 4 + ["COUNT;UNTIL", ""]))
    parts = [] if _one_in(draw, 10) else ["FREQ=WEEKLY"]
    parts += [draw(_part_named(name)) for name in end.split(";") if name]
    parts += _maybe(draw, "BYDAY") + _maybe(draw, "INTERVAL")
    if _one_in(draw, 5):
        parts += draw(st.lists(_part(), min_size=1, max_size=2))
    noisy = _one_in(draw, 5)
    separator = draw(st.sampled_from([";;", "; ", ",", ";"])) if noisy else ";"
    prefix = draw(st.sampled_from(["RRULE:", "rrule:", " ", ""])) if noisy else ""
    return prefix + separator.join(draw(st.permutations(parts)))
