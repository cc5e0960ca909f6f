"""PostgreSQL flexible server: backups, zone redundancy, network exposure, TLS and the PostGIS allow-list."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from policies.baseline.model import (
    ENVIRONMENTS,
    MISSING,
    Context,
    ResourceRule,
    StackResource,
    StackRule,
    Unknown,
    cannot_verify,
    environments_schema,
    get,
    of_types,
    require,
)

SERVER = "azure-native:dbforpostgresql:Server"
CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
FIREWALL_RULE = "azure-native:dbforpostgresql:FirewallRule"
# Azure's default when `backup.backupRetentionDays` is not given.
AZURE_DEFAULT_RETENTION_DAYS = 7
FLOORS = {"dev": 7, "staging": 14, "prod": 35}


def check_backup_retention(props: Mapping[str, Any], ctx: Context) -> list[str]:
    floor = int(ctx.config["floors"].get(ctx.environment.name, FLOORS["prod"]))
    value = get(props, "backup.backupRetentionDays")
    if isinstance(value, Unknown):
        return [cannot_verify(value, "the backup retention")]
    days = AZURE_DEFAULT_RETENTION_DAYS if value is MISSING else value
    if not isinstance(days, (int, float)) or isinstance(days, bool) or days < floor:
        shown = f"not set (Azure keeps {days} days)" if value is MISSING else repr(value)
        return [
            f"backup.backupRetentionDays is {shown}, below the {ctx.environment.name} floor of {floor} days"
            + ctx.environment.note()
        ]
    return []


def _prod_value(props: Mapping[str, Any], ctx: Context, path: str, expected: str, why: str) -> list[str]:
    if not ctx.environment.within(ctx.config):
        return []
    return require(props, path, expected, f"{ctx.environment.name}: {why}{ctx.environment.note()}")


def check_geo_redundant_backup(props: Mapping[str, Any], ctx: Context) -> list[str]:
    return _prod_value(
        props,
        ctx,
        "backup.geoRedundantBackup",
        "Enabled",
        "a regional outage must not take the backups with it (chosen at creation only)",
    )


def check_zone_redundant_ha(props: Mapping[str, Any], ctx: Context) -> list[str]:
    return _prod_value(
        props, ctx, "highAvailability.mode", "ZoneRedundant", "a zone outage must not stop the database"
    )


def check_public_network_access(props: Mapping[str, Any], ctx: Context) -> list[str]:
    # Absent means Enabled unless the server is VNet-injected (`network.delegatedSubnetResourceId`).
    if not ctx.environment.within(ctx.config):
        return []
    delegated = get(props, "network.delegatedSubnetResourceId")
    if isinstance(delegated, str) and delegated:
        return []
    return _prod_value(
        props,
        ctx,
        "network.publicNetworkAccess",
        "Disabled",
        "the server is reached through its private endpoint only",
    )


# --------------------------------------------------------------------------------------- firewall
def firewall_problem(start: Any, end: Any, environment: str, config: Mapping[str, Any]) -> str | None:
    """Why a firewall rule's range is not acceptable, or None."""
    for label, value in (("startIpAddress", start), ("endIpAddress", end)):
        if isinstance(value, Unknown):
            return cannot_verify(value, "the range it opens")
        if not isinstance(value, str):
            return f"{label} is {'not set' if value is MISSING else repr(value)}"
    try:
        low, high = int(ipaddress.IPv4Address(start)), int(ipaddress.IPv4Address(end))
    except ValueError:
        return f"{start}-{end} is not an IPv4 range"
    if low > high:
        return f"{start}-{end} is reversed"
    if low == high == 0:
        # Azure's marker for "allow Azure services": any Azure tenant's resources, not the internet.
        if environment in config["azureServicesAllowedIn"]:
            return None
        return f"0.0.0.0-0.0.0.0 lets every Azure service (any tenant's) in, not allowed in {environment}"
    size = high - low + 1
    if size > config["maxAddresses"]:
        return (
            f"{start}-{end} opens {size:,} addresses, more than {config['maxAddresses']:,} "
            "(wider than a /16 is the internet in practice)"
        )
    return None


def check_firewall_rule(props: Mapping[str, Any], ctx: Context) -> list[str]:
    problem = firewall_problem(
        get(props, "startIpAddress"), get(props, "endIpAddress"), ctx.environment.name, ctx.config
    )
    return [problem + ctx.environment.note()] if problem else []


# ------------------------------------------------------------------------------- server parameters
def _server_names(server: StackResource) -> set[str]:
    return {v for v in (get(server.props, "serverName"), get(server.props, "name")) if isinstance(v, str)}


def configurations_of(server: StackResource, resources: Sequence[StackResource]) -> list[StackResource]:
    """The server's Configuration resources: same server name, or (name unknown during preview) the
    engine's record that `serverName` comes from this server."""
    names = _server_names(server)
    found = []
    for resource in resources:
        if resource.type != CONFIGURATION:
            continue
        server_name = get(resource.props, "serverName")
        linked = server.urn in resource.property_dependencies.get("serverName", ())
        if linked or (isinstance(server_name, str) and server_name in names):
            found.append(resource)
    return found


def _parameter(configurations: Sequence[StackResource], parameter: str) -> list[StackResource]:
    return [
        c
        for c in configurations
        if get(c.props, "configurationName") == parameter
        or (get(c.props, "configurationName") is MISSING and get(c.props, "name") == parameter)
    ]


def _parameter_value(
    server: StackResource, resources: Sequence[StackResource], parameter: str
) -> tuple[Any, str | None]:
    """The value set for a server parameter (or MISSING), and why it cannot be trusted, if so."""
    configurations = configurations_of(server, resources)
    unknown_names = [c.name for c in configurations if isinstance(get(c.props, "configurationName"), Unknown)]
    matching = _parameter(configurations, parameter)
    if not matching:
        if unknown_names:
            return MISSING, f"configuration(s) {', '.join(unknown_names)} have a name unknown during preview"
        return MISSING, None
    value = get(matching[-1].props, "value")
    if isinstance(value, Unknown):
        return value, cannot_verify(value, parameter)
    return value, None


def check_secure_transport(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for server in (r for r in resources if r.type == SERVER):
        value, doubt = _parameter_value(server, resources, "require_secure_transport")
        if doubt and value is not MISSING:
            found.append((f"server {server.name}: {doubt}", server.urn))
        elif value is MISSING:
            found.append((
                f"server {server.name} has no require_secure_transport Configuration"
                + (f" ({doubt})" if doubt else "")
                + ": declare it `on` so TLS cannot be switched off outside this program",
                server.urn,
            ))  # fmt: skip
        elif not isinstance(value, str) or value.strip().lower() != "on":
            found.append(
                (f"server {server.name}: require_secure_transport is {value!r}, must be 'on'", server.urn)
            )
    return found


def check_extensions(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[tuple[str, str | None]]:
    required = [e.upper() for e in config["requiredExtensions"]]
    found: list[tuple[str, str | None]] = []
    for server in (r for r in resources if r.type == SERVER):
        value, doubt = _parameter_value(server, resources, "azure.extensions")
        if doubt and value is not MISSING:
            found.append((f"server {server.name}: {doubt}", server.urn))
            continue
        listed = {e.strip().upper() for e in value.split(",")} if isinstance(value, str) else set()
        missing = [e for e in required if e not in listed]
        if missing:
            found.append((
                f"server {server.name}: azure.extensions does not allow-list {', '.join(missing)}"
                + (f" ({doubt})" if doubt else "")
                + ": the app's CREATE EXTENSION fails on Azure",
                server.urn,
            ))  # fmt: skip
    return found


def _environments(default: Sequence[str], what: str) -> dict[str, Any]:
    return {"environments": environments_schema(default, what)}


RULES: list[ResourceRule | StackRule] = [
    ResourceRule(
        name="postgres-backup-retention",
        description="PostgreSQL servers keep backups at least as long as the environment's floor "
        "(dev 7, staging 14, prod 35 days).",
        severity="high",
        remediation="Set `backup.backup_retention_days` to at least the floor (Azure allows 7-35).",
        applies_to=of_types(SERVER),
        check=check_backup_retention,
        config={
            "floors": {
                "type": "object",
                "properties": {env: {"type": "integer", "minimum": 1, "maximum": 35} for env in ENVIRONMENTS},
                "additionalProperties": False,
                "default": FLOORS,
            }
        },
    ),
    ResourceRule(
        name="postgres-geo-redundant-backup",
        description="PostgreSQL servers in prod have geo-redundant backups.",
        severity="high",
        remediation='Set `backup.geo_redundant_backup="Enabled"`: it can only be chosen when the server is '
        "created, so an existing server needs a restore into a new one.",
        applies_to=of_types(SERVER),
        check=check_geo_redundant_backup,
        config=_environments(["prod"], "geo-redundant backups are required"),
    ),
    ResourceRule(
        name="postgres-zone-redundant-ha",
        description="PostgreSQL servers in prod run zone-redundant high availability.",
        severity="high",
        remediation='Set `high_availability.mode="ZoneRedundant"` (needs GeneralPurpose or MemoryOptimized).',
        applies_to=of_types(SERVER),
        check=check_zone_redundant_ha,
        config=_environments(["prod"], "zone-redundant HA is required"),
    ),
    ResourceRule(
        name="postgres-public-network-access",
        description="PostgreSQL servers in prod are not reachable from public networks.",
        severity="critical",
        remediation='Set `network.public_network_access="Disabled"` and reach the server through its '
        "private endpoint (network.enabled in the stack config).",
        applies_to=of_types(SERVER),
        check=check_public_network_access,
        config=_environments(["prod"], "public network access must be off"),
    ),
    ResourceRule(
        name="postgres-firewall-not-internet",
        description="No PostgreSQL firewall rule opens more than a /16; 0.0.0.0-0.0.0.0 (Azure services) "
        "is accepted outside prod only.",
        severity="critical",
        remediation="Replace the rule with the exact ranges that need access (office, CI); in prod use the "
        "private endpoint instead of firewall rules.",
        applies_to=of_types(FIREWALL_RULE),
        check=check_firewall_rule,
        config={
            "maxAddresses": {"type": "integer", "minimum": 1, "default": 65536},
            "azureServicesAllowedIn": {
                "type": "array",
                "items": {"type": "string", "enum": list(ENVIRONMENTS)},
                "default": ["dev", "staging"],
            },
        },
    ),
    StackRule(
        name="postgres-require-secure-transport",
        description="Every PostgreSQL server declares require_secure_transport = on.",
        severity="high",
        remediation='Add `dbforpostgresql.Configuration(configuration_name="require_secure_transport", '
        'value="on", source="user-override", server_name=server.name, ...)`.',
        check=check_secure_transport,
    ),
    StackRule(
        name="postgres-postgis-allow-listed",
        description="Every PostgreSQL server allow-lists the extensions the app creates (azure.extensions "
        "contains POSTGIS).",
        severity="medium",
        remediation='Add `dbforpostgresql.Configuration(configuration_name="azure.extensions", '
        'value="POSTGIS", ...)` (comma-separated, upper case).',
        check=check_extensions,
        config={"requiredExtensions": {"type": "array", "items": {"type": "string"}, "default": ["POSTGIS"]}},
    ),
]
