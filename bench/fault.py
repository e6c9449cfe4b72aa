#!/usr/bin/env python3
"""Run the fault suite (tests/fault) at a chosen size and print its counts.

  python bench/fault.py                  # the CI size (about a minute)
  python bench/fault.py --size large     # 10 kill -9 cycles, over 100,000 fuzz requests
  python bench/fault.py --sqlite-only    # skip the PostgreSQL variants
  python bench/fault.py --size large --races-per-store 500   # the large run, fewer races
  python bench/fault.py -- -k crash      # anything after -- goes to pytest

The counts (requests tried, crashes survived, bookings verified) are printed at the end of
pytest's report under "fault suite counts".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=("small", "large"), default="small")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--races-per-store",
        type=int,
        help="contested races per store (default: the size's; 5000 at the large size)",
    )
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    command = [sys.executable, "-m", "pytest", str(ROOT / "tests" / "fault"), "-q"]
    if args.sqlite_only:
        command += ["-m", "not postgres"]
    if args.size == "large":
        command += ["-o", "timeout=3600"]
    command += args.pytest_args
    env = dict(os.environ, BOOKINGS_FAULT_SIZE=args.size)
    if args.races_per_store is not None:
        env["BOOKINGS_FAULT_RACES"] = str(args.races_per_store)
    print(" ".join(command), f"(BOOKINGS_FAULT_SIZE={args.size})", flush=True)
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
