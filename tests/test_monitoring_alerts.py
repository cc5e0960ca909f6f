"""The runbook's alerts as the program registers them, per stack, under the mock engine.

Thresholds and windows are the runbook's (failure rate > 5% over 1 h and 24 h, job duration > 50% over
baseline, /hangfire every 5 minutes), written here from the runbook rather than read from the settings.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from components.monitoring import iso_duration, iso_text
from tests.program import STACKS, Resource, Run, patched, run_stack

SIGNAL = "meajudaai-signal"


@pytest.fixture(params=STACKS)
def result(request: pytest.FixtureRequest) -> Run:
    run = run_stack(str(request.param))
    assert run.error is None, run.error
    return run


@pytest.fixture(params=STACKS)
def app_service_result(request: pytest.FixtureRequest) -> Run:
    """Each stack with the API on App Service (dev's default is Kubernetes on a developer's cluster)."""
    stack = str(request.param)
    run = run_stack(stack, extra=patched(stack, "api", {"hosting": "appService"}) if stack == "dev" else None)
    assert run.error is None, run.error
    return run


def rules_by_name(run: Run) -> dict[str, Resource]:
    return {
        r.get("ruleName").rsplit("-", 1)[0]: r for r in run.of_type("azure-native:monitor:ScheduledQueryRule")
    }


def condition(rule: Resource) -> dict:
    (only,) = rule.get("criteria.allOf")
    return only


def test_one_action_group_with_the_team_email(result: Run) -> None:
    group = result.one("azure-native:monitor:ActionGroup")
    assert group.get("enabled") is True
    assert group.get("location") == "global"
    assert [r["emailAddress"] for r in group.get("emailReceivers")] == [
        "backend-infrastructure@meajudaai.com"
    ]
    assert len(group.get("groupShortName")) <= 12


@pytest.mark.parametrize(
    ("rule_name", "window", "threshold", "measure"),
    [
        ("hangfire-failure-rate-1h", "PT1H", 5, "FailureRatePercent"),
        ("hangfire-failure-rate-24h", "P1D", 5, "FailureRatePercent"),
        ("job-duration", "PT1H", 50, "IncreasePercent"),
    ],
)
def test_runbook_thresholds_and_windows(
    result: Run, rule_name: str, window: str, threshold: float, measure: str
) -> None:
    rule = rules_by_name(result)[rule_name]
    assert rule.get("windowSize") == window
    crit = condition(rule)
    assert crit["threshold"] == threshold
    assert crit["operator"] == "GreaterThan"
    assert crit["metricMeasureColumn"] == measure


def test_every_log_alert_is_enabled_scoped_to_the_workspace_and_wired_to_the_action_group(
    result: Run,
) -> None:
    workspace = result.one("azure-native:operationalinsights:Workspace")
    group = result.one("azure-native:monitor:ActionGroup")
    rules = result.of_type("azure-native:monitor:ScheduledQueryRule")
    assert {r.get("tags")[SIGNAL] for r in rules} == {
        "hangfire-failure-rate",
        "npgsql-errors",
        "job-duration",
        "http-5xx",
    }
    for rule in rules:
        assert rule.get("enabled") is True
        assert rule.get("kind") == "LogAlert"
        assert rule.get("scopes") == [workspace.id]
        assert rule.get("actions.actionGroups") == [group.id]
        assert iso_duration(rule.get("evaluationFrequency")) <= iso_duration(rule.get("windowSize"))
        assert 0 <= rule.get("severity") <= 4


def test_the_one_hour_failure_rate_is_the_loudest_alert(result: Run) -> None:
    rules = rules_by_name(result)
    assert rules["hangfire-failure-rate-1h"].get("severity") < rules["hangfire-failure-rate-24h"].get(
        "severity"
    )
    assert rules["hangfire-failure-rate-1h"].get("evaluationFrequency") == "PT5M"


def test_queries_are_the_shipped_files_with_their_windows_filled(result: Run) -> None:
    rules = rules_by_name(result)
    assert "let window = 1h;" in condition(rules["hangfire-failure-rate-1h"])["query"]
    assert "let window = 1d;" in condition(rules["hangfire-failure-rate-24h"])["query"]
    npgsql = condition(rules["npgsql-errors"])
    assert "NpgsqlException" in npgsql["query"]
    assert "connection pool" in npgsql["query"]
    assert npgsql["dimensions"] == [{"name": "ErrorKind", "operator": "Include", "values": ["*"]}]
    assert npgsql["threshold"] == 0  # any Npgsql error alerts
    for rule in rules.values():
        assert "{{" not in condition(rule)["query"]


def test_job_duration_looks_back_over_its_baseline(result: Run) -> None:
    rule = rules_by_name(result)["job-duration"]
    # The window (1 h) plus the baseline period before it (1 d).
    assert iso_duration(rule.get("overrideQueryTimeRange")) == timedelta(hours=25)


@pytest.mark.parametrize(("check", "path"), [("hangfire-dashboard", "/hangfire"), ("api-health", "/health")])
def test_availability_tests_every_five_minutes_with_hidden_link(
    app_service_result: Run, check: str, path: str
) -> None:
    result = app_service_result
    component = result.one("azure-native:applicationinsights:Component")
    app = result.one("azure-native:web:WebApp")
    test = next(
        t
        for t in result.of_type("azure-native:applicationinsights:WebTest")
        if t.get("webTestName").startswith(check)
    )
    assert test.get("frequency") == 300
    assert test.get("enabled") is True
    assert test.get("kind") == "standard"
    base = (
        "https://api.meajudaai.com"
        if result.stack == "prod"
        else f"https://{app.get('name')}.azurewebsites.net"
    )
    assert test.get("request.requestUrl") == base + path
    assert test.get("tags")[f"hidden-link:{component.id}"] == "Resource"
    expected = 401 if (check == "hangfire-dashboard" and result.stack != "dev") else 200
    assert test.get("validationRules.expectedHttpStatusCode") == expected
    alert = next(
        a for a in result.of_type("azure-native:monitor:MetricAlert") if a.get("scopes")[0] == test.id
    )
    assert alert.get("enabled") is True
    assert alert.get("criteria.odataType") == "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria"
    assert alert.get("criteria.webTestId") == test.id
    assert alert.get("actions.0.actionGroupId") == result.one("azure-native:monitor:ActionGroup").id
    assert alert.get("tags")[SIGNAL] == (
        "hangfire-dashboard" if check == "hangfire-dashboard" else "api-health"
    )


def test_diagnostics_from_web_app_database_and_namespace_to_log_analytics(app_service_result: Run) -> None:
    result = app_service_result
    workspace = result.one("azure-native:operationalinsights:Workspace")
    settings = result.of_type("azure-native:monitor:DiagnosticSetting")
    targets = {s.get("resourceUri") for s in settings}
    assert targets == {
        result.one("azure-native:web:WebApp").id,
        result.one("azure-native:dbforpostgresql:Server").id,
        result.one("azure-native:servicebus:Namespace").id,
    }
    for setting in settings:
        assert setting.get("workspaceId") == workspace.id
        assert setting.get("logs") == [{"categoryGroup": "allLogs", "enabled": True}]
        assert setting.get("metrics") == [{"category": "AllMetrics", "enabled": True}]


def test_an_api_without_a_public_address_gets_no_availability_tests_but_keeps_its_log_alerts() -> None:
    # dev on a developer's cluster: Azure's test locations cannot reach it.
    run = run_stack("dev")
    assert run.of_type("azure-native:applicationinsights:WebTest") == []
    assert run.of_type("azure-native:monitor:MetricAlert") == []
    assert len(run.of_type("azure-native:monitor:ScheduledQueryRule")) == 5
    targets = {s.get("resourceUri") for s in run.of_type("azure-native:monitor:DiagnosticSetting")}
    assert targets == {
        run.one("azure-native:dbforpostgresql:Server").id,
        run.one("azure-native:servicebus:Namespace").id,
    }


def test_a_webhook_for_the_team_channel_is_a_secret() -> None:
    run = run_stack("dev", extra={"meajudaai-infra:alertWebhookUrl": {"secure": "x"}})
    group = run.one("azure-native:monitor:ActionGroup")
    assert group.is_secret("webhookReceivers.0.serviceUri")


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("PT5M", timedelta(minutes=5)),
        ("PT1H", timedelta(hours=1)),
        ("P1D", timedelta(days=1)),
        ("P1DT1H", timedelta(hours=25)),
    ],
)
def test_iso_durations_round_trip(text: str, delta: timedelta) -> None:
    assert iso_duration(text) == delta
    assert iso_duration(iso_text(delta)) == delta


@pytest.mark.parametrize("bad", ["5M", "PT", "P", "PT5S", "1h"])
def test_iso_duration_rejects_what_azure_monitor_does_not_take(bad: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        iso_duration(bad)
