"""Plausible computed outputs for update mode, and answers to provider invokes.

This is the one table to extend when the program starts using a resource type whose computed outputs
matter (an id another resource needs, an endpoint that is exported, a key a policy reads).
Values are made up but shaped like Azure's: ARM ids under a fixed all-zero subscription, FQDNs in
the service's real domain. Nothing here is read in preview mode, where computed outputs stay unknown.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
CLIENT_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"
DEFAULT_RESOURCE_GROUP = "rg-offline"

Inputs = Mapping[str, Any]


def fake_guid(*parts: str) -> str:
    """A stable GUID derived from the resource, so repeated runs report the same values."""
    return str(uuid.UUID(hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]))


def _fake_key(*parts: str) -> str:
    return hashlib.sha256(("key/" + "/".join(parts)).encode()).hexdigest()[:44]


@dataclass(frozen=True)
class ArmType:
    """How to build the ARM id of one azure-native resource type.

    `path` is the ARM type path below `providers/`, with `{input}` placeholders for the inputs
    that name the parent resources and the resource itself (the last one is the resource name).
    `extension` means the id hangs below another resource id (given by the `scope` input).
    """

    path: str
    name_input: str
    scope_input: str | None = None
    computed: Callable[[str, Inputs, str], dict[str, Any]] | None = None


def _web_app(name: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    return {
        "defaultHostName": f"{name}.azurewebsites.net",
        # One per subscription in Azure: derived from the subscription here.
        "customDomainVerificationId": hashlib.sha256(SUBSCRIPTION_ID.encode()).hexdigest().upper(),
        "outboundIpAddresses": "20.0.0.1,20.0.0.2",
        "state": "Running",
    }


def _postgres(name: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    return {"fullyQualifiedDomainName": f"{name}.postgres.database.azure.com", "state": "Ready"}


def _service_bus(name: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    return {
        "serviceBusEndpoint": f"https://{name}.servicebus.windows.net:443/",
        "metricId": f"{SUBSCRIPTION_ID}:{name}",
        "status": "Active",
    }


def _vault(name: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    props = dict(inputs.get("properties") or {})
    props.setdefault("vaultUri", f"https://{name}.vault.azure.net/")
    return {"properties": props}


def _vault_secret(name: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    vault = inputs.get("vaultName", "vault")
    props = dict(inputs.get("properties") or {})
    props.setdefault("secretUri", f"https://{vault}.vault.azure.net/secrets/{name}")
    props.setdefault("secretUriWithVersion", f"https://{vault}.vault.azure.net/secrets/{name}/0")
    return {"properties": props}


def _workspace(name: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    return {"customerId": fake_guid(rid, "customerId")}


def _app_insights(name: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    key = fake_guid(rid, "instrumentationKey")
    return {
        "appId": fake_guid(rid, "appId"),
        "instrumentationKey": key,
        "connectionString": (
            f"InstrumentationKey={key};IngestionEndpoint=https://brazilsouth-1.in.applicationinsights.azure.com/"
        ),
    }


def _managed_cluster(name: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    return {"fqdn": f"{name}-dns.hcp.brazilsouth.azmk8s.io"}


def _user_identity(name: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    return {
        "principalId": fake_guid(rid, "principalId"),
        "clientId": fake_guid(rid, "clientId"),
        "tenantId": TENANT_ID,
    }


_SB = "Microsoft.ServiceBus/namespaces/{namespaceName}"
_PG = "Microsoft.DBforPostgreSQL/flexibleServers/{serverName}"

# azure-native type token -> ARM id recipe (+ extra computed outputs).
AZURE_TYPES: dict[str, ArmType] = {
    "azure-native:web:AppServicePlan": ArmType("Microsoft.Web/serverfarms/{name}", "name"),
    "azure-native:web:WebApp": ArmType("Microsoft.Web/sites/{name}", "name", computed=_web_app),
    "azure-native:web:WebAppSlot": ArmType("Microsoft.Web/sites/{name}/slots/{slot}", "slot"),
    "azure-native:web:WebAppApplicationSettings": ArmType(
        "Microsoft.Web/sites/{name}/config/appsettings", "name"
    ),
    "azure-native:dbforpostgresql:Server": ArmType(_PG, "serverName", computed=_postgres),
    "azure-native:dbforpostgresql:Database": ArmType(_PG + "/databases/{databaseName}", "databaseName"),
    "azure-native:dbforpostgresql:FirewallRule": ArmType(
        _PG + "/firewallRules/{firewallRuleName}", "firewallRuleName"
    ),
    "azure-native:dbforpostgresql:Configuration": ArmType(
        _PG + "/configurations/{configurationName}", "configurationName"
    ),
    "azure-native:servicebus:Namespace": ArmType(_SB, "namespaceName", computed=_service_bus),
    "azure-native:servicebus:NamespaceAuthorizationRule": ArmType(
        _SB + "/authorizationRules/{authorizationRuleName}", "authorizationRuleName"
    ),
    "azure-native:servicebus:Topic": ArmType(_SB + "/topics/{topicName}", "topicName"),
    "azure-native:servicebus:Queue": ArmType(_SB + "/queues/{queueName}", "queueName"),
    "azure-native:servicebus:Subscription": ArmType(
        _SB + "/topics/{topicName}/subscriptions/{subscriptionName}", "subscriptionName"
    ),
    "azure-native:servicebus:Rule": ArmType(
        _SB + "/topics/{topicName}/subscriptions/{subscriptionName}/rules/{ruleName}", "ruleName"
    ),
    "azure-native:keyvault:Vault": ArmType(
        "Microsoft.KeyVault/vaults/{vaultName}", "vaultName", computed=_vault
    ),
    "azure-native:keyvault:Secret": ArmType(
        "Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}", "secretName", computed=_vault_secret
    ),
    "azure-native:operationalinsights:Workspace": ArmType(
        "Microsoft.OperationalInsights/workspaces/{workspaceName}", "workspaceName", computed=_workspace
    ),
    "azure-native:applicationinsights:Component": ArmType(
        "Microsoft.Insights/components/{resourceName}", "resourceName", computed=_app_insights
    ),
    "azure-native:applicationinsights:WebTest": ArmType(
        "Microsoft.Insights/webtests/{webTestName}", "webTestName"
    ),
    "azure-native:monitor:MetricAlert": ArmType("Microsoft.Insights/metricAlerts/{ruleName}", "ruleName"),
    "azure-native:monitor:ScheduledQueryRule": ArmType(
        "Microsoft.Insights/scheduledQueryRules/{ruleName}", "ruleName"
    ),
    "azure-native:monitor:ActionGroup": ArmType(
        "Microsoft.Insights/actionGroups/{actionGroupName}", "actionGroupName"
    ),
    "azure-native:monitor:DiagnosticSetting": ArmType(
        "Microsoft.Insights/diagnosticSettings/{name}", "name", scope_input="resourceUri"
    ),
    "azure-native:authorization:RoleAssignment": ArmType(
        "Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
        "roleAssignmentName",
        scope_input="scope",
    ),
    "azure-native:network:VirtualNetwork": ArmType(
        "Microsoft.Network/virtualNetworks/{virtualNetworkName}", "virtualNetworkName"
    ),
    "azure-native:network:Subnet": ArmType(
        "Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}", "subnetName"
    ),
    "azure-native:network:PrivateEndpoint": ArmType(
        "Microsoft.Network/privateEndpoints/{privateEndpointName}", "privateEndpointName"
    ),
    "azure-native:network:PrivateDnsZoneGroup": ArmType(
        "Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/{privateDnsZoneGroupName}",
        "privateDnsZoneGroupName",
    ),
    "azure-native:privatedns:PrivateZone": ArmType(
        "Microsoft.Network/privateDnsZones/{privateZoneName}", "privateZoneName"
    ),
    "azure-native:privatedns:VirtualNetworkLink": ArmType(
        "Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/{virtualNetworkLinkName}",
        "virtualNetworkLinkName",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": ArmType(
        "Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
        "resourceName",
        computed=_user_identity,
    ),
    "azure-native:containerservice:ManagedCluster": ArmType(
        "Microsoft.ContainerService/managedClusters/{resourceName}", "resourceName", computed=_managed_cluster
    ),
}


def _random_outputs(token: str, name: str, inputs: Inputs) -> dict[str, Any] | None:
    seed = f"{token}/{name}"
    digest = hashlib.sha256(seed.encode()).hexdigest()
    if token in ("random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString"):
        length = int(inputs.get("length", 16) or 16)
        text = (digest * (length // len(digest) + 1))[:length]
        out: dict[str, Any] = {"result": text}
        if token.endswith("RandomPassword"):
            out["bcryptHash"] = "$2a$10$" + digest[:53]
        return out
    if token == "random:index/randomId:RandomId":
        size = int(inputs.get("byteLength", 8) or 8)
        hex_ = digest[: size * 2]
        return {"hex": hex_, "dec": str(int(hex_, 16)), "b64Url": hex_, "b64Std": hex_}
    if token == "random:index/randomUuid:RandomUuid":
        return {"result": fake_guid(seed)}
    if token == "random:index/randomInteger:RandomInteger":
        low, high = int(inputs.get("min", 0)), int(inputs.get("max", 100))
        return {"result": low + int(digest, 16) % max(high - low + 1, 1)}
    if token == "random:index/randomPet:RandomPet":
        return {}
    return None


_API_VERSION_RE = re.compile(r"Uses Azure REST API version ([0-9a-z-]+)")
_api_versions: dict[str, str | None] = {}


def azure_api_version(token: str) -> str | None:
    """The default ARM API version the installed SDK documents for this type (`azureApiVersion`)."""
    if token not in _api_versions:
        found = None
        parts = token.split(":")
        if len(parts) == 3:
            try:
                module = importlib.import_module(f"pulumi_azure_native.{parts[1]}")
                cls = getattr(module, parts[2], None)
                doc = (getattr(cls, "__init__", None) or (lambda: None)).__doc__ or ""
                match = _API_VERSION_RE.search(doc)
                found = match.group(1) if match else None
            except ImportError:
                found = None
        _api_versions[token] = found
    return _api_versions[token]


def _fill(path: str, inputs: Inputs, logical: str, name_input: str) -> tuple[str, str]:
    name = str(inputs.get(name_input) or logical)

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        return name if key == name_input else str(inputs.get(key) or logical)

    return re.sub(r"\{(\w+)\}", sub, path), name


def resource_id(token: str, logical: str, inputs: Inputs) -> str:
    if token == "azure-native:resources:ResourceGroup":
        return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{inputs.get('resourceGroupName') or logical}"
    if token.startswith("azure-native:"):
        spec = AZURE_TYPES.get(token)
        rg = inputs.get("resourceGroupName") or DEFAULT_RESOURCE_GROUP
        if spec is None:
            _, module, kind = token.split(":", 2)
            return (
                f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg}/providers/"
                f"Microsoft.{module.capitalize()}/{kind[0].lower()}{kind[1:]}s/{logical}"
            )
        path, _ = _fill(spec.path, inputs, logical, spec.name_input)
        if spec.scope_input:
            return f"{inputs.get(spec.scope_input) or '/subscriptions/' + SUBSCRIPTION_ID}/providers/{path}"
        return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg}/providers/{path}"
    if token.startswith("kubernetes:"):
        meta = inputs.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        return f"{namespace}/{meta.get('name') or logical}"
    return f"{logical}-id"


def output_shaped(inputs: dict[str, Any], preview: bool, unknown: str) -> dict[str, Any]:
    """Inputs whose output has another shape, reshaped as the provider reports them.

    A managed identity's `userAssignedIdentities` goes in as a list of identity ids and comes back as a
    map of id -> {principalId, clientId}; until every id is known, so is the map not.
    """
    identity = inputs.get("identity")
    if not isinstance(identity, Mapping) or not isinstance(identity.get("userAssignedIdentities"), list):
        return inputs
    ids = identity["userAssignedIdentities"]
    shaped: Any = unknown
    if not preview and unknown not in ids:
        # The same values the identity's own outputs carry (_user_identity derives them from its id).
        shaped = {str(i): {key: fake_guid(str(i), key) for key in ("principalId", "clientId")} for i in ids}
    return {**inputs, "identity": {**identity, "userAssignedIdentities": shaped}}


def computed_outputs(token: str, logical: str, inputs: Inputs, rid: str) -> dict[str, Any]:
    """Outputs a provider would add after create. Inputs are echoed by the caller; this adds the rest."""
    if token.startswith("random:"):
        return _random_outputs(token, logical, inputs) or {}
    out: dict[str, Any] = {}
    if token.startswith("azure-native:"):
        spec = AZURE_TYPES.get(token)
        name_input = spec.name_input if spec else "resourceGroupName"
        name = str(inputs.get(name_input) or logical)
        out["name"] = name
        if spec is not None:
            out["type"] = re.sub(r"/\{\w+\}", "", spec.path)
        version = azure_api_version(token)
        if version:
            out["azureApiVersion"] = version
        identity = inputs.get("identity")
        if isinstance(identity, Mapping) and "SystemAssigned" in str(identity.get("type", "")):
            out["identity"] = {
                **identity,
                "principalId": fake_guid(rid, "principalId"),
                "tenantId": TENANT_ID,
            }
        if spec is not None and spec.computed is not None:
            out.update(spec.computed(name, inputs, rid))
    elif token.startswith("kubernetes:"):
        meta = dict(inputs.get("metadata") or {})
        meta.setdefault("name", logical)
        meta.setdefault("namespace", "default")
        meta.setdefault("uid", fake_guid(rid))
        out["metadata"] = meta
    return out


def invoke_result(token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """Answer a provider function call; None means this table has no answer for it."""
    if token == "azure-native:authorization:getClientConfig":
        return {
            "subscriptionId": SUBSCRIPTION_ID,
            "tenantId": TENANT_ID,
            "objectId": CLIENT_OBJECT_ID,
            "clientId": CLIENT_ID,
        }
    if token == "azure-native:resources:getResourceGroup":
        name = args.get("resourceGroupName", DEFAULT_RESOURCE_GROUP)
        return {
            "id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}",
            "name": name,
            "location": "brazilsouth",
            "properties": {"provisioningState": "Succeeded"},
        }
    if token == "azure-native:servicebus:listNamespaceKeys":
        ns = args.get("namespaceName", "namespace")
        rule = args.get("authorizationRuleName", "rule")
        key = _fake_key(ns, rule)
        return {
            "keyName": rule,
            "primaryKey": key,
            "secondaryKey": key[::-1],
            "primaryConnectionString": (
                f"Endpoint=sb://{ns}.servicebus.windows.net/;SharedAccessKeyName={rule};SharedAccessKey={key}"
            ),
            "secondaryConnectionString": (
                f"Endpoint=sb://{ns}.servicebus.windows.net/;SharedAccessKeyName={rule};SharedAccessKey={key[::-1]}"
            ),
        }
    return None
