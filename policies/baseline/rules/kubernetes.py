"""Kubernetes rules: the seven workload rules of `policies/kubernetes_rules.py`, registered for the pack.

Each applies to Deployments and StatefulSets and judges every container of the pod template (probes: the
app containers only, since Kubernetes runs no probes on init containers). The checks themselves live in
`policies/kubernetes_rules.py`; `KUBERNETES_POLICIES` below adds what the pack needs besides: description,
severity and remediation.

Two ways in for a further rule:
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
from policies import kubernetes_rules
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


# (name, severity, description, remediation) for each rule of policies/kubernetes_rules.py, in its order.
SECURITY_CONTEXT = "components/kubernetes_app.py's `restricted_container_security()`"
KUBERNETES_POLICIES: tuple[tuple[str, Severity, str, str], ...] = (
    (
        "kubernetes-probes-set",
        "medium",
        "Every app container of a Deployment or StatefulSet has a liveness and a readiness probe with a "
        "handler (httpGet, tcpSocket, exec or grpc), so a hung pod is restarted and a pod that is not "
        "ready gets no traffic.",
        "Add `livenessProbe` and `readinessProbe` to each container (the API: httpGet on its health "
        "endpoints; PostgreSQL: exec `pg_isready`); give slow starts a `startupProbe` rather than long "
        "delays.",
    ),
    (
        "kubernetes-resources-set",
        "medium",
        "Every container, init containers too, requests and limits CPU and memory, so the scheduler can "
        "place the pod and one pod cannot starve the node.",
        "Set `resources.requests` and `resources.limits` with `cpu` and `memory` on each container (the "
        "API's come from `kubernetes.resources` in the stack config).",
    ),
    (
        "kubernetes-no-privileged-containers",
        "critical",
        "No container, init containers included, sets `securityContext.privileged: true` (a privileged "
        "container has every capability and the host's devices: a way out of the container).",
        f"Remove `privileged: true` (use {SECURITY_CONTEXT}, which sets it false); grant a single "
        "capability instead if one is really needed.",
    ),
    (
        "kubernetes-image-pinned",
        "high",
        "Every container image names a tag other than `latest`, or a digest (`@sha256:`); an image "
        "without either means `latest`. A moving tag makes the release the gate approved and the one that "
        "runs two different things, and a rollback cannot return to it.",
        "Give the container an explicit tag or a digest `@sha256:<64 hex>`, never `latest`; the API's "
        "image is tagged with `release.id` by the program.",
    ),
    (
        "kubernetes-run-as-non-root",
        "high",
        "Every container, init containers included, runs with `runAsNonRoot: true` (its own or the "
        "pod's) and no `runAsUser: 0`, so the kubelet refuses to start it as root.",
        "Set `runAsNonRoot: true` and a non-zero `runAsUser` in the pod's securityContext "
        "(`restricted_pod_security(uid)` with the image's own non-root user, e.g. 1654 for .NET, 999 for "
        "postgres); for an image that starts as root, run it as its unprivileged user directly.",
    ),
    (
        "kubernetes-read-only-root-filesystem",
        "medium",
        "Every container, init containers included, sets `readOnlyRootFilesystem: true`, so a "
        "compromised process cannot change the image's binaries or drop files outside its volumes.",
        f"Set `readOnlyRootFilesystem: true` ({SECURITY_CONTEXT}) and mount an `emptyDir` where the "
        "process must write (`/tmp`, the PostgreSQL socket directory).",
    ),
    (
        "kubernetes-no-privilege-escalation",
        "high",
        "Every container, init containers included, sets `allowPrivilegeEscalation: false` explicitly "
        "(Kubernetes' default is true), so no setuid binary can raise a process above its user.",
        f"Set `allowPrivilegeEscalation: false` in each container's securityContext ({SECURITY_CONTEXT}).",
    ),
)

RULES: list[ResourceRule | StackRule] = [
    gate_style_rule(
        name,
        kubernetes_rules.RULES[name],
        description=description,
        severity=severity,
        remediation=remediation,
        types=kubernetes_rules.WORKLOAD_TYPES,
    )
    for name, severity, description, remediation in KUBERNETES_POLICIES
]
