"""The compatibility gate pack over the analyzer protocol, on the real program's prod hosted on Kubernetes.

The committed prod (App Service, the risky release with no evidence) and the same prod on Kubernetes must
get the same findings from the pack, on the web app and on the Deployment respectively; the runbook's
rollback step 1 on Kubernetes (api.stopped, replicas 0, which crosses the protocol as 0.0) must not be
gated. The three program runs come from tests/program.py's cache; the three pack processes start at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.analyzer import Violation
from offline.stackconfig import load_project, load_stack
from tests.fixtures.baseline.protocol import ROOT, analyze_all
from tests.program import run_stack
from tests.test_kubernetes_program import CASES, DEPLOYMENT, WEB_APP, k8s_run

PACK = ROOT / "policies" / "compatibility_gate"
APP_POLICY = "hangfire-npgsql-gate"
STACK_POLICY = "hangfire-npgsql-gate-planned-resources"
RUNS = ("app-service", "kubernetes", "kubernetes-stopped")


@pytest.fixture(scope="module")
def findings() -> dict[str, list[Violation]]:
    project = load_project(ROOT)
    config_file: Path = PACK / "config" / "prod.json"
    app_service = run_stack("prod")
    assert app_service.error is None, app_service.error
    jobs = [(app_service.raw, load_stack(project, "prod"), config_file)]
    for case in ("prod", "prod-stopped"):
        stack, extra = CASES[case]
        jobs.append((k8s_run(case).raw, load_stack(project, stack, extra), config_file))
    results = analyze_all(jobs, pack=PACK)
    for name, result in zip(RUNS, results, strict=True):
        assert result.status == "ok", f"{name}: {result.error}\n{result.stderr}"
    return {name: result.violations for name, result in zip(RUNS, results, strict=True)}


def gate(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.policy in (APP_POLICY, STACK_POLICY)]


def test_kubernetes_prod_is_blocked_on_the_deployment(findings) -> None:
    app = [v for v in findings["kubernetes"] if v.policy == APP_POLICY]
    assert len(app) == 1
    assert app[0].level == "mandatory"
    assert app[0].resource_type == DEPLOYMENT
    assert "release cc4de0a8 in prod: blocked (risky)" in app[0].message


def test_kubernetes_prod_is_gated_exactly_as_app_service_prod(findings) -> None:
    def verdicts(violations: list[Violation], app_type: str) -> list[tuple[str, str, str, str]]:
        found = []
        for v in gate(violations):
            assert v.resource_type in (app_type, ""), v.resource_type
            found.append((v.policy, v.level, v.resource_type and "app", v.message))
        return sorted(found)

    on_kubernetes = verdicts(findings["kubernetes"], DEPLOYMENT)
    assert on_kubernetes and on_kubernetes == verdicts(findings["app-service"], WEB_APP)


def test_stopped_kubernetes_prod_is_not_gated(findings) -> None:
    assert gate(findings["kubernetes-stopped"]) == []
