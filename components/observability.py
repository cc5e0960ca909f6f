"""Log Analytics and a workspace-based Application Insights: where the app's telemetry and logs land."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import applicationinsights, operationalinsights

from components.settings import ObservabilitySettings


class Observability(pulumi.ComponentResource):
    workspace_id: pulumi.Output[str]
    app_insights_id: pulumi.Output[str]
    # The component's ARM id built from names known before it exists (web tests' hidden-link tag needs it).
    app_insights_arm_id: pulumi.Output[str]
    app_insights_name: pulumi.Output[str]
    connection_string: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        settings: ObservabilitySettings,
        environment: str,
        resource_group_name: pulumi.Input[str],
        # The group's and subscription's plain names, for the component's ARM id (known before it exists).
        resource_group_plain_name: str,
        subscription_id: pulumi.Input[str],
        location: str,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:observability:Observability", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        workspace = operationalinsights.Workspace(
            f"{name}-logs",
            workspace_name=f"log-meajudaai-{environment}",
            resource_group_name=resource_group_name,
            location=location,
            sku={"name": "PerGB2018"},
            retention_in_days=settings.log_retention_days,
            tags=tags,
            opts=child,
        )
        component_name = f"appi-meajudaai-{environment}"
        component = applicationinsights.Component(
            f"{name}-appinsights",
            resource_name_=component_name,
            resource_group_name=resource_group_name,
            location=location,
            kind="web",
            application_type="web",
            workspace_resource_id=workspace.id,
            ingestion_mode="LogAnalytics",
            sampling_percentage=settings.app_insights_sampling_percentage,
            tags=tags,
            opts=child,
        )
        self.workspace_id = workspace.id
        self.app_insights_id = component.id
        self.app_insights_arm_id = pulumi.Output.concat(
            "/subscriptions/",
            subscription_id,
            "/resourceGroups/",
            resource_group_plain_name,
            "/providers/Microsoft.Insights/components/",
            component_name,
        )
        self.app_insights_name = pulumi.Output.from_input(component_name)  # known during a preview
        # It embeds the instrumentation key: treated as a secret, delivered through Key Vault.
        self.connection_string = pulumi.Output.secret(component.connection_string)
        self.register_outputs({"workspaceId": self.workspace_id, "appInsightsId": self.app_insights_id})
