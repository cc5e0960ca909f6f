"""`--policy-pack-config` files, read and applied the way the Pulumi CLI does.

File format: a JSON object whose keys are policy names or `"all"`; each value is an enforcement
level string or an object with an optional `enforcementLevel` plus the policy's properties.
Precedence, lowest first: the policy's own level and its schema defaults, the pack's
`initial_config`, then the file (`"all"` first, then the named policy). The merged properties of
every policy with a config schema are then validated against that schema (as an object schema with
the policy's `properties` and `required`); any error stops the run, as it stops `pulumi preview`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
ALL = "all"


class PolicyConfigError(Exception):
    """The config file is unreadable or malformed; the message names the file and key."""


@dataclass
class PolicyConfig:
    enforcement_level: str | None = None
    properties: dict[str, Any] | None = None


@dataclass
class PolicyMeta:
    """What GetAnalyzerInfo says about one policy."""

    name: str
    description: str
    enforcement_level: str
    kind: str = "resource"
    schema_properties: dict[str, Any] | None = None
    schema_required: list[str] = field(default_factory=list)
    remediation_steps: str = ""
    severity: str = ""
    url: str = ""


def _level(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise PolicyConfigError(f"{where}: {value!r} is not a valid enforcement level; must be a string")
    if value not in LEVELS:
        raise PolicyConfigError(
            f"{where}: {value!r} is not a valid enforcement level (expected one of {', '.join(LEVELS)})"
        )
    return value


def parse_config(data: Any, source: str) -> dict[str, PolicyConfig]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{source}: expected a JSON object of policy name -> level or settings")
    result: dict[str, PolicyConfig] = {}
    for name, value in data.items():
        where = f"{source}: {name!r}"
        if isinstance(value, str):
            result[name] = PolicyConfig(_level(value, where))
        elif isinstance(value, dict):
            props = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = _level(value["enforcementLevel"], where) if "enforcementLevel" in value else None
            if level is None and not props:
                continue
            result[name] = PolicyConfig(level, props or None)
        else:
            raise PolicyConfigError(f"{where}: {value!r} is not a valid value; must be a string or object")
    return result


def load_config_file(path: Path) -> dict[str, PolicyConfig]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyConfigError(f"{path}: policy pack config file not found") from None
    except OSError as exc:
        raise PolicyConfigError(f"{path}: cannot read ({exc.strerror})") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return parse_config(data, str(path))


def _apply(result: dict[str, PolicyConfig], overrides: dict[str, PolicyConfig], unknown: list[str]) -> None:
    everything = overrides.get(ALL)
    if everything is not None and everything.enforcement_level:
        for cfg in result.values():
            cfg.enforcement_level = everything.enforcement_level
    for name, override in overrides.items():
        if name == ALL:
            continue
        current = result.get(name)
        if current is None:
            unknown.append(name)
            continue
        if override.enforcement_level:
            current.enforcement_level = override.enforcement_level
        if override.properties:
            current.properties = {**(current.properties or {}), **override.properties}


def _schema_errors(meta: PolicyMeta, props: dict[str, Any]) -> list[str]:
    schema: dict[str, Any] = {"type": "object"}
    if meta.schema_properties:
        schema["properties"] = meta.schema_properties
    if meta.schema_required:
        schema["required"] = meta.schema_required
    validator = jsonschema.Draft7Validator(schema)
    errors = []
    for err in sorted(validator.iter_errors(props), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in err.absolute_path)
        errors.append(f"{meta.name}: {where + ': ' if where else ''}{err.message}")
    return errors


def reconcile(
    policies: list[PolicyMeta], initial: dict[str, PolicyConfig], user: dict[str, PolicyConfig]
) -> tuple[dict[str, PolicyConfig], list[str], list[str]]:
    """Effective config per policy, schema errors, and names in the config that no policy has."""
    result: dict[str, PolicyConfig] = {}
    for meta in policies:
        defaults = {
            k: v["default"]
            for k, v in (meta.schema_properties or {}).items()
            if isinstance(v, dict) and "default" in v
        }
        result[meta.name] = PolicyConfig(meta.enforcement_level, defaults or None)
    unknown: list[str] = []
    _apply(result, initial, [])
    _apply(result, user, unknown)
    errors: list[str] = []
    for meta in policies:
        if meta.schema_properties is None and not meta.schema_required:
            continue
        errors.extend(_schema_errors(meta, result[meta.name].properties or {}))
    return result, errors, unknown
