"""The program's resources and outputs for one stack, captured the way the offline preview runs it."""

from __future__ import annotations

import contextlib
import re
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offline import outputs as offline_outputs
from offline.engine import CapturedResource, run_program
from offline.stackconfig import ConfigError, load_project, load_stack
from offline.values import SECRET_SIG, SIG_KEY, UNKNOWN, for_analyzer, to_python
from parity.errors import ParityInputError
from parity.template import DeploymentScope
from parity.values import Runtime, Secret

# Not cloud resources: the engine's own, providers, and the random provider's local values.
_NOT_CLOUD = ("pulumi:", "random:")


@dataclass
class ProgramResource:
    token: str
    logical_name: str
    inputs: dict[str, Any]  # wire (camelCase) names; secrets as `Secret`, unknowns as `Runtime`
    import_id: str
    ignore_changes: tuple[str, ...] = ()


@dataclass
class ProgramStack:
    stack: str
    scope: DeploymentScope
    resources: list[ProgramResource]
    outputs: dict[str, Any]


def capture_stack(stack: str, project_dir: Path, config: Mapping[str, object] | None = None) -> ProgramStack:
    """Runs the program for `stack` in update mode (names and ids known), with optional config overrides."""
    try:
        project = load_project(project_dir)
        stack_config = load_stack(project, stack, dict(config or {}))
    except ConfigError as err:
        raise ParityInputError(None, None, f"stack {stack}: {err}") from None
    with _own_modules_kept():
        run = run_program(stack_config, preview=False)
    if run.error is not None:
        raise ParityInputError(None, None, f"the program failed for stack {stack}: {run.error.message}")
    resources = [
        ProgramResource(
            r.type, r.name, _plain(to_python(for_analyzer(r.inputs))), r.import_id, tuple(r.ignore_changes)
        )
        for r in run.resources
        if r.custom and not r.type.startswith(_NOT_CLOUD)
    ]
    outputs = _plain(to_python(run.stack_outputs)) if run.stack_outputs is not None else {}
    return ProgramStack(stack, _scope(run.resources, stack), resources, outputs)


@contextlib.contextmanager
def _own_modules_kept() -> Iterator[None]:
    """The offline engine forgets every module loaded from the project directory, so that each stack
    imports the program afresh; this tool lives there too, and so does `__main__` under `python -m parity`
    (without which runpy cannot start the program). A file-less stand-in keeps `__main__` out of the purge."""
    own = {n: m for n, m in sys.modules.items() if n == "parity" or n.startswith("parity.")}
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main
        sys.modules.update(own)


def _scope(resources: list[CapturedResource], stack: str) -> DeploymentScope:
    """The resource group the program deploys to: the Bicep is evaluated as if deployed there too."""
    for resource in resources:
        if resource.type == "azure-native:resources:ResourceGroup":
            inputs = to_python(resource.inputs)
            match = re.match(r"/subscriptions/([^/]+)/", resource.id or "")
            subscription = match.group(1) if match else offline_outputs.SUBSCRIPTION_ID
            return DeploymentScope(
                subscription, str(inputs.get("resourceGroupName")), str(inputs.get("location"))
            )
    raise ParityInputError(
        None, None, f"stack {stack}: the program registers no resource group to compare in"
    )


def _plain(value: Any) -> Any:
    if value == UNKNOWN:
        return Runtime("unknown in the program")
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf numbers are doubles
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret("program secret")
        return {k: _plain(v) for k, v in value.items()}
    return value
