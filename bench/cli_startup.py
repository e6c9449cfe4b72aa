#!/usr/bin/env python3
"""How long the `bookings` command takes to start: wall time of whole subprocesses.

  python bench/cli_startup.py            # 15 runs of each command
  python bench/cli_startup.py -n 30 --top 20

Runs `bookings --help` and `bookings token mint ...` (the console script next to this
Python, as users run it) N times each and prints the median and max wall time and the median
CPU time (user + system), then the modules that cost `token mint` the most (`python -X
importtime`, cumulative milliseconds, nested imports indented under their importer).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINT = ["token", "mint", "--site", "bench-site", "--identity", "owner"]


def _bookings() -> list[str]:
    script = Path(sys.executable).parent / "bookings"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bookings_server.cli.main"]


def run_times(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds (start to exit) and CPU seconds (user + system) of each of `runs` runs.

    CPU time is the steadier figure on a shared machine: other load stretches wall time."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def import_costs(arguments: list[str]) -> list[tuple[int, int, str]]:
    """(cumulative microseconds, nesting depth, module) of every import of one run."""
    command = [sys.executable, "-X", "importtime", "-m", "bookings_server.cli.main", *arguments]
    stderr = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stderr
    costs = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        costs.append((int(cumulative), depth, name.strip()))
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--runs", type=int, default=15, help="runs per command")
    parser.add_argument("--top", type=int, default=12, help="import offenders to list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        mint = [*MINT, "--data-dir", data_dir]
        subprocess.run([*_bookings(), *mint], check=True, capture_output=True)  # the secret
        print(f"{'command':24s} {'runs':>4s} {'wall median':>12s} {'max':>7s} {'CPU median':>11s}")
        for label, arguments in (("bookings --help", ["--help"]), ("bookings token mint", mint)):
            walls, cpus = run_times([*_bookings(), *arguments], args.runs)
            print(
                f"{label:24s} {len(walls):4d} {statistics.median(walls):11.3f}s "
                f"{max(walls):6.3f}s {statistics.median(cpus):10.3f}s"
            )
        costs = import_costs(mint)
    print(f"\n`token mint` imports, most expensive first (python -X importtime, top {args.top}):")
    for cumulative, depth, name in sorted(costs, reverse=True)[: args.top]:
        print(f"{cumulative / 1000:8.1f} ms  {'  ' * depth}{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
