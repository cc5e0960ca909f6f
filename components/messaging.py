"""Service Bus (mirror of Gen-1 servicebus.bicep): the namespace, its two SAS rules, and the app's topics."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import servicebus

from components.adoption import Adoption, adopt
from components.settings import MessagingSettings

MANAGEMENT_POLICY = "ManagementPolicy"
APPLICATION_POLICY = "ApplicationPolicy"
RULE_RIGHTS = {
    MANAGEMENT_POLICY: ["Manage", "Send", "Listen"],
    APPLICATION_POLICY: ["Send", "Listen"],
}


def app_policy(settings: MessagingSettings) -> str:
    """Which rule the app connects with: Manage where it creates its own topics (dev), else Send/Listen."""
    return MANAGEMENT_POLICY if settings.app_rights == "manage" else APPLICATION_POLICY


class Messaging(pulumi.ComponentResource):
    namespace_name: pulumi.Output[str]
    namespace_id: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    app_connection_string: pulumi.Output[str]
    app_policy_name: str

    def __init__(
        self,
        name: str,
        *,
        settings: MessagingSettings,
        namespace_name: str,
        resource_group_name: pulumi.Input[str],
        location: str,
        tags: dict[str, str],
        protect: bool,
        adoption: Adoption | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:messaging:Messaging", name, None, opts)
        namespace_path = f"Microsoft.ServiceBus/namespaces/{namespace_name}"
        child = pulumi.ResourceOptions(parent=self)

        justification_tags = {
            f"justification-{kind}": text
            for kind, text in (
                ("local-auth", settings.justifications.local_auth),
                ("public-network-access", settings.justifications.public_network_access),
            )
            if text
        }
        namespace = servicebus.Namespace(
            f"{name}-namespace",
            namespace_name=namespace_name,
            resource_group_name=resource_group_name,
            location=location,
            sku=servicebus.SBSkuArgs(
                name=servicebus.SkuName(settings.sku), tier=servicebus.SkuTier(settings.sku)
            ),
            minimum_tls_version="1.2",
            public_network_access="Enabled" if settings.public_network_access else "Disabled",
            disable_local_auth=settings.disable_local_auth,
            tags={**tags, **justification_tags},
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=protect,
                retain_on_delete=protect,
                # Azure makes namespaces zone-redundant itself where the region has zones; the program
                # leaves it unset, so what a refresh records is Azure's choice, not drift.
                ignore_changes=["zoneRedundant"],
            ).merge(adopt(adoption, namespace_path, ignore=["tags"])),
        )
        rules = {
            rule_name: servicebus.NamespaceAuthorizationRule(
                f"{name}-{rule_name}",
                authorization_rule_name=rule_name,
                namespace_name=namespace.name,
                resource_group_name=resource_group_name,
                rights=[servicebus.AccessRights(right) for right in rights],
                opts=child.merge(adopt(adoption, f"{namespace_path}/authorizationRules/{rule_name}")),
            )
            for rule_name, rights in RULE_RIGHTS.items()
        }
        for topic in settings.topics:
            servicebus.Topic(
                f"{name}-topic-{topic}",
                topic_name=topic,
                namespace_name=namespace.name,
                resource_group_name=resource_group_name,
                opts=child,
            )

        self.app_policy_name = app_policy(settings)
        app_rule = rules[self.app_policy_name]
        # Keyed on the rule's id so the keys are only listed once the rule exists: a first preview
        # (id unknown) must not ask Azure for keys of a namespace that is not there yet.
        policy_name = self.app_policy_name

        def list_keys(values: list[str]) -> pulumi.Output[str]:
            keys = servicebus.list_namespace_keys_output(
                authorization_rule_name=policy_name,
                namespace_name=values[1],
                resource_group_name=resource_group_name,
            )
            return keys.apply(lambda k: k.primary_connection_string)

        self.app_connection_string = pulumi.Output.secret(
            pulumi.Output.all(app_rule.id, namespace.name).apply(list_keys)
        )
        self.namespace_name = pulumi.Output.from_input(namespace_name)  # known during a preview
        self.namespace_id = namespace.id
        self.endpoint = namespace.service_bus_endpoint
        self.register_outputs({"namespaceName": self.namespace_name, "endpoint": self.endpoint})
