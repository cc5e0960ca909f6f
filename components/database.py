"""PostgreSQL flexible server (mirror of Gen-2 main.bicep), with the Bicep's defects fixed.

Fixed here: public network access in its right place (`network.publicNetworkAccess`), explicit firewall
rules when public (never the whole internet), PostGIS allow-listed (`azure.extensions`), TLS enforced, and
the private endpoint + DNS zone group whenever a private network is configured.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_azure_native import dbforpostgresql, network

from components.adoption import Adoption, adopt
from components.settings import DatabaseSettings


@dataclass(frozen=True)
class PrivateAccess:
    """Where the server's private endpoint goes and which DNS zone resolves it."""

    subnet_id: pulumi.Input[str]
    dns_zone_id: pulumi.Input[str]


def server_parameters(settings: DatabaseSettings) -> dict[str, str]:
    """Server parameters the app needs: PostGIS must be allow-listed before the app can CREATE EXTENSION."""
    params = {"require_secure_transport": "on"}
    if settings.extensions:
        params["azure.extensions"] = ",".join(settings.extensions)
    return params


def npgsql_connection_string(host: str, database: str, user: str, password: str, max_pool_size: int) -> str:
    """Npgsql key/value form; `Maximum Pool Size` per the runbook's troubleshooting advice."""
    return (
        f"Host={host};Port=5432;Database={database};Username={user};Password={password};"
        f"SSL Mode=Require;Maximum Pool Size={max_pool_size}"
    )


ADOPTION_IGNORES = [
    "tags",
    "network",
    "highAvailability",
    "authConfig",
    "administratorLoginPassword",
    "availabilityZone",
    "sku",
    "storage",
    "backup",
]


class PostgresDatabase(pulumi.ComponentResource):
    server_name: pulumi.Output[str]
    host: pulumi.Output[str]
    database_name: pulumi.Output[str]
    server_id: pulumi.Output[str]
    admin_password: pulumi.Output[str]
    connection_string: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        settings: DatabaseSettings,
        server_name: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        location: str,
        tags: dict[str, str],
        private_access: PrivateAccess | None,
        protect: bool,
        adoption: Adoption | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:database:PostgresDatabase", name, None, opts)
        if adoption is not None and not isinstance(server_name, str):
            raise ValueError("adopting a server needs its name as a plain string (it is part of the ARM id)")
        # Only read when adopting, where the name is a plain string.
        server_path = f"Microsoft.DBforPostgreSQL/flexibleServers/{server_name}" if adoption else ""
        child = pulumi.ResourceOptions(parent=self)
        # Stateful: in prod neither a `pulumi destroy` nor a replacement may take the data with it.
        stateful = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)

        password = random.RandomPassword(
            f"{name}-admin-password",
            length=32,
            special=True,
            override_special="!#%*()-_=+[]{}:?",
            min_lower=2,
            min_upper=2,
            min_numeric=2,
            min_special=2,
            opts=child,
        )
        server = dbforpostgresql.Server(
            f"{name}-server",
            server_name=server_name,
            resource_group_name=resource_group_name,
            location=location,
            version=settings.version,
            administrator_login=settings.admin_login,
            administrator_login_password=password.result,
            sku={"name": settings.sku_name, "tier": settings.sku_tier},
            storage={"storage_size_gb": settings.storage_size_gb},
            backup={
                "backup_retention_days": settings.backup_retention_days,
                "geo_redundant_backup": "Enabled" if settings.geo_redundant_backup else "Disabled",
            },
            high_availability={"mode": settings.high_availability},
            network={"public_network_access": "Enabled" if settings.public_network_access else "Disabled"},
            auth_config={"password_auth": "Enabled", "active_directory_auth": "Disabled"},
            tags=tags,
            opts=stateful.merge(
                # Azure picks the zones itself (the program leaves them unset): after a `pulumi refresh`
                # records its choice, an update must not try to take it back.
                pulumi.ResourceOptions(
                    ignore_changes=["availabilityZone", "highAvailability.standbyAvailabilityZone"]
                )
            ).merge(
                # What the Bicep left to Azure or sized differently (and the password, which ARM never
                # returns): the import run leaves it alone, the run after it applies it. Sizes change in
                # place; geo-redundant backup cannot (docs/bicep-parity.md, "Adoption").
                adopt(adoption, server_path, ignore=ADOPTION_IGNORES)
            ),
        )
        # Azure runs one operation at a time on a flexible server and answers any other with ServerBusy:
        # every child operation (parameters, database, firewall rules, private endpoint) waits for the one
        # before it. Parameters come first: PostGIS must be allow-listed before the app creates it.
        last: list[pulumi.Resource] = [server]

        def next_in_line(options: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
            return options.merge(pulumi.ResourceOptions(depends_on=list(last)))

        for parameter, value in server_parameters(settings).items():
            last = [
                dbforpostgresql.Configuration(
                    f"{name}-{parameter.replace('.', '-').replace('_', '-')}",
                    configuration_name=parameter,
                    server_name=server.name,
                    resource_group_name=resource_group_name,
                    source="user-override",
                    value=value,
                    opts=next_in_line(child),
                )
            ]
        database = dbforpostgresql.Database(
            f"{name}-db",
            database_name=settings.database_name,
            server_name=server.name,
            resource_group_name=resource_group_name,
            charset="UTF8",
            collation="en_US.utf8",
            opts=next_in_line(
                stateful.merge(
                    adopt(
                        adoption,
                        f"{server_path}/databases/{settings.database_name}",
                        ignore=["charset", "collation"],
                    )
                )
            ),
        )
        last = [database]
        if settings.public_network_access:
            rules = [(rule.name, rule.start_ip, rule.end_ip) for rule in settings.firewall_rules]
            if settings.allow_azure_services:
                # 0.0.0.0-0.0.0.0 is Azure's convention for "Azure services", not a public range.
                rules.append(("AllowAzureServices", "0.0.0.0", "0.0.0.0"))
            for rule_name, start, end in rules:
                last = [
                    dbforpostgresql.FirewallRule(
                        f"{name}-fw-{rule_name}",
                        firewall_rule_name=rule_name,
                        server_name=server.name,
                        resource_group_name=resource_group_name,
                        start_ip_address=start,
                        end_ip_address=end,
                        opts=next_in_line(child),
                    )
                ]
        if private_access is not None:
            endpoint = network.PrivateEndpoint(
                f"{name}-pe",
                private_endpoint_name=pulumi.Output.concat(server.name, "-pe"),
                resource_group_name=resource_group_name,
                location=location,
                subnet={"id": private_access.subnet_id},
                private_link_service_connections=[
                    {
                        "name": pulumi.Output.concat(server.name, "-pe-connection"),
                        "private_link_service_id": server.id,
                        "group_ids": ["postgresqlServer"],
                    }
                ],
                tags=tags,
                opts=next_in_line(child),
            )
            network.PrivateDnsZoneGroup(
                f"{name}-pe-dns",
                private_dns_zone_group_name="default",
                private_endpoint_name=endpoint.name,
                resource_group_name=resource_group_name,
                private_dns_zone_configs=[
                    {
                        "name": "privatelink-postgres-database-azure-com",
                        "private_dns_zone_id": private_access.dns_zone_id,
                    }
                ],
                opts=child,
            )

        # Names as given (known during a preview), not read back from Azure.
        self.server_name = pulumi.Output.from_input(server_name)
        self.server_id = server.id
        self.host = server.fully_qualified_domain_name
        self.database_name = pulumi.Output.from_input(settings.database_name)
        self.admin_password = pulumi.Output.secret(password.result)
        self.connection_string = pulumi.Output.secret(
            pulumi.Output.all(self.host, database.name, password.result).apply(
                lambda values: npgsql_connection_string(
                    values[0], values[1], settings.admin_login, values[2], settings.max_pool_size
                )
            )
        )
        self.register_outputs({"host": self.host, "databaseName": self.database_name})
