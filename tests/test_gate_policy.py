"""The compatibility gate pack's policies, called the way the SDK calls them (props behind the
unknown-checking proxy), including values unknown during preview."""

from datetime import UTC, datetime, timedelta

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

from gate.config import GateEvidence
from gate.facts import Limits, ReleaseFacts
from gate.stamp import stamp
from policies.compatibility_gate.pack import app_advice, app_policy, stack_advice, stack_policy
from policies.compatibility_gate.rules import resolve_environment
from tests.test_gate_decision import complete, record

RISKY = ReleaseFacts("cc4de0a8", "10.0.3", 10, "10.0.3", "10.0.10", "1.8.24", "1.21.1", Limits())
FALLBACK = ReleaseFacts("cc4de0a8-rb", "8.0.5", 8, "9.0.0", "9.0.0", "1.8.24", "1.20.12", Limits())
STACK = "urn:pulumi:prod::meajudaai-infra::"
WEB_URN = STACK + "azure-native:web:WebApp::api-webapp"
AG_URN = STACK + "azure-native:monitor:ActionGroup::oncall"
PROD = {"environment": "prod"}


def fresh_evidence(**overrides) -> GateEvidence:
    # The pack judges age against the real clock, so the records are made relative to it.
    items = complete(at=datetime.now(UTC) - timedelta(hours=1))
    items.update(overrides)
    return GateEvidence.model_validate(items)


def opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def web_app(tags, **props) -> dict:
    return {"name": "meajudaai-api", "httpsOnly": True, "tags": tags, **props}


def deployment(annotations, replicas=2) -> dict:
    return {"metadata": {"name": "meajudaai-api", "annotations": annotations}, "spec": {"replicas": replicas}}


def run_app(props, config=PROD, resource_type="azure-native:web:WebApp", policy=app_policy):
    found: list[str] = []
    args = ResourceValidationArgs(
        resource_type, unknown_checking_proxy(props), WEB_URN, "api-webapp", opts(), None, config=config
    )

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    policy.validate(args, report)
    return found


def test_committed_release_without_evidence_is_blocked_naming_the_missing_items():
    found = run_app(web_app(stamp(RISKY, None)))
    assert len(found) == 1
    message = found[0]
    assert "blocked" in message
    expected = ["(1) Hangfire integration tests", "(2) staging validation", "(4) rollback"]
    expected += ["(5) database backup", "(6) team trained", "(7) stakeholders"]
    for item in expected:
        assert item in message
    assert "Item (3) is checked by the stack policy" in message


def test_complete_fresh_evidence_passes():
    assert run_app(web_app(stamp(RISKY, fresh_evidence()))) == []


def test_one_missing_item_is_named_alone():
    found = run_app(web_app(stamp(RISKY, fresh_evidence(teamTrained=None))))
    assert len(found) == 1
    assert "Missing: (6) team trained on rollback: no evidence recorded." in found[0]


def test_stale_evidence_is_blocked():
    old = datetime.now(UTC) - timedelta(days=30)
    ev = fresh_evidence(stakeholdersNotified={**record(old), "channel": "email"})
    found = run_app(web_app(stamp(RISKY, ev)))
    assert "(7) stakeholders notified: evidence is 30d" in found[0]


def test_validated_fallback_passes_without_evidence():
    assert run_app(web_app(stamp(FALLBACK, None))) == []


def test_a_validated_flag_alone_is_not_trusted():
    found = run_app(web_app({"meajudaai-gate-validated": "true"}))
    assert "gate stamp unusable" in found[0]


def test_no_stamp_is_a_violation():
    found = run_app(web_app({"environment": "prod"}))
    assert "no gate stamp" in found[0] or "missing gate stamp keys" in found[0]


def test_unknown_tags_during_preview_are_a_violation_not_a_skip():
    # The SDK would raise UnknownValueError here and turn a mandatory policy into an advisory note.
    found = run_app(web_app(UNKNOWN_OBJECT_VALUE))
    assert found == ["gate stamp unusable: tags are unknown during preview, so the gate cannot decide"]


def test_one_unknown_stamp_value_is_a_violation():
    tags = {**stamp(RISKY, fresh_evidence()), "meajudaai-gate-release": UNKNOWN_STRING_VALUE}
    found = run_app(web_app(tags))
    assert "meajudaai-gate-release unknown during preview" in found[0]


def test_stopped_app_is_not_gated():
    # Runbook step 1 (stop the API) must not be blocked by the gate it is rolling back from.
    assert run_app(web_app(stamp(RISKY, None), enabled=False)) == []


def test_unknown_enabled_does_not_count_as_stopped():
    assert len(run_app(web_app(stamp(RISKY, None), enabled=UNKNOWN_BOOLEAN_VALUE))) == 1


def test_kubernetes_deployment_reads_annotations():
    kind = "kubernetes:apps/v1:Deployment"
    assert len(run_app(deployment(stamp(RISKY, None)), resource_type=kind)) == 1
    assert run_app(deployment(stamp(RISKY, fresh_evidence())), resource_type=kind) == []
    assert run_app(deployment(stamp(RISKY, None), replicas=0), resource_type=kind) == []
    # The analyzer protocol carries numbers as doubles: a stopped Deployment arrives with 0.0 replicas.
    assert run_app(deployment(stamp(RISKY, None), replicas=0.0), resource_type=kind) == []
    assert len(run_app(deployment(stamp(RISKY, None), replicas=1.0), resource_type=kind)) == 1
    assert len(run_app(deployment(stamp(RISKY, None), replicas=False), resource_type=kind)) == 1


def test_pack_config_can_tighten_but_not_loosen():
    tighter = {**PROD, "minHangfireTests": 8}
    found = run_app(web_app(stamp(RISKY, fresh_evidence())), config=tighter)
    assert "required: at least 8 Hangfire integration tests run" in found[0]
    looser = {**PROD, "evidenceMaxAgeDays": 90}
    old = datetime.now(UTC) - timedelta(days=30)
    ev = fresh_evidence(stakeholdersNotified={**record(old), "channel": "email"})
    assert len(run_app(web_app(stamp(RISKY, ev)), config=looser)) == 1


def test_the_pair_splits_by_verdict_not_by_config():
    # The mandatory policy speaks for staging and prod, the advisory one for dev: which file is passed
    # cannot move a blocked verdict to the advisory policy.
    assert (app_policy.enforcement_level, app_advice.enforcement_level) == (
        EnforcementLevel.MANDATORY,
        EnforcementLevel.ADVISORY,
    )
    assert (stack_policy.enforcement_level, stack_advice.enforcement_level) == (
        EnforcementLevel.MANDATORY,
        EnforcementLevel.ADVISORY,
    )
    risky = web_app(stamp(RISKY, None))
    dev = {"environment": "dev"}
    assert run_app(risky, config=dev) == []
    (advice,) = run_app(risky, config=dev, policy=app_advice)
    assert "in dev: advisory" in advice
    assert "checked by the stack policy 'hangfire-npgsql-gate-planned-resources-advice'" in advice
    for environment in ("staging", "prod"):
        assert run_app(risky, config={"environment": environment}, policy=app_advice) == []
        (blocked,) = run_app(risky, config={"environment": environment})
        assert f"in {environment}: blocked" in blocked


def test_an_unusable_stamp_in_dev_is_advice():
    dev = {"environment": "dev"}
    assert run_app(web_app({"owner": "x"}), config=dev) == []
    assert "gate stamp unusable" in run_app(web_app({"owner": "x"}), config=dev, policy=app_advice)[0]


@pytest.mark.parametrize("policy", [app_policy, app_advice])
def test_environment_must_be_known_and_only_the_mandatory_policy_says_so(policy):
    # Outside the engine the SDK's stack name is a placeholder, so the policy config must say it.
    expected = ["cannot tell the environment: set the policy config 'environment' (dev, staging or prod)"]
    assert run_app(web_app(stamp(RISKY, None)), config={}, policy=policy) == (
        expected if policy is app_policy else []
    )


def test_other_resource_types_are_ignored():
    assert run_app({"tags": {}}, resource_type="azure-native:storage:StorageAccount") == []


# ---- stack policy -----------------------------------------------------------------------------


def resource(type_, name, props, deps=()) -> PolicyResource:
    urn = STACK + f"{type_}::{name}"
    return PolicyResource(
        type_,
        unknown_checking_proxy(props),
        urn,
        name,
        opts(),
        None,
        None,
        list(deps),
        {"actions": list(deps)},
    )


def planned(app_tags, alerts=True, group_enabled=True, retention=35):
    group = resource(
        "azure-native:monitor:ActionGroup",
        "oncall",
        {"enabled": group_enabled, "emailReceivers": [{"name": "ops", "emailAddress": "ops@meajudaai.com"}]},
    )
    resources = [group, resource("azure-native:web:WebApp", "api-webapp", web_app(app_tags))]
    resources.append(
        resource(
            "azure-native:dbforpostgresql:Server",
            "pg",
            {"backup": {"backupRetentionDays": retention, "geoRedundantBackup": "Enabled"}},
        )
    )
    if alerts:
        for signal in ("hangfire-failure-rate", "npgsql-errors", "hangfire-dashboard", "job-duration"):
            props = {
                "enabled": True,
                "tags": {"meajudaai-signal": signal},
                # Preview: the action group's id is not known yet.
                "actions": {"actionGroups": [UNKNOWN_STRING_VALUE]},
            }
            resources.append(resource("azure-native:monitor:ScheduledQueryRule", signal, props, deps=[group]))
    return resources


def run_stack(resources, config=PROD, policy=stack_policy):
    found: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append((message, urn))

    policy.validate(StackValidationArgs(resources, config=config), report)
    return found


def test_stack_rule_passes_alerts_reaching_an_enabled_group_with_unknown_ids():
    assert run_stack(planned(stamp(RISKY, None))) == []


def test_stack_rule_names_missing_monitoring_on_the_app():
    found = run_stack(planned(stamp(RISKY, None), alerts=False))
    assert len(found) == 1
    message, urn = found[0]
    assert urn == WEB_URN
    assert "(3) production monitoring" in message
    assert "no alert tagged meajudaai-signal=npgsql-errors" in message


def test_stack_rule_checks_the_action_group_and_backup_settings():
    message = run_stack(planned(stamp(RISKY, None), group_enabled=False, retention=3))[0][0]
    assert "action group oncall is not enabled" in message
    assert "backupRetentionDays is 3, at least 7 required" in message


def test_stack_rule_ignores_validated_releases():
    assert run_stack(planned(stamp(FALLBACK, None), alerts=False)) == []


@pytest.mark.parametrize("tags", [UNKNOWN_OBJECT_VALUE, {"owner": "x"}])
def test_stack_rule_leaves_unusable_stamps_to_the_resource_rule(tags):
    assert run_stack(planned(tags, alerts=False)) == []


def test_stack_rule_advises_in_dev_and_blocks_elsewhere():
    resources = planned(stamp(RISKY, None), alerts=False)
    dev = {"environment": "dev"}
    assert run_stack(resources, config=dev) == []
    (advice,) = run_stack(resources, config=dev, policy=stack_advice)
    assert "release cc4de0a8 in dev (risky)" in advice[0]
    assert run_stack(resources, policy=stack_advice) == []
    assert len(run_stack(resources)) == 1


@pytest.mark.parametrize(
    ("configured", "detected", "judged", "problem"),
    [
        ("prod", "prod", "prod", None),
        ("prod", None, "prod", None),
        (None, "staging", "staging", None),
        ("dev", "prod", "prod", "policy config is for 'dev' but the stack is 'prod'"),
        ("prod", "dev", "dev", "policy config is for 'prod' but the stack is 'dev'"),
        ("qa", "prod", "prod", "policy config 'environment' is 'qa'"),
        (None, None, None, "cannot tell the environment"),
    ],
)
def test_the_release_is_judged_where_the_stack_goes(configured, detected, judged, problem):
    environment, found = resolve_environment(configured, detected)
    assert environment == judged
    assert (found is None) if problem is None else (found is not None and found.startswith(problem))
