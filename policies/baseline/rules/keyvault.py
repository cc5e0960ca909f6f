"""Key Vault: recoverable (soft delete, purge protection in prod) and governed by Azure RBAC."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.baseline.model import (
    MISSING,
    Context,
    ResourceRule,
    Unknown,
    cannot_verify,
    environments_schema,
    get,
    of_types,
    require,
)

VAULT = "azure-native:keyvault:Vault"


def check_soft_delete(props: Mapping[str, Any], ctx: Context) -> list[str]:
    # Absent is Azure's default (on); only an explicit false turns it off.
    why = "a deleted vault and its secrets would be gone for good"
    found = require(props, "properties.enableSoftDelete", True, why, missing_ok=True)
    days = get(props, "properties.softDeleteRetentionInDays")
    if isinstance(days, Unknown):
        found.append(cannot_verify(days, "the soft-delete retention"))
    elif days is not MISSING and (not isinstance(days, (int, float)) or days < ctx.config["minimumDays"]):
        found.append(
            f"properties.softDeleteRetentionInDays is {days!r}, below {ctx.config['minimumDays']} days"
        )
    return found


def check_purge_protection(props: Mapping[str, Any], ctx: Context) -> list[str]:
    if not ctx.environment.within(ctx.config):
        return []
    why = f"in {ctx.environment.name} a deleted vault could be purged before anyone notices"
    return require(props, "properties.enablePurgeProtection", True, why + ctx.environment.note())


def check_rbac(props: Mapping[str, Any], ctx: Context) -> list[str]:
    why = "access policies grant whole-vault rights outside Azure RBAC's audit and scoping"
    return require(props, "properties.enableRbacAuthorization", True, why)


RULES: list[ResourceRule] = [
    ResourceRule(
        name="keyvault-soft-delete",
        description="Key Vaults keep deleted vaults and secrets recoverable (soft delete, at least 7 days).",
        severity="high",
        remediation="Remove `enable_soft_delete=False` (Azure's default is on) and keep "
        "`soft_delete_retention_in_days` at 7 or more.",
        applies_to=of_types(VAULT),
        check=check_soft_delete,
        config={"minimumDays": {"type": "integer", "minimum": 7, "maximum": 90, "default": 7}},
    ),
    ResourceRule(
        name="keyvault-purge-protection",
        description="Key Vaults in prod have purge protection.",
        severity="high",
        remediation="Set `enable_purge_protection=True` (it cannot be turned off again).",
        applies_to=of_types(VAULT),
        check=check_purge_protection,
        config={"environments": environments_schema(["prod"], "purge protection is required")},
    ),
    ResourceRule(
        name="keyvault-rbac-authorization",
        description="Key Vaults authorize with Azure RBAC, not access policies.",
        severity="medium",
        remediation="Set `enable_rbac_authorization=True` and grant roles per secret "
        "(Key Vault Secrets User).",
        applies_to=of_types(VAULT),
        check=check_rbac,
    ),
]
