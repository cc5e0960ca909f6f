"""The one place that reads Pulumi config: the raw stack config in, for `settings.load_settings`.

Only the SDK's public API is used (`pulumi.Config`, `pulumi.runtime.get_config_env`, `is_config_secret`,
`get_config_secret_keys_env`), so an SDK upgrade cannot silently change what the settings see.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.runtime

from components.settings import PROJECT, REGION_KEY, SECRET_KEYS, StackSecrets, config_keys


def _present_keys() -> set[str]:
    """Every `meajudaai-infra:` key set for this stack, known to the settings or not.

    The SDK cannot list config keys; the language host hands the whole stack config to the program in
    PULUMI_CONFIG, which is where an unknown key (a typo) shows up. Known keys are asked for one by one too,
    so config given to the SDK directly (as tests and mocks do) is seen as well.
    """
    prefix = f"{PROJECT}:"
    listed = {key.removeprefix(prefix) for key in pulumi.runtime.get_config_env() if key.startswith(prefix)}
    return listed | {key for key in config_keys() if pulumi.runtime.get_config(prefix + key) is not None}


def other_config() -> tuple[str | None, set[str]]:
    """The region (`azure-native:location`) and the other namespaces' keys (their values are not read)."""
    prefix = f"{PROJECT}:"
    others = {key for key in pulumi.runtime.get_config_env() if not key.startswith(prefix)}
    region = pulumi.runtime.get_config(REGION_KEY)
    return (str(region) if region is not None else None), others | ({REGION_KEY} if region else set())


def raw_stack_config() -> tuple[dict[str, Any], set[str]]:
    """All `meajudaai-infra:*` values (prefix removed, as the SDK returns them) and which are secrets."""
    config = pulumi.Config(PROJECT)
    keys = _present_keys()
    secret_env = set(pulumi.runtime.get_config_secret_keys_env())
    secret = {
        key
        for key in keys
        if pulumi.runtime.is_config_secret(f"{PROJECT}:{key}") or f"{PROJECT}:{key}" in secret_env
    }
    # Secret values are not read here: load_settings only needs to know they are secrets.
    raw = {key: config.get(key) for key in sorted(keys - secret)}
    raw.update(dict.fromkeys(secret, "[secret]"))
    return {key: value for key, value in raw.items() if value is not None}, secret


def stack_secrets() -> StackSecrets:
    config = pulumi.Config(PROJECT)
    keycloak, webhook = SECRET_KEYS
    return StackSecrets(
        keycloak_client_secret=config.get_secret(keycloak), alert_webhook_url=config.get_secret(webhook)
    )
