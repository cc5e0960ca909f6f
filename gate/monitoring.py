"""Checklist items derived from the planned resources, never from a checkbox.

Item 3, production monitoring: every required signal has an alert (``ScheduledQueryRule`` or
``MetricAlert`` tagged ``meajudaai-signal=<signal>``) that is enabled and reaches an enabled
``ActionGroup`` of the same stack with at least one receiver. Action group ids are unknown during
preview, so "reaches" is decided from the alert's (property) dependencies, i.e. from the action
group's URN, which is always known.

Item 5, second half: the PostgreSQL flexible servers' backup settings, read from their properties.

Both work on :class:`PlannedResource` (plain data): the policy pack builds them from the stack's
resources, the program can build them from what it plans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gate.unknown import is_unknown

SIGNAL_TAG = "meajudaai-signal"
REQUIRED_SIGNALS = ("hangfire-failure-rate", "npgsql-errors", "hangfire-dashboard", "job-duration")
SCHEDULED_QUERY_RULE = "azure-native:monitor:ScheduledQueryRule"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
PG_SERVER = "azure-native:dbforpostgresql:Server"
ALERT_TYPES = (SCHEDULED_QUERY_RULE, METRIC_ALERT)


@dataclass(frozen=True)
class PlannedResource:
    type: str
    urn: str
    props: Mapping[str, Any]
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class DerivedCheck:
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _receivers(props: Mapping[str, Any]) -> int:
    count = 0
    for key, value in props.items():
        if key.endswith("Receivers") and isinstance(value, Sequence) and not isinstance(value, str):
            count += len(value)
    return count


def _action_group_problem(group: PlannedResource) -> str | None:
    enabled = group.props.get("enabled")
    if is_unknown(enabled):
        return f"action group {group.name}: 'enabled' is unknown during preview"
    if enabled is not True:
        return f"action group {group.name} is not enabled"
    if _receivers(group.props) == 0:
        return f"action group {group.name} has no receivers"
    return None


def _action_count(alert: PlannedResource) -> int | None:
    """How many action-group references the alert declares; None when unknown during preview."""
    actions = alert.props.get("actions")
    if is_unknown(actions):
        return None
    if alert.type == SCHEDULED_QUERY_RULE:
        groups = actions.get("actionGroups") if isinstance(actions, Mapping) else None
        if is_unknown(groups):
            return None
        return len(groups) if isinstance(groups, Sequence) and not isinstance(groups, str) else 0
    return len(actions) if isinstance(actions, Sequence) and not isinstance(actions, str) else 0


def _alert_problem(alert: PlannedResource, groups: Mapping[str, PlannedResource]) -> str | None:
    enabled = alert.props.get("enabled")
    if is_unknown(enabled):
        return f"alert {alert.name}: 'enabled' is unknown during preview"
    if enabled is not True:
        return f"alert {alert.name} is not enabled (enabled must be true)"
    count = _action_count(alert)
    if count is None:
        return f"alert {alert.name}: its actions are unknown during preview"
    if count == 0:
        return f"alert {alert.name} has no action group"
    # The URNs the 'actions' property was built from; fall back to all dependencies.
    urns = list(alert.property_dependencies.get("actions", ())) or list(alert.dependencies)
    reached = [groups[u] for u in urns if u in groups]
    if not reached:
        return f"alert {alert.name} does not reach an action group of this stack"
    group_problems = [p for p in (_action_group_problem(g) for g in reached) if p]
    if len(group_problems) == len(reached):
        return f"alert {alert.name}: " + "; ".join(group_problems)
    return None


def _signal(alert: PlannedResource) -> object:
    tags = alert.props.get("tags")
    if is_unknown(tags):
        return tags
    return tags.get(SIGNAL_TAG) if isinstance(tags, Mapping) else None


def monitoring_check(resources: Iterable[PlannedResource]) -> DerivedCheck:
    """Item 3: each required signal has an enabled alert reaching an enabled action group."""
    resources = list(resources)
    groups = {r.urn: r for r in resources if r.type == ACTION_GROUP}
    candidates: dict[str, list[str]] = {s: [] for s in REQUIRED_SIGNALS}
    problems: list[str] = []
    satisfied: set[str] = set()
    for alert in (r for r in resources if r.type in ALERT_TYPES):
        signal = _signal(alert)
        if is_unknown(signal):
            problems.append(f"alert {alert.name}: tags are unknown during preview")
            continue
        if not isinstance(signal, str) or signal not in candidates:
            continue
        problem = _alert_problem(alert, groups)
        if problem is None:
            satisfied.add(signal)
        else:
            candidates[signal].append(problem)
    for signal in REQUIRED_SIGNALS:
        if signal in satisfied:
            continue
        found = candidates[signal]
        problems.append(
            f"signal '{signal}': " + "; ".join(found)
            if found
            else f"signal '{signal}': no alert tagged {SIGNAL_TAG}={signal}"
        )
    # Tag-unknown problems only matter while some signal is still unproven.
    if len(satisfied) == len(REQUIRED_SIGNALS):
        return DerivedCheck(())
    return DerivedCheck(tuple(problems))


def backup_settings_check(
    resources: Iterable[PlannedResource], min_retention_days: int = 7, require_geo_redundant: bool = False
) -> DerivedCheck:
    """Item 5, derived half: every planned PostgreSQL flexible server has usable backup settings."""
    servers = [r for r in resources if r.type == PG_SERVER]
    if not servers:
        return DerivedCheck(
            ("no PostgreSQL flexible server in this stack: its backup settings cannot be checked",)
        )
    problems: list[str] = []
    for server in servers:
        backup = server.props.get("backup")
        if is_unknown(backup):
            problems.append(f"server {server.name}: backup settings are unknown during preview")
            continue
        backup = backup if isinstance(backup, Mapping) else {}
        days = backup.get("backupRetentionDays")
        if is_unknown(days):
            problems.append(f"server {server.name}: backup.backupRetentionDays is unknown during preview")
        elif not isinstance(days, int | float) or isinstance(days, bool) or days < min_retention_days:
            problems.append(
                f"server {server.name}: backup.backupRetentionDays is {days!r}, "
                f"at least {min_retention_days} required"
            )
        if require_geo_redundant:
            geo = backup.get("geoRedundantBackup")
            if is_unknown(geo):
                problems.append(f"server {server.name}: backup.geoRedundantBackup is unknown during preview")
            elif geo != "Enabled":
                problems.append(
                    f"server {server.name}: backup.geoRedundantBackup is {geo!r}, 'Enabled' required"
                )
    return DerivedCheck(tuple(problems))
