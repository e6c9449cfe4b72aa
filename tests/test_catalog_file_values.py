"""Durations in catalog files (app/catalog_file_values.py): every number is bounded before it
is converted, so a hostile file gets a precise message, never an overflow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings_server.app.catalog_file_values import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [(45, timedelta(minutes=45)), ("1h30m", timedelta(minutes=90)), ("2d", timedelta(days=2))],
)
def test_durations_are_minutes_or_day_hour_minute_text(
    text: int | str, expected: timedelta
) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["99999999999d", "9" * 5000 + "m", "\uff11h", "3661d", -5, 10**30, "1.5h", True]
)
def test_huge_negative_and_non_ascii_durations_are_refused_with_a_precise_message(
    text: object,
) -> None:
    with pytest.raises(ValueError, match="a duration is minutes") as refused:
        parse_duration(text)

    assert "Exceeds" not in str(refused.value)
