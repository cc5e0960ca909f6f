"""What a first `pulumi up` on a real subscription needs to happen in order, read off the registered
resources' dependencies (the engine runs independent steps in parallel, so only a dependency orders them).

- A PostgreSQL flexible server takes one operation at a time (ServerBusy otherwise): its parameters,
  database, firewall rules and private endpoint form one chain.
- The web app starts after its identity may read its secrets and pull its image.
- Log alerts start after the workspace and Application Insights they query; availability tests and their
  alerts after the component their hidden-link tag names.

The checks are plain functions over (urn -> dependencies); each is also shown failing on a graph that
lacks the order, so a check that could never fail would show up here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest

from tests.program import STACKS, Resource, Run, patched, run_stack

SERVER = "azure-native:dbforpostgresql:Server"
SERVER_CHILDREN = (
    "azure-native:dbforpostgresql:Configuration",
    "azure-native:dbforpostgresql:Database",
    "azure-native:dbforpostgresql:FirewallRule",
    "azure-native:network:PrivateEndpoint",
)
WEB_APP = "azure-native:web:WebApp"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
VAULT_SECRET = "azure-native:keyvault:Secret"
WORKSPACE = "azure-native:operationalinsights:Workspace"
COMPONENT = "azure-native:applicationinsights:Component"
LOG_ALERT = "azure-native:monitor:ScheduledQueryRule"
WEB_TEST = "azure-native:applicationinsights:WebTest"
METRIC_ALERT = "azure-native:monitor:MetricAlert"

Graph = Mapping[str, Iterable[str]]


def ancestors(graph: Graph, urn: str) -> set[str]:
    """Everything `urn` waits for, directly or through other resources."""
    seen: set[str] = set()
    todo = list(graph.get(urn, ()))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(graph.get(current, ()))
    return seen


def unordered_pairs(graph: Graph, urns: list[str]) -> list[tuple[str, str]]:
    """Pairs of `urns` neither of which waits for the other: the engine may run them at the same time."""
    after = {urn: ancestors(graph, urn) for urn in urns}
    return [
        (a, b) for i, a in enumerate(urns) for b in urns[i + 1 :] if a not in after[b] and b not in after[a]
    ]


def graph_of(run: Run) -> dict[str, tuple[str, ...]]:
    return {r.urn: r.dependencies for r in run.resources}


def run(stack: str) -> Run:
    # Kubernetes-hosted dev has no web app; its App Service shape is the dev stack with that one key changed.
    extra = patched("dev", "api", {"hosting": "appService"}) if stack == "dev" else None
    result = run_stack(stack, extra=extra)
    assert result.error is None, result.error
    return result


def server_operations(result: Run) -> list[Resource]:
    server = result.one(SERVER)
    children = [r for r in result.resources if r.type in SERVER_CHILDREN]
    # Every one of them acts on this server (the endpoint through its private link), so all are counted.
    assert all(server.urn in ancestors(graph_of(result), r.urn) for r in children)
    return children


# -------------------------------------------------------------------------------------- the checks
def test_the_checks_find_what_runs_in_parallel() -> None:
    chained = {"db": ["cfg"], "cfg": ["server"], "fw": ["db"]}
    assert unordered_pairs(chained, ["cfg", "db", "fw"]) == []
    parallel = {"db": ["server"], "cfg": ["server"], "fw": ["db"]}
    assert unordered_pairs(parallel, ["cfg", "db", "fw"]) == [("cfg", "db"), ("cfg", "fw")]
    assert ancestors({"app": ["grant"], "grant": ["secret"]}, "app") == {"grant", "secret"}
    assert ancestors({"app": ["grant"]}, "secret") == set()


# ------------------------------------------------------------------------------------- the program
@pytest.mark.parametrize("stack", STACKS)
def test_server_operations_run_one_at_a_time(stack: str) -> None:
    result = run(stack)
    operations = server_operations(result)
    kinds = {r.type for r in operations}
    assert {"azure-native:dbforpostgresql:Configuration", "azure-native:dbforpostgresql:Database"} <= kinds
    if stack == "prod":
        assert "azure-native:network:PrivateEndpoint" in kinds
    else:
        assert "azure-native:dbforpostgresql:FirewallRule" in kinds
    assert unordered_pairs(graph_of(result), [r.urn for r in operations]) == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_web_app_starts_after_its_grants_and_secrets(stack: str) -> None:
    result = run(stack)
    waits_for = ancestors(graph_of(result), result.one(WEB_APP).urn)
    grants = result.of_type(ROLE_ASSIGNMENT)
    assert grants
    assert {g.urn for g in grants} <= waits_for
    # Every secret its settings reference (the grants are scoped to them) exists before it starts.
    referenced = {g.get("scope") for g in grants}
    secrets = [s for s in result.of_type(VAULT_SECRET) if s.id in referenced]
    assert secrets
    assert {s.urn for s in secrets} <= waits_for


@pytest.mark.parametrize("stack", STACKS)
def test_alerts_wait_for_the_telemetry_they_read(stack: str) -> None:
    result = run(stack)
    graph = graph_of(result)
    workspace, component = result.one(WORKSPACE).urn, result.one(COMPONENT).urn
    log_alerts = result.of_type(LOG_ALERT)
    assert len(log_alerts) >= 4
    for alert in log_alerts:
        assert {workspace, component} <= ancestors(graph, alert.urn), alert.name
    probes = result.of_type(WEB_TEST) + result.of_type(METRIC_ALERT)
    assert len(probes) == 4  # /hangfire and /health: a web test and its alert each
    for probe in probes:
        assert component in ancestors(graph, probe.urn), probe.name
