"""The API on a Linux App Service plan: HTTPS only, TLS 1.2, no FTP, managed identity, Key Vault refs."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import web

from components.app_config import ApiConfiguration
from components.secrets import SecretStore, key_vault_reference
from components.settings import ApiSettings


def site_config(
    settings: ApiSettings,
    configuration: ApiConfiguration,
    vault_name: pulumi.Input[str],
    vnet_integrated: bool,
) -> web.SiteConfigArgsDict:
    app_settings: dict[str, pulumi.Input[str]] = {
        **configuration.settings,
        **{
            name: key_vault_reference(vault_name, secret)
            for name, secret in configuration.secret_settings.items()
        },
    }
    config: web.SiteConfigArgsDict = {
        "linux_fx_version": f"DOTNETCORE|{settings.dotnet_version}",
        "always_on": settings.always_on,
        "min_tls_version": "1.2",
        "scm_min_tls_version": "1.2",
        "ftps_state": "Disabled",
        "http20_enabled": True,
        "remote_debugging_enabled": False,
        "health_check_path": settings.health_check_path,
        "app_settings": [{"name": name, "value": value} for name, value in sorted(app_settings.items())],
    }
    if configuration.command_line_args:
        config["app_command_line"] = " ".join(
            ["dotnet", settings.startup_assembly, *configuration.command_line_args]
        )
    if vnet_integrated:
        # All outbound traffic through the VNet, so the database's private endpoint resolves and is reached.
        config["vnet_route_all_enabled"] = True
    return config


class ApiAppService(pulumi.ComponentResource):
    app_name: pulumi.Output[str]
    app_id: pulumi.Output[str]
    default_host_name: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        settings: ApiSettings,
        app_name: str,
        configuration: ApiConfiguration,
        secret_store: SecretStore,
        subscription_id: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        location: str,
        app_subnet_id: pulumi.Input[str] | None,
        tags: dict[str, str],
        app_tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:app:ApiAppService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan = web.AppServicePlan(
            f"{name}-plan",
            name=f"asp-{app_name}",
            resource_group_name=resource_group_name,
            location=location,
            kind="linux",
            reserved=True,
            sku={"name": settings.plan_sku, "capacity": settings.plan_capacity},
            zone_redundant=settings.zone_redundant,
            tags=tags,
            opts=child,
        )
        app = web.WebApp(
            f"{name}-webapp",
            name=app_name,
            resource_group_name=resource_group_name,
            location=location,
            kind="app,linux",
            server_farm_id=plan.id,
            https_only=True,
            client_affinity_enabled=False,
            # The runbook's rollback step 1 (`az webapp stop`), as desired state: the app is taken offline.
            enabled=not settings.stopped,
            identity=web.ManagedServiceIdentityArgs(type=web.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
            key_vault_reference_identity="SystemAssigned",
            virtual_network_subnet_id=app_subnet_id,
            site_config=site_config(
                settings, configuration, secret_store.vault_name, app_subnet_id is not None
            ),
            tags={**tags, **app_tags},
            opts=child,
        )
        self.principal_id = app.identity.apply(lambda identity: identity.principal_id if identity else "")
        secret_store.grant_read(
            f"{name}-identity",
            self.principal_id,
            configuration.secret_names,
            subscription_id,
            opts=child,
        )
        self.app_name = app.name
        self.app_id = app.id
        self.default_host_name = app.default_host_name
        self.register_outputs({"appName": self.app_name, "defaultHostName": self.default_host_name})
