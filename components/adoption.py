"""Adopting what Bicep already deployed: `import` ids for the resources the Bicep created.

The first `pulumi up` with adoption on imports instead of creating. Pulumi refuses an import whose inputs
differ from the live resource, and this program deliberately differs from the Bicep (tags, network
access placement, HA, ...), so each adopted resource ignores exactly those properties for the import run.
Turn adoption off afterwards and the next `pulumi up` applies the differences (docs/bicep-parity.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.naming import resource_group_id


@dataclass(frozen=True)
class Adoption:
    subscription_id: str
    resource_group: str

    def arm_id(self, provider_path: str | None) -> str:
        """ARM id of a resource in the group (`Microsoft.ServiceBus/namespaces/x`), or the group's own."""
        group = resource_group_id(self.subscription_id, self.resource_group)
        return f"{group}/providers/{provider_path}" if provider_path else group

    def options(self, provider_path: str | None, ignore: Sequence[str] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(import_=self.arm_id(provider_path), ignore_changes=list(ignore) or None)


def adopt(
    adoption: Adoption | None, provider_path: str | None, ignore: Sequence[str] = ()
) -> pulumi.ResourceOptions:
    """Import options when adopting, empty options otherwise (so callers can always merge them)."""
    return adoption.options(provider_path, ignore) if adoption else pulumi.ResourceOptions()
