"""ARM resource types and property paths as the azure-native provider registers them."""

from __future__ import annotations

import functools
import importlib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TypeMapping:
    token: str
    # The inputs that carry the ARM name segments, outermost first: `ns/rule` is
    # namespaceName=ns, authorizationRuleName=rule.
    name_inputs: tuple[str, ...]


# Keys are lower case: ARM resource types are case-insensitive.
ARM_TYPES: dict[str, TypeMapping] = {
    "microsoft.servicebus/namespaces": TypeMapping("azure-native:servicebus:Namespace", ("namespaceName",)),
    "microsoft.servicebus/namespaces/authorizationrules": TypeMapping(
        "azure-native:servicebus:NamespaceAuthorizationRule", ("namespaceName", "authorizationRuleName")
    ),
    "microsoft.servicebus/namespaces/topics": TypeMapping(
        "azure-native:servicebus:Topic", ("namespaceName", "topicName")
    ),
    "microsoft.dbforpostgresql/flexibleservers": TypeMapping(
        "azure-native:dbforpostgresql:Server", ("serverName",)
    ),
    "microsoft.dbforpostgresql/flexibleservers/databases": TypeMapping(
        "azure-native:dbforpostgresql:Database", ("serverName", "databaseName")
    ),
    "microsoft.dbforpostgresql/flexibleservers/firewallrules": TypeMapping(
        "azure-native:dbforpostgresql:FirewallRule", ("serverName", "firewallRuleName")
    ),
    "microsoft.dbforpostgresql/flexibleservers/configurations": TypeMapping(
        "azure-native:dbforpostgresql:Configuration", ("serverName", "configurationName")
    ),
    "microsoft.network/privateendpoints": TypeMapping(
        "azure-native:network:PrivateEndpoint", ("privateEndpointName",)
    ),
    "microsoft.network/privateendpoints/privatednszonegroups": TypeMapping(
        "azure-native:network:PrivateDnsZoneGroup", ("privateEndpointName", "privateDnsZoneGroupName")
    ),
    # azure-native v3 moved private DNS out of `network` into its own `privatedns` module.
    "microsoft.network/privatednszones": TypeMapping(
        "azure-native:privatedns:PrivateZone", ("privateZoneName",)
    ),
    "microsoft.network/privatednszones/virtualnetworklinks": TypeMapping(
        "azure-native:privatedns:VirtualNetworkLink", ("privateZoneName", "virtualNetworkLinkName")
    ),
    "microsoft.network/virtualnetworks": TypeMapping(
        "azure-native:network:VirtualNetwork", ("virtualNetworkName",)
    ),
    "microsoft.network/virtualnetworks/subnets": TypeMapping(
        "azure-native:network:Subnet", ("virtualNetworkName", "subnetName")
    ),
    "microsoft.cache/redisenterprise": TypeMapping(
        "azure-native:redisenterprise:RedisEnterprise", ("clusterName",)
    ),
    "microsoft.cache/redisenterprise/databases": TypeMapping(
        "azure-native:redisenterprise:Database", ("clusterName", "databaseName")
    ),
}

# Inputs that place a resource rather than define it; the name inputs above are matched, not compared.
PLACEMENT_INPUTS = ("resourceGroupName",)


def mapping_for(arm_type: str) -> TypeMapping | None:
    return ARM_TYPES.get(arm_type.lower())


def input_path(arm_path: str) -> str:
    """`properties.backup.backupRetentionDays` → `backup.backupRetentionDays`.

    azure-native flattens the ARM `properties` envelope into the resource's inputs, and does the same for
    nested objects that have one (a private endpoint's `privateLinkServiceConnections[0].properties.x` is
    `privateLinkServiceConnections[0].x`). Every type mapped above follows that rule.
    """
    return ".".join(part for part in arm_path.split(".") if part != "properties")


_API_VERSION = re.compile(r"Uses Azure REST API version ([0-9a-z-]+)")


@functools.cache
def sdk_api_version(token: str) -> str | None:
    """The ARM API version the installed azure-native SDK uses for `token` (it ships one per type)."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    try:
        module = importlib.import_module(f"pulumi_azure_native.{parts[1]}")
    except ImportError:
        return None
    cls = getattr(module, parts[2], None)
    if cls is None:
        return None
    # The version is only stated in the class's docstrings (on the typing overloads of __init__).
    match = _API_VERSION.search(Path(inspect.getfile(cls)).read_text(encoding="utf-8"))
    return match.group(1) if match else None
