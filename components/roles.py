"""Azure RBAC role assignments: one identity, one built-in role, one scope, with a stable name."""

from __future__ import annotations

import uuid

import pulumi
from pulumi_azure_native import authorization

# Built-in roles, by their fixed ids.
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"  # read secret values, nothing else
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"  # pull images, nothing else


def role_assignment_name(*parts: str) -> str:
    """Role assignment names must be GUIDs; derive them so re-running the program keeps the same ones."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def assign_role(
    resource_name: str,
    *,
    role: str,
    scope: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> authorization.RoleAssignment:
    """`role` for a service principal (a managed identity) on `scope`."""
    return authorization.RoleAssignment(
        resource_name,
        role_assignment_name=role_assignment_name(pulumi.get_project(), pulumi.get_stack(), resource_name),
        scope=scope,
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        role_definition_id=pulumi.Output.concat(
            "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role
        ),
        opts=opts,
    )
