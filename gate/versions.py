"""NuGet version parsing and ordering, just enough for the gate's range checks."""

from __future__ import annotations

import re

from gate.config import VERSION_PATTERN

_VERSION_RE = re.compile(VERSION_PATTERN)

# (numeric parts padded to 4, is-release, prerelease identifiers) - a release sorts after its prereleases.
VersionKey = tuple[tuple[int, ...], int, tuple[tuple[int, int | str], ...]]


def is_version(text: str) -> bool:
    return bool(_VERSION_RE.match(text))


def version_key(text: str) -> VersionKey:
    if not is_version(text):
        raise ValueError(f"'{text}' is not a NuGet version (expected e.g. 10.0.3 or 10.0.0-rc.2)")
    core, _, pre = text.partition("-")
    numbers = tuple(int(part) for part in core.split("."))
    numbers = numbers + (0,) * (4 - len(numbers))
    if not pre:
        return numbers, 1, ()
    # Numeric identifiers sort before alphanumeric ones and among themselves numerically (SemVer 2).
    ids = tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in pre.split("."))
    return numbers, 0, ids


def major(text: str) -> int:
    return version_key(text)[0][0]


def in_range(text: str, low: str, high: str) -> bool:
    """Inclusive range check; a prerelease of ``low`` is below ``low``."""
    key = version_key(text)
    return version_key(low) <= key <= version_key(high)
