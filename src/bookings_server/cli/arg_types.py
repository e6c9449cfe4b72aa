"""argparse types for counts: a value out of range is a usage error (exit 2), never a crash."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    return _int_from(text, minimum=1)


def non_negative_int(text: str) -> int:
    """An integer of at least 0."""
    return _int_from(text, minimum=0)


def _int_from(text: str, *, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
    return value
