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
    """Override `base` key by key at every depth: objects merge, lists and scalars replace, and a null
    removes the key (so the setting falls back to its default, or a map entry is dropped)."""
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def model_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The model's defaults as a stack file would write them (camelCase, nested objects spelled out), so
    a stack file's partial object merges into them key by key instead of replacing them."""
    defaults: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.is_required():
            continue
        value = field.get_default(call_default_factory=True)
        if value is not None:
            defaults[field.alias or name] = _plain(value)
    return defaults


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
