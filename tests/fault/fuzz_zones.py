"""Zone names for the fuzz: every entry of every tz database the process can see.

Files and folders alike, walked from `zoneinfo.TZPATH` and the `tzdata` package: canonical
zones ("Europe/Paris"), folders ("America"), the host-dependent trees and files ("posix/...",
"right/UTC", "localtime", "posixrules", "Factory"), data files ("zone.tab", "tzdata.zi"), plus
spellings that name a file by another road (absolute paths, "..", "//", case, NUL).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import os
import zoneinfo
from pathlib import Path

#: Names worth trying whether or not this host has them.
_ALWAYS = (
    "UTC",
    "Etc/GMT+5",
    "Etc/GMT-14",
    "Etc/GMT+13",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "America/Santiago",
    "localtime",
    "posixrules",
    "Factory",
    "posix/Europe/Paris",
    "right/UTC",
    "America",
    "Not/AZone",
    "",
    " ",
)


def _roots() -> list[Path]:
    roots = [Path(root) for root in zoneinfo.TZPATH]
    with contextlib.suppress(ModuleNotFoundError):
        roots.append(Path(str(importlib.resources.files("tzdata") / "zoneinfo")))
    return [root for root in roots if root.is_dir()]


def _entries(root: Path) -> set[str]:
    """Every file and folder under `root`, as a name relative to it."""
    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root)
        found.update(str(base / name) for name in (*dirs, *files))
    return found


def _other_roads(name: str, root: Path) -> list[str]:
    """`name` spelled so that a path-based lookup might still find the file."""
    return [
        str(root / name),
        f"../{root.name}/{name}",
        name.replace("/", "//"),
        f"{name}/",
        f"./{name}",
        name.lower(),
        name.upper(),
        f"{name}\x00",
        f" {name}",
    ]


@functools.cache
def zone_names() -> tuple[str, ...]:
    """The pool, sorted (Hypothesis needs a stable order to replay a failure)."""
    names = set(_ALWAYS)
    for root in _roots():
        entries = _entries(root)
        names |= entries
        for name in ("Europe/Paris", "UTC", "America", "zone.tab", "posix/Europe/Paris"):
            names.update(_other_roads(name, root))
        names.update(f"Europe/../{name}" for name in sorted(entries)[:50])
    return tuple(sorted(names))
