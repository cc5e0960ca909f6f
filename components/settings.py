"""The stack's settings: one typed model of the whole stack config, with per-environment presets.

Data flows one way: `Pulumi.<stack>.yaml` → `load_settings` (preset for the environment, overridden key by
key by the stack file, validated once) → components. Nothing else reads Pulumi config. Every bad value is
rejected here, before any resource is registered, with the config key named and what is allowed.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from components.config_model import (
    PROJECT,
    ConfigModel,
    SettingsError,
    deep_merge,
    did_you_mean,
    format_errors,
    model_defaults,
)
from components.kubernetes_settings import KUBERNETES_PRESETS, KubernetesSettings, environment_problems
from gate.config import GateEvidence, ReleaseConfig

__all__ = ["PROJECT", "Settings", "SettingsError", "deep_merge", "load_settings"]


Environment = Literal["dev", "staging", "prod"]
Hosting = Literal["appService", "kubernetes"]
LogLevel = Literal["Trace", "Debug", "Information", "Warning", "Error", "Critical", "None"]

# Azure's flexible-server limits: retention 7-35 days; storage sizes are fixed steps.
BACKUP_RETENTION_FLOOR: dict[str, int] = {"dev": 7, "staging": 14, "prod": 35}
StorageSizeGb = Literal[32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767]
PlanSku = Literal["B1", "B2", "B3", "S1", "S2", "S3", "P0v3", "P1v3", "P2v3", "P3v3", "P1mv3", "P2mv3"]

_ARM_VNET_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}/providers/"
    r"Microsoft\.Network/virtualNetworks/[-\w.]{2,64}$"
)
_ARM_SUBNET_ID = re.compile(_ARM_VNET_ID.pattern[:-1] + r"/subnets/[-\w.]{1,80}$")


# --------------------------------------------------------------------------------------------- network
class NetworkSettings(ConfigModel):
    """Private networking for the database (private endpoint + private DNS) and the app's VNet integration.

    Either the program creates the VNet (`addressSpace` and the two subnet prefixes) or it uses an existing
    one (`vnetId`, `privateEndpointSubnetId`, `appSubnetId`: real ARM ids, unlike the Bicep whose `@allowed`
    globs could never match one).
    """

    enabled: bool = False
    """Create (or use) a VNet: the database is reached through a private endpoint, the app through VNet
    integration."""
    vnet_id: str | None = None
    """ARM id of an existing VNet to use instead of creating one (with both subnet ids)."""
    private_endpoint_subnet_id: str | None = None
    """ARM id of the existing subnet for the database's private endpoint."""
    app_subnet_id: str | None = None
    """ARM id of the existing subnet delegated to App Service for VNet integration."""
    address_space: str = "10.40.0.0/16"
    """Address space of the VNet the program creates."""
    private_endpoint_subnet_prefix: str = "10.40.1.0/24"
    """Prefix of the private-endpoint subnet, inside `addressSpace`."""
    app_subnet_prefix: str = "10.40.2.0/24"
    """Prefix of the App Service integration subnet, inside `addressSpace`."""

    @field_validator("vnet_id")
    @classmethod
    def _vnet_id(cls, value: str | None) -> str | None:
        if value is not None and not _ARM_VNET_ID.match(value):
            raise ValueError(
                "must be a virtual network ARM id (/subscriptions/<guid>/resourceGroups/<rg>/"
                "providers/Microsoft.Network/virtualNetworks/<name>)"
            )
        return value

    @field_validator("private_endpoint_subnet_id", "app_subnet_id")
    @classmethod
    def _subnet_id(cls, value: str | None) -> str | None:
        if value is not None and not _ARM_SUBNET_ID.match(value):
            raise ValueError("must be a subnet ARM id (.../virtualNetworks/<name>/subnets/<subnet>)")
        return value

    @field_validator("address_space", "private_endpoint_subnet_prefix", "app_subnet_prefix")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError:
            raise ValueError(f"must be an IPv4 CIDR block such as 10.40.0.0/16, got {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> NetworkSettings:
        existing = (self.vnet_id, self.private_endpoint_subnet_id, self.app_subnet_id)
        if any(existing) and not all(existing):
            raise ValueError(
                "vnetId, privateEndpointSubnetId and appSubnetId go together: give all three "
                "to use an existing VNet, or none to let the program create one"
            )
        if not any(existing):
            space = ipaddress.ip_network(self.address_space)
            subnets = [
                ipaddress.ip_network(p) for p in (self.private_endpoint_subnet_prefix, self.app_subnet_prefix)
            ]
            for subnet in subnets:
                if not subnet.subnet_of(space):  # type: ignore[arg-type]
                    raise ValueError(f"subnet {subnet} is outside addressSpace {space}")
            if subnets[0].overlaps(subnets[1]):
                raise ValueError("privateEndpointSubnetPrefix and appSubnetPrefix overlap")
        return self

    @property
    def uses_existing_vnet(self) -> bool:
        return self.vnet_id is not None


# -------------------------------------------------------------------------------------------- database
class FirewallRule(ConfigModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")
    """The rule's name on the server."""
    start_ip: str
    """First IPv4 address allowed."""
    end_ip: str
    """Last IPv4 address allowed; a rule may open at most a /16."""

    @field_validator("start_ip", "end_ip")
    @classmethod
    def _ipv4(cls, value: str) -> str:
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError(f"must be an IPv4 address, got {value!r}") from None
        return value

    @model_validator(mode="after")
    def _not_the_internet(self) -> FirewallRule:
        start, end = int(ipaddress.IPv4Address(self.start_ip)), int(ipaddress.IPv4Address(self.end_ip))
        if start > end:
            raise ValueError(f"startIp {self.start_ip} is after endIp {self.end_ip}")
        # A /16 is already generous for an office or CI range; anything wider is "the internet" in practice.
        if end - start + 1 > 65536:
            raise ValueError(
                f"{self.start_ip}-{self.end_ip} opens more than a /16 (65,536 addresses): "
                "name the ranges that need access instead"
            )
        return self


def _skus(family: str, sizes: tuple[int, ...], *suffixes: str) -> tuple[str, ...]:
    return tuple(f"Standard_{family}{size}{suffix}" for suffix in suffixes for size in sizes)


# Compute sizes Azure offers for PostgreSQL flexible servers, by tier (Azure's "compute options" page for
# flexible server; regions offer subsets). A SKU of another tier, or of no tier, is refused here rather than
# by Azure halfway through an update.
POSTGRES_SKUS: dict[str, tuple[str, ...]] = {
    "Burstable": _skus("B", (1,), "ms") + _skus("B", (2,), "s", "ms") + _skus("B", (4, 8, 12, 16, 20), "ms"),
    "GeneralPurpose": _skus("D", (2, 4, 8, 16, 32, 48, 64), "s_v3", "ds_v4")
    + _skus("D", (2, 4, 8, 16, 32, 48, 64, 96), "ds_v5", "ads_v5"),
    "MemoryOptimized": _skus("E", (2, 4, 8, 16, 20, 32, 48, 64), "s_v3", "ds_v4")
    + _skus("E", (2, 4, 8, 16, 20, 32, 48, 64, 96), "ds_v5", "ads_v5"),
}


class DatabaseSettings(ConfigModel):
    """PostgreSQL flexible server. `geoRedundantBackup` (and the server name) can only be chosen when the
    server is created: changing it later means a new server, which prod refuses (protect)."""

    server_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    """The server's name. Default the Bicep's `psql-<env>-<uniqueString(resource group id)>`. Only chosen
    at creation."""
    database_name: str = Field(default="meajudaai", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    """The application database."""
    admin_login: str = Field(default="psqladmin", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """The administrator login (the Bicep's `psqladmin`); its password is generated and kept in Key Vault."""
    version: Literal["16", "17"] = "16"
    """PostgreSQL major version."""
    sku_name: str = "Standard_B1ms"
    """Compute size, one of the tier's sizes (e.g. Standard_B1ms, Standard_D4ds_v5)."""
    sku_tier: Literal["Burstable", "GeneralPurpose", "MemoryOptimized"] = "Burstable"
    """Compute tier: Burstable, GeneralPurpose or MemoryOptimized."""
    storage_size_gb: StorageSizeGb = 32
    """Storage in GB, one of Azure's fixed sizes."""
    backup_retention_days: int = Field(default=7, ge=7, le=35)
    """Days of point-in-time backups, 7-35 and not below the environment's floor (dev 7, staging 14, prod
    35)."""
    geo_redundant_backup: bool = False
    """Backups copied to the paired region. Only chosen at creation; must stay true in prod."""
    high_availability: Literal["Disabled", "SameZone", "ZoneRedundant"] = "Disabled"
    """Standby server: Disabled, SameZone or ZoneRedundant (not on Burstable)."""
    public_network_access: bool = True
    """Whether the server has a public endpoint (then only the firewall rules reach it); false in prod."""
    allow_azure_services: bool = True
    """Add Azure's 0.0.0.0 rule, which lets Azure services (the App Service) connect."""
    firewall_rules: list[FirewallRule] = Field(default_factory=list)
    """Named IPv4 ranges allowed to connect when the server is public."""
    extensions: list[str] = Field(default_factory=lambda: ["POSTGIS"])
    """Extensions allow-listed in `azure.extensions` (PostGIS for the search module)."""
    max_pool_size: int = Field(default=100, ge=1, le=1000)
    """`Maximum Pool Size` in the app's connection string (the runbook's troubleshooting advice)."""

    @field_validator("extensions")
    @classmethod
    def _extensions(cls, value: list[str]) -> list[str]:
        # azure.extensions takes names in either case (the portal lists them upper case, `CREATE EXTENSION`
        # and Azure's docs write them lower case); the same name twice is a mistake either way.
        for name in value:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                raise ValueError(
                    f"extension name {name!r} is not a PostgreSQL extension name such as postgis or pg_trgm"
                )
        folded = [name.lower() for name in value]
        if len(set(folded)) != len(folded):
            raise ValueError(f"extensions lists a name twice: {value}")
        return value

    @model_validator(mode="after")
    def _tier_rules(self) -> DatabaseSettings:
        if self.sku_name not in POSTGRES_SKUS[self.sku_tier]:
            other = next((tier for tier, skus in POSTGRES_SKUS.items() if self.sku_name in skus), None)
            where = f"a {other} SKU, not {self.sku_tier}" if other else "not a flexible-server SKU"
            raise ValueError(
                f"skuName {self.sku_name!r} is {where}: {self.sku_tier} takes one of "
                f"{', '.join(POSTGRES_SKUS[self.sku_tier])}"
            )
        if self.sku_tier == "Burstable" and self.high_availability != "Disabled":
            raise ValueError(
                "highAvailability needs skuTier GeneralPurpose or MemoryOptimized "
                "(Azure offers no HA on Burstable)"
            )
        if not self.public_network_access and (self.firewall_rules or self.allow_azure_services):
            raise ValueError("firewallRules/allowAzureServices only apply with publicNetworkAccess: true")
        return self


# ------------------------------------------------------------------------------------------- messaging
class Justifications(ConfigModel):
    local_auth: str | None = Field(default=None, min_length=10, max_length=256)
    """Why the namespace keeps SAS (local) authentication, written to a tag for the baseline policy."""
    public_network_access: str | None = Field(default=None, min_length=10, max_length=256)
    """Why the namespace keeps public network access, written to a tag for the baseline policy."""


class MessagingSettings(ConfigModel):
    """Service Bus, mirroring servicebus.bicep (namespace + ManagementPolicy + ApplicationPolicy)."""

    namespace_name: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$")
    """The namespace's name. Default `sb-MeAjudaAi-<env>`, as main.bicep named it."""
    sku: Literal["Basic", "Standard", "Premium"] = "Standard"
    """Service Bus tier: Standard or Premium (Basic has no topics)."""
    public_network_access: bool = True
    """Whether the namespace accepts traffic from public networks."""
    disable_local_auth: bool = False
    """Refuse SAS keys (Entra ID only); the app still uses the ApplicationPolicy key today."""
    topics: list[str] = Field(default_factory=lambda: ["MeAjudaAi-events", "users-events"])
    """Topics the program declares (the list replaces the default as a whole)."""
    # The app's own names for them (appsettings Messaging:ServiceBus:DefaultTopicName / DomainTopics).
    default_topic: str = "MeAjudaAi-events"
    """The app's `Messaging:ServiceBus:DefaultTopicName`; must be a declared topic."""
    domain_topics: dict[str, str] = Field(default_factory=lambda: {"Users": "users-events"})
    """The app's `Messaging:ServiceBus:DomainTopics` (domain -> topic); each a declared topic."""
    # dev lets the app create topics itself (Manage); elsewhere the topics are declared here and the app
    # gets Send/Listen only.
    app_rights: Literal["manage", "sendListen"] = "sendListen"
    """Which rule the app connects with: manage (creates its own topics, dev) or sendListen."""
    justifications: Justifications = Justifications()
    """Reasons recorded for the exceptions to the baseline policy."""

    @field_validator("namespace_name")
    @classmethod
    def _namespace_name(cls, value: str | None) -> str | None:
        if value is not None and value.lower().endswith(("-sb", "-mgmt")):
            raise ValueError(f"{value!r}: Service Bus namespace names cannot end with -sb or -mgmt")
        return value

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        for topic in value:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,259}", topic):
                raise ValueError(f"topic name {topic!r} is not a valid Service Bus entity name")
        if len(set(value)) != len(value):
            raise ValueError("topic names must be unique")
        return value

    @model_validator(mode="after")
    def _sku_rules(self) -> MessagingSettings:
        if self.sku == "Basic":
            raise ValueError(
                "sku Basic has no topics, and the app publishes to topics: use Standard or Premium"
            )
        for role, topic in {"defaultTopic": self.default_topic, **self.domain_topics}.items():
            if topic not in self.topics:
                raise ValueError(f"{role} {topic!r} is not one of the declared topics {self.topics}")
        return self


# ------------------------------------------------------------------------------------------- key vault
class KeyVaultSettings(ConfigModel):
    # Global, 3-24 characters, and reserved while a deleted vault is soft-deleted: after a destroy of dev or
    # staging either purge the old vault or name a new one here (docs/operations.md, "Destroy and recreate").
    name: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
    """The vault's name (global, 3-24 characters). Default `kv-mjai-<env>-<6 characters of
    uniqueString(resource group id)>`."""
    sku: Literal["standard", "premium"] = "standard"
    """standard or premium (HSM-backed keys)."""
    soft_delete_retention_days: int = Field(default=90, ge=7, le=90)
    """Days a deleted vault and its secrets can be recovered (7-90); the name stays reserved that long."""
    purge_protection: bool = False
    """Forbid purging deleted secrets and the vault before retention ends; cannot be turned off; true in
    prod."""
    public_network_access: bool = True
    """Whether the vault accepts traffic from public networks (RBAC still guards every secret)."""

    @field_validator("name")
    @classmethod
    def _vault_name(cls, value: str | None) -> str | None:
        if value is not None and "--" in value:
            raise ValueError(f"{value!r}: Key Vault names cannot contain consecutive hyphens")
        return value


# ----------------------------------------------------------------------------------------------- api
class AuthSettings(ConfigModel):
    mode: Literal["simplified", "full", "external"] = "simplified"
    """simplified (no Keycloak, dev), full (Keycloak) or external (Keycloak with external identity
    providers)."""
    keycloak_url: str | None = Field(default=None, pattern=r"^https://[^\s/]+(/[^\s]*)?$")
    """Keycloak's base URL (https), required unless the mode is simplified."""
    realm: str = Field(default="meajudaai", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    """The Keycloak realm."""
    client_id: str = Field(default="meajudaai-api", pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    """The API's Keycloak client id; its secret is the `keycloakClientSecret` Pulumi secret."""
    external_providers: list[Literal["google", "facebook", "instagram"]] = Field(default_factory=list)
    """Identity providers offered through Keycloak in external mode."""

    @model_validator(mode="after")
    def _mode_rules(self) -> AuthSettings:
        if self.mode in ("full", "external") and not self.keycloak_url:
            raise ValueError(f"mode {self.mode} needs keycloakUrl (https://...)")
        if self.mode == "external" and not self.external_providers:
            raise ValueError(
                "mode external needs at least one of externalProviders: google, facebook, instagram"
            )
        if self.mode != "external" and self.external_providers:
            raise ValueError("externalProviders only apply with mode external")
        return self


class HangfireSettings(ConfigModel):
    dashboard_enabled: bool = True
    """The app's `Hangfire:DashboardEnabled` (admin-only outside Development)."""
    dashboard_path: str = Field(default="/hangfire", pattern=r"^/[A-Za-z0-9/_-]*$")
    """The app's `Hangfire:DashboardPath`."""
    worker_count: int = Field(default=5, ge=1, le=100)
    """The app's `Hangfire:WorkerCount`."""


# One path component of an OCI image name: lowercase alphanumerics with single separators.
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
# [registry[:port]/]path, no tag or digest: the tag is always the release id.
IMAGE_REPOSITORY = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    rf"(?::[0-9]+)?/)?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*$"
)
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class ImageSettings(ConfigModel):
    """The API's container image, on App Service and on Kubernetes alike. Its tag is always `release.id`:
    what runs is the release the compatibility gate judged, and a new release is a new image."""

    repository: str = Field(default="acrmeajudaai.azurecr.io/meajudaai-api", min_length=1, max_length=255)
    """The API's image repository (no tag: the tag is `release.id`)."""
    # Where the Azure Container Registry of an `*.azurecr.io` repository lives (same subscription): the
    # app's identity gets AcrPull on it before the app exists. The platform's docs keep it in rg-meajudaai.
    registry_resource_group: str = Field(default="rg-meajudaai", pattern=r"^[-\w.()]{1,89}[-\w()]$")
    """Resource group of the Azure Container Registry of an `*.azurecr.io` repository, for the AcrPull
    grant."""

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if "@" in value or not IMAGE_REPOSITORY.match(value):
            raise ValueError(
                f"{value!r} is not an image repository such as acrmeajudaai.azurecr.io/meajudaai-api "
                "(lowercase, no tag or digest: the tag is release.id)"
            )
        return value

    def reference(self, release_id: str) -> str:
        return f"{self.repository}:{release_id}"


class ApiSettings(ConfigModel):
    """The API's hosting and its app settings (App Service now; Kubernetes where a stack chooses it)."""

    hosting: Hosting = "appService"
    """Where the API runs: appService or kubernetes (an existing cluster; dev's default)."""
    image: ImageSettings = ImageSettings()
    """The container image both hosts run."""
    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$")
    """The web app's name. Default `meajudaai-api` in prod (the runbook's name), `meajudaai-api-<env>`
    elsewhere."""
    # Runbook rollback step 1 as code: stops the API (App Service taken offline / replicas 0).
    stopped: bool = False
    """Take the API offline (runbook rollback step 1): the web app is disabled, or the Deployment scaled to
    0. Never gated."""
    plan_sku: PlanSku = "B1"
    """App Service plan size."""
    plan_capacity: int = Field(default=1, ge=1, le=30)
    """App Service plan instances."""
    zone_redundant: bool = False
    """Spread the plan over availability zones (Premium v3 and at least 2 instances)."""
    always_on: bool = False
    """Keep the app loaded (Hangfire workers stop when it idles); required outside dev."""
    health_check_path: str = Field(default="/health", pattern=r"^/[A-Za-z0-9/_-]*$")
    """App Service's health check path."""
    public_url: str | None = Field(default=None, pattern=r"^https://[^\s/]+$")
    """The API's public https URL, which the availability tests probe. Default the app's own host name."""
    # Who binds publicUrl's host name to the App Service and holds its certificate. The program does not: a
    # custom domain needs DNS records first and a managed certificate needs the binding first, which one
    # Pulumi update cannot order. "external" says so; the stack output publicUrlDns lists the records.
    public_url_binding: Literal["external"] | None = None
    """Who binds `publicUrl`'s host name and certificate: `external` (required with publicUrl on App
    Service; docs/operations.md)."""
    auth: AuthSettings = AuthSettings()
    """Authentication (Keycloak)."""
    hangfire: HangfireSettings = HangfireSettings()
    """Hangfire dashboard and workers."""
    logging: dict[str, LogLevel] = Field(default_factory=dict)
    """Log levels by .NET category (dotted categories reach App Service on the command line)."""
    features: dict[str, bool] = Field(default_factory=dict)
    """Feature flags, as `FeatureManagement:<flag>`."""
    service_endpoints: dict[str, str] = Field(default_factory=dict)
    """URLs of the other services, as `ServiceEndpoints:<name>`."""

    @field_validator("logging")
    @classmethod
    def _log_categories(cls, value: dict[str, str]) -> dict[str, str]:
        for category in value:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9.]*", category):
                raise ValueError(
                    f"log category {category!r} must be a .NET category name such as Npgsql.Connection"
                )
        return value

    @field_validator("features")
    @classmethod
    def _feature_names(cls, value: dict[str, bool]) -> dict[str, bool]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
                raise ValueError(f"feature flag {name!r} must be letters and digits")
        return value

    @field_validator("service_endpoints")
    @classmethod
    def _endpoints(cls, value: dict[str, str]) -> dict[str, str]:
        for name, url in value.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
                raise ValueError(f"service endpoint name {name!r} must be letters and digits")
            if not re.fullmatch(r"https?://[^\s]+", url):
                raise ValueError(f"service endpoint {name} must be an http(s) URL, got {url!r}")
        return value

    @model_validator(mode="after")
    def _public_url_rules(self) -> ApiSettings:
        if self.public_url and self.hosting == "appService" and self.public_url_binding is None:
            raise ValueError(
                "publicUrlBinding: external is required with publicUrl on App Service: the program does not "
                "bind custom host names or issue their certificates (docs/operations.md, 'The public URL')"
            )
        return self

    @model_validator(mode="after")
    def _plan_rules(self) -> ApiSettings:
        if self.zone_redundant and (not self.plan_sku.startswith("P") or self.plan_capacity < 2):
            raise ValueError("zoneRedundant needs a Premium v3 planSku (P*v3) and planCapacity >= 2")
        return self


# ---------------------------------------------------------------------------------------- observability
class ObservabilitySettings(ConfigModel):
    log_retention_days: int = Field(default=30, ge=30, le=730)
    """Days Log Analytics keeps data (30-730)."""
    app_insights_sampling_percentage: float = Field(default=100.0, gt=0, le=100)
    """Percentage of telemetry Application Insights keeps."""


# ------------------------------------------------------------------------------------------ monitoring
_DURATION = r"^P(T(\d+H)?(\d+M)?|\d+D)$"


class AlertRule(ConfigModel):
    """One log alert: its threshold, the window it looks at, how often, and how loud (0 = critical)."""

    threshold: float = Field(ge=0)
    """The value above which the alert fires (a percentage or a count, by alert)."""
    window: str = Field(pattern=_DURATION)
    """How far back each evaluation looks (ISO 8601, e.g. PT1H)."""
    frequency: str = Field(pattern=_DURATION)
    """How often the alert is evaluated (ISO 8601, e.g. PT5M)."""
    severity: int = Field(ge=0, le=4)
    """Azure Monitor severity, 0 (critical) to 4 (verbose)."""
    enabled: bool = True
    """Whether the alert runs; the gate counts only enabled alerts."""


class AvailabilityCheck(ConfigModel):
    path: str = Field(pattern=r"^/[A-Za-z0-9/_.-]*$")
    """The path probed under the API's URL."""
    # /hangfire needs an authenticated admin outside Development: a 401 there proves it is up and protected.
    expected_status: int = Field(ge=100, le=599)
    """The HTTP status that means up (401 for /hangfire outside dev: mounted and protected)."""
    frequency_seconds: Literal[300, 600, 900] = 300
    """Seconds between probes from each location."""
    locations: list[str] = Field(
        default_factory=lambda: ["latam-br-gru-edge", "us-va-ash-azr", "us-tx-sn1-azr"]
    )
    """Azure availability-test locations the probe runs from."""
    failed_location_count: int = Field(default=2, ge=1)
    """How many locations must fail before the alert fires."""

    @model_validator(mode="after")
    def _enough_locations(self) -> AvailabilityCheck:
        if self.failed_location_count > len(self.locations):
            raise ValueError(
                f"failedLocationCount {self.failed_location_count} exceeds the "
                f"{len(self.locations)} locations"
            )
        return self


class MonitoringSettings(ConfigModel):
    """The runbook's mandatory signals (Hangfire failure rate, Npgsql errors, dashboard reachability, job
    duration) plus API health and HTTP 5xx; defaults are the runbook's thresholds."""

    alert_emails: list[str] = Field(default_factory=lambda: ["backend-infrastructure@meajudaai.com"])
    """Who the action group emails."""
    action_group_short_name: str = Field(default="mjai-oncall", pattern=r"^[A-Za-z0-9 _-]{1,12}$")
    """The action group's short name (12 characters), shown in SMS and emails."""
    failure_rate: AlertRule = AlertRule(threshold=5, window="PT1H", frequency="PT5M", severity=1)
    """Hangfire job failure rate over the last hour (the runbook's rollback trigger: above 5%)."""
    failure_rate_daily: AlertRule = AlertRule(threshold=5, window="P1D", frequency="PT1H", severity=2)
    """Hangfire job failure rate over a day."""
    npgsql_errors: AlertRule = AlertRule(threshold=0, window="PT15M", frequency="PT5M", severity=2)
    """NpgsqlException and pool-exhaustion errors in the app's logs."""
    job_duration: AlertRule = AlertRule(threshold=50, window="PT1H", frequency="PT15M", severity=2)
    """Background job duration increase over its baseline, in percent (the runbook: above 50%)."""
    job_duration_baseline: str = Field(default="P1D", pattern=_DURATION)
    """The period before the window that the job duration is compared with."""
    http_5xx: AlertRule = AlertRule(threshold=5, window="PT15M", frequency="PT5M", severity=2)
    """Percentage of API requests answered with HTTP 5xx."""
    min_finished_jobs: int = Field(default=20, ge=1)
    """Finished jobs needed in a window before a failure rate counts (a few jobs say little)."""
    dashboard: AvailabilityCheck = Field(
        default_factory=lambda: AvailabilityCheck.model_validate({"path": "/hangfire", "expectedStatus": 200})
    )
    """Availability test of the Hangfire dashboard."""
    api_health: AvailabilityCheck = Field(
        default_factory=lambda: AvailabilityCheck.model_validate({"path": "/health", "expectedStatus": 200})
    )
    """Availability test of the API's health endpoint."""

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", email):
                raise ValueError(f"{email!r} is not an email address")
        return value


# ---------------------------------------------------------------------------------------------- adoption
class AdoptionSettings(ConfigModel):
    """Import the resources the platform's Bicep deployed (resource group, Service Bus namespace and its
    two rules, PostgreSQL server and database) on the next `pulumi up` instead of creating them. The ARM ids
    must be known before anything runs, hence the subscription id here."""

    subscription_id: str = Field(pattern=r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
    """The subscription the Bicep deployed into; the ARM ids to import are built from it."""


# ---------------------------------------------------------------------------------------------- root
class Settings(ConfigModel):
    environment: Environment
    """Which preset the stack starts from: dev, staging or prod. Defaults to the stack name."""
    # From azure-native:location (REGION_KEY), checked before the model sees it.
    location: str = Field(pattern=r"^[a-z][a-z0-9]+$")
    """The Azure region, taken from `azure-native:location` (never set under meajudaai-infra)."""
    resource_group_name: str | None = Field(default=None, pattern=r"^[-\w.()]{1,89}[-\w()]$")
    """The resource group everything goes in. Default `meajudaai-<env>`, as the platform's Gen-1 deploy
    scripts named it."""
    repository: str = Field(default="github.com/meajudaai/meajudaai-infra", min_length=1, max_length=256)
    """The source repository, written into every resource's `repository` tag."""
    extra_tags: dict[str, str] = Field(default_factory=dict)
    """More Azure tags for every resource (no secrets: tags are plain text)."""
    network: NetworkSettings = NetworkSettings()
    """Private networking: the database's private endpoint and private DNS, the app's VNet integration."""
    database: DatabaseSettings = DatabaseSettings()
    """The PostgreSQL flexible server and its database."""
    messaging: MessagingSettings = MessagingSettings()
    """The Service Bus namespace, its two access rules and its topics."""
    key_vault: KeyVaultSettings = KeyVaultSettings()
    """The Key Vault holding the connection strings and secrets the app reads."""
    api: ApiSettings = ApiSettings()
    """The API: where it runs (App Service or Kubernetes), its image and its app settings."""
    observability: ObservabilitySettings = ObservabilitySettings()
    """Log Analytics and Application Insights."""
    monitoring: MonitoringSettings = MonitoringSettings()
    """The runbook's alerts, the availability tests and where alerts go."""
    kubernetes: KubernetesSettings = KubernetesSettings()
    """The cluster and workload settings used when `api.hosting` is kubernetes."""
    adopt: AdoptionSettings | None = None
    """Import what the platform's Bicep deployed instead of creating it (docs/bicep-parity.md)."""
    release: ReleaseConfig
    """The release being deployed: its id (also the image tag) and its NuGet package versions."""
    gate_evidence: GateEvidence | None = None
    """The compatibility gate's checklist evidence, written by `python -m gate record`
    (docs/compatibility-gate.md)."""

    @field_validator("extra_tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, tag in value.items():
            if not key or len(key) > 512 or re.search(r"[<>%&\\?/]", key):
                raise ValueError(f"tag name {key!r} must be 1-512 characters without <>%&\\?/")
            if len(tag) > 256:
                raise ValueError(f"tag {key} is longer than Azure's 256 characters")
        return value

    @model_validator(mode="after")
    def _environment_floors(self) -> Settings:
        floor = BACKUP_RETENTION_FLOOR[self.environment]
        if self.database.backup_retention_days < floor:
            raise ValueError(
                f"database.backupRetentionDays is {self.database.backup_retention_days}, below "
                f"the {self.environment} floor of {floor} days"
            )
        if self.environment == "prod":
            if not self.database.geo_redundant_backup:
                raise ValueError("database.geoRedundantBackup must stay true in prod (the backup floor)")
            if self.database.public_network_access:
                raise ValueError(
                    "database.publicNetworkAccess must be false in prod: it is reached through "
                    "its private endpoint"
                )
            if not self.key_vault.purge_protection:
                raise ValueError("keyVault.purgeProtection must be true in prod")
        if not self.database.public_network_access and not self.network.enabled:
            raise ValueError(
                "database.publicNetworkAccess false needs network.enabled true "
                "(otherwise nothing can reach the server)"
            )
        if not IMAGE_TAG.match(self.release.id) or self.release.id.lower() == "latest":
            raise ValueError(
                f"release.id {self.release.id!r} is also the API image's tag: letters, digits, '_', '.' "
                "and '-' only, not starting with '.' or '-', and never 'latest'"
            )
        problems = environment_problems(self.kubernetes, self.environment)
        if problems:
            # One line per problem, each naming its key like every other settings error.
            raise ValueError(f"\n  {PROJECT}:".join(problems))
        if self.environment != "dev" and not self.api.always_on and self.api.hosting == "appService":
            raise ValueError(
                "api.alwaysOn must be true outside dev (Hangfire workers stop when the app idles)"
            )
        return self

    @property
    def api_image(self) -> str:
        """The image both hosts run: the configured repository, tagged with the release being deployed."""
        return self.api.image.reference(self.release.id)


# ------------------------------------------------------------------------------------------- presets
_RUNBOOK_LOG_LEVELS = {
    "Default": "Information",
    "Hangfire": "Information",
    "Npgsql": "Warning",
    "Npgsql.Connection": "Information",
}

PRESETS: dict[str, dict[str, Any]] = {
    "dev": {
        "database": {
            "skuName": "Standard_B1ms",
            "skuTier": "Burstable",
            "storageSizeGb": 32,
            "backupRetentionDays": 7,
        },
        "messaging": {"appRights": "manage"},
        # dev runs the API on a developer's cluster (kind, Docker Desktop, AKS) beside a local PostGIS.
        "api": {
            "hosting": "kubernetes",
            "planSku": "B1",
            "alwaysOn": False,
            "auth": {"mode": "simplified"},
            "logging": {**_RUNBOOK_LOG_LEVELS, "Default": "Debug"},
        },
        "kubernetes": KUBERNETES_PRESETS["dev"],
    },
    "staging": {
        "database": {
            "skuName": "Standard_D2ds_v5",
            "skuTier": "GeneralPurpose",
            "storageSizeGb": 64,
            "backupRetentionDays": 14,
        },
        "messaging": {"appRights": "sendListen"},
        "keyVault": {"softDeleteRetentionDays": 30},
        "api": {
            "hosting": "appService",
            "planSku": "P0v3",
            "alwaysOn": True,
            "auth": {"mode": "full"},
            "logging": _RUNBOOK_LOG_LEVELS,
        },
        "observability": {"logRetentionDays": 60},
        "monitoring": {"dashboard": {"path": "/hangfire", "expectedStatus": 401}},
        "kubernetes": KUBERNETES_PRESETS["staging"],
    },
    "prod": {
        "network": {"enabled": True},
        "database": {
            "skuName": "Standard_D4ds_v5",
            "skuTier": "GeneralPurpose",
            "storageSizeGb": 128,
            "backupRetentionDays": 35,
            "geoRedundantBackup": True,
            "highAvailability": "ZoneRedundant",
            "publicNetworkAccess": False,
            "allowAzureServices": False,
        },
        "messaging": {"appRights": "sendListen"},
        "keyVault": {"purgeProtection": True, "softDeleteRetentionDays": 90},
        "api": {
            "hosting": "appService",
            "planSku": "P1v3",
            "planCapacity": 3,
            "zoneRedundant": True,
            "alwaysOn": True,
            "auth": {"mode": "external"},
            "logging": _RUNBOOK_LOG_LEVELS,
            "hangfire": {"dashboardEnabled": True},
        },
        "observability": {"logRetentionDays": 90},
        "monitoring": {"dashboard": {"path": "/hangfire", "expectedStatus": 401}},
        "kubernetes": KUBERNETES_PRESETS["prod"],
    },
}

# Top-level config keys that must hold Pulumi secrets, by the condition under which they are required.
SECRET_KEYS = ("keycloakClientSecret", "alertWebhookUrl")


# The region is the Azure provider's own setting, so there is one source of truth for it (Settings.location
# is filled from it, never from a meajudaai-infra key).
REGION_KEY = "azure-native:location"
# Config namespaces a stack file of this program may use: its own, the Azure provider's (login, region) and
# Pulumi's. The Kubernetes provider is the program's own, configured through meajudaai-infra:kubernetes.
NAMESPACES = (PROJECT, "azure-native", "pulumi")
_DERIVED = frozenset({"location"})


def config_keys() -> tuple[str, ...]:
    """Every top-level `meajudaai-infra:` key the settings take, as written in a stack file."""
    aliases = (field.alias or name for name, field in Settings.model_fields.items())
    return (*(a for a in aliases if a not in _DERIVED), *SECRET_KEYS)


def _namespace_problem(key: str) -> str | None:
    namespace = key.split(":", 1)[0]
    if namespace in NAMESPACES:
        return None
    hint = did_you_mean(namespace, NAMESPACES)
    if namespace == "kubernetes":
        hint = f" (the cluster is set in {PROJECT}:kubernetes: context, kubeconfig)"
    allowed = ", ".join(f"{n}:*" for n in NAMESPACES)
    return f"{key}: unknown config namespace {namespace!r}{hint}; this program reads {allowed}"


def _region(region: str | None, raw_config: Mapping[str, Any]) -> str:
    if "location" in raw_config:
        raise SettingsError(
            f"{PROJECT}:location is not a setting: the region is {REGION_KEY}, the Azure provider's own "
            f"(one source of truth): pulumi config set {REGION_KEY} <region>"
        )
    if region is None:
        raise SettingsError(
            f"{REGION_KEY} is not set: the stack's region, e.g. pulumi config set {REGION_KEY} brazilsouth"
        )
    if not re.fullmatch(r"[a-z][a-z0-9]+", region):
        raise SettingsError(
            f"{REGION_KEY}: {region!r} is not an Azure region name such as brazilsouth "
            "(lower case, no spaces)"
        )
    return region


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values; still Pulumi secrets when they reach components (never plain strings)."""

    keycloak_client_secret: Any | None
    # A team-channel webhook URL carries its own access token.
    alert_webhook_url: Any | None = None


def _parse_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Pulumi hands structured config over as JSON strings; plain values stay strings (strict models then
    reject e.g. "35" for a number with a message naming the key)."""
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                parsed[key] = json.loads(value)
                continue
            except json.JSONDecodeError:
                raise SettingsError(
                    f"{PROJECT}:{key}: is not valid structured config (JSON/YAML object)"
                ) from None
        parsed[key] = value
    return parsed


def load_settings(
    raw_config: Mapping[str, Any],
    secret_keys: set[str],
    stack: str,
    *,
    region: str | None,
    other_keys: Iterable[str] = (),
) -> Settings:
    """Build the typed settings from the stack's config.

    `raw_config` holds the `meajudaai-infra:` values (keys without the prefix), `region` the value of
    `azure-native:location`, `other_keys` every other config key the stack sets (full keys, no values).
    `environment` picks the preset (it defaults to the stack name when that is dev, staging or prod).
    """
    problems = [p for p in map(_namespace_problem, sorted(other_keys)) if p]
    if problems:
        raise SettingsError("\n".join(problems))
    location = _region(region, raw_config)
    config = _parse_values({k: v for k, v in raw_config.items() if k not in SECRET_KEYS})
    for key in SECRET_KEYS:
        if key in raw_config and key not in secret_keys:
            raise SettingsError(
                f"{PROJECT}:{key} is set in plaintext; it must be a Pulumi secret: "
                f"pulumi config set --secret {key} <value>"
            )
    for key in sorted(secret_keys - set(SECRET_KEYS)):
        # Settings become tags, app settings and names: a secret there would be published in plain text.
        raise SettingsError(
            f"{PROJECT}:{key} holds a Pulumi secret, but it is not a secret setting: its values end up in "
            f"plain text (tags, app settings, names). Secrets go in {', '.join(SECRET_KEYS)} only."
        )
    environment = config.get("environment", stack)
    if environment not in PRESETS:
        raise SettingsError(
            f"{PROJECT}:environment must be one of dev, staging, prod (got {environment!r}; "
            "it defaults to the stack name)"
        )
    # Defaults, then the environment's preset, then the stack file: each overrides key by key at every depth.
    base = deep_merge(model_defaults(Settings), PRESETS[environment])
    merged = deep_merge(base, {**config, "environment": environment, "location": location})
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as error:
        raise SettingsError(
            f"invalid stack config for stack {stack!r}:\n{format_errors(error, Settings)}"
        ) from None
    if settings.api.auth.mode != "simplified" and "keycloakClientSecret" not in raw_config:
        raise SettingsError(
            f"{PROJECT}:keycloakClientSecret is required for api.auth.mode "
            f"{settings.api.auth.mode}: pulumi config set --secret keycloakClientSecret <value>"
        )
    return settings
