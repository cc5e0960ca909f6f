"""The one place that reads Pulumi config: the raw stack config in, for `settings.load_settings`.

Only the SDK's public API is used (`pulumi.Config`, `pulumi.runtime.get_config_env`, `is_config_secret`,
`get_config_secret_keys_env`), so an SDK upgrade cannot silently change what the settings see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.runtime

from components.settings import PROJECT, REGION_KEY, SECRET_KEYS, StackSecrets, config_keys


@dataclass(frozen=True)
class StackConfig:
    """What `settings.load_settings` is given: the program's values, and what surrounds them."""

    # `meajudaai-infra:` values, prefix removed, as the SDK returns them (secrets only named).
    raw: dict[str, Any]
    secret_keys: set[str]
    # `azure-native:location`, the stack's region.
    region: str | None
    # Every other namespace's keys (their values are not read).
    other_keys: set[str]


def read_stack_config() -> StackConfig:
    """The stack's config as the program sees it.

    The SDK cannot list config keys; the language host hands the whole stack config to the program in
    PULUMI_CONFIG, which is where an unknown key (a typo, another namespace) shows up. Known keys are
    asked for one by one too, so config given to the SDK directly (as tests and mocks do) is seen as well.
    """
    prefix = f"{PROJECT}:"
    listed = pulumi.runtime.get_config_env()
    keys = {key.removeprefix(prefix) for key in listed if key.startswith(prefix)}
    keys |= {key for key in config_keys() if pulumi.runtime.get_config(prefix + key) is not None}
    secret_env = set(pulumi.runtime.get_config_secret_keys_env())
    secret = {
        key for key in keys if pulumi.runtime.is_config_secret(prefix + key) or prefix + key in secret_env
    }
    config = pulumi.Config(PROJECT)
    # Secret values are not read here: load_settings only needs to know they are secrets.
    raw: dict[str, Any] = {
        key: value for key in sorted(keys - secret) if (value := config.get(key)) is not None
    }
    raw.update(dict.fromkeys(secret, "[secret]"))
    region = pulumi.runtime.get_config(REGION_KEY)
    others = {key for key in listed if not key.startswith(prefix)} | ({REGION_KEY} if region else set())
    return StackConfig(raw, secret, str(region) if region is not None else None, others)


def stack_secrets() -> StackSecrets:
    config = pulumi.Config(PROJECT)
    keycloak, webhook = SECRET_KEYS
    return StackSecrets(
        keycloak_client_secret=config.get_secret(keycloak), alert_webhook_url=config.get_secret(webhook)
    )
