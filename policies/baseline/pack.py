"""The baseline pack's policy objects: thin wrappers that hand plain data to the rules in `rules/`.

The SDK, left alone, turns a read of a value unknown during preview into an advisory "can't run policy"
note, even for a mandatory policy. These wrappers convert the props proxy to plain data first (unknowns
become `model.Unknown` carrying their path), so every rule sees the unknown and reports it as a violation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as policy_proxy
from pulumi_policy.proxy import UnknownValueError

from policies.baseline.model import (
    Context,
    Environment,
    ResourceRule,
    StackResource,
    StackRule,
    Unknown,
    get,
    resolve_environment,
    whole_numbers,
)
from policies.baseline.rules import all_rules

PACK_NAME = "meajudaai-baseline"
PROJECT = "meajudaai-infra"
_SENTINELS = frozenset(
    value
    for name, value in vars(policy_proxy).items()
    if name.startswith("UNKNOWN_") and name.endswith("_VALUE") and isinstance(value, str)
)


def _item(container: Any, key: Any) -> Any:
    """The raw item, or the unknown sentinel the proxy refused to hand over."""
    try:
        return container[key]
    except UnknownValueError as error:
        return error.unknown_type_sentinel


def plain(value: Any, path: str = "") -> Any:
    """A props proxy as plain dicts and lists, each unknown replaced by an `Unknown` naming its path."""
    if isinstance(value, str):
        return Unknown(path or "the value") if value in _SENTINELS else value
    if isinstance(value, float):
        return whole_numbers(value)
    if isinstance(value, Mapping):
        return {key: plain(_item(value, key), f"{path}.{key}" if path else str(key)) for key in value}
    if isinstance(value, Sequence):
        return [plain(_item(value, i), f"{path}.{i}" if path else str(i)) for i in range(len(value))]
    return value


def _configured_environment() -> str | None:
    try:
        return pulumi.Config(PROJECT).get("environment")
    except Exception:  # config that cannot be read must not crash the pack: other sources remain
        return None


def environment_of(props: Mapping[str, Any]) -> Environment:
    """From the resource's `environment` tag, the program's config and the stack (see resolve_environment)."""
    tag = get(props, "tags.environment")
    return resolve_environment(tag, pulumi.get_stack(), _configured_environment())


def _metadata(rule: ResourceRule | StackRule) -> dict[str, Any]:
    properties = {key: dict(schema) for key, schema in rule.config.items()}
    return {
        "name": rule.name,
        "description": rule.description,
        # Every rule defaults to mandatory; config/<env>.json lowers some of them per environment.
        "enforcement_level": EnforcementLevel.MANDATORY,
        "severity": Severity[rule.severity.upper()],
        "remediation_steps": rule.remediation,
        "config_schema": PolicyConfigSchema(properties=properties) if properties else None,
    }


def _resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        props = plain(args.props)
        context = Context(environment_of(props), rule.effective_config(args.get_config()), args.resource_type)
        for message in rule.check(props, context):
            report(message, None)

    return ResourceValidationPolicy(validate=validate, **_metadata(rule))


def stack_resources(args: StackValidationArgs) -> list[StackResource]:
    resources = []
    for r in args.resources:
        props = plain(r.props)
        resources.append(
            StackResource(
                type=r.resource_type,
                urn=r.urn,
                name=r.name,
                props=props,
                protect=bool(r.opts.protect),
                environment=environment_of(props),
                parent=r.parent.urn if r.parent is not None else None,
                property_dependencies={
                    key: tuple(d.urn for d in deps) for key, deps in r.property_dependencies.items()
                },
            )
        )
    return resources


def _stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        config = rule.effective_config(args.get_config())
        for message, urn in rule.check(stack_resources(args), config):
            report(message, urn)

    return StackValidationPolicy(validate=validate, **_metadata(rule))


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [
        _resource_policy(rule) if isinstance(rule, ResourceRule) else _stack_policy(rule)
        for rule in all_rules()
    ]


def build_pack() -> PolicyPack:
    # PolicyPack's constructor serves the analyzer protocol and never returns.
    return PolicyPack(
        name=PACK_NAME,
        policies=list(policies()),
        enforcement_level=EnforcementLevel.MANDATORY,
        description="MeAjudaAi baseline: security and reliability rules for every resource type",
    )
