"""Items derived from planned resources: monitoring alerts (item 3) and backup settings (item 5)."""

from datetime import UTC, datetime

import pytest

from gate.facts import ReleaseFacts
from gate.monitoring import PlannedResource, backup_settings_check, monitoring_check
from gate.program import gate_outputs
from gate.unknown import UNKNOWN

STACK = "urn:pulumi:prod::meajudaai-infra::"
AG_URN = STACK + "azure-native:monitor:ActionGroup::meajudaai-prod-oncall"
SIGNALS = ["hangfire-failure-rate", "npgsql-errors", "hangfire-dashboard", "job-duration"]


def action_group(enabled=True, receivers=1, urn=AG_URN):
    email = [{"name": f"r{i}", "emailAddress": f"ops{i}@meajudaai.com"} for i in range(receivers)]
    props = {"groupShortName": "oncall", "enabled": enabled, "emailReceivers": email, "location": "global"}
    return PlannedResource("azure-native:monitor:ActionGroup", urn, props)


def log_alert(
    signal, enabled=True, group_id="/subscriptions/x/actionGroups/oncall", deps=(AG_URN,), tags=None
):
    props = {
        "kind": "LogAlert",
        "enabled": enabled,
        "tags": tags if tags is not None else {"meajudaai-signal": signal},
        "actions": {"actionGroups": [group_id] if group_id is not None else []},
    }
    urn = STACK + f"azure-native:monitor:ScheduledQueryRule::{signal}"
    return PlannedResource("azure-native:monitor:ScheduledQueryRule", urn, props, deps, {"actions": deps})


def metric_alert(signal, enabled=True, group_id=UNKNOWN):
    props = {
        "enabled": enabled,
        "tags": {"meajudaai-signal": signal},
        "actions": [{"actionGroupId": group_id}],
        "location": "global",
    }
    urn = STACK + f"azure-native:monitor:MetricAlert::{signal}"
    return PlannedResource("azure-native:monitor:MetricAlert", urn, props, (AG_URN,), {"actions": (AG_URN,)})


def healthy(**replace):
    alerts = {s: log_alert(s) for s in SIGNALS}
    alerts["hangfire-dashboard"] = metric_alert("hangfire-dashboard")
    alerts.update(replace)
    return [action_group(), *alerts.values()]


def test_all_signals_alerting_to_an_enabled_group_pass():
    assert monitoring_check(healthy()).ok


def test_unknown_action_group_ids_during_preview_pass_through_the_dependency():
    resources = healthy(**{s: log_alert(s, group_id=UNKNOWN) for s in SIGNALS})
    assert monitoring_check(resources).ok


def test_no_alerts_at_all_names_every_signal():
    problems = monitoring_check([action_group()]).problems
    assert len(problems) == 4
    for signal in SIGNALS:
        assert any(f"'{signal}'" in p for p in problems)


@pytest.mark.parametrize(
    ("resources", "fragment"),
    [
        (healthy(**{"npgsql-errors": log_alert("npgsql-errors", enabled=False)}), "is not enabled"),
        (healthy(**{"npgsql-errors": log_alert("npgsql-errors", enabled=UNKNOWN)}), "'enabled' is unknown"),
        (healthy(**{"npgsql-errors": log_alert("npgsql-errors", group_id=None)}), "has no action group"),
        (healthy(**{"npgsql-errors": log_alert("npgsql-errors", deps=())}), "does not reach an action group"),
        (
            healthy(**{"npgsql-errors": log_alert("npgsql-errors", deps=(STACK + "other::x",))}),
            "does not reach an action group",
        ),
        (healthy(**{"npgsql-errors": log_alert("npgsql-errors", tags={})}), "no alert tagged"),
    ],
)
def test_a_broken_alert_fails_its_signal(resources, fragment):
    problems = monitoring_check(resources).problems
    assert len(problems) == 1
    assert problems[0].startswith("signal 'npgsql-errors'")
    assert fragment in problems[0]


@pytest.mark.parametrize(
    ("group", "fragment"),
    [
        (action_group(enabled=False), "is not enabled"),
        (action_group(enabled=UNKNOWN), "'enabled' is unknown"),
        (action_group(receivers=0), "has no receivers"),
    ],
)
def test_a_broken_action_group_fails_every_signal(group, fragment):
    problems = monitoring_check([group, *healthy()[1:]]).problems
    assert len(problems) == 4
    assert all(fragment in p for p in problems)


def test_actions_unknown_as_a_whole_fail_closed():
    alert = log_alert("job-duration")
    props = {**alert.props, "actions": UNKNOWN}
    unknown = PlannedResource(alert.type, alert.urn, props, alert.dependencies, alert.property_dependencies)
    problems = monitoring_check(healthy(**{"job-duration": unknown})).problems
    assert list(problems) == [
        "signal 'job-duration': alert job-duration: its actions are unknown during preview"
    ]


def test_unknown_tags_are_reported_while_a_signal_is_unproven():
    unknown_tags = log_alert("job-duration", tags=UNKNOWN)
    problems = monitoring_check(healthy(**{"job-duration": unknown_tags})).problems
    assert any("tags are unknown" in p for p in problems)
    assert any(p.startswith("signal 'job-duration'") for p in problems)


def test_one_good_alert_per_signal_is_enough():
    extra = log_alert("npgsql-errors", enabled=False)
    extra = PlannedResource(
        extra.type, extra.urn + "-old", extra.props, extra.dependencies, extra.property_dependencies
    )
    assert monitoring_check([*healthy(), extra]).ok


def server(backup):
    urn = STACK + "azure-native:dbforpostgresql:Server::meajudaai-prod-pg"
    return PlannedResource("azure-native:dbforpostgresql:Server", urn, {"backup": backup})


@pytest.mark.parametrize(
    ("backup", "geo", "fragment"),
    [
        ({"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"}, True, None),
        ({"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}, False, None),
        ({"backupRetentionDays": 3, "geoRedundantBackup": "Enabled"}, True, "at least 7"),
        ({"geoRedundantBackup": "Enabled"}, True, "backupRetentionDays is None"),
        ({"backupRetentionDays": 35, "geoRedundantBackup": "Disabled"}, True, "'Enabled' required"),
        ({"backupRetentionDays": UNKNOWN, "geoRedundantBackup": "Enabled"}, True, "unknown during preview"),
        (UNKNOWN, False, "unknown during preview"),
    ],
)
def test_backup_settings(backup, geo, fragment):
    check = backup_settings_check([server(backup)], require_geo_redundant=geo)
    if fragment is None:
        assert check.ok
    else:
        assert len(check.problems) == 1
        assert fragment in check.problems[0]


def test_no_database_server_means_backup_settings_cannot_be_checked():
    assert not backup_settings_check(healthy()).ok


def test_program_outputs_judge_items_3_and_5_from_what_it_plans():
    facts = ReleaseFacts("cc4de0a8", "10.0.3", 10, "10.0.3", "10.0.10", "1.8.24", "1.21.1")
    now = datetime(2026, 11, 28, tzinfo=UTC)
    planned = [*healthy(), server({"backupRetentionDays": 35, "geoRedundantBackup": "Disabled"})]
    outputs = gate_outputs("prod", facts, None, planned, now)
    assert outputs["status"] == "blocked"
    assert outputs["deferredItems"] == []
    missing = outputs["missingItems"]
    assert isinstance(missing, list)
    assert not any(line.startswith("(3)") for line in missing)
    assert any(line.startswith("(5)") and "geoRedundantBackup" in line for line in missing)
    assert gate_outputs("prod", facts, None, None, now)["deferredItems"] != []
