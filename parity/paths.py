"""Property paths (`properties.backup.backupRetentionDays`, `sku.name`, `rules[0].name`) of nested values."""

from __future__ import annotations

from typing import Any


def leaves(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every leaf of `value` with its path. Arrays of scalars are one leaf (compared as a whole); arrays of
    objects are walked by index. An empty object has no leaves: there is nothing in it to compare."""
    if isinstance(value, dict):
        found: list[tuple[str, Any]] = []
        for key, item in value.items():
            found.extend(leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        found = []
        for index, item in enumerate(value):
            found.extend(leaves(item, f"{prefix}[{index}]"))
        return found
    return [(prefix, value)]
