"""Pure rules of the compatibility gate pack, over plain dicts with camelCase wire names.

Values unknown during preview arrive as ``gate.unknown.UNKNOWN`` (pack.py converts the SDK's proxy);
every rule here turns them into a violation, never into a silent pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from gate.compat import assess
from gate.decision import ENVIRONMENTS, GATED, Decision, Derived, decide
from gate.evidence import ITEM_TITLES
from gate.facts import Limits, ReleaseFacts
from gate.monitoring import PlannedResource, backup_settings_check, monitoring_check
from gate.stamp import PREFIX, StampedRelease, StampError, read_stamp
from gate.unknown import is_unknown

APP_POLICY = "hangfire-npgsql-gate"
STACK_POLICY = "hangfire-npgsql-gate-planned-resources"
APP_ADVICE = "hangfire-npgsql-gate-advice"
STACK_ADVICE = "hangfire-npgsql-gate-planned-resources-advice"

WEB_APP = "azure-native:web:WebApp"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
APP_TYPES = (WEB_APP, DEPLOYMENT)


def is_gated(environment: str) -> bool:
    """Whether the gate blocks this environment (staging, prod) or only advises (dev)."""
    return environment in GATED


def environment_problem(configured: str | None, detected: str | None) -> str | None:
    """Why the environment cannot be trusted, or None. Policy config and the stack must agree."""
    if configured is None and detected is None:
        return "cannot tell the environment: set the policy config 'environment' (dev, staging or prod)"
    for source, value in (("policy config 'environment'", configured), ("stack", detected)):
        if value is not None and value not in ENVIRONMENTS:
            return f"{source} is '{value}', expected one of {', '.join(ENVIRONMENTS)}"
    if configured and detected and configured != detected:
        return (
            f"policy config is for '{configured}' but the stack is '{detected}': use config/{detected}.json"
        )
    return None


def resolve_environment(configured: str | None, detected: str | None) -> tuple[str | None, str | None]:
    """(environment to judge the release in, problem to report).

    The stack's own environment wins over the policy config's: a wrong file is reported, and the release
    is still judged where it is really going, so a mismatch never hides a blocked verdict.
    """
    problem = environment_problem(configured, detected)
    candidates = [value for value in (detected, configured) if value in ENVIRONMENTS]
    return (candidates[0] if candidates else None), problem


def stamp_mapping(resource_type: str, props: Mapping[str, Any]) -> Any:
    """Where the program puts the stamp: Azure tags, or the Deployment's metadata.annotations."""
    if resource_type == DEPLOYMENT:
        metadata = props.get("metadata")
        if is_unknown(metadata):
            return metadata
        return metadata.get("annotations") if isinstance(metadata, Mapping) else None
    return props.get("tags")


def app_stopped(resource_type: str, props: Mapping[str, Any]) -> bool:
    """The runbook's step 1 (stop the API) must never be blocked: a stopped app runs no Hangfire job.

    Only an explicit, known value counts as stopped.
    """
    if resource_type == WEB_APP:
        return props.get("enabled") is False
    spec = props.get("spec")
    replicas = spec.get("replicas") if isinstance(spec, Mapping) else None
    # Numbers cross the analyzer protocol as protobuf doubles: 0 arrives as 0.0.
    return isinstance(replicas, int | float) and not isinstance(replicas, bool) and replicas == 0


def _unknown_keys(mapping: Mapping[str, Any]) -> list[str]:
    return sorted(k for k, v in mapping.items() if k.startswith(PREFIX) and is_unknown(v))


def read_app_stamp(resource_type: str, props: Mapping[str, Any]) -> StampedRelease:
    """The stamp of an app resource; StampError (fail closed) when missing, unknown or garbled."""
    where = "metadata.annotations" if resource_type == DEPLOYMENT else "tags"
    mapping = stamp_mapping(resource_type, props)
    if is_unknown(mapping):
        raise StampError(f"{where} are unknown during preview, so the gate cannot decide")
    if mapping is not None and not isinstance(mapping, Mapping):
        raise StampError(f"{where} is not a map")
    unknown = _unknown_keys(mapping or {})
    if unknown:
        raise StampError(f"{where} {', '.join(unknown)} unknown during preview, so the gate cannot decide")
    return read_stamp(mapping)


def stricter_limits(facts: ReleaseFacts, config: Mapping[str, Any]) -> ReleaseFacts:
    """The pack may tighten, never loosen, the limits the program stamped."""
    limits = facts.limits
    tightened = Limits(
        evidence_max_age_days=min(limits.evidence_max_age_days, config.get("evidenceMaxAgeDays", 10**6)),
        backup_max_age_hours=min(limits.backup_max_age_hours, config.get("backupMaxAgeHours", 10**6)),
        min_hangfire_tests=max(limits.min_hangfire_tests, config.get("minHangfireTests", 0)),
    )
    return replace(facts, limits=tightened)


def describe(decision: Decision) -> str:
    missing = "; ".join(i.line() for i in decision.missing)
    deferred = ", ".join(f"({i.number})" for i in decision.items if i.deferred)
    text = f"{decision.summary()}. Missing: {missing}."
    if deferred:
        policy = STACK_POLICY if is_gated(decision.environment) else STACK_ADVICE
        text += f" Item {deferred} is checked by the stack policy '{policy}'."
    return text


def app_violations(
    resource_type: str, props: Mapping[str, Any], environment: str, now: datetime, config: Mapping[str, Any]
) -> list[str]:
    """Resource rule: the app's stamped release must pass the gate in this environment."""
    if resource_type not in APP_TYPES or app_stopped(resource_type, props):
        return []
    try:
        stamped = read_app_stamp(resource_type, props)
    except StampError as exc:
        return [f"gate stamp unusable: {exc}"]
    facts = stricter_limits(stamped.facts, config)
    decision = decide(environment, facts, stamped.items, Derived(), now)
    return [] if decision.verdict == "pass" else [describe(decision)]


def _stamped_apps(resources: Iterable[PlannedResource]) -> list[tuple[PlannedResource, StampedRelease]]:
    apps = []
    for resource in resources:
        if resource.type not in APP_TYPES or app_stopped(resource.type, resource.props):
            continue
        try:
            apps.append((resource, read_app_stamp(resource.type, resource.props)))
        except StampError:
            continue  # the resource rule reports unusable stamps on the resource itself
    return apps


def planned_resource_violations(
    resources: Sequence[PlannedResource], environment: str, config: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """Stack rule: items 3 and 5 (backup settings), derived from the planned resources.

    Only for apps whose stamped release is risky; returns (message, app urn) pairs.
    """
    risky = [(app, s) for app, s in _stamped_apps(resources) if assess(s.facts).basis == "risky"]
    if not risky:
        return []
    lines = []
    monitoring = monitoring_check(resources)
    if not monitoring.ok:
        lines.append(f"(3) {ITEM_TITLES[3]}: {'; '.join(monitoring.problems)}")
    backup = backup_settings_check(
        resources,
        min_retention_days=config.get("minBackupRetentionDays", 7),
        require_geo_redundant=config.get("requireGeoRedundantBackup", environment == "prod"),
    )
    if not backup.ok:
        lines.append(f"(5) {ITEM_TITLES[5]}: backup settings: {'; '.join(backup.problems)}")
    if not lines:
        return []
    return [
        (f"release {s.facts.release} in {environment} (risky): missing: {'; '.join(lines)}", app.urn)
        for app, s in risky
    ]
