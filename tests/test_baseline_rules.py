"""The baseline pack's rules without a pack process: pure rules over the cases, the policy wrappers over the
SDK's unknown-checking proxy (values unknown during preview), and the tables the rules are made of."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

from gate.unknown import UNKNOWN, is_unknown
from policies import kubernetes_rules
from policies.baseline import pack
from policies.baseline.model import (
    MISSING,
    Context,
    Environment,
    ResourceRule,
    StackResource,
    StackRule,
    Unknown,
    get,
    resolve_environment,
    tls_at_least,
    whole_numbers,
)
from policies.baseline.rules import all_rules, kubernetes
from policies.baseline.rules.postgres import firewall_problem
from policies.baseline.rules.web import (
    KEY_VAULT_REFERENCE,
    SECRET_NAME_LAST_WORDS,
    SECRET_NAME_WORDS,
    SECRET_VALUE_PATTERNS,
    looks_secret_by_name,
    secret_value_pattern,
)
from policies.baseline.taggable import takes_tags
from tests.fixtures.baseline.cases import (
    CASES,
    CONFIGURATION,
    CONTAINER,
    DEPLOYMENT,
    FIREWALL,
    NAMESPACE,
    POD,
    SECURE_PARAMETERS,
    SERVER,
    STATEFUL,
    STATEFULSET,
    VAULT,
    WEB_APP,
    Case,
    apply,
    good,
)

PACK_DIR = Path(__file__).resolve().parent.parent / "policies" / "baseline"
RULES: dict[str, Any] = {rule.name: rule for rule in all_rules()}
RESOURCE_RULES = [r for r in RULES.values() if isinstance(r, ResourceRule)]
STACK_RULES = [r for r in RULES.values() if isinstance(r, StackRule)]
POLICIES: dict[str, Any] = {policy.name: policy for policy in pack.policies()}


@pytest.fixture(autouse=True)
def no_engine_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other tests run programs in this process; the stack they leave configured must not steer these."""
    monkeypatch.setattr(pulumi, "get_stack", lambda: "stack")
    monkeypatch.setattr(pack, "_configured_environment", lambda: None)


# ------------------------------------------------------------------------------- the cases, rule by rule
def _stack_resources(case: Case, props: dict[str, Any], environment: Environment) -> list[StackResource]:
    protect = case.protect if case.protect is not None else case.type in STATEFUL
    resource = StackResource(case.type, f"urn:{case.name}", case.name, props, protect, environment)
    if case.type != SERVER:
        return [resource]
    parameters = case.parameters if case.parameters is not None else SECURE_PARAMETERS
    return [
        resource,
        *(
            StackResource(
                CONFIGURATION,
                f"urn:{case.name}-{name}",
                f"{case.name}-{name}",
                {"configurationName": name, "value": value, "serverName": props["serverName"]},
                False,
                environment,
            )
            for name, value in parameters.items()
        ),
    ]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.stack}-{c.name}")
def test_case_against_the_pure_rules(case: Case) -> None:
    props = pack.plain(unknown_checking_proxy(case.props()))
    environment = resolve_environment(get(props, "tags.environment"), case.stack, None)
    reported = set()
    for rule in RESOURCE_RULES:
        config = rule.effective_config(None)
        if rule.applies_to(case.type) and rule.check(props, Context(environment, config, case.type)):
            reported.add(rule.name)
    for stack_rule in STACK_RULES:
        resources = _stack_resources(case, props, environment)
        if any(urn == f"urn:{case.name}" for _, urn in stack_rule.check(resources, stack_rule.defaults())):
            reported.add(stack_rule.name)
    assert reported == case.expect


# ----------------------------------------------------------------- the wrappers, with unknown values
def _opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def run_resource_policy(name: str, resource_type: str, props: dict[str, Any]) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(
        resource_type, unknown_checking_proxy(props), "urn:x", "x", _opts(), None, config=None
    )
    POLICIES[name].validate(args, lambda message, urn=None: found.append(message))
    return found


def with_value(resource_type: str, path: str, value: Any) -> dict[str, Any]:
    return apply(good(resource_type, "prod"), {path: value})


UNKNOWNS = [
    ("web-https-only", WEB_APP, "httpsOnly", UNKNOWN_BOOLEAN_VALUE),
    ("web-min-tls-version", WEB_APP, "siteConfig", UNKNOWN_OBJECT_VALUE),
    ("web-ftps-disabled", WEB_APP, "siteConfig.ftpsState", UNKNOWN_STRING_VALUE),
    ("web-managed-identity", WEB_APP, "identity", UNKNOWN_OBJECT_VALUE),
    ("web-remote-debugging-disabled", WEB_APP, "siteConfig.remoteDebuggingEnabled", UNKNOWN_BOOLEAN_VALUE),
    ("web-http2-enabled", WEB_APP, "siteConfig.http20Enabled", UNKNOWN_BOOLEAN_VALUE),
    ("web-health-check-path", WEB_APP, "siteConfig.healthCheckPath", UNKNOWN_STRING_VALUE),
    ("web-no-plaintext-secrets", WEB_APP, "siteConfig.appSettings", UNKNOWN_ARRAY_VALUE),
    ("postgres-backup-retention", SERVER, "backup.backupRetentionDays", UNKNOWN_NUMBER_VALUE),
    ("postgres-geo-redundant-backup", SERVER, "backup", UNKNOWN_OBJECT_VALUE),
    ("postgres-zone-redundant-ha", SERVER, "highAvailability.mode", UNKNOWN_STRING_VALUE),
    ("postgres-public-network-access", SERVER, "network.publicNetworkAccess", UNKNOWN_STRING_VALUE),
    ("postgres-firewall-not-internet", FIREWALL, "endIpAddress", UNKNOWN_STRING_VALUE),
    ("servicebus-min-tls-version", NAMESPACE, "minimumTlsVersion", UNKNOWN_STRING_VALUE),
    ("servicebus-local-auth-justified", NAMESPACE, "disableLocalAuth", UNKNOWN_BOOLEAN_VALUE),
    ("servicebus-public-network-access-justified", NAMESPACE, "publicNetworkAccess", UNKNOWN_STRING_VALUE),
    ("keyvault-soft-delete", VAULT, "properties.enableSoftDelete", UNKNOWN_BOOLEAN_VALUE),
    ("keyvault-purge-protection", VAULT, "properties", UNKNOWN_OBJECT_VALUE),
    ("keyvault-rbac-authorization", VAULT, "properties.enableRbacAuthorization", UNKNOWN_BOOLEAN_VALUE),
    ("required-tags", VAULT, "tags", UNKNOWN_OBJECT_VALUE),
    ("kubernetes-probes-set", DEPLOYMENT, f"{CONTAINER}.livenessProbe", UNKNOWN_OBJECT_VALUE),
    ("kubernetes-resources-set", STATEFULSET, f"{CONTAINER}.resources.limits.cpu", UNKNOWN_STRING_VALUE),
    ("kubernetes-no-privileged-containers", DEPLOYMENT, f"{CONTAINER}.securityContext.privileged",
     UNKNOWN_BOOLEAN_VALUE),
    ("kubernetes-image-pinned", STATEFULSET, f"{CONTAINER}.image", UNKNOWN_STRING_VALUE),
    ("kubernetes-run-as-non-root", DEPLOYMENT, f"{POD}.securityContext.runAsUser", UNKNOWN_NUMBER_VALUE),
    ("kubernetes-read-only-root-filesystem", DEPLOYMENT, f"{CONTAINER}.securityContext",
     UNKNOWN_OBJECT_VALUE),
    ("kubernetes-no-privilege-escalation", STATEFULSET,
     f"{CONTAINER}.securityContext.allowPrivilegeEscalation", UNKNOWN_BOOLEAN_VALUE),
]  # fmt: skip


def test_every_resource_rule_has_an_unknown_case() -> None:
    assert {name for name, *_ in UNKNOWNS} == {rule.name for rule in RESOURCE_RULES}


@pytest.mark.parametrize(
    ("policy", "resource_type", "path", "sentinel"), UNKNOWNS, ids=[u[0] for u in UNKNOWNS]
)
def test_a_value_unknown_during_preview_is_a_violation_naming_it(
    policy: str, resource_type: str, path: str, sentinel: str
) -> None:
    assert run_resource_policy(policy, resource_type, good(resource_type, "prod")) == []
    messages = run_resource_policy(policy, resource_type, with_value(resource_type, path, sentinel))
    assert messages
    for message in messages:
        assert "unknown during preview" in message
        # The property itself is named (a container's path reads `containers[0] (api).image`).
        assert path.rsplit(".", maxsplit=1)[-1] in message


def stack_policy_messages(name: str, resources: list[PolicyResource]) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    args = StackValidationArgs(resources, config=None)
    POLICIES[name].validate(args, lambda message, urn=None: found.append((message, urn)))
    return found


def policy_resource(resource_type: str, name: str, props: dict[str, Any], protect: bool = False) -> Any:
    return PolicyResource(
        resource_type, unknown_checking_proxy(props), f"urn:{name}", name, _opts(protect), None, None, [], {}
    )


@pytest.mark.parametrize("policy", ["postgres-require-secure-transport", "postgres-postgis-allow-listed"])
def test_a_server_parameter_unknown_during_preview_is_a_violation(policy: str) -> None:
    server = policy_resource(SERVER, "db", good(SERVER, "prod"), protect=True)
    parameters = [
        policy_resource(CONFIGURATION, name, {"configurationName": name, "value": value, "serverName": "x"})
        for name, value in SECURE_PARAMETERS.items()
    ]
    for parameter in parameters:
        parameter.property_dependencies["serverName"] = [server]
    assert stack_policy_messages(policy, [server, *parameters]) == []
    unknown = [
        policy_resource(
            CONFIGURATION, name, {"configurationName": name, "value": UNKNOWN_STRING_VALUE, "serverName": "x"}
        )
        for name in SECURE_PARAMETERS
    ]
    for parameter in unknown:
        parameter.property_dependencies["serverName"] = [server]
    ((message, urn),) = stack_policy_messages(policy, [server, *unknown])
    assert "unknown during preview" in message
    assert urn == "urn:db"


def test_a_configuration_whose_server_is_unknown_matches_through_the_dependency_graph() -> None:
    server = policy_resource(SERVER, "db", good(SERVER, "prod"), protect=True)
    unlinked = [
        policy_resource(
            CONFIGURATION, n, {"configurationName": n, "value": v, "serverName": UNKNOWN_STRING_VALUE}
        )
        for n, v in SECURE_PARAMETERS.items()
    ]
    # Without the engine's record that serverName comes from this server, nothing vouches for it.
    assert len(stack_policy_messages("postgres-require-secure-transport", [server, *unlinked])) == 1
    for parameter in unlinked:
        parameter.property_dependencies["serverName"] = [server]
    assert stack_policy_messages("postgres-require-secure-transport", [server, *unlinked]) == []


def test_an_unknown_environment_tag_falls_back_to_the_stack_then_to_prod() -> None:
    props = with_value(VAULT, "tags.environment", UNKNOWN_STRING_VALUE)
    unprotected = policy_resource(VAULT, "kv", props, protect=False)
    ((message, urn),) = stack_policy_messages("stateful-resources-protected", [unprotected])
    assert "prod's requirements applied" in message
    assert urn == "urn:kv"


def test_policy_config_overrides_defaults() -> None:
    props = with_value(SERVER, "backup.backupRetentionDays", 21)
    rule = RULES["postgres-backup-retention"]
    context = Context(Environment("prod"), rule.effective_config({"floors": {"prod": 21.0}}), SERVER)
    assert rule.check(props, context) == []
    assert rule.check(props, Context(Environment("prod"), rule.defaults(), SERVER))


# ---------------------------------------------------------------------------------- the rules' tables
@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("ConnectionStrings__DefaultConnection", True),
        ("APPLICATIONINSIGHTS_CONNECTION_STRING", True),
        ("Messaging__ServiceBus__ConnectionString", True),
        ("Keycloak__ClientSecret", True),
        ("Payments:ApiKey", True),
        ("SIGNING_KEY", True),
        ("Db.Password", True),
        ("Keycloak__ClientId", False),
        ("KeyVault__Uri", False),
        ("Hangfire__DashboardPath", False),
        ("Messaging__ServiceBus__DefaultTopicName", False),
        ("ASPNETCORE_ENVIRONMENT", False),
    ],
)
def test_secret_looking_names(name: str, secret: bool) -> None:
    assert looks_secret_by_name(name, SECRET_NAME_WORDS, SECRET_NAME_LAST_WORDS) is secret


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ("Host=db;Port=5432;Username=app;Password=x", True),
        ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=abc", True),
        ("InstrumentationKey=0000;IngestionEndpoint=https://x/", True),
        ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc", True),
        ("-----BEGIN RSA PRIVATE KEY-----\nMII", True),
        ("postgres://app:hunter2@db:5432/app", True),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", True),
        ("https://auth.meajudaai.com", False),
        ("Production", False),
        ("Host=db;Port=5432", False),
    ],
)
def test_secret_looking_values(value: str, secret: bool) -> None:
    assert (secret_value_pattern(value, SECRET_VALUE_PATTERNS) is not None) is secret


@pytest.mark.parametrize(
    ("reference", "ok"),
    [
        ("@Microsoft.KeyVault(VaultName=kv-mjai-prod-72h4ix;SecretName=postgres-connection-string)", True),
        ("@Microsoft.KeyVault(VaultName=kv;SecretName=s;SecretVersion=0123abcd)", True),
        ("@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/s/)", True),
        ("@Microsoft.KeyVault(VaultName=kv)", False),
        ("@Microsoft.KeyVault(SecretName=s)", False),
        ("@Microsoft.KeyVault(VaultName=kv;SecretName=s", False),
    ],
)
def test_key_vault_reference_syntax(reference: str, ok: bool) -> None:
    assert bool(KEY_VAULT_REFERENCE.match(reference)) is ok


def test_a_malformed_reference_is_reported_without_its_value() -> None:
    value = "@Microsoft.KeyVault(VaultName=kv;SecretName=s"
    props = with_value(WEB_APP, "siteConfig.appSettings", [{"name": "Db", "value": value}])
    (message,) = run_resource_policy("web-no-plaintext-secrets", WEB_APP, props)
    assert "malformed" in message
    assert value not in message


FIREWALL_CONFIG = RULES["postgres-firewall-not-internet"].defaults()


@pytest.mark.parametrize(
    ("start", "end", "environment", "accepted"),
    [
        ("203.0.113.7", "203.0.113.7", "prod", True),
        ("10.0.0.0", "10.0.255.255", "prod", True),  # exactly a /16
        ("10.0.0.0", "10.1.0.0", "dev", False),  # one more address
        ("0.0.0.0", "255.255.255.255", "dev", False),
        ("0.0.0.0", "0.0.0.0", "dev", True),
        ("0.0.0.0", "0.0.0.0", "staging", True),
        ("0.0.0.0", "0.0.0.0", "prod", False),
        ("10.0.0.9", "10.0.0.1", "dev", False),  # reversed
        ("10.0.0.1", "not-an-ip", "dev", False),
        ("::1", "::1", "dev", False),
        (MISSING, "10.0.0.1", "dev", False),
        (Unknown("startIpAddress"), "10.0.0.1", "dev", False),
    ],
)
def test_firewall_ranges(start: Any, end: Any, environment: str, accepted: bool) -> None:
    assert (firewall_problem(start, end, environment, FIREWALL_CONFIG) is None) is accepted


@pytest.mark.parametrize(
    ("value", "minimum", "ok"),
    [("1.2", "1.2", True), ("1.3", "1.2", True), ("1.1", "1.2", False), ("1.0", "1.2", False),
     ("1.2", "1.3", False), ("TLS1_2", "1.2", False), (None, "1.2", False), (1.2, "1.2", False)],
)  # fmt: skip
def test_tls_versions(value: Any, minimum: str, ok: bool) -> None:
    assert tls_at_least(value, minimum) is ok


@pytest.mark.parametrize(
    ("tag", "stack", "configured", "expected"),
    [
        ("dev", "dev", None, Environment("dev")),
        ("dev", "prod", None, Environment("prod")),  # a wrong tag cannot take a prod resource out of prod
        ("prod", "dev", None, Environment("prod")),
        (None, "staging", None, Environment("staging")),
        (None, "prod-evidence", "prod", Environment("prod")),
        (Unknown("tags.environment"), "dev", None, Environment("dev")),
        ("qa", "stack", None, Environment("prod", assumed=True)),
        (None, "stack", None, Environment("prod", assumed=True)),
    ],
)
def test_environment_resolution(tag: Any, stack: str, configured: str | None, expected: Environment) -> None:
    assert resolve_environment(tag, stack, configured) == expected


def test_paths_distinguish_missing_from_unknown() -> None:
    props = {"a": {"b": [1, {"c": 2}]}, "u": Unknown("u")}
    assert get(props, "a.b.1.c") == 2
    assert get(props, "a.b.5") is MISSING
    assert get(props, "a.x.y") is MISSING
    assert get(props, "u.v.w") == Unknown("u.v.w")
    assert whole_numbers({"n": [35.0, 1.5, True]}) == {"n": [35, 1.5, True]}


def test_plain_keeps_the_path_of_each_unknown() -> None:
    props = unknown_checking_proxy({"a": [{"b": UNKNOWN_STRING_VALUE}], "n": 7.0, "c": UNKNOWN_OBJECT_VALUE})
    assert pack.plain(props) == {"a": [{"b": Unknown("a.0.b")}], "n": 7, "c": Unknown("c")}


# ---------------------------------------------------------------------------------- taggable, from the SDK
@pytest.mark.parametrize(
    "token",
    [
        "azure-native:resources:ResourceGroup",
        "azure-native:keyvault:Secret",
        "azure-native:keyvault:Vault",
        "azure-native:servicebus:Topic",
        "azure-native:servicebus:NamespaceAuthorizationRule",
        "azure-native:dbforpostgresql:Configuration",
    ],
)
def test_taggable_agrees_with_the_sdk_class(token: str) -> None:
    _, module, name = token.split(":")
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    assert takes_tags(token) is ("tags" in inspect.signature(cls._internal_init).parameters)


def test_types_outside_the_azure_native_sdk_are_not_judged() -> None:
    assert takes_tags("kubernetes:apps/v1:Deployment") is None
    assert takes_tags("azure-native:web:NoSuchResource") is None
    assert takes_tags("random:index/randomPassword:RandomPassword") is None
    assert run_resource_policy("required-tags", "kubernetes:core/v1:Namespace", {"metadata": {}}) == []
    assert run_resource_policy("required-tags", "azure-native:servicebus:Topic", {"topicName": "t"}) == []


def test_an_azure_type_the_sdk_does_not_know_is_not_passed_silently() -> None:
    (message,) = run_resource_policy("required-tags", "azure-native:web:NoSuchResource", {"tags": {}})
    assert "cannot tell whether azure-native:web:NoSuchResource takes tags" in message


# ------------------------------------------------------------------------------ the pack and its config
@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_config_file_gives_every_policy_a_level(environment: str) -> None:
    levels = json.loads((PACK_DIR / "config" / f"{environment}.json").read_text())
    assert set(levels) == set(RULES), set(levels) ^ set(RULES)
    assert set(levels.values()) <= {"advisory", "mandatory", "disabled"}
    lowered = {name for name, level in levels.items() if level != "mandatory"}
    expected = {"web-managed-identity", "web-http2-enabled", "web-health-check-path", "required-tags"}
    assert lowered == (expected if environment == "dev" else set())


def test_the_documentation_lists_every_policy() -> None:
    doc = (PACK_DIR.parents[1] / "docs" / "baseline-policies.md").read_text()
    assert [name for name in RULES if f"| `{name}` |" not in doc] == []


def test_every_policy_has_its_metadata() -> None:
    assert len(POLICIES) == len(RULES) >= 23
    for policy in POLICIES.values():
        assert policy.description and policy.remediation_steps and policy.severity is not None, policy.name


def test_kubernetes_rules_written_for_the_gate_marker_plug_in() -> None:
    def replicas_known(props: Any) -> list[str]:
        return ["spec.replicas unknown"] if is_unknown(props["spec"]["replicas"]) else []

    rule = kubernetes.gate_style_rule(
        "kubernetes-example", replicas_known, description="d", severity="low", remediation="r"
    )
    context = Context(Environment("prod"), {}, "kubernetes:apps/v1:Deployment")
    assert rule.applies_to("kubernetes:apps/v1:Deployment")
    assert rule.check({"spec": {"replicas": 2}}, context) == []
    assert rule.check({"spec": {"replicas": Unknown("spec.replicas")}}, context) == ["spec.replicas unknown"]
    assert kubernetes.NAMESPACE in RULES["stateful-resources-protected"].defaults()["statefulTypes"]


WORKLOAD_CASES = [case for case in CASES if case.type in kubernetes_rules.WORKLOAD_TYPES]


def test_the_kubernetes_registry_wraps_each_workload_rule_once() -> None:
    registered = {rule.name: rule for rule in kubernetes.RULES}
    assert list(registered) == list(kubernetes_rules.RULES)
    for rule in registered.values():
        assert isinstance(rule, ResourceRule)
        assert [t for t in (DEPLOYMENT, STATEFULSET) if rule.applies_to(t)] == [DEPLOYMENT, STATEFULSET]
        for other in (
            "kubernetes:core/v1:Pod",
            "kubernetes:apps/v1:DaemonSet",
            "kubernetes:core/v1:Namespace",
        ):
            assert not rule.applies_to(other), (rule.name, other)
        assert rule.description and rule.remediation and rule.severity, rule.name


@pytest.mark.parametrize("case", WORKLOAD_CASES, ids=lambda c: f"{c.stack}-{c.name}")
def test_the_pack_reports_what_the_workload_rules_report(case: Case) -> None:
    """The wrapper hands the rules the gate's marker for each unknown, and their messages unchanged."""
    props = pack.plain(unknown_checking_proxy(case.props()))
    context = Context(Environment(case.stack), {}, case.type)
    through_pack = {
        rule.name: rule.check(props, context) for rule in kubernetes.RULES if isinstance(rule, ResourceRule)
    }
    direct = kubernetes_rules.workload_violations(case.type, kubernetes.with_gate_unknowns(props))
    assert {name: found for name, found in through_pack.items() if found} == direct
    assert set(direct) == case.expect


def test_gate_unknowns_replace_unknowns_at_any_depth() -> None:
    props = {"a": [Unknown("a.0"), {"b": Unknown("a.1.b")}], "c": Unknown("c"), "d": [1, "x"]}
    assert kubernetes.with_gate_unknowns(props) == {
        "a": [UNKNOWN, {"b": UNKNOWN}],
        "c": UNKNOWN,
        "d": [1, "x"],
    }
