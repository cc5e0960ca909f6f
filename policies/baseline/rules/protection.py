"""In prod, resources that hold data are `protect`ed: no `pulumi destroy` or replacement deletes them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.baseline.model import StackResource, StackRule, environments_schema
from policies.baseline.rules import kubernetes

AZURE_STATEFUL_TYPES = (
    "azure-native:dbforpostgresql:Server",
    "azure-native:dbforpostgresql:Database",
    "azure-native:servicebus:Namespace",
    "azure-native:keyvault:Vault",
)


def check_protected(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[tuple[str, str | None]]:
    stateful = set(config["statefulTypes"])
    return [
        (
            f"{r.type} {r.name} holds data but is not protected in {r.environment.name}"
            f"{r.environment.note()}: a destroy or replacement would delete it",
            r.urn,
        )
        for r in resources
        if r.type in stateful and r.environment.within(config) and not r.protect
    ]


RULES: list[StackRule] = [
    StackRule(
        name="stateful-resources-protected",
        description="In prod the stateful resources (PostgreSQL server and database, Service Bus namespace, "
        "Key Vault, the Kubernetes namespace) have `protect` set.",
        severity="high",
        remediation="Pass `opts=pulumi.ResourceOptions(protect=True, retain_on_delete=True)` to the resource "
        "in prod (the components take `protect=`).",
        check=check_protected,
        config={
            "statefulTypes": {
                "type": "array",
                "items": {"type": "string"},
                "default": [*AZURE_STATEFUL_TYPES, *kubernetes.STATEFUL_TYPES],
            },
            "environments": environments_schema(["prod"], "stateful resources must be protected"),
        },
    ),
]
