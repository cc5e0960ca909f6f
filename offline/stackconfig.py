"""Stack configuration as the Pulumi CLI hands it to a program and to policy packs.

`Pulumi.yaml` gives the project name, the program's `main` and project-level config defaults;
`Pulumi.<stack>.yaml` gives the stack's `config:` map. The engine passes every value to the
language host and to analyzers as a *string* (objects and lists as JSON), keyed `<namespace>:<name>`.
Secure values cannot be decrypted here, so each one becomes a clearly marked placeholder and its
top-level key is listed as secret, as the CLI lists keys whose values are (or contain) secrets.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER_PREFIX = "offline-placeholder-secret:"
STACK_TAGS_KEY = "pulumi:tags"
_STACK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


class ConfigError(Exception):
    """Bad project or stack configuration; the message names the file and key."""


@dataclass(frozen=True)
class ProjectInfo:
    directory: Path
    name: str
    main: Path
    description: str
    runtime: str
    defaults: dict[str, Any]
    tags: dict[str, str]


@dataclass
class StackConfig:
    project: ProjectInfo
    stack: str
    file: Path
    # `<namespace>:<name>` -> string value, exactly what PULUMI_CONFIG carries.
    values: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    placeholders: set[str] = field(default_factory=set)
    stack_tags: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def env_json(self) -> str:
        return json.dumps(self.values, sort_keys=True)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


def _normalise_key(raw: object, project: str, path: Path, *, allow_bare: bool) -> str:
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"{path}: config key {raw!r} must be a non-empty string")
    parts = raw.split(":")
    if len(parts) == 1:
        if allow_bare:
            return f"{project}:{raw}"
        raise ConfigError(
            f"{path}: config key {raw!r} has no namespace; stack config keys are `<namespace>:<name>`, "
            f"e.g. `{project}:{raw}`"
        )
    if len(parts) == 2 and all(parts):
        return raw
    # Old `<namespace>:config:<name>` spelling, still accepted by the CLI.
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    raise ConfigError(f"{path}: config key {raw!r} is not of the form `<namespace>:<name>`")


def _is_secure(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str)


def _replace_secure(value: Any, label: str, found: list[str]) -> Any:
    """Swap every `{secure: ...}` (also nested) for a placeholder naming where it sits."""
    if _is_secure(value):
        placeholder = f"{PLACEHOLDER_PREFIX}{label}"
        found.append(placeholder)
        return placeholder
    if isinstance(value, dict):
        return {k: _replace_secure(v, f"{label}.{k}", found) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secure(v, f"{label}[{i}]", found) for i, v in enumerate(value)]
    return value


def _scalar_to_string(value: Any, key: str, path: Path) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{path}: config key {key!r} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return value
    raise ConfigError(f"{path}: config key {key!r} has an unsupported value of type {type(value).__name__}")


def _to_wire_string(value: Any, key: str, path: Path) -> str:
    if value is None:
        raise ConfigError(f"{path}: config key {key!r} has no value")
    if isinstance(value, (dict, list)):
        # The CLI marshals structured values to JSON (Go sorts map keys, no spaces).
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return _scalar_to_string(value, key, path)


def _string_tags(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: `{STACK_TAGS_KEY}` must be a map of tag name to string")
    tags: dict[str, str] = {}
    for name, val in raw.items():
        if not isinstance(name, str) or isinstance(val, (dict, list)) or val is None:
            raise ConfigError(f"{where}: `{STACK_TAGS_KEY}` entry {name!r} must map a name to a string")
        tags[name] = _scalar_to_string(val, f"{STACK_TAGS_KEY}.{name}", Path(where))
    return tags


def load_project(directory: Path) -> ProjectInfo:
    path = directory / "Pulumi.yaml"
    if not path.exists():
        alt = directory / "Pulumi.yml"
        path = alt if alt.exists() else path
    doc = _read_yaml(path)
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping with at least `name` and `runtime`")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}: `name` must be a non-empty string")
    runtime = doc.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ConfigError(
            f"{path}: `runtime` is {runtime_name!r}; the offline preview runs Python programs only"
        )
    main_raw = doc.get("main", ".")
    if not isinstance(main_raw, str):
        raise ConfigError(f"{path}: `main` must be a path string")
    main = (directory / main_raw).resolve()
    if not main.exists():
        raise ConfigError(f"{path}: `main` points at {main}, which does not exist")
    if main.is_dir() and not (main / "__main__.py").exists():
        raise ConfigError(f"{path}: program directory {main} has no __main__.py")

    defaults: dict[str, Any] = {}
    tags: dict[str, str] = {}
    raw_config = doc.get("config") or {}
    if not isinstance(raw_config, dict):
        raise ConfigError(f"{path}: `config` must be a mapping")
    for raw_key, spec in raw_config.items():
        key = _normalise_key(raw_key, name, path, allow_bare=True)
        value = spec
        if isinstance(spec, dict) and not _is_secure(spec):
            # Project config declares `type`/`description`/`default` (own namespace) or `value`.
            value = spec.get("value", spec.get("default"))
        if key == STACK_TAGS_KEY:
            if value is not None:
                tags.update(_string_tags(value, str(path)))
            continue
        if value is not None:
            defaults[key] = value
    description = doc.get("description")
    return ProjectInfo(
        directory=directory,
        name=name,
        main=main,
        description=description if isinstance(description, str) else "",
        runtime="python",
        defaults=defaults,
        tags=tags,
    )


# The order a change is promoted in; other stacks follow alphabetically.
PROMOTION_ORDER = ("dev", "staging", "prod")


def available_stacks(directory: Path) -> list[str]:
    stacks = [p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml")]

    def position(stack: str) -> tuple[int, str]:
        return (PROMOTION_ORDER.index(stack) if stack in PROMOTION_ORDER else len(PROMOTION_ORDER), stack)

    return sorted((s for s in stacks if s), key=position)


def load_stack(project: ProjectInfo, stack: str, extra: dict[str, Any] | None = None) -> StackConfig:
    """Read `Pulumi.<stack>.yaml`. `extra` overrides keys (used by the benchmark to inject topics)."""
    if not _STACK_NAME_RE.match(stack):
        raise ConfigError(f"stack name {stack!r} may only contain letters, digits, '-', '_' and '.'")
    path = project.directory / f"Pulumi.{stack}.yaml"
    doc = _read_yaml(path)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping with a `config:` section")
    result = StackConfig(project=project, stack=stack, file=path)
    if doc.get("environment"):
        result.warnings.append(
            f"{path}: `environment` (Pulumi ESC) is not resolved offline; only `config:` values are used"
        )
    raw_config = doc.get("config") or {}
    if not isinstance(raw_config, dict):
        raise ConfigError(f"{path}: `config` must be a mapping of `<namespace>:<name>` to values")

    merged: dict[str, Any] = dict(project.defaults)
    tags = dict(project.tags)
    for raw_key, value in raw_config.items():
        key = _normalise_key(raw_key, project.name, path, allow_bare=False)
        if key == STACK_TAGS_KEY:
            tags.update(_string_tags(value, str(path)))
            continue
        merged[key] = value
    for raw_key, value in (extra or {}).items():
        merged[_normalise_key(raw_key, project.name, path, allow_bare=True)] = value

    for key in sorted(merged):
        found: list[str] = []
        replaced = _replace_secure(merged[key], key, found)
        result.values[key] = _to_wire_string(replaced, key, path)
        if found:
            result.secret_keys.append(key)
            result.placeholders.update(found)

    # The CLI adds these automatic stack tags; analyzers see them through ConfigureStack.
    result.stack_tags = {
        "pulumi:project": project.name,
        "pulumi:runtime": project.runtime,
        **({"pulumi:description": project.description} if project.description else {}),
        **tags,
    }
    return result
