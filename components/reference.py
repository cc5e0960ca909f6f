"""The settings reference (docs/settings.md), made from the settings models themselves.

Every key's type, allowed values, default, per-environment preset and description come from
`components.settings` (the descriptions are the fields' docstrings), so the reference cannot drift from
what the program accepts; `tests/test_settings_reference.py` keeps the committed file in sync.
"""

from __future__ import annotations

import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from components.config_model import PROJECT, model_defaults, model_inside
from components.settings import PRESETS, REGION_KEY, SECRET_KEYS, Settings

# Written by `python -m gate record`, never by hand: the reference points at its own documentation.
_TOOL_WRITTEN = {"gateEvidence"}
_REQUIRED = "(required)"


@dataclass(frozen=True)
class Row:
    key: str
    kind: str
    default: str
    presets: str
    description: str


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _kind(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if _is_union(annotation):
        return " or ".join(_kind(a) for a in args if a is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        return f"list of {_kind(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {_kind(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _constraints(field: FieldInfo) -> str:
    parts = []
    bounds = ((Ge, "ge", ">="), (Gt, "gt", ">"), (Le, "le", "<="), (Lt, "lt", "<"))
    for item in field.metadata:
        parts += [f"{word} {getattr(item, attr)}" for cls, attr, word in bounds if isinstance(item, cls)]
        if isinstance(item, MinLen):
            parts.append(f"at least {item.min_length} long")
        if isinstance(item, MaxLen):
            parts.append(f"at most {item.max_length} long")
        pattern = getattr(item, "pattern", None)
        if pattern:
            parts.append(f"pattern `{pattern}`")
    return ", ".join(parts)


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f"`{value}`"
    if isinstance(value, dict | list) and not value:
        return "`{}`" if isinstance(value, dict) else "`[]`"
    if isinstance(value, dict | list):
        return "`" + _compact(value) + "`"
    return f"`{value}`"


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _at(tree: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def _walk(model: type[BaseModel], path: tuple[str, ...], defaults: Any) -> Iterator[Row]:
    for name, field in model.model_fields.items():
        alias = field.alias or name
        key = (*path, alias)
        if key == ("location",):
            continue  # filled from azure-native:location, listed separately
        sub = model_inside(field.annotation)
        default = _at(defaults, key)
        kind = _kind(field.annotation)
        constraints = _constraints(field)
        if constraints:
            kind = f"{kind} ({constraints})"
        presets = []
        for env, preset in PRESETS.items():
            value = _at(preset, key)
            if value is not None and not isinstance(value, dict) and value != default:
                presets.append(f"{env}: {_show(value)}")
        shown = _REQUIRED if field.is_required() else ("" if sub and default is not None else _show(default))
        description = " ".join((field.description or "").split())
        yield Row(".".join(key), kind, shown, "; ".join(presets), description)
        if sub is not None and alias not in _TOOL_WRITTEN:
            yield from _walk(sub, key, defaults)


def rows(model: type[BaseModel] = Settings) -> list[Row]:
    """One row per key, nested objects included (their defaults spelled out as a stack file would)."""
    return list(_walk(model, (), model_defaults(model)))


def missing_descriptions(model: type[BaseModel] = Settings) -> list[str]:
    return [row.key for row in rows(model) if not row.description]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


_HEADER = """\
# Settings reference

<!-- Generated by `./venv/bin/python -m components reference > docs/settings.md` from the settings
     models (components/settings.py, components/kubernetes_settings.py, gate/config.py); do not edit.
     tests/test_settings_reference.py fails when this file and the models disagree. -->
"""
_PARAGRAPHS = (
    "Every key below is under `{project}:` in `Pulumi.<stack>.yaml`, in camelCase. A stack starts from "
    "the defaults, then its environment's preset (the *presets* column), then its stack file: objects "
    "merge key by key at every depth, lists replace, and `null` puts a key back to its default. A key "
    "that is not listed is refused, naming the nearest one. `./venv/bin/python -m components show -s "
    "<stack>` prints a stack's effective settings.",
    "The region is not a `{project}:` key: it is `{region}` (one source of truth). The Pulumi secrets "
    "{secrets} are set with `pulumi config set --secret <key> <value>` and are never printed.",
)
_TABLE_HEAD = "| key | type | default | presets | description |\n|---|---|---|---|---|"


def render() -> str:
    secrets = ", ".join(f"`{key}`" for key in SECRET_KEYS)
    lines = [_HEADER]
    for paragraph in _PARAGRAPHS:
        text = paragraph.format(project=PROJECT, region=REGION_KEY, secrets=secrets)
        lines += [textwrap.fill(text, width=100, break_on_hyphens=False), ""]
    lines.append(_TABLE_HEAD)
    for row in rows():
        cells = (f"`{row.key}`", row.kind, row.default, row.presets, row.description)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
