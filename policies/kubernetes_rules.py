"""Baseline rules for Kubernetes workloads (Deployment, StatefulSet), as pure functions over plain props.

Props use the wire (camelCase) names, which for pulumi-kubernetes are Kubernetes' own field names. Values
unknown during preview must arrive as ``gate.unknown.UNKNOWN`` (the pack converts the SDK's proxy first,
as the compatibility gate's pack.py does); a rule that meets one reports a violation, never a pass.

Each rule returns a list of messages (empty = pass). ``RULES`` names them for the baseline pack, which
only has to wrap each in a ResourceValidationPolicy for ``WORKLOAD_TYPES``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from gate.unknown import is_unknown

WORKLOAD_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")

Rule = Callable[[Mapping[str, Any]], list[str]]


class _Unusable(Exception):
    """The pod template cannot be read (missing or unknown); the message says which part."""


def _unknown(where: str) -> str:
    return f"{where} is unknown during preview, so this rule cannot pass"


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if is_unknown(value):
        raise _Unusable(_unknown(where))
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Unusable(f"{where} is not an object")
    return value


def _containers(
    props: Mapping[str, Any], include_init: bool
) -> tuple[Mapping[str, Any], list[tuple[str, Any]]]:
    """The pod spec and its (label, container) pairs; raises _Unusable when they cannot be read."""
    spec = _mapping(props.get("spec"), "spec")
    template = _mapping(spec.get("template"), "spec.template")
    pod = _mapping(template.get("spec"), "spec.template.spec")
    pairs: list[tuple[str, Any]] = []
    for field in ("containers", "initContainers") if include_init else ("containers",):
        items = pod.get(field)
        where = f"spec.template.spec.{field}"
        if is_unknown(items):
            raise _Unusable(_unknown(where))
        if items is None:
            continue
        if not isinstance(items, list):
            raise _Unusable(f"{where} is not a list")
        for index, container in enumerate(items):
            name = container.get("name") if isinstance(container, Mapping) else None
            label = f"{field}[{index}]" + (f" ({name})" if isinstance(name, str) else "")
            pairs.append((label, container))
    if not any(label.startswith("containers[") for label, _ in pairs):
        raise _Unusable("spec.template.spec.containers is empty")
    return pod, pairs


def _each_container(
    props: Mapping[str, Any],
    include_init: bool,
    check: Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]],
) -> list[str]:
    try:
        pod, pairs = _containers(props, include_init)
        problems: list[str] = []
        for label, container in pairs:
            problems += check(label, _mapping(container, label), pod)
        return problems
    except _Unusable as unusable:
        return [str(unusable)]


def _security(label: str, container: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(container.get("securityContext"), f"{label}.securityContext")


# --------------------------------------------------------------------------------------------- rules
def probes_set(props: Mapping[str, Any]) -> list[str]:
    """Every container has a liveness and a readiness probe with a handler."""

    def check(label: str, container: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
        problems = []
        for probe in ("livenessProbe", "readinessProbe"):
            value = _mapping(container.get(probe), f"{label}.{probe}")
            handlers = [h for h in ("httpGet", "tcpSocket", "exec", "grpc") if value.get(h) is not None]
            if any(is_unknown(value.get(h)) for h in handlers):
                problems.append(_unknown(f"{label}.{probe}"))
            elif not handlers:
                problems.append(f"{label} has no {probe}")
        return problems

    return _each_container(props, False, check)


def resources_set(props: Mapping[str, Any]) -> list[str]:
    """Every container (init containers too) requests and limits CPU and memory."""

    def check(label: str, container: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
        problems = []
        resources = _mapping(container.get("resources"), f"{label}.resources")
        for kind in ("requests", "limits"):
            amounts = _mapping(resources.get(kind), f"{label}.resources.{kind}")
            for resource in ("cpu", "memory"):
                value = amounts.get(resource)
                if is_unknown(value):
                    problems.append(_unknown(f"{label}.resources.{kind}.{resource}"))
                elif value in (None, "", 0, "0"):
                    problems.append(f"{label} sets no resources.{kind}.{resource}")
        return problems

    return _each_container(props, True, check)


def _security_flag(field: str, passes: Callable[[Any], bool], problem: str) -> Rule:
    """A rule on one securityContext field of every container (init containers too)."""

    def check(label: str, container: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
        value = _security(label, container).get(field)
        if is_unknown(value):
            return [_unknown(f"{label}.securityContext.{field}")]
        return [] if passes(value) else [f"{label} {problem}"]

    def rule(props: Mapping[str, Any]) -> list[str]:
        return _each_container(props, True, check)

    return rule


not_privileged = _security_flag("privileged", lambda value: value is not True, "is privileged")
read_only_root_filesystem = _security_flag(
    "readOnlyRootFilesystem", lambda value: value is True, "does not set readOnlyRootFilesystem: true"
)
# Explicitly false: Kubernetes' default is true.
no_privilege_escalation = _security_flag(
    "allowPrivilegeEscalation", lambda value: value is False, "does not set allowPrivilegeEscalation: false"
)


def image_pinned(props: Mapping[str, Any]) -> list[str]:
    """A tag that is not `latest`, or a digest; an image without either means `latest`."""

    def check(label: str, container: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
        image = container.get("image")
        if is_unknown(image):
            return [_unknown(f"{label}.image")]
        if not isinstance(image, str) or not image:
            return [f"{label} names no image"]
        if _DIGEST.search(image):
            return []
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else ""
        if not tag:
            return [f"{label} image {image} has no tag (it means latest)"]
        if tag.lower() == "latest":
            return [f"{label} image {image} uses the latest tag"]
        return []

    return _each_container(props, True, check)


def runs_as_non_root(props: Mapping[str, Any]) -> list[str]:
    """runAsNonRoot true for every container (its own setting, else the pod's), and no runAsUser 0."""

    def check(label: str, container: Mapping[str, Any], pod: Mapping[str, Any]) -> list[str]:
        own = _security(label, container)
        pod_security = _mapping(pod.get("securityContext"), "spec.template.spec.securityContext")
        problems = []
        non_root = own.get("runAsNonRoot")
        where = f"{label}.securityContext.runAsNonRoot"
        if non_root is None:
            non_root, where = (
                pod_security.get("runAsNonRoot"),
                "spec.template.spec.securityContext.runAsNonRoot",
            )
        if is_unknown(non_root):
            problems.append(_unknown(where))
        elif non_root is not True:
            problems.append(f"{label} does not set runAsNonRoot: true (nor does the pod)")
        user = own.get("runAsUser")
        if user is None:
            user = pod_security.get("runAsUser")
        if is_unknown(user):
            problems.append(_unknown(f"{label} runAsUser"))
        elif user == 0:
            problems.append(f"{label} runs as user 0 (root)")
        return problems

    return _each_container(props, True, check)


RULES: dict[str, Rule] = {
    "kubernetes-probes-set": probes_set,
    "kubernetes-resources-set": resources_set,
    "kubernetes-no-privileged-containers": not_privileged,
    "kubernetes-image-pinned": image_pinned,
    "kubernetes-run-as-non-root": runs_as_non_root,
    "kubernetes-read-only-root-filesystem": read_only_root_filesystem,
    "kubernetes-no-privilege-escalation": no_privilege_escalation,
}


def workload_violations(resource_type: str, props: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every rule's messages for one resource (rules with no message left out); other types: nothing."""
    if resource_type not in WORKLOAD_TYPES:
        return {}
    results = {name: rule(props) for name, rule in RULES.items()}
    return {name: messages for name, messages in results.items() if messages}
