"""Run the real program for a stack under Pulumi's mocks (the offline engine) and query what it registered.

Values are read as the policy packs see them: camelCase wire names, secrets still wrapped, and values
unknown during a preview kept as the engine's unknown sentinel. `get` refuses to return that sentinel, so
an assertion can never pass vacuously on an unknown value.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.settings import deep_merge
from offline.engine import ProgramRun, run_program
from offline.stackconfig import load_project, load_stack
from offline.values import UNKNOWN, for_analyzer, is_secret, to_python

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "prod")


class UnknownValue(AssertionError):
    pass


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    urn: str
    id: str
    parent: str
    props: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    import_id: str
    dependencies: tuple[str, ...]

    def get(self, path: str) -> Any:
        """The input at a dotted path; a secret is unwrapped; an unknown value fails the test."""
        value: Any = self.props
        for part in path.split("."):
            if is_secret(value):
                value = value["value"]
            if isinstance(value, list):
                value = value[int(part)]
            else:
                assert isinstance(value, dict) and part in value, f"{self.type} {self.name}: no input {path}"
                value = value[part]
        if value == UNKNOWN:
            raise UnknownValue(f"{self.type} {self.name}: {path} is unknown")
        return value.get("value") if is_secret(value) else value

    def is_secret(self, path: str) -> bool:
        value: Any = self.props
        for part in path.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return is_secret(value)


@dataclass(frozen=True)
class Run:
    stack: str
    preview: bool
    resources: tuple[Resource, ...]
    outputs: dict[str, Any]
    error: str | None
    raw: ProgramRun

    def of_type(self, token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(token) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {token} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def app_settings(self) -> dict[str, Any]:
        app = self.one("azure-native:web:WebApp")
        return {item["name"]: item["value"] for item in app.get("siteConfig.appSettings")}


def _convert(run: ProgramRun) -> Run:
    resources = tuple(
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            id=r.id,
            parent=r.parent,
            props=to_python(for_analyzer(r.inputs)),
            outputs=to_python(r.outputs),
            protect=r.protect,
            retain_on_delete=r.retain_on_delete,
            ignore_changes=tuple(r.ignore_changes),
            import_id=r.import_id,
            dependencies=tuple(r.dependencies),
        )
        for r in run.resources
        if not r.synthetic
    )
    outputs = to_python(run.stack_outputs) if run.stack_outputs is not None else {}
    return Run(run.stack, run.preview, resources, outputs, run.error.message if run.error else None, run)


def stack_value(stack: str, key: str) -> Any:
    """A top-level `meajudaai-infra:<key>` value of a committed stack file, as written there."""
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return doc["config"].get(f"meajudaai-infra:{key}")


def patched(stack: str, key: str, patch: dict[str, Any]) -> dict[str, Any]:
    """`extra` for run_stack: one top-level key of the stack file with `patch` merged into it."""
    return {f"meajudaai-infra:{key}": deep_merge(stack_value(stack, key) or {}, patch)}


def run_stack(stack: str, preview: bool = False, extra: dict[str, Any] | None = None) -> Run:
    """Run a stack; `extra` overrides top-level config keys (values as they would be in the YAML)."""
    return _cached(stack, preview, json.dumps(extra, sort_keys=True) if extra else "")


@functools.cache
def _cached(stack: str, preview: bool, extra_json: str) -> Run:
    project = load_project(ROOT)
    config = load_stack(project, stack, json.loads(extra_json) if extra_json else None)
    return _convert(run_program(config, preview=preview))


def run_again(stack: str, extra: dict[str, Any] | None = None) -> Run:
    """A fresh run of the stack in update mode, never from the cache: for comparing two runs."""
    project = load_project(ROOT)
    return _convert(run_program(load_stack(project, stack, extra), preview=False))
