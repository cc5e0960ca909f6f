"""Kubernetes rules: the pack registers whatever `RULES` lists here (empty until a later issue fills it).

Two ways in:
- a rule written for this pack: a pure check `(props, Context) -> list[str]` over the resource's plain props
  (camelCase, as pulumi-kubernetes sends them: `metadata`, `spec`, ...), wrapped in a `ResourceRule` or
  `StackRule` with name, description, severity and remediation;
- a rule written as `(props) -> list[str]` that expects the compatibility gate's `gate.unknown.UNKNOWN` for
  values unknown during preview (the convention of `policies/kubernetes_rules.py`): wrap it with
  `gate_style_rule(...)`, which hands it props in that convention.

Either way, append it to `RULES` and give it a level in `config/{dev,staging,prod}.json`
(tests/test_baseline_rules.py fails until every policy has one in every file). Kubernetes types carry
labels, not tags, so `required-tags` does not apply to them.

`STATEFUL_TYPES` feeds `stateful-resources-protected`: resources here hold data that a `pulumi destroy` in
prod must not take away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gate.unknown import UNKNOWN
from policies.baseline.model import Context, ResourceRule, Severity, StackRule, Unknown, of_types

NAMESPACE = "kubernetes:core/v1:Namespace"
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")

STATEFUL_TYPES: tuple[str, ...] = (NAMESPACE,)


def with_gate_unknowns(value: Any) -> Any:
    """The same props with each `Unknown` replaced by the gate's marker."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {key: with_gate_unknowns(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_gate_unknowns(item) for item in value]
    return value


def gate_style_rule(
    name: str,
    check: Callable[[Mapping[str, Any]], list[str]],
    *,
    description: str,
    severity: Severity,
    remediation: str,
    types: Sequence[str] = WORKLOADS,
) -> ResourceRule:
    def run(props: Mapping[str, Any], ctx: Context) -> list[str]:
        return check(with_gate_unknowns(props))

    return ResourceRule(
        name=name,
        description=description,
        severity=severity,
        remediation=remediation,
        applies_to=of_types(*types),
        check=run,
    )


RULES: list[ResourceRule | StackRule] = []
