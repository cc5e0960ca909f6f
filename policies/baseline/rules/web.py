"""App Service: the web app's transport, identity, debugging, health and the secrets in its settings."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policies.baseline.model import (
    MISSING,
    Context,
    ResourceRule,
    Unknown,
    cannot_verify,
    get,
    of_types,
    require,
    tls_problems,
)

WEB_APP = "azure-native:web:WebApp"
WEB_APP_SLOT = "azure-native:web:WebAppSlot"
SITES = of_types(WEB_APP, WEB_APP_SLOT)
APP_SETTINGS = "azure-native:web:WebAppApplicationSettings"
APP_SETTINGS_SLOT = "azure-native:web:WebAppApplicationSettingsSlot"
CONNECTION_STRINGS = "azure-native:web:WebAppConnectionStrings"
CONNECTION_STRINGS_SLOT = "azure-native:web:WebAppConnectionStringsSlot"


def check_https_only(props: Mapping[str, Any], ctx: Context) -> list[str]:
    return require(props, "httpsOnly", True, "plain HTTP requests would be served instead of redirected")


def check_min_tls(props: Mapping[str, Any], ctx: Context) -> list[str]:
    minimum = ctx.config["minimum"]
    why = f"state TLS {minimum} or later explicitly"
    # The SCM (Kudu) site has its own setting; when absent it follows Azure's default (1.2).
    return tls_problems(props, "siteConfig.minTlsVersion", minimum, True, why) + tls_problems(
        props, "siteConfig.scmMinTlsVersion", minimum, False, why
    )


def check_ftps(props: Mapping[str, Any], ctx: Context) -> list[str]:
    allowed: Sequence[str] = ctx.config["allowed"]
    value = get(props, "siteConfig.ftpsState")
    if isinstance(value, Unknown):
        return [cannot_verify(value, "siteConfig.ftpsState")]
    if value is MISSING:
        return ["siteConfig.ftpsState is not set: Azure's default (AllAllowed) accepts plain FTP"]
    if value not in allowed:
        return [f"siteConfig.ftpsState is {value!r}, allowed: {', '.join(allowed)}"]
    return []


def check_identity(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = get(props, "identity.type")
    if isinstance(value, Unknown):
        return [cannot_verify(value, "identity.type")]
    if not isinstance(value, str) or not (
        {"SystemAssigned", "UserAssigned"} & set(re.split(r"[,\s]+", value))
    ):
        return ["no managed identity (identity.type SystemAssigned or UserAssigned): the app needs secrets "
                "or keys to reach Key Vault and other services"]  # fmt: skip
    return []


def check_remote_debugging(props: Mapping[str, Any], ctx: Context) -> list[str]:
    # Absent is Azure's default: off.
    why = "a debugger port is open on the app"
    return require(props, "siteConfig.remoteDebuggingEnabled", False, why, missing_ok=True)


def check_http2(props: Mapping[str, Any], ctx: Context) -> list[str]:
    return require(props, "siteConfig.http20Enabled", True, "clients are held to HTTP/1.1")


def check_health_check(props: Mapping[str, Any], ctx: Context) -> list[str]:
    value = get(props, "siteConfig.healthCheckPath")
    if isinstance(value, Unknown):
        return [cannot_verify(value, "siteConfig.healthCheckPath")]
    if not isinstance(value, str) or not value.startswith("/"):
        return ["siteConfig.healthCheckPath is not set: App Service keeps routing to an unhealthy instance"]
    return []


# ------------------------------------------------------------------------------ secrets in app settings
KEY_VAULT_REFERENCE = re.compile(
    r"^@Microsoft\.KeyVault\((SecretUri=https://[^;)\s]+|VaultName=[^;)\s]+;SecretName=[^;)\s]+"
    r"(;SecretVersion=[^;)\s]+)?)\)$"
)
# Words that make a setting's name look like it holds a secret (compared on the name's lower-cased
# words, with '__', ':', '.', '-', '_' and camelCase humps as separators).
SECRET_NAME_WORDS = (
    "password", "passwd", "pwd", "secret", "token", "apikey", "connectionstring", "connectionstrings",
    "credential", "credentials", "sas", "signature", "privatekey", "accountkey", "accesskey",
)  # fmt: skip
# ...and words that do so only at the end of the name (ApiKey, InstrumentationKey; not KeyVault__Uri).
SECRET_NAME_LAST_WORDS = ("key", "keys")
# Fragments that give a value away as a secret whatever its setting is called.
SECRET_VALUE_PATTERNS = (
    r"(^|;)\s*(password|pwd)\s*=",
    r"SharedAccessKey\s*=",
    r"SharedAccessSignature\s*=",
    r"InstrumentationKey\s*=",
    r"AccountKey\s*=",
    r"AccessKey\s*=",
    r"ClientSecret\s*=",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"://[^/\s:@]+:[^/\s@]+@",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.",
)


def name_words(name: str) -> list[str]:
    """Lower-cased words of a setting name: '__', ':', '.', '-', '_', spaces and camelCase humps split."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w.lower() for w in re.split(r"[\s_:.\-]+", spaced) if w]


def looks_secret_by_name(name: str, words: Sequence[str], last_words: Sequence[str]) -> bool:
    found = name_words(name)
    if not found:
        return False
    # Joined neighbours too, so CONNECTION_STRING and ConnectionString both read "connectionstring".
    joined = {a + b for a, b in itertools.pairwise(found)}
    return bool(({*found, *joined}) & {w.lower() for w in words}) or found[-1] in {
        w.lower() for w in last_words
    }


def secret_value_pattern(value: str, patterns: Sequence[str]) -> str | None:
    for pattern in patterns:
        if re.search(pattern, value, re.IGNORECASE):
            return pattern
    return None


def _settings_of(resource_type: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any, bool]]:
    """(where, name, value, is a connection string) for every setting the resource carries.

    An unknown list yields one entry whose value is that unknown.
    """
    if resource_type in (APP_SETTINGS, APP_SETTINGS_SLOT, CONNECTION_STRINGS, CONNECTION_STRINGS_SLOT):
        connection = resource_type in (CONNECTION_STRINGS, CONNECTION_STRINGS_SLOT)
        mapping = get(props, "properties")
        if isinstance(mapping, Unknown):
            yield "properties", None, mapping, connection
        elif isinstance(mapping, Mapping):
            for name, value in mapping.items():
                inner = get(value, "value") if isinstance(value, Mapping) else value
                yield f"properties.{name}", name, inner, connection
        return
    for path, value_key in (
        ("siteConfig.appSettings", "value"),
        ("siteConfig.connectionStrings", "connectionString"),
    ):
        items = get(props, path)
        if isinstance(items, Unknown):
            yield path, None, items, value_key == "connectionString"
        elif isinstance(items, list):
            for index, item in enumerate(items):
                yield (
                    f"{path}.{index}",
                    get(item, "name"),
                    get(item, value_key),
                    value_key == "connectionString",
                )


def check_no_plaintext_secrets(props: Mapping[str, Any], ctx: Context) -> list[str]:
    """Secret-looking settings must be Key Vault references. Messages name settings, never values."""
    words, last_words = ctx.config["secretNameWords"], ctx.config["secretNameLastWords"]
    patterns = ctx.config["secretValuePatterns"]
    allowed = set(ctx.config["allowedNames"])
    found = []
    for where, name, value, connection_string in _settings_of(ctx.resource_type, props):
        label = f"{where} ({name})" if isinstance(name, str) else where
        if isinstance(name, Unknown) or isinstance(value, Unknown):
            found.append(cannot_verify(Unknown(label), "that it holds no plaintext secret"))
            continue
        if not isinstance(value, str) or not value or name in allowed:
            continue
        if value.startswith("@Microsoft.KeyVault("):
            if not KEY_VAULT_REFERENCE.match(value):
                found.append(
                    f"{label} is a malformed Key Vault reference: App Service would pass it on as text"
                )
            continue
        pattern = secret_value_pattern(value, patterns)
        if pattern:
            found.append(f"{label} holds a plaintext secret (its value matches {pattern!r})")
        elif connection_string:
            found.append(f"{label} is a connection string in plaintext, not a Key Vault reference")
        elif looks_secret_by_name(str(name), words, last_words):
            found.append(f"{label} looks like a secret by its name but is not a Key Vault reference")
    return found


TLS_SCHEMA = {"minimum": {"type": "string", "enum": ["1.2", "1.3"], "default": "1.2"}}

RULES: list[ResourceRule] = [
    ResourceRule(
        name="web-https-only",
        description="Web apps accept HTTPS only (httpsOnly).",
        severity="high",
        remediation="Set `https_only=True` on the web app (and on every slot).",
        applies_to=SITES,
        check=check_https_only,
    ),
    ResourceRule(
        name="web-min-tls-version",
        description="Web apps refuse TLS older than 1.2 (siteConfig.minTlsVersion, scmMinTlsVersion).",
        severity="high",
        remediation='Set `site_config.min_tls_version="1.2"` (and `scm_min_tls_version`).',
        applies_to=SITES,
        check=check_min_tls,
        config=TLS_SCHEMA,
    ),
    ResourceRule(
        name="web-ftps-disabled",
        description="Web apps accept no FTP or FTPS deployments (siteConfig.ftpsState Disabled).",
        severity="high",
        remediation='Set `site_config.ftps_state="Disabled"`; deploy with zip deploy or a container image.',
        applies_to=SITES,
        check=check_ftps,
        config={"allowed": {"type": "array", "items": {"type": "string"}, "default": ["Disabled"]}},
    ),
    ResourceRule(
        name="web-managed-identity",
        description="Web apps have a managed identity, so they reach Key Vault without stored credentials.",
        severity="medium",
        remediation='Set `identity={"type": "SystemAssigned"}` (or a user-assigned identity) and grant it '
        "Key Vault Secrets User on the secrets it reads.",
        applies_to=SITES,
        check=check_identity,
    ),
    ResourceRule(
        name="web-remote-debugging-disabled",
        description="Web apps have remote debugging off.",
        severity="high",
        remediation="Remove `site_config.remote_debugging_enabled` or set it to False.",
        applies_to=SITES,
        check=check_remote_debugging,
    ),
    ResourceRule(
        name="web-http2-enabled",
        description="Web apps serve HTTP/2 (siteConfig.http20Enabled).",
        severity="low",
        remediation="Set `site_config.http20_enabled=True`.",
        applies_to=SITES,
        check=check_http2,
    ),
    ResourceRule(
        name="web-health-check-path",
        description="Web apps have a health check path, so App Service stops routing to a sick instance.",
        severity="medium",
        remediation='Set `site_config.health_check_path` (the API maps "/health").',
        applies_to=SITES,
        check=check_health_check,
    ),
    ResourceRule(
        name="web-no-plaintext-secrets",
        description="No app setting or connection string holds a plaintext secret: secret-looking settings "
        "are Key Vault references (@Microsoft.KeyVault(...)).",
        severity="critical",
        remediation="Put the value in Key Vault (keyvault.Secret) and set the setting to "
        "`@Microsoft.KeyVault(VaultName=<vault>;SecretName=<name>)`, built from names known at preview; "
        "grant the app's identity Key Vault Secrets User on that secret.",
        applies_to=of_types(
            WEB_APP,
            WEB_APP_SLOT,
            APP_SETTINGS,
            APP_SETTINGS_SLOT,
            CONNECTION_STRINGS,
            CONNECTION_STRINGS_SLOT,
        ),
        check=check_no_plaintext_secrets,
        config={
            "secretNameWords": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(SECRET_NAME_WORDS),
            },
            "secretNameLastWords": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(SECRET_NAME_LAST_WORDS),
            },
            "secretValuePatterns": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(SECRET_VALUE_PATTERNS),
            },
            "allowedNames": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Setting names that look secret but are not (e.g. a public key id).",
            },
        },
    ),
]
