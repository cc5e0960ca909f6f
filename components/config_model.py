"""The base of every settings model, and the errors they raise, shared by all settings modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

PROJECT = "meajudaai-infra"


class SettingsError(ValueError):
    """A stack config problem, already phrased for the person who wrote the config."""


class ConfigModel(BaseModel):
    # camelCase keys as they appear in Pulumi.<stack>.yaml; unknown keys are errors, never ignored; strict,
    # so "35" is not silently taken for 35.
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=False, frozen=True, strict=True
    )


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Override `base` key by key; nested objects merge, everything else (lists included) replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling; settings are camelCase)"
        # A whole-model rule has no location of its own; its message starts with the keys it is about.
        lines.append(f"  {PROJECT}:{path}: {message}" if path else f"  {PROJECT}:{message}")
    return "\n".join(lines)
