"""One MeAjudaAi environment: composes the components in dependency order and returns the stack outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi_azure_native import authorization, resources

from components import naming
from components.adoption import Adoption, adopt
from components.app_config import (
    SECRET_APP_INSIGHTS,
    SECRET_DB_ADMIN_PASSWORD,
    SECRET_DB_CONNECTION,
    SECRET_KEYCLOAK,
    SECRET_SERVICE_BUS,
    api_configuration,
)
from components.app_service import ApiAppService
from components.database import PostgresDatabase, PrivateAccess
from components.kubernetes_app import ClusterTarget, KubernetesApi
from components.local_postgres import LocalPostgres
from components.messaging import APPLICATION_POLICY, MANAGEMENT_POLICY, Messaging
from components.monitoring import Monitoring
from components.network import PrivateNetwork
from components.observability import Observability
from components.secrets import SecretStore
from components.settings import Settings, StackSecrets
from components.tags import base_tags
from gate.facts import ReleaseFacts
from gate.program import gate_outputs
from gate.stamp import stamp

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class StackContext:
    stack: str
    subscription_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]


def build_environment(
    settings: Settings, secrets: StackSecrets, release: ReleaseFacts, context: StackContext
) -> dict[str, Any]:
    env = settings.environment
    prod = env == "prod"
    tags = base_tags(settings, context.stack)
    rg_name = settings.resource_group_name or naming.resource_group_name(env)

    adoption = Adoption(settings.adopt.subscription_id, rg_name) if settings.adopt else None
    group = resources.ResourceGroup(
        "resource-group",
        resource_group_name=rg_name,
        location=settings.location,
        tags=tags,
        opts=adopt(adoption, None, ignore=["tags"]),
    )

    def hashed_name(configured: str | None, make: Callable[[str, str], str]) -> pulumi.Input[str]:
        """A configured name, else Bicep's `<prefix>-<uniqueString(resourceGroup().id)>` for this group.

        Adoption needs plain names for its ARM ids, so it hashes the configured subscription; otherwise the
        subscription comes from the Azure login (an invoke, hence an Output).
        """
        if configured:
            return configured
        if adoption:
            return make(env, naming.resource_group_id(adoption.subscription_id, rg_name))
        return context.subscription_id.apply(lambda sub: make(env, naming.resource_group_id(sub, rg_name)))

    network = (
        PrivateNetwork(
            "network",
            settings=settings.network,
            vnet_name=f"vnet-meajudaai-{env}",
            resource_group_name=group.name,
            location=settings.location,
            tags=tags,
        )
        if settings.network.enabled
        else None
    )
    observability = Observability(
        "observability",
        settings=settings.observability,
        environment=env,
        resource_group_name=group.name,
        resource_group_plain_name=rg_name,
        subscription_id=context.subscription_id,
        location=settings.location,
        tags=tags,
    )
    database = PostgresDatabase(
        "postgres",
        settings=settings.database,
        server_name=hashed_name(settings.database.server_name, naming.postgres_server_name),
        resource_group_name=group.name,
        location=settings.location,
        tags=tags,
        private_access=(
            PrivateAccess(network.private_endpoint_subnet_id, network.postgres_dns_zone_id)
            if network
            else None
        ),
        protect=prod,
        adoption=adoption,
    )
    messaging = Messaging(
        "servicebus",
        settings=settings.messaging,
        namespace_name=settings.messaging.namespace_name or naming.service_bus_namespace_name(env),
        resource_group_name=group.name,
        location=settings.location,
        tags=tags,
        protect=prod,
        adoption=adoption,
    )
    vault_secrets: dict[str, pulumi.Input[str]] = {
        SECRET_DB_ADMIN_PASSWORD: database.admin_password,
        SECRET_DB_CONNECTION: database.connection_string,
        SECRET_SERVICE_BUS: messaging.app_connection_string,
        SECRET_APP_INSIGHTS: observability.connection_string,
    }
    if secrets.keycloak_client_secret is not None:
        vault_secrets[SECRET_KEYCLOAK] = secrets.keycloak_client_secret
    store = SecretStore(
        "keyvault",
        settings=settings.key_vault,
        vault_name=hashed_name(settings.key_vault.name, naming.key_vault_name),
        resource_group_name=group.name,
        location=settings.location,
        tenant_id=context.tenant_id,
        secrets=vault_secrets,
        tags=tags,
        protect=prod,
    )
    app_name = settings.api.name or naming.api_name(env)
    stamped = stamp(release, settings.gate_evidence)
    outputs: dict[str, Any] = {}
    if settings.api.hosting == "kubernetes":
        target = ClusterTarget("cluster", settings=settings.kubernetes, environment=env, protect=prod)
        app_secrets = dict(vault_secrets)
        if settings.kubernetes.local_postgres.enabled:
            local = LocalPostgres(
                "postgres-local",
                target=target,
                settings=settings.kubernetes.local_postgres,
                environment=env,
                database_name=settings.database.database_name,
                max_pool_size=settings.database.max_pool_size,
            )
            app_secrets[SECRET_DB_CONNECTION] = local.connection_string
            outputs["localPostgresHost"] = local.host
        cluster_api = KubernetesApi(
            "api-k8s",
            target=target,
            settings=settings.kubernetes,
            environment=env,
            image=settings.api_image,
            configuration=api_configuration(settings, dots_allowed_in_names=True),
            secret_values=app_secrets,
            annotations=stamped,
            stopped=settings.api.stopped,
        )
        outputs["kubernetesNamespace"] = target.namespace
        api_name: pulumi.Input[str] = cluster_api.deployment_name
        # Azure's availability tests can only reach a public address: the public URL or the Ingress host.
        api_url: pulumi.Input[str] | None = settings.api.public_url or (
            cluster_api.url if settings.kubernetes.ingress else None
        )
        diagnostics: dict[str, pulumi.Input[str]] = {}
    else:
        api = ApiAppService(
            "api",
            settings=settings.api,
            app_name=app_name,
            image=settings.api_image,
            configuration=api_configuration(settings, dots_allowed_in_names=False),
            secret_store=store,
            subscription_id=context.subscription_id,
            resource_group_name=group.name,
            location=settings.location,
            app_subnet_id=network.app_subnet_id if network else None,
            tags=tags,
            app_tags=stamped,
        )
        api_name = api.app_name
        api_url = settings.api.public_url or api.default_host_name.apply(
            lambda host: f"https://{host}" if host else ""
        )
        diagnostics = {"webapp": api.app_id}
        if settings.api.public_url:
            outputs["publicUrlDns"] = api.custom_domain_records(settings.api.public_url)
    Monitoring(
        "monitoring",
        settings=settings.monitoring,
        environment=env,
        resource_group_name=group.name,
        location=settings.location,
        workspace_id=observability.workspace_id,
        app_insights_id=observability.app_insights_arm_id,
        telemetry=[observability],
        api_base_url=api_url,
        diagnostics_targets={
            **diagnostics,
            "postgres": database.server_id,
            "servicebus": messaging.namespace_id,
        },
        webhook_url=secrets.alert_webhook_url,
        tags=tags,
    )

    # Names as the Bicep's outputs call them, so scripts written against the Bicep keep working.
    return {
        "resourceGroupName": rg_name,
        "serviceBusNamespace": messaging.namespace_name,
        "managementPolicyName": MANAGEMENT_POLICY,
        "applicationPolicyName": APPLICATION_POLICY,
        "serviceBusEndpoint": messaging.endpoint,
        "postgresHost": database.host,
        "postgresDatabase": database.database_name,
        "postgresServerName": database.server_name,
        "keyVaultName": store.vault_name,
        "keyVaultUri": store.vault_uri,
        "appInsightsName": observability.app_insights_name,
        "apiName": api_name,
        "apiUrl": api_url or "",
        "apiStopped": settings.api.stopped,
        "privateDnsZoneName": network.postgres_dns_zone_name if network else "",
        # The gate's verdict for this release; items judged from planned resources (monitoring, backups)
        # are listed as deferred to the pack's stack policy, which sees the whole plan.
        "compatibilityGate": gate_outputs(env, release, settings.gate_evidence, stopped=settings.api.stopped),
        **outputs,
    }


def stack_context(stack: str) -> StackContext:
    client = authorization.get_client_config_output()
    return StackContext(stack=stack, subscription_id=client.subscription_id, tenant_id=client.tenant_id)
