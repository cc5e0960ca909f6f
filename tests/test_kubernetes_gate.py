"""The compatibility gate pack over the analyzer protocol, on the Kubernetes-hosted prod of the fixture
program: the risky release with no evidence is blocked on the Deployment as it is on the web app, and the
runbook's rollback step 1 (api.stopped, replicas 0) must not be blocked.

Both stacks run in one offline run (one pack process each, in parallel): about 5 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.runner import Options, run_all
from offline.stackconfig import load_project
from tests.test_kubernetes_program import DEPLOYMENT, FIXTURE

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "policies" / "compatibility_gate"
APP_POLICY = "hangfire-npgsql-gate"
STACK_POLICY = "hangfire-npgsql-gate-planned-resources"


@pytest.fixture(scope="module")
def findings() -> dict[str, list]:
    options = Options(
        project=load_project(FIXTURE),
        stacks=["prod", "prod-stopped"],
        preview=False,
        packs=[PACK],
        pack_configs=[PACK / "config" / "prod.json"],
    )
    results, _ = run_all(options, lambda _message: None)
    by_stack = {}
    for result in results:
        assert result.run is not None and result.run.error is None, result.stack
        (pack,) = result.packs
        assert pack.status == "ok", pack.error
        by_stack[result.stack] = pack.violations
    return by_stack


def test_kubernetes_prod_is_blocked_on_the_deployment(findings) -> None:
    app = [v for v in findings["prod"] if v.policy == APP_POLICY]
    assert len(app) == 1
    assert app[0].level == "mandatory"
    assert app[0].resource_type == DEPLOYMENT
    assert "release c2f3a2362 in prod: blocked (risky)" in app[0].message


def test_stopped_kubernetes_prod_is_not_gated(findings) -> None:
    assert [v for v in findings["prod-stopped"] if v.policy in (APP_POLICY, STACK_POLICY)] == []
