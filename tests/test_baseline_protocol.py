"""Every baseline rule over the real analyzer protocol: each fails on a bad resource and passes on a good
one, with the enforcement level its environment's config file gives it.

The cases (tests/fixtures/baseline/cases.py) become two hand-built program runs, a dev stack and a prod
stack, each analyzed by one pack process; both processes run at once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from offline.analyzer import PackResult
from policies.baseline.rules import all_rules
from tests.fixtures.baseline.cases import (
    CASES,
    CONFIGURATION,
    DEPLOYMENT,
    SECURE_PARAMETERS,
    SERVER,
    STATEFUL,
    STATEFULSET,
    Case,
)
from tests.fixtures.baseline.protocol import PACK, Planned, analyze_all, captured_run, stack_config, urn

STACKS = ("dev", "prod")


def planned(case: Case) -> list[Planned]:
    props = case.props()
    protect = case.protect if case.protect is not None else case.type in STATEFUL
    if case.type != SERVER:
        return [Planned(case.type, case.name, props, protect)]
    # Each server gets its own name and its own server parameters (the stack rules match them up).
    props["serverName"] = f"psql-{case.name}"
    server_urn = urn(case.stack, SERVER, case.name)
    parameters = case.parameters if case.parameters is not None else SECURE_PARAMETERS
    return [
        Planned(case.type, case.name, props, protect),
        *(
            Planned(
                CONFIGURATION,
                f"{case.name}-{parameter}",
                {"configurationName": parameter, "value": value, "source": "user-override"},
                server_urn=server_urn,
            )
            for parameter, value in parameters.items()
        ),
    ]


@pytest.fixture(scope="module")
def results() -> dict[str, PackResult]:
    jobs = []
    for stack in STACKS:
        resources = [item for case in CASES if case.stack == stack for item in planned(case)]
        jobs.append((captured_run(stack, resources), stack_config(stack), PACK / "config" / f"{stack}.json"))
    found = analyze_all(jobs)
    for result in found:
        assert result.status == "ok", f"{result.error}\n{result.stderr}"
    return dict(zip(STACKS, found, strict=True))


def by_resource(result: PackResult) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = defaultdict(list)
    for violation in result.violations:
        found[violation.urn].append(violation)
    return found


def test_every_case_reports_exactly_its_own_rule(results: dict[str, PackResult]) -> None:
    problems = []
    for case in CASES:
        reported = by_resource(results[case.stack])[urn(case.stack, case.type, case.name)]
        policies = {v.policy for v in reported}
        if policies != case.expect:
            detail = "; ".join(f"{v.policy}: {v.message.splitlines()[-1]}" for v in reported)
            problems.append(
                f"{case.stack}/{case.name}: expected {sorted(case.expect)}, got {detail or 'nothing'}"
            )
    assert not problems, "\n".join(problems)


def test_every_rule_fails_a_bad_resource_and_passes_a_good_one(results: dict[str, PackResult]) -> None:
    failed_on = {policy for case in CASES for policy in case.expect}
    rules = {rule.name for rule in all_rules()}
    assert rules <= failed_on, f"rules without a failing case: {sorted(rules - failed_on)}"
    compliant = [case for case in CASES if not case.expect]
    assert {case.type for case in compliant if case.stack == "prod"} >= {case.type for case in CASES}


def test_levels_follow_the_environment_config_file(results: dict[str, PackResult]) -> None:
    for stack, result in results.items():
        levels = json.loads((PACK / "config" / f"{stack}.json").read_text())
        for violation in result.violations:
            assert violation.level == levels[violation.policy], (stack, violation.policy)
    dev_http = by_resource(results["dev"])[urn("dev", "azure-native:web:WebApp", "http-1-1-dev")]
    assert [v.level for v in dev_http] == ["advisory"]
    # A local dev cluster is still a cluster: the Kubernetes rules block there too.
    dev_root = by_resource(results["dev"])[urn("dev", STATEFULSET, "postgres-as-root-dev")]
    assert {(v.policy, v.level) for v in dev_root} == {("kubernetes-run-as-non-root", "mandatory")}


UNKNOWN_CASES = (
    ("prod", "azure-native:web:WebApp", "https-unknown"),
    ("prod", "azure-native:web:WebApp", "secret-unknown"),
    ("prod", DEPLOYMENT, "image-unknown"),
    ("prod", DEPLOYMENT, "non-root-unknown"),
    ("dev", DEPLOYMENT, "image-unknown-dev"),
)


def test_unknown_values_are_mandatory_violations_not_preview_skips(results: dict[str, PackResult]) -> None:
    for stack, resource_type, name in UNKNOWN_CASES:
        (violation,) = by_resource(results[stack])[urn(stack, resource_type, name)]
        assert violation.level == "mandatory", (stack, name)
        assert "unknown during preview" in violation.message, (stack, name)
    assert not [v for r in results.values() for v in r.violations if v.skipped_unknown]


def test_messages_never_repeat_a_secret_value(results: dict[str, PackResult]) -> None:
    messages = "\n".join(v.message for r in results.values() for v in r.violations)
    for value in ("hunter2-fixture", "InstrumentationKey=0000", "not-a-reference", "Host=db"):
        assert value not in messages


def test_every_policy_describes_itself(results: dict[str, PackResult]) -> None:
    meta = {p.name: p for p in results["prod"].policies}
    assert set(meta) == {rule.name for rule in all_rules()}
    kinds = {rule.name: type(rule).__name__ for rule in all_rules()}
    for name, policy in meta.items():
        assert policy.description and policy.remediation_steps, name
        assert policy.severity in ("low", "medium", "high", "critical"), name
        assert policy.kind == ("stack" if kinds[name] == "StackRule" else "resource"), name
    assert results["prod"].name == "meajudaai-baseline"
