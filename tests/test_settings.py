"""Stack config → typed settings: presets, key-by-key overrides, and every bad value named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.settings import BACKUP_RETENTION_FLOOR, SettingsError, deep_merge, load_settings

RELEASE = {
    "id": "cc4de0a8",
    "packages": {
        "npgsqlEntityFrameworkCorePostgreSql": "10.0.3",
        "microsoftEntityFrameworkCore": "10.0.10",
        "hangfireCore": "1.8.24",
        "hangfirePostgreSql": "1.21.1",
    },
}
REGION = "brazilsouth"
KEYCLOAK: dict[str, Any] = {"auth": {"keycloakUrl": "https://auth.example.com"}}
PROD_AUTH: dict[str, Any] = {
    "auth": {"keycloakUrl": "https://auth.example.com", "externalProviders": ["google"]}
}


def raw(**keys: Any) -> dict[str, str]:
    """Stack config as Pulumi hands it to the program: objects as JSON strings, scalars as strings."""
    keys.setdefault("release", RELEASE)
    return {k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in keys.items()}


def load(stack: str = "dev", secret: bool = True, **keys: Any):
    config = raw(**keys)
    if stack != "dev" and "keycloakClientSecret" not in config:
        config["keycloakClientSecret"] = "placeholder"
    secrets = {"keycloakClientSecret"} if secret else set()
    return load_settings(config, secrets, stack, region=REGION)


def error_of(stack: str = "dev", **keys: Any) -> str:
    with pytest.raises(SettingsError) as caught:
        load(stack, **keys)
    return str(caught.value)


# ------------------------------------------------------------------------------------------ presets
def test_dev_preset_mirrors_the_bicep_database() -> None:
    db = load("dev").database
    assert (db.sku_name, db.sku_tier, db.storage_size_gb, db.backup_retention_days, db.version) == (
        "Standard_B1ms",
        "Burstable",
        32,
        7,
        "16",
    )
    assert db.geo_redundant_backup is False
    assert db.admin_login == "psqladmin"
    assert db.database_name == "meajudaai"


def test_prod_preset_hardens_what_the_bicep_left_at_minimum() -> None:
    settings = load("prod", api=PROD_AUTH)
    db = settings.database
    assert db.sku_tier == "GeneralPurpose"
    assert db.high_availability == "ZoneRedundant"
    assert (db.backup_retention_days, db.geo_redundant_backup, db.public_network_access) == (35, True, False)
    assert settings.network.enabled is True
    assert settings.key_vault.purge_protection is True
    assert settings.api.always_on is True
    assert settings.api.auth.mode == "external"


def test_a_stack_file_overrides_one_key_and_keeps_the_rest_of_the_preset() -> None:
    settings = load("staging", api={**KEYCLOAK, "planCapacity": 2}, database={"storageSizeGb": 256})
    assert settings.database.storage_size_gb == 256
    assert settings.database.sku_tier == "GeneralPurpose"  # still the staging preset
    assert settings.api.plan_capacity == 2
    assert settings.api.plan_sku == "P0v3"


def test_environment_defaults_to_the_stack_name_and_can_be_set() -> None:
    assert load("dev").environment == "dev"
    assert load_settings(raw(environment="dev"), set(), "feature-x", region=REGION).environment == "dev"
    with pytest.raises(SettingsError, match="environment must be one of dev, staging, prod"):
        load_settings(raw(), set(), "feature-x", region=REGION)


def test_deep_merge_replaces_lists_merges_objects_and_null_removes() -> None:
    merged = deep_merge({"a": {"b": 1, "c": [1, 2]}, "d": 1}, {"a": {"c": [3]}, "e": 2})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": None}}) == {"a": {"c": 2}}


def test_objects_merge_key_by_key_even_where_no_preset_defines_them() -> None:
    # The model's own defaults are merged into too, not only the presets: one new mapping keeps the others,
    # one changed threshold keeps the rule's window, frequency and severity.
    settings = load(
        "dev",
        messaging={
            "topics": ["MeAjudaAi-events", "users-events", "providers-events"],
            "domainTopics": {"Providers": "providers-events"},
        },
        monitoring={"failureRate": {"threshold": 3}},
    )
    assert settings.messaging.domain_topics == {"Users": "users-events", "Providers": "providers-events"}
    rule = settings.monitoring.failure_rate
    assert (rule.threshold, rule.window, rule.frequency, rule.severity) == (3, "PT1H", "PT5M", 1)
    # A null drops a map entry, or puts a setting back to its default.
    dropped = load("dev", messaging={"domainTopics": {"Users": None}}, api={"planSku": None})
    assert dropped.messaging.domain_topics == {}
    assert dropped.api.plan_sku == "B1"


# ------------------------------------------------------------------------------------------ bad values
@pytest.mark.parametrize(
    ("keys", "named", "allowed"),
    [
        ({"database": {"backupRetentionDays": 3}}, "meajudaai-infra:database.backupRetentionDays", "7"),
        ({"database": {"backupRetentionDays": 60}}, "meajudaai-infra:database.backupRetentionDays", "35"),
        (
            {"database": {"backupRetentionDays": "14"}},
            "meajudaai-infra:database.backupRetentionDays",
            "integer",
        ),
        ({"database": {"skuTier": "Premium"}}, "meajudaai-infra:database.skuTier", "got 'Premium'"),
        (
            {"database": {"skuName": "Standard_D4ds_v9", "skuTier": "GeneralPurpose"}},
            "meajudaai-infra:database",
            "skuName 'Standard_D4ds_v9' is not a flexible-server SKU: GeneralPurpose takes one of "
            "Standard_D2s_v3,",
        ),
        (
            {"database": {"skuName": "Standard_B1ms", "skuTier": "GeneralPurpose"}},
            "meajudaai-infra:database",
            "skuName 'Standard_B1ms' is a Burstable SKU, not GeneralPurpose",
        ),
        (
            {"database": {"skuName": "Standard_E4ds_v5", "skuTier": "Burstable"}},
            "meajudaai-infra:database",
            "is a MemoryOptimized SKU, not Burstable: Burstable takes one of Standard_B1ms, Standard_B2s",
        ),
        ({"database": {"storageSizeGb": 33}}, "meajudaai-infra:database.storageSizeGb", "32, 64"),
        ({"database": {"version": "11"}}, "meajudaai-infra:database.version", "'16'"),
        ({"database": {"highAvailability": "ZoneRedundant"}}, "meajudaai-infra:database", "Burstable"),
        (
            {"database": {"extensions": ["post gis"]}},
            "meajudaai-infra:database.extensions",
            "not a PostgreSQL extension name",
        ),
        (
            {"database": {"extensions": ["postgis", "POSTGIS"]}},
            "meajudaai-infra:database.extensions",
            "lists a name twice",
        ),
        ({"keyVault": {"name": "kv--meajudaai"}}, "meajudaai-infra:keyVault.name", "consecutive hyphens"),
        (
            {"messaging": {"namespaceName": "meajudaai-dev-sb"}},
            "meajudaai-infra:messaging.namespaceName",
            "cannot end with -sb or -mgmt",
        ),
        (
            {"messaging": {"namespaceName": "meajudaai-MGMT"}},
            "meajudaai-infra:messaging.namespaceName",
            "cannot end with -sb or -mgmt",
        ),
        (
            {
                "database": {
                    "firewallRules": [{"name": "all", "startIp": "0.0.0.0", "endIp": "255.255.255.255"}]
                }
            },
            "meajudaai-infra:database.firewallRules.0",
            "/16",
        ),
        (
            {"database": {"firewallRules": [{"name": "x", "startIp": "10.0.0.300", "endIp": "10.0.0.1"}]}},
            "meajudaai-infra:database.firewallRules.0.startIp",
            "IPv4",
        ),
        ({"database": {"serverName": "Bad_Name"}}, "meajudaai-infra:database.serverName", "pattern"),
        (
            {"database": {"backupRetentionDay": 7}},
            "meajudaai-infra:database.backupRetentionDay",
            "unknown setting (did you mean 'backupRetentionDays'?)",
        ),
        ({"databse": {}}, "meajudaai-infra:databse", "unknown setting (did you mean 'database'?)"),
        (
            {"monitoring": {"failureRate": {"treshold": 3}}},
            "meajudaai-infra:monitoring.failureRate.treshold",
            "did you mean 'threshold'?",
        ),
        (
            {"database": {"firewallRules": [{"name": "x", "startIP": "10.0.0.1", "endIp": "10.0.0.1"}]}},
            "meajudaai-infra:database.firewallRules.0.startIP",
            "did you mean 'startIp'?",
        ),
        (
            {"kubernetes": {"localPostgres": {"storagesize": "8Gi"}}},
            "meajudaai-infra:kubernetes.localPostgres.storagesize",
            "did you mean 'storageSize'?",
        ),
        ({"messaging": {"sku": "Free"}}, "meajudaai-infra:messaging.sku", "'Standard'"),
        ({"messaging": {"sku": "Basic"}}, "meajudaai-infra:messaging", "Standard or Premium"),
        ({"messaging": {"defaultTopic": "orders"}}, "meajudaai-infra:messaging", "declared topics"),
        ({"messaging": {"topics": ["a b"]}}, "meajudaai-infra:messaging.topics", "entity name"),
        (
            {"keyVault": {"softDeleteRetentionDays": 3}},
            "meajudaai-infra:keyVault.softDeleteRetentionDays",
            "7",
        ),
        ({"api": {"planSku": "F1"}}, "meajudaai-infra:api.planSku", "P1v3"),
        ({"api": {"zoneRedundant": True}}, "meajudaai-infra:api", "Premium v3"),
        ({"api": {"hosting": "vm"}}, "meajudaai-infra:api.hosting", "'kubernetes'"),
        ({"api": {"logging": {"Npgsql": "Loud"}}}, "meajudaai-infra:api.logging.Npgsql", "'Warning'"),
        ({"api": {"auth": {"mode": "full"}}}, "meajudaai-infra:api.auth", "keycloakUrl"),
        (
            {"network": {"vnetId": "/subscriptions/*/resourceGroups/*"}},
            "meajudaai-infra:network.vnetId",
            "ARM id",
        ),
        ({"network": {"appSubnetPrefix": "10.99.0.0/24"}}, "meajudaai-infra:network", "outside addressSpace"),
        ({"location": "brazilsouth"}, "meajudaai-infra:location", "the region is azure-native:location"),
        ({"extraTags": {"a/b": "c"}}, "meajudaai-infra:extraTags", "<>%&"),
        ({"unknownKey": {"x": 1}}, "meajudaai-infra:unknownKey", "unknown setting"),
        (
            {"api": {"image": {"repository": "Acr.io/API"}}},
            "meajudaai-infra:api.image.repository",
            "the tag is release.id",
        ),
        (
            {"api": {"image": {"repository": "acrmeajudaai.azurecr.io/meajudaai-api:1.0"}}},
            "meajudaai-infra:api.image.repository",
            "no tag or digest",
        ),
        ({"release": {**RELEASE, "id": "1.4.0+build.7"}}, "meajudaai-infra:release.id", "image's tag"),
        ({"release": {**RELEASE, "id": "latest"}}, "meajudaai-infra:release.id", "never 'latest'"),
        (
            {"api": {"hosting": "appService", "publicUrl": "https://api.example.com"}},
            "meajudaai-infra:api",
            "publicUrlBinding: external is required",
        ),
    ],
)
def test_a_bad_value_is_rejected_naming_the_key_and_what_is_allowed(
    keys: dict, named: str, allowed: str
) -> None:
    message = error_of("dev", **keys)
    assert named in message
    assert allowed in message


def test_the_same_values_pass_when_they_are_good() -> None:
    # The good twins of the cases above, so the rejections are about the values and nothing else.
    settings = load(
        "dev",
        database={
            "backupRetentionDays": 14,
            "skuTier": "GeneralPurpose",
            "skuName": "Standard_D2ds_v5",
            "highAvailability": "ZoneRedundant",
            "storageSizeGb": 64,
            "extensions": ["postgis", "PG_TRGM"],
            "firewallRules": [{"name": "office", "startIp": "203.0.113.0", "endIp": "203.0.113.255"}],
            "serverName": "psql-dev-custom",
        },
        messaging={
            "sku": "Premium",
            "topics": ["MeAjudaAi-events", "users-events", "orders"],
            "namespaceName": "sb-meajudaai-sbx",
        },
        keyVault={"name": "kv-meajudaai-dev-2"},
        api={"planSku": "P1v3", "planCapacity": 2, "zoneRedundant": True, "logging": {"Npgsql": "Warning"}},
        network={
            "enabled": True,
            "addressSpace": "10.99.0.0/16",
            "privateEndpointSubnetPrefix": "10.99.1.0/24",
            "appSubnetPrefix": "10.99.2.0/24",
        },
        extraTags={"cost-center": "platform"},
    )
    assert settings.database.firewall_rules[0].end_ip == "203.0.113.255"
    assert settings.messaging.topics[-1] == "orders"
    assert settings.database.extensions == ["postgis", "PG_TRGM"]
    assert (settings.messaging.namespace_name, settings.key_vault.name) == (
        "sb-meajudaai-sbx",
        "kv-meajudaai-dev-2",
    )


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_api_image_is_tagged_with_the_release_being_deployed(stack: str) -> None:
    auth = {"dev": {}, "staging": KEYCLOAK, "prod": PROD_AUTH}[stack]
    settings = load(stack, api=auth, release={**RELEASE, "id": "2026.12.1"})
    assert settings.api_image == "acrmeajudaai.azurecr.io/meajudaai-api:2026.12.1"
    moved = load(stack, api={**auth, "image": {"repository": "registry.example.com:5000/team/api"}})
    assert moved.api_image == "registry.example.com:5000/team/api:cc4de0a8"


def test_an_existing_vnet_needs_all_three_ids() -> None:
    vnet = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net"
        "/providers/Microsoft.Network/virtualNetworks/hub"
    )
    message = error_of("dev", network={"enabled": True, "vnetId": vnet})
    assert "vnetId, privateEndpointSubnetId and appSubnetId go together" in message
    ok = load(
        "dev",
        network={
            "enabled": True,
            "vnetId": vnet,
            "privateEndpointSubnetId": f"{vnet}/subnets/pe",
            "appSubnetId": f"{vnet}/subnets/app",
        },
    )
    assert ok.network.uses_existing_vnet


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_backup_retention_below_the_environment_floor_is_rejected(env: str) -> None:
    floor = BACKUP_RETENTION_FLOOR[env]
    api = PROD_AUTH if env == "prod" else KEYCLOAK if env == "staging" else {}
    assert load(env, api=api, database={"backupRetentionDays": floor}).database.backup_retention_days == floor
    if floor > 7:
        message = error_of(env, api=api, database={"backupRetentionDays": floor - 1})
        assert f"below the {env} floor of {floor} days" in message


@pytest.mark.parametrize(
    ("override", "phrase"),
    [
        ({"database": {"geoRedundantBackup": False}}, "geoRedundantBackup must stay true in prod"),
        ({"database": {"publicNetworkAccess": True}}, "publicNetworkAccess must be false in prod"),
        ({"keyVault": {"purgeProtection": False}}, "purgeProtection must be true in prod"),
        ({"api": {**PROD_AUTH, "alwaysOn": False}}, "alwaysOn must be true outside dev"),
    ],
)
def test_prod_refuses_weakened_settings(override: dict, phrase: str) -> None:
    keys = {"api": PROD_AUTH, **override}
    assert phrase in error_of("prod", **keys)


def test_a_secret_in_plaintext_is_an_error_naming_the_key() -> None:
    message = error_of("staging", secret=False, api=KEYCLOAK)
    assert "meajudaai-infra:keycloakClientSecret is set in plaintext" in message
    assert "pulumi config set --secret keycloakClientSecret" in message


def test_a_missing_required_secret_is_an_error() -> None:
    config = raw(api=KEYCLOAK)
    with pytest.raises(SettingsError, match=r"keycloakClientSecret is required for api\.auth\.mode full"):
        load_settings(config, set(), "staging", region=REGION)


def test_release_is_required_and_malformed_structured_config_is_named() -> None:
    config = raw()
    del config["release"]
    with pytest.raises(SettingsError, match="meajudaai-infra:release: Field required"):
        load_settings(config, set(), "dev", region=REGION)
    with pytest.raises(SettingsError, match=r"meajudaai-infra:database: is not valid structured config"):
        load_settings({**raw(), "database": "{not json"}, set(), "dev", region=REGION)


def test_a_secret_in_a_setting_that_is_not_secret_is_refused() -> None:
    # e.g. a tag value set with --secret would otherwise be published as a plaintext tag.
    config = raw(extraTags={"note": "x"})
    with pytest.raises(SettingsError, match=r"meajudaai-infra:extraTags holds a Pulumi secret"):
        load_settings(config, {"extraTags"}, "dev", region=REGION)
    assert load_settings(config, set(), "dev", region=REGION).extra_tags == {"note": "x"}


# ------------------------------------------------------------------------------- region, namespaces
def test_the_region_is_the_azure_providers_and_nothing_else() -> None:
    assert load("dev").location == "brazilsouth"
    assert load_settings(raw(), set(), "dev", region="eastus2").location == "eastus2"
    with pytest.raises(SettingsError, match=r"azure-native:location is not set: the stack's region"):
        load_settings(raw(), set(), "dev", region=None)
    with pytest.raises(SettingsError, match=r"azure-native:location: 'Brazil South' is not an Azure region"):
        load_settings(raw(), set(), "dev", region="Brazil South")


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (
            "meajuda-infra:database",
            "unknown config namespace 'meajuda-infra' (did you mean 'meajudaai-infra'?)",
        ),
        ("azure-nativ:location", "(did you mean 'azure-native'?)"),
        ("kubernetes:context", "the cluster is set in meajudaai-infra:kubernetes"),
        ("aws:region", "this program reads meajudaai-infra:*, azure-native:*, pulumi:*"),
    ],
)
def test_a_key_in_a_namespace_this_program_does_not_read_is_refused(key: str, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(raw(), set(), "dev", region=REGION, other_keys={key, "azure-native:location"})
    assert f"{key}: " in str(caught.value)
    assert words in str(caught.value)


def test_the_namespaces_a_stack_file_uses_are_accepted() -> None:
    keys = {"azure-native:location", "azure-native:useOidc", "pulumi:tags"}
    assert load_settings(raw(), set(), "dev", region=REGION, other_keys=keys).environment == "dev"
