"""Adopting the Bicep-deployed resources: the `import` ids are the ARM ids the Bicep's names imply."""

from __future__ import annotations

import pytest

from components.settings import SettingsError, load_settings
from tests.program import run_stack
from tests.test_settings import raw

SUBSCRIPTION = "12345678-1234-1234-1234-123456789abc"
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/meajudaai-dev"


def test_adoption_imports_what_the_bicep_created_by_its_arm_ids() -> None:
    result = run_stack("dev", extra={"meajudaai-infra:adopt": {"subscriptionId": SUBSCRIPTION}})
    assert result.error is None, result.error
    imported = {r.type: r.import_id for r in result.resources if r.import_id}
    server = result.one("azure-native:dbforpostgresql:Server").get("serverName")
    assert server.startswith("psql-dev-")
    sb = f"{GROUP}/providers/Microsoft.ServiceBus/namespaces/sb-MeAjudaAi-dev"
    pg = f"{GROUP}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{server}"
    assert imported == {
        "azure-native:resources:ResourceGroup": GROUP,
        "azure-native:servicebus:Namespace": sb,
        "azure-native:servicebus:NamespaceAuthorizationRule": imported[
            "azure-native:servicebus:NamespaceAuthorizationRule"
        ],
        "azure-native:dbforpostgresql:Server": pg,
        "azure-native:dbforpostgresql:Database": f"{pg}/databases/meajudaai",
    }
    rules = sorted(r.import_id for r in result.of_type("azure-native:servicebus:NamespaceAuthorizationRule"))
    assert rules == [
        f"{sb}/authorizationRules/ApplicationPolicy",
        f"{sb}/authorizationRules/ManagementPolicy",
    ]
    # The import run leaves alone what the program deliberately sets differently from the Bicep.
    assert "tags" in result.one("azure-native:servicebus:Namespace").ignore_changes
    assert "network" in result.one("azure-native:dbforpostgresql:Server").ignore_changes


def test_without_adoption_nothing_is_imported() -> None:
    result = run_stack("dev")
    assert [r.name for r in result.resources if r.import_id] == []


def test_adoption_needs_a_subscription_id() -> None:
    with pytest.raises(SettingsError, match=r"meajudaai-infra:adopt\.subscriptionId"):
        load_settings(raw(adopt={"subscriptionId": "my-subscription"}), set(), "dev", region="brazilsouth")
