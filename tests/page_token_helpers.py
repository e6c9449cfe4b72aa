"""Shared by the page token wire tests: a token with one character changed."""

from __future__ import annotations


def edited(token: str) -> str:
    """`token` with its middle character replaced by another base64url character."""
    middle = len(token) // 2
    replacement = "A" if token[middle] != "A" else "B"
    return token[:middle] + replacement + token[middle + 1 :]
