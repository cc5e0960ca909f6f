"""The gate's enforcement follows its verdict, whatever `--policy-pack-config` is passed.

Over the analyzer protocol, on the real program's committed stacks (the risky release, no evidence): staging
and prod are blocked with their own config file, with dev's, with the other gated stack's and with none;
dev is never blocked, with its own file or with none, and still gets the gate's advice. A file for another
environment is itself a mandatory violation (the wrong file was passed), so it cannot let a stack through.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.analyzer import PackResult, Violation
from offline.stackconfig import load_project, load_stack
from policies.compatibility_gate.rules import APP_ADVICE, APP_POLICY, STACK_ADVICE, STACK_POLICY
from tests.fixtures.baseline.protocol import ROOT, analyze_all
from tests.program import run_stack

PACK = ROOT / "policies" / "compatibility_gate"
GATE_POLICIES = (APP_POLICY, STACK_POLICY, APP_ADVICE, STACK_ADVICE)
NO_CONFIG = "none"
CASES = (
    ("prod", "prod"),
    ("prod", "dev"),
    ("prod", "staging"),
    ("prod", NO_CONFIG),
    ("staging", "staging"),
    ("staging", "dev"),
    ("staging", "prod"),
    ("staging", NO_CONFIG),
    ("dev", "dev"),
    ("dev", NO_CONFIG),
)


def _config_file(name: str) -> Path | None:
    return None if name == NO_CONFIG else PACK / "config" / f"{name}.json"


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], PackResult]:
    project = load_project(ROOT)
    jobs = []
    for stack, config in CASES:
        run = run_stack(stack, preview=True)
        assert run.error is None, run.error
        jobs.append((run.raw, load_stack(project, stack), _config_file(config)))
    found = analyze_all(jobs, pack=PACK)
    for case, result in zip(CASES, found, strict=True):
        assert result.status == "ok", f"{case}: {result.error}\n{result.stderr}"
    return dict(zip(CASES, found, strict=True))


def gate(result: PackResult, level: str) -> list[Violation]:
    return [v for v in result.violations if v.policy in GATE_POLICIES and v.level == level]


@pytest.mark.parametrize("stack", ["staging", "prod"])
@pytest.mark.parametrize("config", ["own", "dev", NO_CONFIG])
def test_a_gated_stack_is_blocked_by_its_verdict(results, stack, config) -> None:
    result = results[(stack, stack if config == "own" else config)]
    blocking = gate(result, "mandatory")
    verdicts = [v for v in blocking if v.policy == APP_POLICY and f"in {stack}: blocked (risky)" in v.message]
    assert len(verdicts) == 1, [v.message for v in blocking]
    assert verdicts[0].resource_type == "azure-native:web:WebApp"
    # Blocked means blocked: nothing of the gate is left as mere advice.
    assert gate(result, "advisory") == []


@pytest.mark.parametrize(("stack", "config"), [("prod", "dev"), ("prod", "staging"), ("staging", "dev"),
                                               ("staging", "prod")])  # fmt: skip
def test_another_environments_file_is_a_mandatory_violation(results, stack, config) -> None:
    messages = [v.message for v in gate(results[(stack, config)], "mandatory")]
    assert any(
        f"policy config is for '{config}' but the stack is '{stack}': use config/{stack}.json" in m
        for m in messages
    ), messages


@pytest.mark.parametrize("config", ["dev", NO_CONFIG])
def test_dev_is_never_blocked_and_still_advised(results, config) -> None:
    result = results[("dev", config)]
    assert gate(result, "mandatory") == []
    advice = [v for v in gate(result, "advisory") if v.policy == APP_ADVICE]
    assert len(advice) == 1
    assert "release c2f3a2362 in dev: advisory (risky)" in advice[0].message
    assert advice[0].resource_type == "kubernetes:apps/v1:Deployment"


def test_committed_config_files_set_no_enforcement_level() -> None:
    # A level in a committed file would override the verdict-driven split for every user of that file.
    for path in sorted((PACK / "config").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert "enforcementLevel" not in text, path.name
