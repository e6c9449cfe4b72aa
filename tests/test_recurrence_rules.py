"""The recurrence rule's text limits (docs/catalog.md): every number and date is checked as
text before it is converted, so hostile rules are INVALID_ARGUMENT on `recurrence`, never an
unhandled ValueError or OverflowError."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookings_server.domain.catalog_recurrence import (
    MAX_RULE_LENGTH,
    WeeklyRecurrence,
    expand,
    parse_recurrence,
)
from bookings_server.domain.errors import InvalidArgument

START = datetime(2026, 12, 1, 18, tzinfo=UTC)


def refusal(rule: str) -> str:
    """The one violation's description; the violation is always on `recurrence`."""
    with pytest.raises(InvalidArgument) as raised:
        parse_recurrence(rule)
    [violation] = raised.value.violations
    assert violation.field == "recurrence"
    return violation.description


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;COUNT=99999999999999999999",
        "FREQ=WEEKLY;COUNT=" + "9" * 5000,
        "FREQ=WEEKLY;COUNT=0000001",
        "FREQ=WEEKLY;COUNT=-1",
        "FREQ=WEEKLY;COUNT=+3",
        "FREQ=WEEKLY;COUNT=²",
        "FREQ=WEEKLY;COUNT=\uff13",
        "FREQ=WEEKLY;COUNT=1_0",
        "FREQ=WEEKLY;COUNT=0",
        "FREQ=WEEKLY;COUNT=501",
        "FREQ=WEEKLY;INTERVAL=-1;COUNT=2",
        "FREQ=WEEKLY;INTERVAL=53;COUNT=2",
        "FREQ=WEEKLY;INTERVAL=\u0663;COUNT=2",
        "FREQ=WEEKLY;INTERVAL=99999999999999999999;COUNT=2",
    ],
)
def test_a_number_outside_its_range_or_not_in_ascii_digits_is_refused(rule: str) -> None:
    assert refusal(rule)


def test_a_rule_longer_than_the_limit_is_refused_before_it_is_read() -> None:
    rule = "FREQ=WEEKLY;COUNT=2;" + "BYDAY=MO;" * (MAX_RULE_LENGTH // 9)
    assert refusal(rule) == f"at most {MAX_RULE_LENGTH} characters"


@pytest.mark.parametrize(
    "until",
    [
        "99991231T235959Z",
        "00010101",
        "19691231T235959Z",
        "22010101",
        "999999999999",
        "\uff12\uff10\uff12\uff16\uff11\uff12\uff13\uff11",
        "20261231T240000",
        "20260230",
        "20261231T000000+0100",
        "2026-12-31",
    ],
)
def test_until_must_be_a_real_date_between_1970_and_2200(until: str) -> None:
    assert "UNTIL" in refusal(f"FREQ=WEEKLY;UNTIL={until}")


@pytest.mark.parametrize(
    ("until", "parsed"),
    [
        ("20261231", datetime(2026, 12, 31, 23, 59, 59)),
        ("20261231T180000", datetime(2026, 12, 31, 18)),
        ("22001231T235959Z", datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("19700101t000000z", datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_until_forms_parse_to_their_instant(until: str, parsed: datetime) -> None:
    assert parse_recurrence(f"FREQ=WEEKLY;UNTIL={until}").until == parsed


def test_numbers_at_their_limits_are_accepted() -> None:
    rule = parse_recurrence("RRULE:FREQ=WEEKLY;BYDAY=MO,SU;INTERVAL=52;COUNT=500")
    assert rule == WeeklyRecurrence(("MO", "SU"), interval=52, count=500)
    assert parse_recurrence("FREQ=WEEKLY;INTERVAL=001;COUNT=007").count == 7


def test_a_far_utc_until_in_a_zone_ahead_of_utc_expands_without_overflow() -> None:
    rule = parse_recurrence("FREQ=WEEKLY;UNTIL=22001231T235959Z")
    start = datetime(2200, 12, 1, 18, tzinfo=UTC)
    spans = expand(rule, start, start + timedelta(hours=1), "Pacific/Kiritimati")
    assert len(spans) == 5


def test_a_recurrence_that_runs_past_the_year_2200_is_refused() -> None:
    rule = parse_recurrence("FREQ=WEEKLY;INTERVAL=52;COUNT=500")
    with pytest.raises(InvalidArgument) as raised:
        expand(rule, START, START + timedelta(hours=1), "Europe/London")
    assert raised.value.violations[0].description == "expands to sessions after the year 2200"
