"""The one place that reads Pulumi config: the raw stack config in, for `settings.load_settings`."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components.settings import PROJECT, SECRET_KEYS, StackSecrets


def raw_stack_config() -> tuple[dict[str, Any], set[str]]:
    """All `meajudaai-infra:*` keys (prefix removed) and which of them are Pulumi secrets.

    The SDK has no public way to list config keys, and unknown keys must be rejected rather than ignored,
    so this reads the runtime's config map, and the environment the CLI hands to older language hosts.
    """
    values: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | runtime_config._SECRET_KEYS.get()
    prefix = f"{PROJECT}:"
    raw = {key.removeprefix(prefix): value for key, value in values.items() if key.startswith(prefix)}
    return raw, {key.removeprefix(prefix) for key in secret_keys if key.startswith(prefix)}


def stack_secrets() -> StackSecrets:
    config = pulumi.Config(PROJECT)
    keycloak, webhook = SECRET_KEYS
    return StackSecrets(
        keycloak_client_secret=config.get_secret(keycloak), alert_webhook_url=config.get_secret(webhook)
    )
