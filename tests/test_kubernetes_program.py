"""The Kubernetes components under the offline mock engine, per stack, through the fixture program in
tests/fixtures/kubernetes (real settings, real ApiConfiguration, real gate stamp; Azure secrets stubbed).

Every object is checked as registered (wire names = Kubernetes field names) and every manifest is validated
against Kubernetes' own OpenAPI schemas for the stack's configured version with kubernetes-validate.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from components.app_config import api_configuration
from components.kubernetes_app import API_NAME, NAMESPACE, PATCH_FORCE
from components.kubernetes_settings import KubernetesSettings, load_kubernetes_settings
from components.local_postgres import POSTGRES_IMAGE, POSTGRES_NAME
from components.settings import PROJECT, Settings, deep_merge, load_settings
from gate.stamp import ALL_KEYS, read_stamp
from offline.engine import run_program
from offline.stackconfig import load_project, load_stack
from offline.values import UNKNOWN, is_secret
from policies.compatibility_gate import rules as gate_rules
from tests.program import Resource, Run, _convert

FIXTURE = Path(__file__).parent / "fixtures" / "kubernetes"
STACKS = ("dev", "staging", "prod")
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"


# ----------------------------------------------------------------------------------------------- harness
def stack_config(stack: str) -> dict[str, Any]:
    """The fixture stack file's `meajudaai-infra:*` values, prefix removed."""
    doc = yaml.safe_load((FIXTURE / f"Pulumi.{stack}.yaml").read_text())
    return {k.removeprefix(f"{PROJECT}:"): v for k, v in doc["config"].items()}


def changed(stack: str, key: str, patch: dict[str, Any]) -> dict[str, Any]:
    """`extra` config for run_fixture: one top-level key of the stack file with `patch` merged in."""
    return {key: deep_merge(stack_config(stack).get(key, {}), patch)}


def settings_of(stack: str, extra: dict[str, Any] | None = None) -> tuple[Settings, KubernetesSettings]:
    config = {**stack_config(stack), **(extra or {})}
    kubernetes = config.pop("kubernetes", None)
    secret_keys = {k for k, v in config.items() if isinstance(v, dict) and "secure" in v}
    raw = {k: "placeholder" if k in secret_keys else json.dumps(v) if isinstance(v, dict | list) else v
           for k, v in config.items()}  # fmt: skip
    settings = load_settings(raw, secret_keys, stack)
    return settings, load_kubernetes_settings(kubernetes, settings.environment, settings.api.hosting)


def run_fixture(stack: str, preview: bool = False, extra: dict[str, Any] | None = None) -> Run:
    return _run(stack, preview, json.dumps(extra, sort_keys=True) if extra else "")


@functools.cache
def _run(stack: str, preview: bool, extra_json: str) -> Run:
    config = load_stack(load_project(FIXTURE), stack, json.loads(extra_json) if extra_json else None)
    run = _convert(run_program(config, preview=preview))
    assert run.error is None or extra_json, f"{stack}: {run.error}"
    return run


def kubernetes_objects(run: Run) -> list[Resource]:
    return [r for r in run.resources if r.type.startswith("kubernetes:")]


def manifest(value: Any) -> Any:
    """A registered input as the provider sends it to the API server: secrets unwrapped, and numbers as
    integers where they are whole (the engine carries every number as a double)."""
    if is_secret(value):
        return manifest(value["value"])
    if isinstance(value, dict):
        return {k: manifest(v) for k, v in value.items()}
    if isinstance(value, list):
        return [manifest(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def container(deployment: Resource) -> dict[str, Any]:
    containers = deployment.get("spec.template.spec.containers")
    assert len(containers) == 1
    return containers[0]


STOPPED_PROD = changed("prod", "api", {"stopped": True})


# ------------------------------------------------------------------------------ schema validation
@pytest.fixture(scope="module", autouse=True)
def _schemas_read_once():
    """kubernetes-validate re-reads its multi-megabyte definitions file on every call (~0.1 s); reading
    each file once makes validating every manifest of every stack cost well under a second."""
    original = kubernetes_validate.utils.schema_contents
    kubernetes_validate.utils.schema_contents = functools.cache(original)
    yield
    kubernetes_validate.utils.schema_contents = original


@pytest.mark.parametrize(("stack", "extra"), [(s, None) for s in STACKS] + [("prod", STOPPED_PROD)])
def test_every_manifest_is_valid_for_the_configured_kubernetes_version(stack, extra) -> None:
    _, k8s = settings_of(stack, extra)
    shipped = {kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()}
    # kubernetes-validate silently falls back to an older schema; demand the exact minor version.
    assert k8s.version in shipped, f"kubernetes-validate ships no schema for {k8s.version}"
    objects = kubernetes_objects(run_fixture(stack, extra=extra))
    assert len(objects) >= 7
    for obj in objects:
        body = manifest(obj.props)
        assert kubernetes_validate.validate(body, k8s.version, strict=True) == k8s.version, obj.name


def test_schema_validation_catches_a_broken_manifest() -> None:
    deployment = manifest(run_fixture("prod").one(DEPLOYMENT).props)
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.34", strict=True)


# ----------------------------------------------------------------------------------- every object
@pytest.mark.parametrize("stack", STACKS)
def test_every_object_uses_the_explicit_provider_in_the_namespace(stack) -> None:
    run = run_fixture(stack)
    providers = [r for r in run.raw.resources if r.type == "pulumi:providers:kubernetes"]
    assert [(p.name, p.synthetic) for p in providers] == [("cluster-provider", False)]
    provider_urn = providers[0].urn
    for captured in run.raw.resources:
        if captured.type.startswith("kubernetes:"):
            assert captured.provider_urn == provider_urn, captured.name
    for obj in kubernetes_objects(run):
        if obj.type != NAMESPACE_TYPE:
            assert obj.get("metadata.namespace") == NAMESPACE, obj.name


@pytest.mark.parametrize(
    ("stack", "cluster"),
    [("dev", {"context": "kind-meajudaai", "clusterIdentifier": "meajudaai-dev"}),
     ("staging", {"kubeconfig": ".kube/aks-staging.yaml", "context": "aks-meajudaai-staging",
                  "clusterIdentifier": "meajudaai-staging"})],
)  # fmt: skip
def test_provider_reaches_the_configured_cluster(stack, cluster) -> None:
    provider = run_fixture(stack).one("pulumi:providers:kubernetes")
    assert {k: provider.get(k) for k in cluster} == cluster
    # Provider inputs travel as strings (the engine hands providers their config that way).
    assert provider.get("enableServerSideApply") == "true"


@pytest.mark.parametrize("stack", STACKS)
def test_namespace_enforces_restricted_pods_and_is_protected_in_prod(stack) -> None:
    namespace = run_fixture(stack).one(NAMESPACE_TYPE)
    labels = namespace.get("metadata.labels")
    assert namespace.get("metadata.name") == NAMESPACE
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == f"v{settings_of(stack)[1].version}"
    assert namespace.protect is (stack == "prod")


@pytest.mark.parametrize("stack", STACKS)
def test_api_container_spec(stack) -> None:
    run = run_fixture(stack)
    _, k8s = settings_of(stack)
    deployment = run.one(DEPLOYMENT)
    api = container(deployment)
    assert deployment.get("metadata.name") == API_NAME
    assert k8s.image is not None and api["image"] == k8s.image.reference
    assert api["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert api["resources"] == {
        "requests": {"cpu": k8s.resources.requests.cpu, "memory": k8s.resources.requests.memory},
        "limits": {"cpu": k8s.resources.limits.cpu, "memory": k8s.resources.limits.memory},
    }
    assert api["securityContext"] == {
        "runAsNonRoot": True,
        "privileged": False,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    pod = deployment.get("spec.template.spec")
    assert pod["securityContext"]["runAsUser"] == 1654
    assert pod["automountServiceAccountToken"] is False
    assert api["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    # Config and secrets by reference to the objects registered beside it (auto-named).
    assert api["envFrom"] == [
        {"configMapRef": {"name": run.one(CONFIG_MAP).outputs["metadata"]["name"]}},
        {"secretRef": {"name": run.one(SECRET, "api-secrets").outputs["metadata"]["name"]}},
    ]


def test_a_digest_pins_the_image_by_content() -> None:
    image = container(run_fixture("staging").one(DEPLOYMENT))["image"]
    assert image.startswith("acrmeajudaai.azurecr.io/meajudaai-api@sha256:")


@pytest.mark.parametrize("stack", STACKS)
def test_configuration_has_the_app_service_keys(stack) -> None:
    """Same keys as the App Service settings; only dotted log categories move from App Service's command
    line into the environment, since Kubernetes allows dots in names."""
    run = run_fixture(stack)
    settings, _ = settings_of(stack)
    app_service = api_configuration(settings, dots_allowed_in_names=False)
    kubernetes = api_configuration(settings, dots_allowed_in_names=True)
    data = run.one(CONFIG_MAP).get("data")
    secret = run.one(SECRET, "api-secrets")
    assert data == kubernetes.settings
    assert secret.is_secret("stringData")
    assert set(secret.get("stringData")) == set(app_service.secret_settings)
    moved = set(data) - set(app_service.settings)
    assert moved == {"Logging__LogLevel__Npgsql.Connection"}
    assert app_service.command_line_args == ["--Logging:LogLevel:Npgsql.Connection=Information"]
    assert {k: data[k] for k in app_service.settings} == app_service.settings


def test_dev_api_connects_to_the_local_postgres() -> None:
    run = run_fixture("dev")
    secrets = run.one(SECRET, "api-secrets").get("stringData")
    password = run.one("random:index/randomPassword:RandomPassword").outputs["result"]["value"]
    expected = (
        f"Host={POSTGRES_NAME}.{NAMESPACE}.svc.cluster.local;Port=5432;Database=meajudaai;Username=meajudaai;"
        f"Password={password};SSL Mode=Disable;Maximum Pool Size=100"
    )
    assert secrets["ConnectionStrings__DefaultConnection"] == expected
    assert secrets["ConnectionStrings__HangfireConnection"] == expected
    assert run.outputs["postgresHost"] == f"{POSTGRES_NAME}.{NAMESPACE}.svc.cluster.local"


def test_local_postgres_statefulset() -> None:
    run = run_fixture("dev")
    statefulset = run.one(STATEFULSET)
    pod = statefulset.get("spec.template.spec")
    (postgres,) = pod["containers"]
    assert postgres["image"] == POSTGRES_IMAGE == "postgis/postgis:16-3.4"
    assert statefulset.get("spec.serviceName") == POSTGRES_NAME
    assert statefulset.get("spec.replicas") == 1
    (claim,) = statefulset.get("spec.volumeClaimTemplates")
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "8Gi"}},
        "storageClassName": "standard",
    }
    env = {e["name"]: e for e in postgres["env"]}
    secret = run.one(SECRET, "postgres-local-secret")
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": POSTGRES_NAME,
        "key": "POSTGRES_PASSWORD",
    }
    assert secret.get("metadata.name") == POSTGRES_NAME and secret.is_secret("stringData")
    assert env["PGDATA"]["value"] == "/var/lib/postgresql/data/pgdata"
    assert pod["securityContext"]["runAsUser"] == 999
    assert run.one(SERVICE, "postgres-local-service").get("spec.clusterIP") == "None"


@pytest.mark.parametrize("stack", ("staging", "prod"))
def test_no_local_postgres_outside_dev(stack) -> None:
    run = run_fixture(stack)
    assert run.of_type(STATEFULSET) == []
    assert "Host=psql-fixture" in run.one(SECRET).get("stringData")["ConnectionStrings__DefaultConnection"]


@pytest.mark.parametrize(
    ("stack", "replicas", "autoscaler", "budget"),
    [("dev", 1, None, None), ("staging", None, (2, 4, 70), 1), ("prod", None, (3, 10, 70), 2)],
)
def test_scaling_objects(stack, replicas, autoscaler, budget) -> None:
    run = run_fixture(stack)
    spec = run.one(DEPLOYMENT).props["spec"]
    assert spec.get("replicas") == replicas
    hpas = run.of_type(HPA)
    if autoscaler is None:
        assert hpas == []
    else:
        (hpa,) = hpas
        metric = hpa.get("spec.metrics.0.resource.target")
        assert (hpa.get("spec.minReplicas"), hpa.get("spec.maxReplicas"), metric["averageUtilization"]) == (
            autoscaler
        )
        assert hpa.get("spec.scaleTargetRef") == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": API_NAME,
        }
    pdbs = run.of_type(PDB)
    assert [p.get("spec.minAvailable") for p in pdbs] == ([budget] if budget else [])


@pytest.mark.parametrize(
    ("stack", "host"), [("staging", "api.staging.meajudaai.com"), ("prod", "api.meajudaai.com")]
)
def test_ingress_terminates_tls_for_the_host(stack, host) -> None:
    run = run_fixture(stack)
    ingress = run.one(INGRESS)
    assert ingress.get("spec.tls") == [{"hosts": [host], "secretName": "meajudaai-api-tls"}]
    assert ingress.get("spec.rules.0.host") == host
    assert ingress.get("spec.rules.0.http.paths.0.backend") == {
        "service": {"name": API_NAME, "port": {"name": "http"}}
    }
    assert run.outputs["apiUrl"] == f"https://{host}"
    assert run_fixture("dev").of_type(INGRESS) == []


# ------------------------------------------------------------------------------- stop and the gate
def test_stopped_scales_to_zero_and_removes_the_autoscaler() -> None:
    running, stopped = run_fixture("prod"), run_fixture("prod", extra=STOPPED_PROD)
    assert stopped.error is None
    assert stopped.one(DEPLOYMENT).get("spec.replicas") == 0
    assert len(running.of_type(HPA)) == 1 and stopped.of_type(HPA) == []
    # Nothing else moves: the same objects otherwise, and the same stamp.
    assert {r.name for r in running.resources} - {r.name for r in stopped.resources} == {"api-autoscaler"}
    assert stopped.one(DEPLOYMENT).get("metadata.annotations") == running.one(DEPLOYMENT).get(
        "metadata.annotations"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_deployment_carries_the_gate_stamp(stack) -> None:
    annotations = run_fixture(stack).one(DEPLOYMENT).get("metadata.annotations")
    assert set(annotations) == {*ALL_KEYS, PATCH_FORCE}
    stamped = read_stamp(annotations)
    assert stamped.facts.release == "c2f3a2362"
    assert stamped.facts.hangfire_postgresql == "1.20.12"


def test_gate_blocks_kubernetes_prod_exactly_as_app_service_prod() -> None:
    deployment = run_fixture("prod").one(DEPLOYMENT)
    stamp = {k: v for k, v in deployment.get("metadata.annotations").items() if k != PATCH_FORCE}
    now = datetime(2026, 11, 28, tzinfo=UTC)
    on_kubernetes = gate_rules.app_violations(DEPLOYMENT, deployment.props, "prod", now, {})
    on_app_service = gate_rules.app_violations(gate_rules.WEB_APP, {"tags": stamp}, "prod", now, {})
    assert on_kubernetes and on_kubernetes == on_app_service
    assert "blocked" in on_kubernetes[0]


def test_preview_knows_everything_the_gate_and_the_rules_read() -> None:
    run = run_fixture("prod", preview=True)
    deployment = run.one(DEPLOYMENT)
    annotations = deployment.get("metadata.annotations")
    assert UNKNOWN not in annotations.values()
    # Only the auto-generated ConfigMap/Secret names are unknown before they exist.
    assert container(deployment)["envFrom"][0]["configMapRef"]["name"] == UNKNOWN


# ---------------------------------------------------------------------------------- bad settings
@pytest.mark.parametrize(
    ("patch", "key"),
    [({"image": {"tag": "latest"}}, "kubernetes.image.tag"),
     ({"image": {"tag": ""}}, "kubernetes.image.tag"),
     ({"image": {"repository": "acrmeajudaai.azurecr.io/meajudaai-api:1.0"}}, "kubernetes.image.repository"),
     ({"localPostgres": {"enabled": True}}, "kubernetes.localPostgres.enabled"),
     ({"podDisruptionBudget": {"minAvailable": 3}}, "kubernetes.podDisruptionBudget.minAvailable"),
     ({"replicaz": 2}, "kubernetes.replicaz")],
)  # fmt: skip
def test_program_refuses_bad_kubernetes_settings_naming_the_key(patch, key) -> None:
    run = run_fixture("prod", extra=changed("prod", "kubernetes", patch))
    assert run.error is not None and f"{PROJECT}:{key}" in run.error
    assert kubernetes_objects(run) == []
