"""`bookings serve`: every flag has a BOOKINGS_* variable, documented in --help."""

from __future__ import annotations

import re
import subprocess

import pytest
from server_process import BOOKINGS

from bookings_server.cli.main import build_parser


def _serve_help() -> str:
    return subprocess.run(
        [BOOKINGS, "serve", "--help"],
        check=True,
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    ).stdout


def test_serve_help_names_the_environment_variable_of_every_flag() -> None:
    options = _serve_help().split("options:", 1)[1]
    described = re.split(r"\n  (?=--)", options)[1:]

    assert len(described) >= 8
    for description in described:
        flag = description.split()[0].rstrip(",")
        variable = "BOOKINGS_" + flag.removeprefix("--").replace("-", "_").upper()
        assert variable in description, f"{flag} does not document {variable}"


def test_environment_variables_set_the_defaults_and_flags_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOOKINGS_ADDRESS", "0.0.0.0:6000")
    monkeypatch.setenv("BOOKINGS_GRACE_PERIOD", "2.5")
    monkeypatch.setenv("BOOKINGS_REUSE_PORT", "true")
    monkeypatch.setenv("BOOKINGS_DATA_DIR", "/var/lib/bookings")

    from_env = build_parser().parse_args(["serve"])
    from_flags = build_parser().parse_args(["serve", "--address", "127.0.0.1:7000"])

    assert from_env.address == "0.0.0.0:6000"
    assert from_env.grace_period == 2.5
    assert from_env.reuse_port is True
    assert str(from_env.data_dir) == "/var/lib/bookings"
    assert from_flags.address == "127.0.0.1:7000"
