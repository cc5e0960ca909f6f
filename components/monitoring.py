"""The runbook's mandatory monitoring as deployable alerts, plus diagnostics into Log Analytics.

Every alert carries the tag `meajudaai-signal`; the compatibility gate's "production monitoring configured"
item is derived from these resources (enabled, wired to an action group), never from a checkbox.
The queries live in `monitoring/kql/` (one file each); their telemetry contract is in docs/monitoring.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pulumi
from pulumi_azure_native import applicationinsights, monitor

from components.settings import AlertRule, AvailabilityCheck, MonitoringSettings
from monitoring.queries import kql

SIGNAL_TAG = "meajudaai-signal"
# The four signals the runbook makes mandatory before a prod deploy (the gate reads these), and two more.
SIGNAL_FAILURE_RATE = "hangfire-failure-rate"
SIGNAL_NPGSQL = "npgsql-errors"
SIGNAL_DASHBOARD = "hangfire-dashboard"
SIGNAL_JOB_DURATION = "job-duration"
SIGNAL_API_HEALTH = "api-health"
SIGNAL_HTTP_5XX = "http-5xx"

_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def iso_duration(text: str) -> timedelta:
    """ISO 8601 durations as Azure Monitor takes them (PT5M, PT1H, P1D)."""
    match = _ISO_DURATION.match(text)
    if not match or not any(match.groups()):
        raise ValueError(f"not an ISO 8601 duration such as PT5M or P1D: {text!r}")
    days, hours, minutes = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def iso_text(value: timedelta) -> str:
    hours, rest = divmod(int(value.total_seconds()), 3600)
    minutes = rest // 60
    if hours and hours % 24 == 0 and not minutes:
        return f"P{hours // 24}D"
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")


@dataclass(frozen=True)
class LogAlert:
    """A log alert's shape: which query, which column it measures, split by which dimensions."""

    signal: str
    query: str
    measure: str
    rule: AlertRule
    description: str
    dimensions: tuple[str, ...] = ()
    # How far back the query must look when it compares against a baseline before its window.
    lookback: timedelta | None = None


def log_alerts(settings: MonitoringSettings) -> dict[str, LogAlert]:
    """The log alerts of an environment, as data: tests and the component read the same table."""
    hour, day = settings.failure_rate, settings.failure_rate_daily
    duration_window = iso_duration(settings.job_duration.window)
    baseline = iso_duration(settings.job_duration_baseline)

    def failure_rate(rule: AlertRule) -> str:
        return kql(
            "hangfire_failure_rate",
            window=iso_duration(rule.window),
            min_finished_jobs=settings.min_finished_jobs,
        )

    return {
        "hangfire-failure-rate-1h": LogAlert(
            SIGNAL_FAILURE_RATE,
            failure_rate(hour),
            "FailureRatePercent",
            hour,
            f"Hangfire job failure rate above {hour.threshold}% over {hour.window} (the rollback trigger).",
        ),
        "hangfire-failure-rate-24h": LogAlert(
            SIGNAL_FAILURE_RATE,
            failure_rate(day),
            "FailureRatePercent",
            day,
            f"Hangfire job failure rate above {day.threshold}% over {day.window}.",
        ),
        "npgsql-errors": LogAlert(
            SIGNAL_NPGSQL,
            kql("npgsql_errors", window=iso_duration(settings.npgsql_errors.window)),
            "Errors",
            settings.npgsql_errors,
            "NpgsqlException or 'connection pool exhausted' in the app's exceptions and logs.",
            dimensions=("ErrorKind",),
        ),
        "job-duration": LogAlert(
            SIGNAL_JOB_DURATION,
            kql("job_duration_vs_baseline", window=duration_window, baseline_period=baseline, min_jobs=5),
            "IncreasePercent",
            settings.job_duration,
            f"Background job duration more than {settings.job_duration.threshold}% above its baseline.",
            dimensions=("JobType",),
            lookback=duration_window + baseline,
        ),
        "http-5xx": LogAlert(
            SIGNAL_HTTP_5XX,
            kql("api_http_5xx", window=iso_duration(settings.http_5xx.window), min_requests=20),
            "ServerErrorPercent",
            settings.http_5xx,
            f"More than {settings.http_5xx.threshold}% of API requests answered with HTTP 5xx.",
        ),
    }


class Monitoring(pulumi.ComponentResource):
    action_group_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        settings: MonitoringSettings,
        environment: str,
        resource_group_name: pulumi.Input[str],
        location: str,
        workspace_id: pulumi.Input[str],
        app_insights_id: pulumi.Input[str],
        # Where the alerts' data lives (the workspace and the Application Insights component). The ids above
        # are built from names so a preview knows them, which hides the dependency: Azure validates a log
        # alert's query against the workspace's tables and a web test's hidden-link against the component,
        # so both must exist first.
        telemetry: Sequence[pulumi.Resource],
        api_base_url: pulumi.Input[str] | None,
        diagnostics_targets: Mapping[str, pulumi.Input[str]],
        webhook_url: pulumi.Input[str] | None,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:monitoring:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        after_telemetry = pulumi.ResourceOptions(parent=self, depends_on=list(telemetry))
        self._tags = tags
        self._after_telemetry = after_telemetry

        action_group = monitor.ActionGroup(
            f"{name}-action-group",
            action_group_name=f"ag-meajudaai-{environment}",
            resource_group_name=resource_group_name,
            location="global",
            group_short_name=settings.action_group_short_name,
            enabled=True,
            email_receivers=[
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name=f"email-{index}", email_address=email, use_common_alert_schema=True
                )
                for index, email in enumerate(settings.alert_emails)
            ],
            webhook_receivers=[
                monitor.WebhookReceiverArgs(
                    name="team-channel",
                    service_uri=pulumi.Output.secret(webhook_url),
                    use_common_alert_schema=True,
                )
            ]
            if webhook_url is not None
            else None,
            tags=tags,
            opts=child,
        )
        self.action_group_id = action_group.id

        for alert_name, alert in log_alerts(settings).items():
            monitor.ScheduledQueryRule(
                f"{name}-{alert_name}",
                rule_name=f"{alert_name}-{environment}",
                resource_group_name=resource_group_name,
                location=location,
                kind="LogAlert",
                description=alert.description,
                # The App* tables of workspace-based Application Insights live in the workspace.
                scopes=[workspace_id],
                enabled=alert.rule.enabled,
                severity=alert.rule.severity,
                evaluation_frequency=alert.rule.frequency,
                window_size=alert.rule.window,
                override_query_time_range=iso_text(alert.lookback) if alert.lookback else None,
                auto_mitigate=True,
                criteria=monitor.ScheduledQueryRuleCriteriaArgs(
                    all_of=[
                        monitor.ConditionArgs(
                            query=alert.query,
                            time_aggregation="Maximum",
                            metric_measure_column=alert.measure,
                            dimensions=[
                                monitor.DimensionArgs(name=dimension, operator="Include", values=["*"])
                                for dimension in alert.dimensions
                            ],
                            operator="GreaterThan",
                            threshold=alert.rule.threshold,
                            failing_periods=monitor.ConditionFailingPeriodsArgs(
                                number_of_evaluation_periods=1, min_failing_periods_to_alert=1
                            ),
                        )
                    ]
                ),
                actions=monitor.ActionsArgs(action_groups=[action_group.id]),
                tags={**tags, SIGNAL_TAG: alert.signal},
                opts=after_telemetry,
            )

        checks = (
            ("hangfire-dashboard", SIGNAL_DASHBOARD, settings.dashboard),
            ("api-health", SIGNAL_API_HEALTH, settings.api_health),
        )
        # An API with no public address (dev on a local cluster) cannot be probed from Azure's test sites.
        if api_base_url is not None:
            for check_name, signal, check in checks:
                self._availability(
                    f"{name}-{check_name}",
                    test_name=f"{check_name}-{environment}",
                    signal=signal,
                    check=check,
                    base_url=api_base_url,
                    app_insights_id=app_insights_id,
                    action_group_id=action_group.id,
                    resource_group_name=resource_group_name,
                    location=location,
                )

        for target, resource_id in diagnostics_targets.items():
            monitor.DiagnosticSetting(
                f"{name}-diagnostics-{target}",
                name="to-log-analytics",
                resource_uri=resource_id,
                workspace_id=workspace_id,
                logs=[monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)],
                metrics=[monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)],
                opts=child,
            )
        self.register_outputs({"actionGroupId": self.action_group_id})

    def _availability(
        self,
        name: str,
        *,
        test_name: str,
        signal: str,
        check: AvailabilityCheck,
        base_url: pulumi.Input[str],
        app_insights_id: pulumi.Input[str],
        action_group_id: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        location: str,
    ) -> None:
        # Azure refuses a web test without this tag linking it to its Application Insights component.
        hidden_link = pulumi.Output.from_input(app_insights_id).apply(
            lambda component: {**self._tags, f"hidden-link:{component}": "Resource"}
        )
        test = applicationinsights.WebTest(
            name,
            web_test_name=test_name,
            synthetic_monitor_id=test_name,
            resource_group_name=resource_group_name,
            location=location,
            kind=applicationinsights.WebTestKind.STANDARD,
            web_test_kind=applicationinsights.WebTestKind.STANDARD,
            enabled=True,
            frequency=check.frequency_seconds,
            timeout=30,
            retry_enabled=True,
            locations=[applicationinsights.WebTestGeolocationArgs(location=loc) for loc in check.locations],
            request=applicationinsights.WebTestPropertiesRequestArgs(
                request_url=pulumi.Output.concat(base_url, check.path),
                http_verb="GET",
                follow_redirects=False,
                parse_dependent_requests=False,
            ),
            validation_rules=applicationinsights.WebTestPropertiesValidationRulesArgs(
                expected_http_status_code=check.expected_status,
                s_sl_check=True,
                s_sl_cert_remaining_lifetime_check=7,
            ),
            tags=hidden_link,
            opts=self._after_telemetry,
        )
        monitor.MetricAlert(
            f"{name}-alert",
            rule_name=f"{test_name}-availability",
            resource_group_name=resource_group_name,
            location="global",
            description=f"{check.path} failed from {check.failed_location_count} or more locations.",
            scopes=[test.id, app_insights_id],
            enabled=True,
            severity=1,
            evaluation_frequency="PT1M",
            window_size="PT5M",
            criteria=monitor.WebtestLocationAvailabilityCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria",
                web_test_id=test.id,
                component_id=app_insights_id,
                failed_location_count=check.failed_location_count,
            ),
            actions=[monitor.MetricAlertActionArgs(action_group_id=action_group_id)],
            tags={**self._tags, SIGNAL_TAG: signal},
            opts=self._after_telemetry,
        )
