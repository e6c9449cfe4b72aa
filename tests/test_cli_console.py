"""Lines a server process prints reach standard output in one write each: processes of one
`bookings serve --processes N` share it, and two writes per line (print's text, then its
newline, when output is unbuffered) let their lines run into each other."""

from __future__ import annotations

import pytest

from bookings_server.cli.console import say


class RecordingStream:
    def __init__(self) -> None:
        self.writes: list[str] = []
        self.flushes = 0

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        self.flushes += 1


def test_a_line_and_its_newline_are_one_write_then_flushed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = RecordingStream()
    monkeypatch.setattr("sys.stdout", stream)

    say("bookings: serving on port 50051")

    assert stream.writes == ["bookings: serving on port 50051\n"]
    assert stream.flushes == 1
