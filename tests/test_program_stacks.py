"""The real program, run per stack under Pulumi's mocks: the registered inputs, as a policy would see them.

Expected values come from the platform's repository (its Bicep, the runbook in docs/runbook.md, the names
its docs use), not from the program. Each stack runs in update mode (outputs known) and the same input
assertions run once more in preview mode, where `Resource.get` fails on an unknown value instead of
letting an assertion pass.
"""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from components.naming import resource_group_id, unique_string
from gate.stamp import read_stamp
from offline.outputs import SUBSCRIPTION_ID
from tests.program import STACKS, Run, UnknownValue, patched, run_stack

MODES = [pytest.param(False, id="update"), pytest.param(True, id="preview")]
ENV_NAMES = {"dev": "Development", "staging": "Staging", "prod": "Production"}


# dev hosts the API on Kubernetes by default; its App Service shape is checked with that one key changed.
DEV_ON_APP_SERVICE = "dev-appservice"
APP_SERVICE_STACKS = (DEV_ON_APP_SERVICE, "staging", "prod")


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=APP_SERVICE_STACKS)
def app_stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(stack: str, preview: bool = False) -> Run:
    if stack == DEV_ON_APP_SERVICE:
        result = run_stack("dev", preview, extra=patched("dev", "api", {"hosting": "appService"}))
    else:
        result = run_stack(stack, preview)
    assert result.error is None, result.error
    return result


def env_of(stack: str) -> str:
    return stack.split("-", maxsplit=1)[0]


# ----------------------------------------------------------------------------------- group and tags
@pytest.mark.parametrize("preview", MODES)
def test_resource_group_per_stack(stack: str, preview: bool) -> None:
    group = run(stack, preview).one("azure-native:resources:ResourceGroup")
    assert group.get("resourceGroupName") == f"meajudaai-{stack}"
    assert group.get("location") == "brazilsouth"


def _taggable(token: str) -> bool:
    """Whether the azure-native SDK's own resource class takes `tags` (its schema, not our opinion)."""
    _, module, cls = token.split(":")
    resource = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), cls)
    return "tags" in inspect.signature(resource._internal_init).parameters


def test_every_taggable_resource_carries_the_required_tags(stack: str) -> None:
    result = run(stack)
    azure = [r for r in result.resources if r.type.startswith("azure-native:")]
    taggable = [r for r in azure if _taggable(r.type)]
    assert len(taggable) >= 10
    for resource in taggable:
        tags = resource.get("tags")
        assert tags["environment"] == stack, resource.name
        assert tags["project"] == "meajudaai"
        assert tags["managed-by"] == "pulumi"
        assert tags["stack"] == f"meajudaai-infra/{stack}"
        assert tags["repository"]


# ------------------------------------------------------------------------------------------ messaging
@pytest.mark.parametrize("preview", MODES)
def test_service_bus_mirrors_servicebus_bicep(stack: str, preview: bool) -> None:
    result = run(stack, preview)
    namespace = result.one("azure-native:servicebus:Namespace")
    assert namespace.get("namespaceName") == f"sb-MeAjudaAi-{stack}"
    assert namespace.get("sku") == {"name": "Standard", "tier": "Standard"}
    assert namespace.get("minimumTlsVersion") == "1.2"
    assert namespace.get("publicNetworkAccess") == "Enabled"
    assert namespace.get("disableLocalAuth") is False
    rules = {
        r.get("authorizationRuleName"): r.get("rights")
        for r in result.of_type("azure-native:servicebus:NamespaceAuthorizationRule")
    }
    assert rules == {
        "ManagementPolicy": ["Manage", "Send", "Listen"],
        "ApplicationPolicy": ["Send", "Listen"],
    }
    topics = sorted(t.get("topicName") for t in result.of_type("azure-native:servicebus:Topic"))
    assert topics == ["MeAjudaAi-events", "users-events"]


def test_service_bus_outputs_are_named_as_the_bicep_outputs(stack: str) -> None:
    outputs = run(stack).outputs
    assert outputs["serviceBusNamespace"] == f"sb-MeAjudaAi-{stack}"
    assert outputs["managementPolicyName"] == "ManagementPolicy"
    assert outputs["applicationPolicyName"] == "ApplicationPolicy"
    assert outputs["serviceBusEndpoint"] == f"https://sb-MeAjudaAi-{stack}.servicebus.windows.net:443/"


@pytest.mark.parametrize(
    ("stack_name", "policy", "auto_create"),
    [
        (DEV_ON_APP_SERVICE, "ManagementPolicy", "true"),
        ("staging", "ApplicationPolicy", "false"),
        ("prod", "ApplicationPolicy", "false"),
    ],
)
def test_the_app_gets_manage_rights_only_in_dev(stack_name: str, policy: str, auto_create: str) -> None:
    result = run(stack_name)
    assert result.app_settings()["Messaging__ServiceBus__AutoCreateTopics"] == auto_create
    listed = [
        c for c in result.raw.resources if c.type == "azure-native:servicebus:NamespaceAuthorizationRule"
    ]
    assert len(listed) == 2
    # The connection string in the vault is the app's rule's: the invoke asked for that rule.
    secret = result.one("azure-native:keyvault:Secret", "keyvault-servicebus-connection-string")
    assert policy in secret.get("properties.value")


# ------------------------------------------------------------------------------------------- database
@pytest.mark.parametrize("preview", MODES)
def test_postgres_server_mirrors_gen2_bicep_with_its_defects_fixed(stack: str, preview: bool) -> None:
    result = run(stack, preview)
    server = result.one("azure-native:dbforpostgresql:Server")
    suffix = unique_string(resource_group_id(SUBSCRIPTION_ID, f"meajudaai-{stack}"))
    assert server.get("serverName") == f"psql-{stack}-{suffix}"
    assert server.get("version") == "16"
    assert server.get("administratorLogin") == "psqladmin"
    if not preview:  # unknown during a preview, and an unknown value carries no secret flag
        assert server.is_secret("administratorLoginPassword")
    # Fixed: the Bicep put publicNetworkAccess directly under properties, where 2024-08-01 ignores it.
    assert "publicNetworkAccess" not in server.props
    expected_public = "Disabled" if stack == "prod" else "Enabled"
    assert server.get("network.publicNetworkAccess") == expected_public
    database = result.one("azure-native:dbforpostgresql:Database")
    assert database.get("databaseName") == "meajudaai"


@pytest.mark.parametrize(
    ("stack_name", "sku", "tier", "storage", "retention", "geo", "ha"),
    [
        ("dev", "Standard_B1ms", "Burstable", 32, 7, "Disabled", "Disabled"),
        ("staging", "Standard_D2ds_v5", "GeneralPurpose", 64, 14, "Disabled", "Disabled"),
        ("prod", "Standard_D4ds_v5", "GeneralPurpose", 128, 35, "Enabled", "ZoneRedundant"),
    ],
)
def test_postgres_sizing_and_backups_per_environment(
    stack_name: str, sku: str, tier: str, storage: int, retention: int, geo: str, ha: str
) -> None:
    server = run(stack_name, preview=True).one("azure-native:dbforpostgresql:Server")
    assert server.get("sku") == {"name": sku, "tier": tier}
    assert server.get("storage.storageSizeGB") == storage
    assert server.get("backup.backupRetentionDays") == retention
    assert server.get("backup.geoRedundantBackup") == geo
    assert server.get("highAvailability.mode") == ha


@pytest.mark.parametrize("preview", MODES)
def test_postgis_is_allow_listed_and_tls_enforced(stack: str, preview: bool) -> None:
    params = {
        c.get("configurationName"): c.get("value")
        for c in run(stack, preview).of_type("azure-native:dbforpostgresql:Configuration")
    }
    assert params["azure.extensions"] == "POSTGIS"
    assert params["require_secure_transport"] == "on"


def test_firewall_only_where_public_and_never_the_internet(stack: str) -> None:
    rules = run(stack).of_type("azure-native:dbforpostgresql:FirewallRule")
    if stack == "prod":
        assert rules == []
        return
    assert rules
    for rule in rules:
        assert (rule.get("startIpAddress"), rule.get("endIpAddress")) == ("0.0.0.0", "0.0.0.0")


def test_private_endpoint_dns_zone_link_and_zone_group_in_prod_only(stack: str) -> None:
    result = run(stack)
    endpoints = result.of_type("azure-native:network:PrivateEndpoint")
    if stack != "prod":
        assert endpoints == []
        assert result.of_type("azure-native:privatedns:PrivateZone") == []
        return
    endpoint = endpoints[0]
    server = result.one("azure-native:dbforpostgresql:Server")
    server_name = server.get("serverName")
    assert endpoint.get("privateEndpointName") == f"{server_name}-pe"
    connection = endpoint.get("privateLinkServiceConnections.0")
    assert connection["groupIds"] == ["postgresqlServer"]
    assert connection["name"] == f"{server_name}-pe-connection"
    assert connection["privateLinkServiceId"].endswith(f"/flexibleServers/{server_name}")
    assert "/subnets/" in endpoint.get("subnet.id")
    zone = result.one("azure-native:privatedns:PrivateZone")
    assert zone.get("privateZoneName") == "privatelink.postgres.database.azure.com"
    assert zone.get("location") == "global"
    link = result.one("azure-native:privatedns:VirtualNetworkLink")
    assert link.get("registrationEnabled") is False
    assert link.get("virtualNetworkLinkName") == "privatelink.postgres.database.azure.com-link"
    group = result.one("azure-native:network:PrivateDnsZoneGroup")
    assert group.get("privateDnsZoneGroupName") == "default"
    assert group.get("privateDnsZoneConfigs.0.name") == "privatelink-postgres-database-azure-com"
    # The app reaches the private server through VNet integration.
    app = result.one("azure-native:web:WebApp")
    assert "/subnets/" in app.get("virtualNetworkSubnetId")
    assert app.get("siteConfig.vnetRouteAllEnabled") is True


def test_postgres_outputs(stack: str) -> None:
    outputs = run(stack).outputs
    assert outputs["postgresDatabase"] == "meajudaai"
    assert re.fullmatch(
        rf"psql-{stack}-[a-z2-7]{{13}}\.postgres\.database\.azure\.com", outputs["postgresHost"]
    )


# ------------------------------------------------------------------------------------------ app hosting
@pytest.mark.parametrize("preview", MODES)
def test_web_app_security_and_runtime(app_stack: str, preview: bool) -> None:
    result = run(app_stack, preview)
    app = result.one("azure-native:web:WebApp")
    env = env_of(app_stack)
    assert app.get("name") == ("meajudaai-api" if env == "prod" else f"meajudaai-api-{env}")
    assert app.get("httpsOnly") is True
    assert app.get("identity.type") == "UserAssigned"
    assert app.get("enabled") is True
    config = app.get("siteConfig")
    # The release's container image: the tag is the release id the stack file names.
    release = "c2f3a2362" if env == "dev" else "cc4de0a8"
    assert config["linuxFxVersion"] == f"DOCKER|acrmeajudaai.azurecr.io/meajudaai-api:{release}"
    assert config["acrUseManagedIdentityCreds"] is True
    assert config["minTlsVersion"] == "1.2"
    assert config["ftpsState"] == "Disabled"
    assert config["remoteDebuggingEnabled"] is False
    assert config["http20Enabled"] is True
    assert config["healthCheckPath"] == "/health"
    assert config["alwaysOn"] is (env != "dev")
    plan = result.one("azure-native:web:AppServicePlan")
    assert plan.get("kind") == "linux"
    assert plan.get("reserved") is True


def test_app_settings_cover_the_environment_variables(app_stack: str) -> None:
    settings = run(app_stack).app_settings()
    assert settings["ASPNETCORE_ENVIRONMENT"] == ENV_NAMES[env_of(app_stack)]
    for key in (
        "ConnectionStrings__DefaultConnection",
        "ConnectionStrings__HangfireConnection",
        "Messaging__ServiceBus__ConnectionString",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
    ):
        assert settings[key].startswith("@Microsoft.KeyVault(VaultName=kv-mjai-"), key
    assert settings["Messaging__ServiceBus__DefaultTopicName"] == "MeAjudaAi-events"
    assert settings["Messaging__ServiceBus__DomainTopics__Users"] == "users-events"
    assert settings["Hangfire__DashboardPath"] == "/hangfire"
    assert settings["Logging__LogLevel__Hangfire"] == "Information"
    assert settings["Logging__LogLevel__Npgsql"] == "Warning"
    # No ':' and no '.' in a name: Linux App Service cannot carry them.
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", name) for name in settings)


def test_dotted_log_category_reaches_the_app_through_its_command_line(app_stack: str) -> None:
    app = run(app_stack).one("azure-native:web:WebApp")
    assert "--Logging:LogLevel:Npgsql.Connection=Information" in app.get("siteConfig.appCommandLine")


@pytest.mark.parametrize(
    ("stack_name", "mode", "keycloak"),
    [(DEV_ON_APP_SERVICE, "simplified", "false"), ("staging", "full", "true"), ("prod", "external", "true")],
)
def test_authentication_per_environment(stack_name: str, mode: str, keycloak: str) -> None:
    settings = run(stack_name).app_settings()
    assert settings["Authentication__Mode"] == mode
    assert settings["Keycloak__Enabled"] == keycloak
    if keycloak == "true":
        assert settings["Keycloak__BaseUrl"].startswith("https://auth.")
        assert settings["Keycloak__ClientSecret"].endswith("SecretName=keycloak-client-secret)")
    else:
        assert "Keycloak__ClientSecret" not in settings
    providers = [v for k, v in sorted(settings.items()) if k.startswith("Authentication__ExternalProviders")]
    assert providers == (["google", "facebook"] if stack_name == "prod" else [])


# --------------------------------------------------------------------------------------------- secrets
def test_key_vault_rbac_soft_delete_and_purge_protection_in_prod(stack: str) -> None:
    vault = run(stack).one("azure-native:keyvault:Vault")
    assert vault.get("properties.enableRbacAuthorization") is True
    assert vault.get("properties.enableSoftDelete") is True
    if stack == "prod":
        assert vault.get("properties.enablePurgeProtection") is True
    else:
        assert "enablePurgeProtection" not in vault.get("properties")


def test_the_web_app_identity_reads_its_secrets_pulls_its_image_and_nothing_more(app_stack: str) -> None:
    result = run(app_stack)
    app = result.one("azure-native:web:WebApp")
    identity = result.one("azure-native:managedidentity:UserAssignedIdentity")
    # The app runs as this identity, for its image pulls and its Key Vault references alike.
    assert app.get("identity.userAssignedIdentities") == [identity.id]
    assert app.get("keyVaultReferenceIdentity") == identity.id
    assert app.get("siteConfig.acrUserManagedIdentityID") == identity.outputs["clientId"]
    referenced = sorted(
        {
            m.group(1)
            for v in result.app_settings().values()
            for m in [re.search(r"SecretName=([^)]+)\)", str(v))]
            if m
        }
    )
    secrets = {s.get("secretName"): s for s in result.of_type("azure-native:keyvault:Secret")}
    assert "postgres-admin-password" in secrets
    assert "postgres-admin-password" not in referenced
    assignments = result.of_type("azure-native:authorization:RoleAssignment")
    by_role: dict[str, list[str]] = {}
    for assignment in assignments:
        role = assignment.get("roleDefinitionId").rsplit("/roleDefinitions/", 1)[1]
        by_role.setdefault(role, []).append(assignment.get("scope"))
        assert assignment.get("principalId") == identity.outputs["principalId"]
        assert assignment.get("principalType") == "ServicePrincipal"
    # Key Vault Secrets User once per referenced secret, scoped to that secret: never the vault, never
    # the admin password; AcrPull on the registry the image comes from, and nothing else.
    assert sorted(by_role["4633458b-17de-408a-b874-0445c86b69e6"]) == sorted(
        secrets[name].id for name in referenced
    )
    registry = resource_group_id(SUBSCRIPTION_ID, "rg-meajudaai")
    registry += "/providers/Microsoft.ContainerRegistry/registries/acrmeajudaai"
    assert by_role["7f951dda-4ed3-4680-a7ca-43fe172d538d"] == [registry]
    assert set(by_role) == {"4633458b-17de-408a-b874-0445c86b69e6", "7f951dda-4ed3-4680-a7ca-43fe172d538d"}
    # Granted before the app exists: its first start pulls the image and resolves its references.
    assert {a.urn for a in assignments} <= set(app.dependencies)


def test_the_public_url_is_bound_outside_and_its_dns_records_are_an_output(app_stack: str) -> None:
    outputs = run(app_stack).outputs
    if app_stack != "prod":
        assert "publicUrlDns" not in outputs
        return
    assert outputs["apiUrl"] == "https://api.meajudaai.com"
    records = outputs["publicUrlDns"]
    assert records["cname"] == "api.meajudaai.com CNAME meajudaai-api.azurewebsites.net"
    assert re.fullmatch(r"asuid\.api\.meajudaai\.com TXT [0-9A-F]{64}", records["txt"])


def test_the_app_service_release_is_the_image_and_the_stamp(app_stack: str) -> None:
    """A new release.id changes what App Service runs, and the gate's stamp on the same app says so."""
    if app_stack == DEV_ON_APP_SERVICE:
        hosting = patched("dev", "api", {"hosting": "appService"})
        result = run_stack("dev", extra={**hosting, **patched("dev", "release", {"id": "r2"})})
    else:
        result = run_stack(app_stack, extra=patched(app_stack, "release", {"id": "2026.12.2"}))
    assert result.error is None, result.error
    app = result.one("azure-native:web:WebApp")
    image = app.get("siteConfig.linuxFxVersion").removeprefix("DOCKER|")
    stamped = read_stamp(app.get("tags")).facts.release
    assert image == f"acrmeajudaai.azurecr.io/meajudaai-api:{stamped}"
    assert stamped == ("r2" if app_stack == DEV_ON_APP_SERVICE else "2026.12.2")


def test_generated_admin_password_is_kept_in_key_vault_as_a_secret(stack: str) -> None:
    result = run(stack)
    password = result.one("random:index/randomPassword:RandomPassword", "postgres-admin-password")
    assert password.get("length") >= 32
    secret = result.one("azure-native:keyvault:Secret", "keyvault-postgres-admin-password")
    assert secret.is_secret("properties.value")
    assert secret.get("properties.value") == password.outputs["result"]["value"]


# ------------------------------------------------------------------------------------- observability
def test_workspace_based_application_insights(stack: str) -> None:
    result = run(stack)
    workspace = result.one("azure-native:operationalinsights:Workspace")
    component = result.one("azure-native:applicationinsights:Component")
    assert component.get("workspaceResourceId") == workspace.id
    assert component.get("ingestionMode") == "LogAnalytics"
    assert workspace.get("sku.name") == "PerGB2018"


# --------------------------------------------------------------------------------------------- protect
STATEFUL = (
    "azure-native:dbforpostgresql:Server",
    "azure-native:dbforpostgresql:Database",
    "azure-native:servicebus:Namespace",
    "azure-native:keyvault:Vault",
)


def test_prod_stateful_resources_are_protected_and_retained(stack: str) -> None:
    result = run(stack)
    for token in STATEFUL:
        resource = result.one(token)
        assert resource.protect is (stack == "prod"), token
        assert resource.retain_on_delete is (stack == "prod"), token


# --------------------------------------------------------------------------------------------- preview
def test_preview_really_leaves_computed_outputs_unknown() -> None:
    """The preview runs above are real previews: what only Azure can compute is unknown there."""
    result = run("prod", preview=True)
    assignment = result.of_type("azure-native:authorization:RoleAssignment")[0]
    with pytest.raises(UnknownValue):
        assignment.get("principalId")
    with pytest.raises(UnknownValue):
        result.one("azure-native:network:PrivateEndpoint").get(
            "privateLinkServiceConnections.0.privateLinkServiceId"
        )
    assert result.outputs.get("postgresHost") in (None, "04da6b54-80e4-46f7-96ec-b56ff0331ba9")


# -------------------------------------------------------------------------------- the gate's verdict
@pytest.mark.parametrize(
    ("stack", "status", "missing"),
    [
        ("dev", "advisory", [1, 2, 4, 5, 6, 7]),
        ("staging", "blocked", [1]),
        ("prod", "blocked", [1, 2, 4, 5, 6, 7]),
    ],
)
def test_the_compatibility_gate_output_gives_the_verdict_and_what_is_missing(stack, status, missing) -> None:
    gate = run(stack).outputs["compatibilityGate"]
    assert (gate["status"], gate["verdictWhenRunning"], gate["basis"]) == (status, status, "risky")
    assert [int(line[1]) for line in gate["missingItems"]] == missing


def test_a_stopped_api_is_reported_as_stopped_not_blocked() -> None:
    result = run_stack("prod", extra=patched("prod", "api", {"stopped": True}))
    assert result.error is None, result.error
    gate = result.outputs["compatibilityGate"]
    assert (gate["status"], gate["verdictWhenRunning"]) == ("stopped", "blocked")
    assert result.outputs["apiStopped"] is True
    assert result.one("azure-native:web:WebApp").get("enabled") is False
