"""`bookings serve --availability-cache-mb`: MiB for QueryAvailability's answers, 0 for none."""

from __future__ import annotations

import pytest

from bookings_server.cli.main import build_parser
from bookings_server.config import Config


def test_the_availability_cache_defaults_to_64_mib_in_the_flag_and_the_config() -> None:
    assert build_parser().parse_args(["serve"]).availability_cache_mb == 64
    assert Config().availability_cache_mb == 64


def test_the_availability_cache_size_reads_its_variable_and_the_flag_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOOKINGS_AVAILABILITY_CACHE_MB", "0")
    assert build_parser().parse_args(["serve"]).availability_cache_mb == 0
    flagged = build_parser().parse_args(["serve", "--availability-cache-mb", "128"])
    assert flagged.availability_cache_mb == 128


@pytest.mark.parametrize("value", ["-1", "1.5", "lots"])
def test_the_availability_cache_size_must_be_a_whole_number_of_at_least_zero(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", "--availability-cache-mb", value])
    assert exited.value.code == 2
    assert "--availability-cache-mb" in capsys.readouterr().err
