"""The API on a Linux App Service plan, as the release's container image: HTTPS only, TLS 1.2, no FTP.

The image tag is the release id, so `pulumi up` is the deploy: an update the gate blocks ships nothing.
The app runs as a user-assigned identity that is granted its Key Vault secrets and AcrPull *before* the app
exists, so its first start can pull the image and resolve its Key Vault references (a system-assigned
identity only exists once the app does, and App Service retries failed references only every 24 hours).
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import managedidentity, web

from components import naming
from components.app_config import ApiConfiguration
from components.roles import ACR_PULL, assign_role
from components.secrets import SecretStore, key_vault_reference
from components.settings import ApiSettings

# The .NET 8+ container images listen on 8080 as their non-root user; App Service probes 80 by default.
CONTAINER_PORT = 8080


def site_config(
    settings: ApiSettings,
    *,
    image: str,
    configuration: ApiConfiguration,
    vault_name: pulumi.Input[str],
    vnet_integrated: bool,
    registry_identity_client_id: pulumi.Input[str] | None,
) -> web.SiteConfigArgsDict:
    app_settings: dict[str, pulumi.Input[str]] = {
        **configuration.settings,
        "WEBSITES_PORT": str(CONTAINER_PORT),
        # The container keeps nothing on App Service's shared /home storage.
        "WEBSITES_ENABLE_APP_SERVICE_STORAGE": "false",
        **{
            name: key_vault_reference(vault_name, secret)
            for name, secret in configuration.secret_settings.items()
        },
    }
    config: web.SiteConfigArgsDict = {
        "linux_fx_version": f"DOCKER|{image}",
        "always_on": settings.always_on,
        "min_tls_version": "1.2",
        "scm_min_tls_version": "1.2",
        "ftps_state": "Disabled",
        "http20_enabled": True,
        "remote_debugging_enabled": False,
        "health_check_path": settings.health_check_path,
        "app_settings": [{"name": name, "value": value} for name, value in sorted(app_settings.items())],
    }
    if registry_identity_client_id is not None:
        config["acr_use_managed_identity_creds"] = True
        config["acr_user_managed_identity_id"] = registry_identity_client_id
    if configuration.command_line_args:
        # For a container the startup command is passed to the image's entrypoint (`dotnet <assembly>`)
        # as arguments, exactly as the Kubernetes Deployment's `args`.
        config["app_command_line"] = " ".join(configuration.command_line_args)
    if vnet_integrated:
        # All outbound traffic through the VNet, so the database's private endpoint resolves and is reached.
        config["vnet_route_all_enabled"] = True
    return config


class ApiAppService(pulumi.ComponentResource):
    app_name: pulumi.Output[str]
    app_id: pulumi.Output[str]
    default_host_name: pulumi.Output[str]
    # What a custom domain's asuid TXT record must hold for App Service to accept the host name.
    custom_domain_verification_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def custom_domain_records(self, public_url: str) -> pulumi.Output[dict[str, str]]:
        """The DNS records whoever binds `public_url` creates first (docs/operations.md, 'The public URL')."""
        host = public_url.removeprefix("https://")
        return pulumi.Output.all(self.default_host_name, self.custom_domain_verification_id).apply(
            lambda values: {"cname": f"{host} CNAME {values[0]}", "txt": f"asuid.{host} TXT {values[1]}"}
        )

    def __init__(
        self,
        name: str,
        *,
        settings: ApiSettings,
        app_name: str,
        image: str,
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
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=f"id-{app_name}",
            resource_group_name=resource_group_name,
            location=location,
            tags=tags,
            opts=child,
        )
        grants = secret_store.grant_read(
            f"{name}-identity",
            identity.principal_id,
            configuration.secret_names,
            subscription_id,
            opts=child,
        )
        registry = naming.container_registry_name(settings.image.repository)
        if registry is not None:
            registry_group = settings.image.registry_resource_group
            registry_id = pulumi.Output.from_input(subscription_id).apply(
                lambda sub: naming.container_registry_id(sub, registry_group, registry)
            )
            grants.append(
                assign_role(
                    f"{name}-identity-pulls-image",
                    role=ACR_PULL,
                    scope=registry_id,
                    principal_id=identity.principal_id,
                    subscription_id=subscription_id,
                    opts=child,
                )
            )
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
            kind="app,linux,container",
            server_farm_id=plan.id,
            https_only=True,
            client_affinity_enabled=False,
            # The runbook's rollback step 1 (`az webapp stop`), as desired state: the app is taken offline.
            enabled=not settings.stopped,
            identity=web.ManagedServiceIdentityArgs(
                type=web.ManagedServiceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity.id]
            ),
            key_vault_reference_identity=identity.id,
            virtual_network_subnet_id=app_subnet_id,
            site_config=site_config(
                settings,
                image=image,
                configuration=configuration,
                vault_name=secret_store.vault_name,
                vnet_integrated=app_subnet_id is not None,
                registry_identity_client_id=identity.client_id if registry is not None else None,
            ),
            tags={**tags, **app_tags},
            # The grants first: the app's first start pulls the image and reads its secrets as this identity.
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
        self.principal_id = identity.principal_id
        self.app_name = app.name
        self.app_id = app.id
        self.default_host_name = app.default_host_name
        verification_id = app.custom_domain_verification_id
        self.custom_domain_verification_id = verification_id.apply(lambda value: value or "")
        self.register_outputs({"appName": self.app_name, "defaultHostName": self.default_host_name})
