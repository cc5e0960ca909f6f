"""Private networking: the VNet (created or existing), and the private DNS zone PostgreSQL resolves in."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import network, privatedns

from components.settings import NetworkSettings

POSTGRES_PRIVATE_DNS_ZONE = "privatelink.postgres.database.azure.com"


class PrivateNetwork(pulumi.ComponentResource):
    vnet_id: pulumi.Output[str]
    private_endpoint_subnet_id: pulumi.Output[str]
    app_subnet_id: pulumi.Output[str]
    postgres_dns_zone_id: pulumi.Output[str]
    postgres_dns_zone_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        settings: NetworkSettings,
        vnet_name: str,
        resource_group_name: pulumi.Input[str],
        location: str,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:network:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        if settings.uses_existing_vnet:
            assert settings.vnet_id and settings.private_endpoint_subnet_id and settings.app_subnet_id
            self.vnet_id = pulumi.Output.from_input(settings.vnet_id)
            self.private_endpoint_subnet_id = pulumi.Output.from_input(settings.private_endpoint_subnet_id)
            self.app_subnet_id = pulumi.Output.from_input(settings.app_subnet_id)
        else:
            vnet = network.VirtualNetwork(
                f"{name}-vnet",
                virtual_network_name=vnet_name,
                resource_group_name=resource_group_name,
                location=location,
                address_space={"address_prefixes": [settings.address_space]},
                tags=tags,
                # Subnets are separate resources; an inline list would fight them on every update.
                opts=child.merge(pulumi.ResourceOptions(ignore_changes=["subnets"])),
            )
            pe_subnet = network.Subnet(
                f"{name}-private-endpoints",
                resource_group_name=resource_group_name,
                virtual_network_name=vnet.name,
                subnet_name="private-endpoints",
                address_prefix=settings.private_endpoint_subnet_prefix,
                private_endpoint_network_policies="Disabled",
                opts=child,
            )
            app_subnet = network.Subnet(
                f"{name}-app",
                resource_group_name=resource_group_name,
                virtual_network_name=vnet.name,
                subnet_name="app-service",
                address_prefix=settings.app_subnet_prefix,
                # App Service regional VNet integration needs a subnet delegated to server farms.
                delegations=[{"name": "app-service", "service_name": "Microsoft.Web/serverFarms"}],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[pe_subnet]),
            )
            self.vnet_id = vnet.id
            self.private_endpoint_subnet_id = pe_subnet.id
            self.app_subnet_id = app_subnet.id

        zone = privatedns.PrivateZone(
            f"{name}-postgres-dns",
            resource_group_name=resource_group_name,
            private_zone_name=POSTGRES_PRIVATE_DNS_ZONE,
            location="global",
            tags=tags,
            opts=child,
        )
        privatedns.VirtualNetworkLink(
            f"{name}-postgres-dns-link",
            resource_group_name=resource_group_name,
            private_zone_name=zone.name,
            virtual_network_link_name=f"{POSTGRES_PRIVATE_DNS_ZONE}-link",
            location="global",
            registration_enabled=False,
            virtual_network={"id": self.vnet_id},
            tags=tags,
            opts=child,
        )
        self.postgres_dns_zone_id = zone.id
        self.postgres_dns_zone_name = pulumi.Output.from_input(POSTGRES_PRIVATE_DNS_ZONE)
        self.register_outputs(
            {
                "vnetId": self.vnet_id,
                "privateEndpointSubnetId": self.private_endpoint_subnet_id,
                "appSubnetId": self.app_subnet_id,
                "postgresDnsZoneId": self.postgres_dns_zone_id,
            }
        )
