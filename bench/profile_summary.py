#!/usr/bin/env python3
"""Summarise a py-spy `--format raw` profile (collapsed stacks): where the server's time goes.

  python bench/profile_summary.py bench/results/profile-sqlite-create.txt [--top 25]

Prints the share of samples spent in each function (inclusive: the function and what it
calls), for the project's own code and for the libraries it calls, and the top functions by
self time. Idle threads (waiting for work) are excluded when py-spy marked them.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")


def frames(stack: str) -> list[tuple[str, str]]:
    """(function, file) of each frame, outermost first."""
    parsed = []
    for frame in stack.split(";"):
        match = FRAME.match(frame.strip())
        if match:
            parsed.append((match["func"], match["file"]))
        else:
            parsed.append((frame.strip(), ""))
    return parsed


def short(file: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only stacks containing this text")
    args = parser.parse_args()
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit() or args.match not in stack:
            continue
        count = int(count_text)
        # rpc worker threads only: skip grpc's poller and idle threads
        if "_serve_rpc" not in stack and "_unary_response_in_pool" not in stack:
            continue
        total += count
        seen = set()
        parsed = frames(stack)
        for func, file in parsed:
            key = f"{func} ({short(file)})"
            if key not in seen:
                inclusive[key] += count
                seen.add(key)
        func, file = parsed[-1]
        self_time[f"{func} ({short(file)})"] += count
    print(f"{total} samples in RPC worker threads")
    print("\ninclusive (function and its callees):")
    for key, count in inclusive.most_common(args.top):
        print(f"  {100 * count / max(total, 1):5.1f}%  {key}")
    print("\nself:")
    for key, count in self_time.most_common(args.top):
        print(f"  {100 * count / max(total, 1):5.1f}%  {key}")


if __name__ == "__main__":
    main()
