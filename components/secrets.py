"""Key Vault (RBAC, soft delete, purge protection in prod) and the secrets the platform keeps in it."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import authorization, keyvault

from components.roles import KEY_VAULT_SECRETS_USER, assign_role
from components.settings import KeyVaultSettings


def key_vault_reference(vault_name: pulumi.Input[str], secret_name: str) -> pulumi.Output[str]:
    """App Service Key Vault reference; versionless so a rotated secret is picked up without a deploy."""
    return pulumi.Output.concat(
        "@Microsoft.KeyVault(VaultName=", vault_name, ";SecretName=", secret_name, ")"
    )


class SecretStore(pulumi.ComponentResource):
    vault_name: pulumi.Output[str]
    vault_id: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    secret_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        *,
        settings: KeyVaultSettings,
        vault_name: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        location: str,
        tenant_id: pulumi.Input[str],
        secrets: Mapping[str, pulumi.Input[str]],
        tags: dict[str, str],
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:secrets:SecretStore", name, None, opts)
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=vault_name,
            resource_group_name=resource_group_name,
            location=location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName(settings.sku)),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=settings.soft_delete_retention_days,
                # Azure accepts only true or absent here: once on, purge protection cannot be turned off.
                enable_purge_protection=True if settings.purge_protection else None,
                public_network_access="Enabled" if settings.public_network_access else "Disabled",
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect),
        )
        self.secret_ids = {}
        for secret_name, value in secrets.items():
            secret = keyvault.Secret(
                f"{name}-{secret_name}",
                secret_name=secret_name,
                vault_name=vault.name,
                resource_group_name=resource_group_name,
                properties={"value": pulumi.Output.secret(value)},
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["properties"]),
            )
            self.secret_ids[secret_name] = secret.id
        # The name as given, not the resource's output: it is known during a preview, so the app's Key Vault
        # references are too (and a policy can check them before anything exists).
        self.vault_name = pulumi.Output.from_input(vault_name)
        self.vault_id = vault.id
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri)
        self.register_outputs({"vaultId": self.vault_id, "vaultUri": self.vault_uri})

    def grant_read(
        self,
        name: str,
        principal_id: pulumi.Input[str],
        secret_names: list[str],
        subscription_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> list[authorization.RoleAssignment]:
        """Let one identity read exactly these secrets: scoped per secret, never to the whole vault."""
        return [
            assign_role(
                f"{name}-reads-{secret_name}",
                role=KEY_VAULT_SECRETS_USER,
                scope=self.secret_ids[secret_name],
                principal_id=principal_id,
                subscription_id=subscription_id,
                opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), opts),
            )
            for secret_name in secret_names
        ]
