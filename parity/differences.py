"""Where the program deliberately departs from the platform's Bicep, and why: the one list.

The parity report (`python -m parity compare`) accepts a difference only when an entry here covers it;
`python -m parity differences` prints this list as the table in docs/bicep-parity.md.

An entry covers a finding when:
* `kind` matches: `differs` (both have it, values differ), `missing` (the Bicep has it, the program does
  not), `extra` (the program has it, the Bicep does not);
* `resource` is the finding's ARM type or azure-native token (a trailing `*` matches any suffix), or
  `output` for stack outputs;
* `path` is empty for a whole resource, or a property path (ARM terms for `differs`/`missing`, input terms
  for `extra`) or output name; it also covers everything below it (`tags` covers `tags.environment`);
* `stacks` (if given) contains the stack compared;
* `when_bicep_lacks` (if given) names an ARM type the Bicep deploys none of, so "the program has it and
  this Bicep generation does not" cannot excuse an extra copy when the Bicep does have one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from parity.compare import Finding


@dataclass(frozen=True)
class Deliberate:
    kind: Literal["differs", "missing", "extra"]
    resource: str
    path: str
    reason: str
    stacks: tuple[str, ...] = ()
    when_bicep_lacks: str = ""


def covers(entry: Deliberate, finding: Finding, stack: str, bicep_types: Collection[str]) -> bool:
    if entry.kind != finding.kind:
        return False
    if not any(_matches(entry.resource, name) for name in (finding.resource, finding.token) if name):
        return False
    if entry.path != finding.path and not (
        entry.path and finding.path.startswith(entry.path) and finding.path[len(entry.path)] in ".["
    ):
        return False
    if entry.stacks and stack not in entry.stacks:
        return False
    return not entry.when_bicep_lacks or entry.when_bicep_lacks.casefold() not in bicep_types


def differences_markdown(entries: Sequence[Deliberate]) -> str:
    """The deliberate differences as the Markdown table docs/bicep-parity.md carries."""
    lines = [
        "| kind | resource | path | stacks | only if the Bicep has no | reason |",
        "|---|---|---|---|---|---|",
    ]
    for e in entries:
        cells = [
            e.kind,
            f"`{e.resource}`",
            f"`{e.path}`" if e.path else "(whole)",
            ", ".join(e.stacks) or "all",
            f"`{e.when_bicep_lacks}`" if e.when_bicep_lacks else "",
            e.reason.replace("|", "\\|"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _matches(pattern: str, name: str) -> bool:
    if pattern.endswith("*"):
        return name.casefold().startswith(pattern[:-1].casefold())
    return pattern.casefold() == name.casefold()


def find_reason(
    finding: Finding, stack: str, bicep_types: Collection[str], entries: Sequence[Deliberate]
) -> str:
    return next((e.reason for e in entries if covers(e, finding, stack, bicep_types)), "")


_SB_NS = "Microsoft.ServiceBus/namespaces"
_PG = "Microsoft.DBforPostgreSQL/flexibleServers"
_REDIS = (
    "Redis is not part of the program: the platform's production AppHost runs Redis as a container, not "
    "Azure's (`AddRedis` in its Program.cs), and the Bicep's Redis is itself defective (main.bicep @ "
    "dfbda4c0b): a Balanced_B1 SKU on API 2024-02-01, which predates Azure Managed Redis and its SKUs, and "
    "a redisHost output read from the database's `properties.endpoint`, which its schema lacks."
)
_SERVICE_BUS = (
    "Service Bus is Gen-1's (servicebus.bicep @ d5a8fc630, with TLS 1.2 and two SAS rules); Gen-2 had a bare "
    "namespace until it dropped it (dfbda4c0b), while the AppHost's production model declares Azure Service "
    "Bus (`AddAzureServiceBus`, Program.cs @ c2f3a2362). The program keeps Gen-1's namespace and SAS rules, "
    "so a Bicep without them does not have what the program mirrors."
)
_POSTGRES = (
    "PostgreSQL arrived with Gen-2 Bicep (main.bicep, cf815ddc8); Gen-1 (main.bicep and servicebus.bicep "
    "@ d5a8fc630) has only Service Bus. The program has both generations' resources."
)
_KUBERNETES = (
    "Optional Kubernetes hosting: the platform's docs offer Kubernetes for production (the runbook's "
    "`kubectl scale`; infrastructure/Infrastructure.md @ 4b19dec6e), no Bicep has it."
)
_PRIVATE_NETWORK = (
    "The Bicep's private network can never be switched on (main.bicep @ dfbda4c0b): its @allowed values "
    "contain '*' and Bicep matches them literally, and its conditions are uneven (the DNS zone needs only "
    "vnetId, the endpoint both ids). The program creates the VNet, private endpoint and DNS zone wherever "
    "the stack's `database.network`/`network` settings ask."
)

DELIBERATE: tuple[Deliberate, ...] = (
    # --- every resource
    Deliberate(
        "differs",
        "*",
        "@apiVersion",
        "azure-native v3 ships one ARM API version per resource type (the pinned SDK's default; another "
        "needs a generated local package). Each property below is compared against the program's inputs.",
    ),
    Deliberate(
        "extra",
        "*",
        "tags",
        "The program tags every taggable resource (environment, project, managed-by, stack, repository) so "
        "a resource found in the portal names its origin; no resource of either Bicep generation carries "
        "tags.",
    ),
    # --- resources only the program has
    Deliberate(
        "extra",
        "azure-native:resources:ResourceGroup",
        "",
        "The Bicep deploys into a group its workflow or script creates with `az group create` "
        "(deploy-azure.yml @ cc4de0a8, scripts/deploy.sh @ c2f3a2362); the program owns the group.",
    ),
    Deliberate("extra", "azure-native:servicebus:Namespace", "", _SERVICE_BUS, when_bicep_lacks=_SB_NS),
    Deliberate(
        "extra",
        "azure-native:servicebus:NamespaceAuthorizationRule",
        "",
        _SERVICE_BUS,
        when_bicep_lacks=_SB_NS + "/authorizationRules",
    ),
    Deliberate(
        "extra",
        "azure-native:servicebus:Topic",
        "",
        "The Bicep leaves topics to the app, which creates them when Messaging:ServiceBus:AutoCreateTopics "
        "is true (appsettings @ c2f3a2362). The program declares the app's topics, so outside dev the app "
        "can run with the Send/Listen rule only.",
    ),
    Deliberate("extra", "azure-native:dbforpostgresql:Server", "", _POSTGRES, when_bicep_lacks=_PG),
    Deliberate(
        "extra", "azure-native:dbforpostgresql:Database", "", _POSTGRES, when_bicep_lacks=_PG + "/databases"
    ),
    Deliberate(
        "extra",
        "azure-native:dbforpostgresql:FirewallRule",
        "",
        "The Bicep has no firewall rule, not even one for Azure services, so with public access nothing can "
        "connect until rules are added by hand. The program declares the stack's rules (never the whole "
        "internet).",
    ),
    Deliberate(
        "extra",
        "azure-native:dbforpostgresql:Configuration",
        "",
        "Server parameters the Bicep does not set: `azure.extensions` allow-lists PostGIS, which the app "
        "creates (`CREATE EXTENSION postgis` in its search module's database scripts), and "
        "`require_secure_transport` enforces TLS.",
    ),
    Deliberate("extra", "azure-native:network:VirtualNetwork", "", _PRIVATE_NETWORK),
    Deliberate("extra", "azure-native:network:Subnet", "", _PRIVATE_NETWORK),
    Deliberate(
        "extra",
        "azure-native:network:PrivateEndpoint",
        "",
        _PRIVATE_NETWORK,
        when_bicep_lacks="Microsoft.Network/privateEndpoints",
    ),
    Deliberate(
        "extra",
        "azure-native:network:PrivateDnsZoneGroup",
        "",
        _PRIVATE_NETWORK,
        when_bicep_lacks="Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    ),
    Deliberate(
        "extra",
        "azure-native:privatedns:PrivateZone",
        "",
        _PRIVATE_NETWORK,
        when_bicep_lacks="Microsoft.Network/privateDnsZones",
    ),
    Deliberate(
        "extra",
        "azure-native:privatedns:VirtualNetworkLink",
        "",
        _PRIVATE_NETWORK,
        when_bicep_lacks="Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    ),
    Deliberate(
        "extra",
        "azure-native:keyvault:*",
        "",
        "No Bicep has a Key Vault, though the platform's CI/CD doc uses one (kv-meajudaai, docs/ci-cd.md of "
        "frigini/MeAjudaAi). The program keeps connection strings and the admin password there instead of "
        "in deployment outputs (Gen-1's first servicebus.bicep, dc265698e) or on a command line "
        "(deploy-azure.yml).",
    ),
    Deliberate(
        "extra",
        "azure-native:operationalinsights:Workspace",
        "",
        "Logs and metrics for the monitoring the runbook makes mandatory before a production deploy "
        "(docs/runbook.md, gate 3); no Bicep creates any.",
    ),
    Deliberate(
        "extra",
        "azure-native:applicationinsights:*",
        "",
        "Application Insights for the runbook's mandatory monitoring (docs/runbook.md); the platform's "
        "infrastructure doc lists it but no Bicep creates it.",
    ),
    Deliberate(
        "extra",
        "azure-native:monitor:*",
        "",
        "Alerts and diagnostic settings the runbook makes mandatory before a production deploy "
        "(docs/runbook.md, gate 3); no Bicep creates any.",
    ),
    Deliberate(
        "extra",
        "azure-native:web:*",
        "",
        "The API's host: the runbook's rollback names App Service `meajudaai-api` but no Bicep creates any "
        "compute.",
    ),
    Deliberate(
        "extra",
        "azure-native:authorization:RoleAssignment",
        "",
        "The API's managed identity may read its own Key Vault secrets, nothing more.",
    ),
    Deliberate(
        "extra",
        "azure-native:managedidentity:*",
        "",
        "The identity the API and its role assignments use; no Bicep has compute that needs one.",
    ),
    Deliberate(
        "extra",
        "azure-native:containerservice:*",
        "",
        _KUBERNETES,
    ),
    Deliberate(
        "extra",
        "kubernetes:*",
        "",
        _KUBERNETES,
    ),
    # --- resources only the Bicep has
    Deliberate("missing", "Microsoft.Cache/redisEnterprise", "", _REDIS),
    Deliberate("missing", "Microsoft.Cache/redisEnterprise/databases", "", _REDIS),
    # --- PostgreSQL server properties
    Deliberate(
        "missing",
        _PG,
        "properties.publicNetworkAccess",
        "For API 2024-08-01 the Bicep puts publicNetworkAccess directly under `properties`, where the "
        "schema has no such property (it is `properties.network.publicNetworkAccess`). The program sets it "
        "where it belongs, "
        "`network.publicNetworkAccess`.",
    ),
    Deliberate(
        "extra",
        _PG,
        "network.publicNetworkAccess",
        "Where API 2024-08-01 actually reads public access (`properties.network`); the Bicep's misplaced "
        "value is ignored by ARM.",
    ),
    Deliberate(
        "extra",
        _PG,
        "highAvailability",
        "Written out in every stack: 'Disabled' (what the Bicep's unset value means) unless the stack's "
        "preset asks for zone redundancy; the Bicep's prod is not highly available (prod.parameters.json "
        "overrides nothing but environmentName).",
    ),
    Deliberate(
        "extra",
        _PG,
        "authConfig",
        "ARM's defaults when authConfig is omitted (password auth on, Entra ID off), written out so the "
        "baseline policy can check them.",
    ),
    Deliberate(
        "extra",
        _PG,
        "availabilityZone",
        "Set to '' (no zone preference) by the azure-native SDK itself; the same as the Bicep's omission.",
    ),
    Deliberate(
        "extra",
        _PG + "/databases",
        "charset",
        "The server's defaults for a new database (UTF8, en_US.utf8) written out, so the app's database "
        "does not depend on a server default.",
    ),
    Deliberate(
        "extra",
        _PG + "/databases",
        "collation",
        "The server's defaults for a new database (UTF8, en_US.utf8) written out, so the app's database "
        "does not depend on a server default.",
    ),
    # --- hardening beyond the Bicep, which sizes every environment like dev (its dev.parameters.json and
    # prod.parameters.json differ only in environmentName)
    Deliberate(
        "differs",
        _PG,
        "sku",
        "The Bicep provisions dev and prod identically at the minimum, Burstable B1ms (its parameter files "
        "differ only in environmentName), although the platform's CI/CD doc promises a full, highly "
        "available production. Staging and prod presets use General Purpose servers.",
        stacks=("staging", "prod"),
    ),
    Deliberate(
        "differs",
        _PG,
        "properties.storage.storageSizeGB",
        "32 GB in every Bicep environment (the default, never overridden); the staging and prod presets "
        "start larger.",
        stacks=("staging", "prod"),
    ),
    Deliberate(
        "differs",
        _PG,
        "properties.backup.backupRetentionDays",
        "7 days in every Bicep environment (the default, never overridden); the program's floors are 14 days "
        "for staging and 35 "
        "(Azure's maximum) for prod, so a bad migration found late can still be rolled back.",
        stacks=("staging", "prod"),
    ),
    Deliberate(
        "differs",
        _PG,
        "properties.backup.geoRedundantBackup",
        "Prod keeps geo-redundant backups; the Bicep disables them everywhere (geoRedundantBackup "
        "'Disabled'). Chosen only at "
        "server creation, so the program protects the prod server.",
        stacks=("prod",),
    ),
    # --- outputs
    Deliberate(
        "differs",
        "output",
        "privateDnsZoneName",
        _PRIVATE_NETWORK,
        when_bicep_lacks="Microsoft.Network/privateDnsZones",
    ),
    Deliberate("missing", "output", "redisHost", _REDIS),
    Deliberate(
        "missing",
        "output",
        "postgresPrivateEndpointIp",
        "Not exported: the Bicep's expression tests only vnetSubnetId, so it can dereference an endpoint "
        "that was never deployed (the endpoint needs vnetId too). Clients resolve the server through the "
        "private DNS zone "
        "(output privateDnsZoneName).",
    ),
    *(
        Deliberate("extra", "output", name, _SERVICE_BUS, when_bicep_lacks=_SB_NS)
        for name in (
            "serviceBusNamespace",
            "managementPolicyName",
            "applicationPolicyName",
            "serviceBusEndpoint",
        )
    ),
    *(
        Deliberate("extra", "output", name, _POSTGRES, when_bicep_lacks=_PG)
        for name in ("postgresHost", "postgresDatabase", "privateDnsZoneName")
    ),
    Deliberate(
        "extra",
        "output",
        "compatibilityGate",
        "The compatibility gate's decision for the release being deployed: the platform's runbook blocks "
        "production deploys until the Hangfire.PostgreSql/Npgsql risk is validated (docs/runbook.md), a "
        "rule no Bicep or workflow enforces (its Hangfire tests and their CI step went in 87873742c and "
        "bb893a2c2).",
    ),
    *(
        Deliberate(
            "extra",
            "output",
            name,
            "Kubernetes hosting (the API, and dev's local PostgreSQL container): the platform's docs offer "
            "Kubernetes, no Bicep has it.",
        )
        for name in ("kubernetesNamespace", "localPostgresHost")
    ),
    *(
        Deliberate(
            "extra",
            "output",
            name,
            "Names and endpoints of what only the program creates, for scripts and the runbook.",
        )
        for name in (
            "resourceGroupName",
            "postgresServerName",
            "keyVaultName",
            "keyVaultUri",
            "appInsightsName",
            "apiName",
            "apiUrl",
            "apiStopped",
        )
    ),
)
