"""The one zone validator (domain/timezones.py): canonical IANA names only, and every refusal
is INVALID_TIME_ZONE on its field."""

from __future__ import annotations

import pytest

from bookings_server.domain.errors import FieldViolation, InvalidArgument
from bookings_server.domain.timezones import INVALID_TIME_ZONE, is_zone, zone_violation


@pytest.mark.parametrize("name", ["Europe/London", "America/New_York", "UTC", "Etc/GMT+5"])
def test_canonical_iana_names_are_zones(name: str) -> None:
    assert is_zone(name)


@pytest.mark.parametrize(
    "name",
    ["America", "Europe/", "localtime", "posixrules", "Factory", "posix/Europe/Paris",
     "right/UTC", "../../etc/passwd", "Mars/Base", "x" * 1000, ""],
)  # fmt: skip
def test_folders_host_files_and_other_names_are_not_zones(name: str) -> None:
    assert not is_zone(name)


def test_a_refused_zone_is_invalid_time_zone_on_its_field() -> None:
    error = InvalidArgument.of([zone_violation("service.timezone", "America")])

    assert error.reason == INVALID_TIME_ZONE
    assert [(v.field, v.reason) for v in error.violations] == [
        ("service.timezone", INVALID_TIME_ZONE)
    ]


def test_an_error_with_other_violations_too_keeps_the_general_reason() -> None:
    error = InvalidArgument.of(
        [zone_violation("timezone", "America"), FieldViolation("name", "required")]
    )

    assert error.reason == "INVALID_ARGUMENT"
