"""The base of every settings model, and the errors they raise, shared by all settings modules."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

PROJECT = "meajudaai-infra"


class SettingsError(ValueError):
    """A stack config problem, already phrased for the person who wrote the config."""


class ConfigModel(BaseModel):
    # camelCase keys as they appear in Pulumi.<stack>.yaml; unknown keys are errors, never ignored; strict,
    # so "35" is not silently taken for 35.
    # Each field's docstring is its description: the settings reference (docs/settings.md) is made from them.
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
        strict=True,
        use_attribute_docstrings=True,
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


def _model_at(model: type[BaseModel], path: Sequence[str | int]) -> type[BaseModel] | None:
    """The settings model that holds the keys at `path` (through optional, list and map values)."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return None
        if isinstance(part, int):
            continue  # a list index: the list's elements are already `current`
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        current = model_inside(field.annotation)
    return current


def model_inside(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field holds: itself, or inside `X | None`, `list[X]` or `dict[str, X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = model_inside(arg)
        if found is not None:
            return found
    return None


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest known key, or '' when none is close."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == key.lower()]
    return f" (did you mean '{close[0]}'?)" if close else ""


def format_errors(error: ValidationError, model: type[BaseModel] | None = None) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            owner = _model_at(model, item["loc"][:-1]) if model else None
            known = [f.alias or n for n, f in owner.model_fields.items()] if owner else []
            hint = did_you_mean(str(item["loc"][-1]), known)
            message = f"unknown setting{hint}" + (
                "" if hint else " (check the spelling; settings are camelCase)"
            )
        elif item["type"] == "literal_error":
            # pydantic lists the allowed values in the message; say which value was given too.
            message = f"{message}, got {item['input']!r}"
        # A whole-model rule has no location of its own; its message starts with the keys it is about.
        lines.append(f"  {PROJECT}:{path}: {message}" if path else f"  {PROJECT}:{message}")
    return "\n".join(lines)
