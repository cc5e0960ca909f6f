"""The day-2 tasks in docs/operations.md do what the page says: each YAML change there is applied to its
stack (merged into the committed stack file, as an edit would be) and the program's result checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config_model import deep_merge
from tests.program import Run, run_stack, stack_value

DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
_BLOCK = re.compile(r"^## (?P<title>.+?)$|^```yaml\n# stack: (?P<stack>\w+)\n(?P<body>.*?)^```$", re.M | re.S)


def changes() -> dict[str, tuple[str, dict[str, Any]]]:
    """Section title -> (stack, the block's config) for every `# stack:` YAML block of the page."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    title = ""
    for match in _BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        if match["title"]:
            title = match["title"]
        else:
            assert title not in found, f"two changes under {title!r}"
            found[title] = (match["stack"], yaml.safe_load(match["body"]))
    return found


CHANGES = changes()


def applied(title: str) -> Run:
    stack, block = CHANGES[title]
    extra = {}
    for key, value in block.items():
        name = key.split(":", 1)[1]
        current = stack_value(stack, name)
        extra[key] = deep_merge(current, value) if isinstance(current, dict) else value
    run = run_stack(stack, extra=extra)
    assert run.error is None, f"{title}: {run.error}"
    return run


def test_the_page_has_a_change_for_every_task_of_its_table() -> None:
    assert set(CHANGES) == {
        "A new Service Bus topic",
        "More storage for prod's database",
        "A new release and its evidence",
        "Stop the API",
        "An alert threshold",
        "An office IP for staging's database",
    }


def test_a_new_topic() -> None:
    run = applied("A new Service Bus topic")
    topics = {t.get("topicName") for t in run.of_type("azure-native:servicebus:Topic")}
    assert topics == {"MeAjudaAi-events", "users-events", "providers-events"}
    settings = run.app_settings()
    assert settings["Messaging__ServiceBus__DomainTopics__Providers"] == "providers-events"
    assert settings["Messaging__ServiceBus__DomainTopics__Users"] == "users-events"


def test_more_storage_for_prod() -> None:
    server = applied("More storage for prod's database").one("azure-native:dbforpostgresql:Server")
    assert server.get("storage.storageSizeGB") == 256
    assert server.protect


def test_a_new_release() -> None:
    run = applied("A new release and its evidence")
    assert run.one("azure-native:web:WebApp").get("siteConfig.linuxFxVersion").endswith(":2026.12.1")
    gate = run.outputs["compatibilityGate"]
    assert (gate["release"], gate["status"]) == ("2026.12.1", "blocked")


def test_stop_the_api() -> None:
    run = applied("Stop the API")
    assert run.one("azure-native:web:WebApp").get("enabled") is False
    assert run.outputs["compatibilityGate"]["status"] == "stopped"


def test_an_alert_threshold() -> None:
    run = applied("An alert threshold")
    rule = run.one("azure-native:monitor:ScheduledQueryRule", "monitoring-hangfire-failure-rate-1h")
    assert rule.get("criteria.allOf.0.threshold") == 3
    assert (rule.get("windowSize"), rule.get("evaluationFrequency")) == ("PT1H", "PT5M")


def test_an_office_ip_for_staging() -> None:
    run = applied("An office IP for staging's database")
    rules = {r.get("firewallRuleName"): r for r in run.of_type("azure-native:dbforpostgresql:FirewallRule")}
    office = rules["office-sao-paulo"]
    assert (office.get("startIpAddress"), office.get("endIpAddress")) == ("203.0.113.10", "203.0.113.10")
    assert "AllowAzureServices" in rules


@pytest.mark.parametrize("title", sorted(CHANGES))
def test_each_change_names_a_committed_stack(title: str) -> None:
    stack, block = CHANGES[title]
    assert (DOC.parent.parent / f"Pulumi.{stack}.yaml").is_file()
    assert all(key.startswith("meajudaai-infra:") for key in block)
