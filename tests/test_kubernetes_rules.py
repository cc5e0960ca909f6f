"""Baseline rules for Kubernetes workloads: the program's Deployment and StatefulSet pass every rule, each
rule fails on a manifest broken its way, and a value unknown during preview is a violation, never a pass."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from gate.unknown import UNKNOWN
from offline.values import UNKNOWN as WIRE_UNKNOWN
from offline.values import is_secret
from policies.kubernetes_rules import RULES, WORKLOAD_TYPES, workload_violations
from tests.test_kubernetes_program import DEPLOYMENT, STATEFULSET, k8s_run

Mutation = Callable[[dict[str, Any]], None]


def as_pack_sees(value: Any) -> Any:
    """Props as a pack's wrapper hands them to the rules: secrets unwrapped, unknowns as gate UNKNOWN, and
    numbers left as the doubles the analyzer protocol carries."""
    if is_secret(value):
        return as_pack_sees(value["value"])
    if value == WIRE_UNKNOWN:
        return UNKNOWN
    if isinstance(value, dict):
        return {k: as_pack_sees(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_pack_sees(v) for v in value]
    return value


def api_deployment() -> dict[str, Any]:
    """prod's API Deployment on Kubernetes, as the pack sees it."""
    return as_pack_sees(k8s_run("prod").one(DEPLOYMENT).props)


def container(props: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return props["spec"]["template"]["spec"]["containers"][index]


def security(props: dict[str, Any]) -> dict[str, Any]:
    return container(props)["securityContext"]


def set_in(path: str, value: Any) -> Mutation:
    """Set (or with value None, delete) a dotted path below the first container."""

    def mutate(props: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = container(props)
        for part in parents:
            target = target[part]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value

    return mutate


def add_sidecar(fields: dict[str, Any]) -> Mutation:
    def mutate(props: dict[str, Any]) -> None:
        sidecar = copy.deepcopy(container(props))
        sidecar.update(name="sidecar", **fields)
        props["spec"]["template"]["spec"]["containers"].append(sidecar)

    return mutate


def init_container(fields: dict[str, Any]) -> Mutation:
    def mutate(props: dict[str, Any]) -> None:
        init = copy.deepcopy(container(props))
        init.update(name="migrate", **fields)
        props["spec"]["template"]["spec"]["initContainers"] = [init]

    return mutate


def pod_security(key: str, value: Any) -> Mutation:
    def mutate(props: dict[str, Any]) -> None:
        props["spec"]["template"]["spec"]["securityContext"][key] = value

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(props: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(props)

    return mutate


PROBES = "kubernetes-probes-set"
RESOURCES = "kubernetes-resources-set"
PRIVILEGED = "kubernetes-no-privileged-containers"
IMAGE = "kubernetes-image-pinned"
NON_ROOT = "kubernetes-run-as-non-root"
READ_ONLY = "kubernetes-read-only-root-filesystem"
ESCALATION = "kubernetes-no-privilege-escalation"


BAD: list[tuple[str, Mutation, str]] = [
    (PROBES, set_in("livenessProbe", None), "containers[0] (api) has no livenessProbe"),
    (PROBES, set_in("readinessProbe", {"periodSeconds": 5}), "has no readinessProbe"),
    (PROBES, add_sidecar({"readinessProbe": None}), "containers[1] (sidecar) has no readinessProbe"),
    (RESOURCES, set_in("resources.limits", None), "sets no resources.limits.cpu"),
    (RESOURCES, set_in("resources.requests.memory", None), "sets no resources.requests.memory"),
    (RESOURCES, init_container({"resources": {}}), "initContainers[0] (migrate) sets no"),
    (PRIVILEGED, set_in("securityContext.privileged", True), "(api) is privileged"),
    (PRIVILEGED, init_container({"securityContext": {"privileged": True}}),
     "initContainers[0] (migrate) is privileged"),
    (IMAGE, set_in("image", "acr.example.io/api:latest"), "latest tag"),
    (IMAGE, set_in("image", "acrmeajudaai.azurecr.io/meajudaai-api"), "has no tag"),
    (IMAGE, set_in("image", "registry:5000/meajudaai-api"), "has no tag"),
    (IMAGE, set_in("image", ""), "names no image"),
    (NON_ROOT, set_in("securityContext.runAsNonRoot", False), "does not set runAsNonRoot"),
    (NON_ROOT,
     both(set_in("securityContext.runAsNonRoot", None), pod_security("runAsNonRoot", None)),
     "does not set runAsNonRoot: true (nor does the pod)"),
    (NON_ROOT, pod_security("runAsUser", 0.0), "runs as user 0 (root)"),
    (READ_ONLY, set_in("securityContext.readOnlyRootFilesystem", False),
     "does not set readOnlyRootFilesystem: true"),
    (READ_ONLY, set_in("securityContext", None), "readOnlyRootFilesystem"),
    (ESCALATION, set_in("securityContext.allowPrivilegeEscalation", None),
     "does not set allowPrivilegeEscalation: false"),
    (ESCALATION, set_in("securityContext.allowPrivilegeEscalation", True),
     "does not set allowPrivilegeEscalation: false"),
]  # fmt: skip


@pytest.mark.parametrize("preview", [False, True])
def test_the_programs_workloads_pass_every_rule(preview) -> None:
    dev = k8s_run("dev", preview=preview)
    workloads = [
        *dev.of_type(DEPLOYMENT),
        *dev.of_type(STATEFULSET),
        *k8s_run("prod").of_type(DEPLOYMENT),
    ]
    assert {w.type for w in workloads} == set(WORKLOAD_TYPES)
    for workload in workloads:
        assert workload_violations(workload.type, as_pack_sees(workload.props)) == {}, workload.name


@pytest.mark.parametrize(("rule", "mutation", "expected"), BAD)
def test_each_rule_fails_on_a_manifest_broken_its_way(rule, mutation, expected) -> None:
    props = api_deployment()
    assert RULES[rule](props) == []
    mutation(props)
    messages = RULES[rule](props)
    assert any(expected in m for m in messages), messages
    assert rule in workload_violations(DEPLOYMENT, props)


def test_only_the_broken_rule_fires() -> None:
    props = api_deployment()
    set_in("image", "meajudaai-api:latest")(props)
    assert set(workload_violations(DEPLOYMENT, props)) == {IMAGE}


@pytest.mark.parametrize(
    "image",
    ["acrmeajudaai.azurecr.io/meajudaai-api:1.4.2", "registry:5000/team/api:c2f3a2362",
     "acrmeajudaai.azurecr.io/meajudaai-api@sha256:" + "ab" * 32],
)  # fmt: skip
def test_pinned_images_pass(image) -> None:
    props = api_deployment()
    set_in("image", image)(props)
    assert RULES[IMAGE](props) == []


@pytest.mark.parametrize(
    ("mutation", "rules_hit"),
    [(set_in("image", UNKNOWN), {IMAGE}),
     (set_in("securityContext", UNKNOWN), {PRIVILEGED, NON_ROOT,
      READ_ONLY, ESCALATION}),
     (set_in("securityContext.runAsNonRoot", UNKNOWN), {NON_ROOT}),
     (set_in("livenessProbe", UNKNOWN), {PROBES}),
     (set_in("livenessProbe.httpGet", UNKNOWN), {PROBES}),
     (set_in("resources.limits.memory", UNKNOWN), {RESOURCES})],
)  # fmt: skip
def test_unknown_during_preview_is_a_violation(mutation, rules_hit) -> None:
    props = api_deployment()
    mutation(props)
    found = workload_violations(DEPLOYMENT, props)
    assert set(found) == rules_hit
    assert all("unknown during preview" in m for messages in found.values() for m in messages)


def test_an_unknown_pod_template_fails_every_rule() -> None:
    props = api_deployment()
    props["spec"]["template"] = UNKNOWN
    found = workload_violations(DEPLOYMENT, props)
    assert set(found) == set(RULES)
    assert found[PROBES] == ["spec.template is unknown during preview, so this rule cannot pass"]


def test_a_workload_without_containers_fails() -> None:
    props = api_deployment()
    props["spec"]["template"]["spec"]["containers"] = []
    assert workload_violations(DEPLOYMENT, props)[PROBES] == ["spec.template.spec.containers is empty"]


def test_other_types_are_not_judged() -> None:
    assert workload_violations("kubernetes:core/v1:Service", {"spec": {}}) == {}
