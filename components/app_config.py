"""The API's configuration as data: one set of keys whether it runs on App Service or Kubernetes.

Pure: settings in, `ApiConfiguration` out. Secret values never pass through here, only the names of the
Key Vault secrets that hold them; each host turns those into its own kind of reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from components.messaging import MANAGEMENT_POLICY
from components.messaging import app_policy as messaging_app_policy
from components.settings import Settings

ASPNETCORE_ENVIRONMENTS = {"dev": "Development", "staging": "Staging", "prod": "Production"}

# Key Vault secret names (the platform's docs name `postgres-connection-string` and `keycloak-client-secret`).
SECRET_DB_CONNECTION = "postgres-connection-string"
SECRET_DB_ADMIN_PASSWORD = "postgres-admin-password"
SECRET_SERVICE_BUS = "servicebus-connection-string"
SECRET_KEYCLOAK = "keycloak-client-secret"
SECRET_APP_INSIGHTS = "appinsights-connection-string"


@dataclass(frozen=True)
class ApiConfiguration:
    settings: dict[str, str]
    # app setting name -> Key Vault secret name
    secret_settings: dict[str, str]
    # .NET command-line configuration (`--Key=Value`) for what app settings cannot carry on Linux.
    command_line_args: list[str] = field(default_factory=list)

    @property
    def secret_names(self) -> list[str]:
        return sorted(set(self.secret_settings.values()))


def _env_key(*parts: str) -> str:
    # Linux hosts reject ':' in variable names; .NET reads '__' as the section separator.
    return "__".join(parts)


def logging_configuration(levels: Mapping[str, str], dots_allowed: bool) -> tuple[dict[str, str], list[str]]:
    """Split log levels into environment settings and command-line arguments.

    Linux App Service rewrites '.' in app setting names to '_', which would silently turn
    `Npgsql.Connection` into an unknown category; .NET's command-line provider keeps the dot.
    """
    env: dict[str, str] = {}
    args: list[str] = []
    for category, level in sorted(levels.items()):
        if "." in category and not dots_allowed:
            args.append(f"--Logging:LogLevel:{category}={level}")
        else:
            env[_env_key("Logging", "LogLevel", category)] = level
    return env, args


def api_configuration(settings: Settings, dots_allowed_in_names: bool) -> ApiConfiguration:
    api, messaging = settings.api, settings.messaging
    values: dict[str, str] = {
        "ASPNETCORE_ENVIRONMENT": ASPNETCORE_ENVIRONMENTS[settings.environment],
        "Messaging__Enabled": "true",
        "Messaging__Provider": "ServiceBus",
        "Messaging__ServiceBus__DefaultTopicName": messaging.default_topic,
        "Messaging__ServiceBus__Strategy": "Hybrid",
        # Only a Manage-rights connection can create topics; elsewhere they are declared by this program.
        "Messaging__ServiceBus__AutoCreateTopics": str(
            messaging_app_policy(messaging) == MANAGEMENT_POLICY
        ).lower(),
        "Hangfire__DashboardEnabled": str(api.hangfire.dashboard_enabled).lower(),
        "Hangfire__DashboardPath": api.hangfire.dashboard_path,
        "Hangfire__WorkerCount": str(api.hangfire.worker_count),
        "Authentication__Mode": api.auth.mode,
        "Keycloak__Enabled": str(api.auth.mode != "simplified").lower(),
    }
    for role, topic in sorted(messaging.domain_topics.items()):
        values[_env_key("Messaging", "ServiceBus", "DomainTopics", role)] = topic
    secrets = {
        "ConnectionStrings__DefaultConnection": SECRET_DB_CONNECTION,
        "ConnectionStrings__HangfireConnection": SECRET_DB_CONNECTION,
        "Messaging__ServiceBus__ConnectionString": SECRET_SERVICE_BUS,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": SECRET_APP_INSIGHTS,
    }
    if api.auth.mode != "simplified":
        values["Keycloak__BaseUrl"] = api.auth.keycloak_url or ""
        values["Keycloak__Realm"] = api.auth.realm
        values["Keycloak__ClientId"] = api.auth.client_id
        secrets["Keycloak__ClientSecret"] = SECRET_KEYCLOAK
    for index, provider in enumerate(api.auth.external_providers):
        values[_env_key("Authentication", "ExternalProviders", str(index))] = provider
    for flag, enabled in sorted(api.features.items()):
        values[_env_key("FeatureManagement", flag)] = str(enabled).lower()
    for service, url in sorted(api.service_endpoints.items()):
        values[_env_key("ServiceEndpoints", service)] = url
    log_env, log_args = logging_configuration(api.logging, dots_allowed_in_names)
    values.update(log_env)
    return ApiConfiguration(settings=values, secret_settings=secrets, command_line_args=log_args)
