"""Service Bus namespace: TLS, and local (SAS) auth and public access only with a written justification."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.baseline.model import (
    Context,
    ResourceRule,
    Unknown,
    cannot_verify,
    environments_schema,
    get,
    of_types,
    tls_problems,
)

NAMESPACE = "azure-native:servicebus:Namespace"
LOCAL_AUTH_TAG = "justification-local-auth"
PUBLIC_ACCESS_TAG = "justification-public-network-access"
CLOSED_ACCESS = ("Disabled", "SecuredByPerimeter")


def check_min_tls(props: Mapping[str, Any], ctx: Context) -> list[str]:
    minimum = ctx.config["minimum"]
    why = f"state {minimum} explicitly (older API versions default to 1.0)"
    return tls_problems(props, "minimumTlsVersion", minimum, True, why)


def _justified(props: Mapping[str, Any], ctx: Context, tag: str, what: str) -> list[str]:
    if not ctx.environment.within(ctx.config):
        return []
    text = get(props, f"tags.{tag}")
    if isinstance(text, Unknown):
        return [cannot_verify(text, f"the justification for {what}")]
    if not isinstance(text, str) or len(text.strip()) < ctx.config["minLength"]:
        return [
            f"{what} in {ctx.environment.name} without a justification: tag {tag!r} "
            f"(at least {ctx.config['minLength']} characters) is missing or too short{ctx.environment.note()}"
        ]
    return []


def check_local_auth(props: Mapping[str, Any], ctx: Context) -> list[str]:
    disabled = get(props, "disableLocalAuth")
    if isinstance(disabled, Unknown):
        return [cannot_verify(disabled, "disableLocalAuth")]
    if disabled is True:
        return []
    return _justified(props, ctx, LOCAL_AUTH_TAG, "local (SAS key) authentication is on")


def check_public_access(props: Mapping[str, Any], ctx: Context) -> list[str]:
    access = get(props, "publicNetworkAccess")
    if isinstance(access, Unknown):
        return [cannot_verify(access, "publicNetworkAccess")]
    if access in CLOSED_ACCESS:
        return []
    return _justified(props, ctx, PUBLIC_ACCESS_TAG, "public network access is on")


def _justification_schema(default_envs: list[str], what: str) -> dict[str, Any]:
    return {
        "environments": environments_schema(default_envs, what),
        "minLength": {"type": "integer", "minimum": 1, "default": 10},
    }


RULES: list[ResourceRule] = [
    ResourceRule(
        name="servicebus-min-tls-version",
        description="Service Bus namespaces refuse TLS older than 1.2.",
        severity="high",
        remediation='Set `minimum_tls_version="1.2"` on the namespace.',
        applies_to=of_types(NAMESPACE),
        check=check_min_tls,
        config={"minimum": {"type": "string", "enum": ["1.2", "1.3"], "default": "1.2"}},
    ),
    ResourceRule(
        name="servicebus-local-auth-justified",
        description="Service Bus local (SAS key) authentication is off, or justified in writing on the "
        f"namespace (tag {LOCAL_AUTH_TAG}) in staging and prod.",
        severity="medium",
        remediation="Set `disable_local_auth=True` and give the app's identity Azure Service Bus Data "
        "Sender/Receiver; until then set messaging.justifications.localAuth in the stack config.",
        applies_to=of_types(NAMESPACE),
        check=check_local_auth,
        config=_justification_schema(["staging", "prod"], "SAS authentication needs a justification"),
    ),
    ResourceRule(
        name="servicebus-public-network-access-justified",
        description="Service Bus public network access is off, or justified in writing on the namespace "
        f"(tag {PUBLIC_ACCESS_TAG}) in staging and prod.",
        severity="medium",
        remediation='Set `public_network_access="Disabled"` with a private endpoint (Premium tier); until '
        "then set messaging.justifications.publicNetworkAccess in the stack config.",
        applies_to=of_types(NAMESPACE),
        check=check_public_access,
        config=_justification_schema(["staging", "prod"], "public network access needs a justification"),
    ),
]
