"""Clock times ("HH:MM") are two ASCII digits each, checked as text before `int()`: other
digits are refused with a description of the expected shape, never Python's own message."""

from __future__ import annotations

from datetime import time

import pytest

from bookings_server.domain.catalog_validation import parse_wall_time


@pytest.mark.parametrize(
    "text",
    [
        "²³:00",
        "\uff11\uff12:\uff10\uff10",
        "\u0660\u0669:\u0660\u0660",
        "9:00",
        "009:00",
        "12:5",
        "+1:00",
        " 9:00",
        "12:00\x00",
    ],
)
def test_a_clock_time_not_in_two_ascii_digits_each_is_refused_by_shape(text: str) -> None:
    with pytest.raises(ValueError, match='expected "HH:MM"'):
        parse_wall_time(text)


@pytest.mark.parametrize("text", ["24:00", "23:60", "99:99"])
def test_a_clock_time_outside_the_day_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a time of day"):
        parse_wall_time(text)


def test_midnight_at_the_end_of_the_day_is_allowed_as_an_end() -> None:
    assert parse_wall_time("24:00", allow_end_of_day=True) is None
    assert parse_wall_time("23:59") == time(23, 59)
