"""Policy objects of the compatibility gate pack: thin wrappers that feed plain data to rules.py.

The SDK skips a policy with an advisory note when it reads a value unknown during preview, even a
mandatory one. These wrappers convert the SDK's proxy to plain data first (unknowns become
``gate.unknown.UNKNOWN``), so the rules see every unknown and turn it into a violation instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as policy_proxy
from pulumi_policy.proxy import UnknownValueError

from gate.monitoring import PlannedResource
from gate.unknown import UNKNOWN
from policies.compatibility_gate import rules

PACK_NAME = "meajudaai-compatibility-gate"
# The level follows the verdict, not the --policy-pack-config file: a blocked verdict (staging, prod) is
# reported by the mandatory pair, advice (dev) by the advisory pair. A level set in a config file could
# otherwise let prod through with dev's file, or block dev when no file is given.
APP_POLICY, STACK_POLICY = rules.APP_POLICY, rules.STACK_POLICY
APP_ADVICE, STACK_ADVICE = rules.APP_ADVICE, rules.STACK_ADVICE
PROJECT = "meajudaai-infra"
# Every UNKNOWN_*_VALUE sentinel the SDK defines (string, number, boolean, array, object, asset, archive).
_SENTINELS = frozenset(
    getattr(policy_proxy, name)
    for name in dir(policy_proxy)
    if name.startswith("UNKNOWN_") and name.endswith("_VALUE")
)

_ENVIRONMENT = {"type": "string", "enum": ["dev", "staging", "prod"]}
APP_SCHEMA = PolicyConfigSchema(
    properties={
        "environment": _ENVIRONMENT,
        "minHangfireTests": {"type": "integer", "minimum": 1},
        "evidenceMaxAgeDays": {"type": "integer", "minimum": 1},
        "backupMaxAgeHours": {"type": "integer", "minimum": 1},
    }
)
STACK_SCHEMA = PolicyConfigSchema(
    properties={
        "environment": _ENVIRONMENT,
        "minBackupRetentionDays": {"type": "integer", "minimum": 1, "maximum": 35},
        "requireGeoRedundantBackup": {"type": "boolean"},
    }
)


def plain(value: Any) -> Any:
    """Deep copy of a props proxy with every unknown replaced by ``UNKNOWN`` (never raises)."""
    if isinstance(value, str):
        return UNKNOWN if value in _SENTINELS else value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                result[key] = plain(value[key])
            except UnknownValueError:
                result[key] = UNKNOWN
        return result
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def detected_environment() -> str | None:
    """The program's ``meajudaai-infra:environment``, else the stack name (both set by the CLI)."""
    configured = pulumi.Config(PROJECT).get("environment")
    if configured:
        return configured
    # Outside an engine-configured run the SDK reports its placeholder name "stack": not an answer.
    stack = pulumi.get_stack()
    return stack if stack and stack != "stack" else None


def _environment(
    config: Mapping[str, Any], gated: bool, report: ReportViolation, urn: str | None = None
) -> str | None:
    """The environment when this policy of the pair speaks for it, else None.

    A config that contradicts the stack (or no way to tell the environment) is reported by the mandatory
    policy whatever the environment, so a wrong file can never turn the gate into advice.
    """
    environment, problem = rules.resolve_environment(config.get("environment"), detected_environment())
    if problem and gated:
        report(problem, urn)
    if environment is None or rules.is_gated(environment) != gated:
        return None
    return environment


def _app_validator(gated: bool) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in rules.APP_TYPES:
            return
        config = args.get_config()
        environment = _environment(config, gated, report, args.urn)
        if environment is None:
            return
        props = plain(args.props)
        for message in rules.app_violations(args.resource_type, props, environment, _now(), config):
            report(message, None)

    return validate


def _stack_validator(gated: bool) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [
            PlannedResource(
                type=r.resource_type,
                urn=r.urn,
                props=plain(r.props),
                dependencies=tuple(d.urn for d in r.dependencies),
                property_dependencies={
                    key: tuple(d.urn for d in deps) for key, deps in r.property_dependencies.items()
                },
            )
            for r in args.resources
        ]
        if not any(r.type in rules.APP_TYPES for r in resources):
            return
        config = args.get_config()
        environment = _environment(config, gated, report)
        if environment is None:
            return
        for message, urn in rules.planned_resource_violations(resources, environment, config):
            report(message, urn)

    return validate


def _now() -> datetime:
    return datetime.now(UTC)


_APP_DESCRIPTION = (
    "Hangfire.PostgreSql + Npgsql compatibility gate: the release stamped on the app must be a validated "
    "or compatible package set, or have the runbook checklist complete and fresh for this release."
)
_STACK_DESCRIPTION = (
    "Hangfire.PostgreSql + Npgsql compatibility gate, items derived from the planned resources: "
    "monitoring alerts enabled and reaching an action group, database backup settings."
)


def _pair(gated: bool) -> tuple[ResourceValidationPolicy, StackValidationPolicy]:
    """The resource and stack policies that speak for gated stacks (mandatory) or for dev (advisory)."""
    level = EnforcementLevel.MANDATORY if gated else EnforcementLevel.ADVISORY
    role = "Blocks staging and prod." if gated else "Advice in dev, which the gate never blocks."
    app = ResourceValidationPolicy(
        name=APP_POLICY if gated else APP_ADVICE,
        description=f"{_APP_DESCRIPTION} {role}",
        validate=_app_validator(gated),
        enforcement_level=level,
        config_schema=APP_SCHEMA,
    )
    stack = StackValidationPolicy(
        name=STACK_POLICY if gated else STACK_ADVICE,
        description=f"{_STACK_DESCRIPTION} {role}",
        validate=_stack_validator(gated),
        enforcement_level=level,
        config_schema=STACK_SCHEMA,
    )
    return app, stack


app_policy, stack_policy = _pair(gated=True)
app_advice, stack_advice = _pair(gated=False)
POLICIES = [app_policy, stack_policy, app_advice, stack_advice]


def build_pack() -> PolicyPack:
    # PolicyPack's constructor serves the analyzer protocol and never returns.
    return PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
