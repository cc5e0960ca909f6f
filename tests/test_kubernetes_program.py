"""The API on Kubernetes in the real program, per stack, under the offline mock engine.

dev runs as committed (its default hosting is Kubernetes, beside the local PostGIS). staging and prod are
the committed stacks with `api.hosting: kubernetes` and a `kubernetes` object given through run_stack's
`extra`, and prod once more with the runbook's stop (`api.stopped: true`). Every object is checked as
registered (wire names = Kubernetes field names), and every manifest is validated against Kubernetes' own
OpenAPI schemas for the version the stack configures, with kubernetes-validate.

Runs come from tests/program.py's per-process cache, shared with the other program tests.
"""

from __future__ import annotations

import functools
from typing import Any

import kubernetes_validate
import pytest

from components.kubernetes_app import API_NAME, NAMESPACE, PATCH_FORCE
from components.local_postgres import POSTGRES_IMAGE, POSTGRES_NAME
from components.settings import PROJECT, deep_merge
from gate.stamp import ALL_KEYS, PREFIX, read_stamp
from offline.values import UNKNOWN, is_secret
from tests.program import Resource, Run, patched, run_stack

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
PROVIDER = "pulumi:providers:kubernetes"
WEB_APP = "azure-native:web:WebApp"
KEY_VAULT_SECRET = "azure-native:keyvault:Secret"
API_SECRET = "api-k8s-secrets"

REPOSITORY = "acrmeajudaai.azurecr.io/meajudaai-api"
# staging pulls from another registry, set once in api.image for both hosts.
STAGING_REPOSITORY = "registry.staging.meajudaai.com/platform/meajudaai-api"
APP_ROUTING = "webapprouting.kubernetes.azure.com"


def on_kubernetes(stack: str, kubernetes: dict[str, Any], **api: Any) -> dict[str, Any]:
    """`extra` for run_stack: the stack file's `api` with hosting kubernetes (and `api`) and `kubernetes`."""
    return {**patched(stack, "api", {"hosting": "kubernetes", **api}), f"{PROJECT}:kubernetes": kubernetes}


# staging on AKS through a kubeconfig file, on an older minor version.
STAGING_CLUSTER = {
    "kubeconfig": ".kube/aks-staging.yaml",
    "context": "aks-meajudaai-staging",
    "version": "1.33",
    "ingress": {
        "host": "api.staging.meajudaai.com",
        "tlsSecretName": "meajudaai-api-tls",
        "className": APP_ROUTING,
    },
}
PROD_CLUSTER = {
    "context": "aks-meajudaai-prod",
    "ingress": {"host": "api.meajudaai.com", "tlsSecretName": "meajudaai-api-tls", "className": APP_ROUTING},
}
# case -> (stack, extra config)
CASES: dict[str, tuple[str, dict[str, Any] | None]] = {
    "dev": ("dev", None),
    "staging": (
        "staging",
        on_kubernetes("staging", STAGING_CLUSTER, image={"repository": STAGING_REPOSITORY}),
    ),
    "prod": ("prod", on_kubernetes("prod", PROD_CLUSTER)),
    "prod-stopped": ("prod", on_kubernetes("prod", PROD_CLUSTER, stopped=True)),
}
STACKS = ("dev", "staging", "prod")
VERSIONS = {"dev": "1.34", "staging": "1.33", "prod": "1.34", "prod-stopped": "1.34"}
# The same extra as tests/test_program_stacks.py's dev on App Service, so the run is shared.
DEV_ON_APP_SERVICE = patched("dev", "api", {"hosting": "appService"})


def k8s_run(case: str, preview: bool = False) -> Run:
    stack, extra = CASES[case]
    run = run_stack(stack, preview, extra)
    assert run.error is None, f"{case}: {run.error}"
    return run


def app_service_run(stack: str) -> Run:
    """The same stack with the API on App Service (staging and prod as committed)."""
    run = run_stack(stack, extra=DEV_ON_APP_SERVICE if stack == "dev" else None)
    assert run.error is None, f"{stack}: {run.error}"
    assert run.of_type(DEPLOYMENT) == []
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


# ------------------------------------------------------------------------------ schema validation
@pytest.fixture(scope="module", autouse=True)
def _schemas_read_once():
    """kubernetes-validate re-reads its multi-megabyte definitions file on every call (~0.1 s); reading
    each file once makes validating every manifest of every stack cost well under a second."""
    original = kubernetes_validate.utils.schema_contents
    kubernetes_validate.utils.schema_contents = functools.cache(original)
    yield
    kubernetes_validate.utils.schema_contents = original


@pytest.mark.parametrize("case", CASES)
def test_every_manifest_is_valid_for_the_configured_kubernetes_version(case) -> None:
    version = VERSIONS[case]
    shipped = {kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()}
    # kubernetes-validate silently falls back to an older schema; demand the exact minor version.
    assert version in shipped, f"kubernetes-validate ships no schema for {version}"
    objects = kubernetes_objects(k8s_run(case))
    assert len(objects) >= 6
    for obj in objects:
        body = manifest(obj.props)
        assert kubernetes_validate.validate(body, version, strict=True) == version, obj.name


def test_schema_validation_catches_a_broken_manifest() -> None:
    deployment = manifest(k8s_run("prod").one(DEPLOYMENT).props)
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.34", strict=True)


# ----------------------------------------------------------------------------------- every object
@pytest.mark.parametrize("case", STACKS)
def test_every_object_uses_the_explicit_provider_in_the_namespace(case) -> None:
    run = k8s_run(case)
    providers = [r for r in run.raw.resources if r.type == PROVIDER]
    assert [(p.name, p.synthetic) for p in providers] == [("cluster-provider", False)]
    provider_urn = providers[0].urn
    for captured in run.raw.resources:
        if captured.type.startswith("kubernetes:"):
            assert captured.provider_urn == provider_urn, captured.name
    for obj in kubernetes_objects(run):
        if obj.type != NAMESPACE_TYPE:
            assert obj.get("metadata.namespace") == NAMESPACE, obj.name


def test_app_service_hosting_creates_nothing_in_a_cluster() -> None:
    for stack in STACKS:
        run = app_service_run(stack)
        assert kubernetes_objects(run) == [] and run.of_type(PROVIDER) == [], stack
        assert len(run.of_type(WEB_APP)) == 1


@pytest.mark.parametrize(
    ("case", "cluster"),
    [("dev", {"context": "kind-meajudaai", "clusterIdentifier": "meajudaai-dev"}),
     ("staging", {"kubeconfig": ".kube/aks-staging.yaml", "context": "aks-meajudaai-staging",
                  "clusterIdentifier": "meajudaai-staging"})],
)  # fmt: skip
def test_provider_reaches_the_configured_cluster(case, cluster) -> None:
    provider = k8s_run(case).one(PROVIDER)
    assert {k: provider.get(k) for k in cluster} == cluster
    # Provider inputs travel as strings (the engine hands providers their config that way).
    assert provider.get("enableServerSideApply") == "true"


@pytest.mark.parametrize("case", STACKS)
def test_namespace_enforces_restricted_pods_and_is_protected_in_prod(case) -> None:
    namespace = k8s_run(case).one(NAMESPACE_TYPE)
    labels = namespace.get("metadata.labels")
    assert namespace.get("metadata.name") == NAMESPACE
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == f"v{VERSIONS[case]}"
    assert namespace.protect is (case == "prod")


@pytest.mark.parametrize(
    ("case", "image", "resources"),
    [("dev", f"{REPOSITORY}:c2f3a2362",
      {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}),
     ("staging", f"{STAGING_REPOSITORY}:cc4de0a8",
      {"requests": {"cpu": "250m", "memory": "384Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}}),
     ("prod", f"{REPOSITORY}:cc4de0a8",
      {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}})],
)  # fmt: skip
def test_api_container_spec(case, image, resources) -> None:
    run = k8s_run(case)
    deployment = run.one(DEPLOYMENT)
    api = container(deployment)
    assert deployment.get("metadata.name") == API_NAME
    # The image's tag is the release the gate judged (its stamp is on the same Deployment).
    assert api["image"] == image
    assert api["image"].rsplit(":", 1)[1] == read_stamp(deployment.get("metadata.annotations")).facts.release
    assert api["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert api["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert api["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    # The environment presets reach the container.
    assert api["resources"] == resources
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
        {"secretRef": {"name": run.one(SECRET, API_SECRET).outputs["metadata"]["name"]}},
    ]
    # Nothing goes on the command line: Kubernetes takes dotted names in the environment.
    assert "args" not in api


# ------------------------------------------------------------------------- configuration and secrets
def vault_secret_name(reference: str) -> str:
    """`@Microsoft.KeyVault(VaultName=…;SecretName=<name>)` -> <name>."""
    assert reference.startswith("@Microsoft.KeyVault(") and reference.endswith(")"), reference
    fields = dict(
        part.split("=", 1) for part in reference.removeprefix("@Microsoft.KeyVault(")[:-1].split(";")
    )
    return fields["SecretName"]


@pytest.mark.parametrize("stack", STACKS)
def test_configuration_has_the_keys_and_values_of_the_app_service_settings(stack) -> None:
    """The ConfigMap + Secret carry the App Service app settings of the same stack: the same names, the same
    plain values, and each secret the value of the Key Vault secret App Service references (dev's database
    aside). The one difference on purpose: a dotted log category, which Linux App Service cannot take as a
    setting name, is on App Service's command line and in the Kubernetes environment."""
    k8s, app_service = k8s_run(stack), app_service_run(stack)
    data = k8s.one(CONFIG_MAP).get("data")
    secret = k8s.one(SECRET, API_SECRET)
    assert secret.is_secret("stringData")
    secret_data = secret.get("stringData")
    assert not set(data) & set(secret_data)

    moved = {"Logging__LogLevel__Npgsql.Connection"}
    # Settings for App Service itself (which port the container listens on, no shared /home storage), not
    # for the app: on Kubernetes the container spec says the same.
    web_settings = {
        k: v
        for k, v in app_service.app_settings().items()
        if k not in {"WEBSITES_PORT", "WEBSITES_ENABLE_APP_SERVICE_STORAGE"}
    }
    assert set(data) | set(secret_data) == set(web_settings) | moved
    assert {k: v for k, v in web_settings.items() if k in data} == {k: data[k] for k in set(data) - moved}
    command_line = app_service.one(WEB_APP).get("siteConfig.appCommandLine")
    # The image's entrypoint runs the API; the startup command only appends these arguments.
    assert command_line.split() == [f"--Logging:LogLevel:Npgsql.Connection={data[k]}" for k in moved]

    vault = {s.get("secretName"): s.get("properties.value") for s in k8s.of_type(KEY_VAULT_SECRET)}
    for key, value in secret_data.items():
        referenced = vault_secret_name(web_settings[key])
        if stack == "dev" and key.startswith("ConnectionStrings__"):
            assert value != vault[referenced]  # the local PostGIS, below
        else:
            assert value == vault[referenced], key


def test_dev_api_connects_to_the_local_postgres() -> None:
    run = k8s_run("dev")
    secrets = run.one(SECRET, API_SECRET).get("stringData")
    password = run.one("random:index/randomPassword:RandomPassword", "postgres-local-password").outputs[
        "result"
    ]
    host = f"{POSTGRES_NAME}.{NAMESPACE}.svc.cluster.local"
    expected = (
        f"Host={host};Port=5432;Database=meajudaai;Username=meajudaai;"
        f"Password={password['value']};SSL Mode=Disable;Maximum Pool Size=100"
    )
    assert secrets["ConnectionStrings__DefaultConnection"] == expected
    assert secrets["ConnectionStrings__HangfireConnection"] == expected
    assert run.outputs["localPostgresHost"] == host
    # The Azure flexible server is still created in dev (the Bicep's mirror); the API just does not use it.
    server = run.one("azure-native:dbforpostgresql:Server")
    assert run.outputs["postgresHost"].startswith(server.get("serverName"))


def test_local_postgres_statefulset() -> None:
    run = k8s_run("dev")
    statefulset = run.one(STATEFULSET)
    assert statefulset.get("metadata.name") == POSTGRES_NAME
    pod = statefulset.get("spec.template.spec")
    (postgres,) = pod["containers"]
    assert postgres["image"] == POSTGRES_IMAGE == "postgis/postgis:16-3.4"
    assert statefulset.get("spec.serviceName") == POSTGRES_NAME
    assert statefulset.get("spec.replicas") == 1
    (claim,) = statefulset.get("spec.volumeClaimTemplates")
    # No storageClass in dev's stack file: the cluster's default class.
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}}
    env = {e["name"]: e for e in postgres["env"]}
    secret = run.one(SECRET, "postgres-local-secret")
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": POSTGRES_NAME,
        "key": "POSTGRES_PASSWORD",
    }
    assert (env["POSTGRES_USER"]["value"], env["POSTGRES_DB"]["value"]) == ("meajudaai", "meajudaai")
    assert secret.get("metadata.name") == POSTGRES_NAME and secret.is_secret("stringData")
    assert env["PGDATA"]["value"] == "/var/lib/postgresql/data/pgdata"
    assert pod["securityContext"]["runAsUser"] == 999
    assert run.one(SERVICE, "postgres-local-service").get("spec.clusterIP") == "None"


@pytest.mark.parametrize("stack", ("staging", "prod"))
def test_no_local_postgres_outside_dev(stack) -> None:
    run = k8s_run(stack)
    assert run.of_type(STATEFULSET) == []
    assert "localPostgresHost" not in run.outputs
    connection = run.one(SECRET, API_SECRET).get("stringData")["ConnectionStrings__DefaultConnection"]
    assert connection.startswith(f"Host={run.outputs['postgresHost']};")


# --------------------------------------------------------------------------------------- scaling
@pytest.mark.parametrize(
    ("case", "replicas", "autoscaler", "budget"),
    [("dev", 1, None, None), ("staging", None, (2, 4, 70), 1), ("prod", None, (3, 10, 70), 2)],
)
def test_scaling_objects(case, replicas, autoscaler, budget) -> None:
    run = k8s_run(case)
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
    ("case", "host"), [("staging", "api.staging.meajudaai.com"), ("prod", "api.meajudaai.com")]
)
def test_ingress_terminates_tls_for_the_host(case, host) -> None:
    run = k8s_run(case)
    ingress = run.one(INGRESS)
    assert ingress.get("spec.ingressClassName") == APP_ROUTING
    assert ingress.get("spec.tls") == [{"hosts": [host], "secretName": "meajudaai-api-tls"}]
    assert ingress.get("spec.rules.0.host") == host
    assert ingress.get("spec.rules.0.http.paths.0.backend") == {
        "service": {"name": API_NAME, "port": {"name": "http"}}
    }
    # staging has no api.publicUrl, so its URL is the Ingress's; prod's publicUrl names the same host.
    assert run.outputs["apiUrl"] == f"https://{host}"


def test_dev_has_no_ingress_and_no_public_url() -> None:
    run = k8s_run("dev")
    assert run.of_type(INGRESS) == []
    assert run.outputs["apiUrl"] == ""


# ------------------------------------------------------------------------------- stop and the gate
def test_stopped_scales_to_zero_and_removes_the_autoscaler() -> None:
    running, stopped = k8s_run("prod"), k8s_run("prod-stopped")
    assert stopped.one(DEPLOYMENT).get("spec.replicas") == 0
    assert len(running.of_type(HPA)) == 1 and stopped.of_type(HPA) == []
    assert stopped.outputs["apiStopped"] is True
    # Nothing else moves: the same objects otherwise, and the same stamp.
    running_names, stopped_names = {r.name for r in running.resources}, {r.name for r in stopped.resources}
    assert (running_names - stopped_names, stopped_names - running_names) == ({"api-k8s-autoscaler"}, set())
    assert stopped.one(DEPLOYMENT).get("metadata.annotations") == running.one(DEPLOYMENT).get(
        "metadata.annotations"
    )


@pytest.mark.parametrize(
    ("stack", "release"), [("dev", "c2f3a2362"), ("staging", "cc4de0a8"), ("prod", "cc4de0a8")]
)
def test_deployment_carries_the_gate_stamp_the_web_app_carries(stack, release) -> None:
    annotations = k8s_run(stack).one(DEPLOYMENT).get("metadata.annotations")
    assert set(annotations) == {*ALL_KEYS, PATCH_FORCE}
    assert read_stamp(annotations).facts.release == release
    tags = app_service_run(stack).one(WEB_APP).get("tags")
    assert {k: v for k, v in annotations.items() if k != PATCH_FORCE} == {
        k: v for k, v in tags.items() if k.startswith(PREFIX)
    }


def test_preview_knows_everything_the_gate_and_the_rules_read() -> None:
    deployment = k8s_run("dev", preview=True).one(DEPLOYMENT)
    annotations = deployment.get("metadata.annotations")
    assert set(annotations) == {*ALL_KEYS, PATCH_FORCE}
    assert UNKNOWN not in annotations.values()
    api = container(deployment)
    assert api["image"] == f"{REPOSITORY}:c2f3a2362"
    assert UNKNOWN not in (
        api["securityContext"],
        api["resources"],
        api["livenessProbe"],
        api["readinessProbe"],
    )
    # Only the auto-generated ConfigMap/Secret names are unknown before they exist.
    assert [
        ref[kind]["name"] for ref, kind in zip(api["envFrom"], ("configMapRef", "secretRef"), strict=True)
    ] == [
        UNKNOWN,
        UNKNOWN,
    ]


# ---------------------------------------------------------------------------------- bad settings
@pytest.mark.parametrize(
    ("patch", "key"),
    [({"image": {"repository": REPOSITORY, "tag": "1.0"}}, "kubernetes.image"),
     ({"localPostgres": {"enabled": True}}, "kubernetes.localPostgres.enabled"),
     ({"podDisruptionBudget": {"minAvailable": 3}}, "kubernetes.podDisruptionBudget.minAvailable"),
     ({"replicaz": 2}, "kubernetes.replicaz")],
)  # fmt: skip
def test_program_refuses_bad_kubernetes_settings_naming_the_key(patch, key) -> None:
    run = run_stack("prod", extra=on_kubernetes("prod", deep_merge(PROD_CLUSTER, patch)))
    assert run.error is not None and f"{PROJECT}:{key}" in run.error
    assert kubernetes_objects(run) == []


def test_a_release_id_that_cannot_tag_the_image_is_refused() -> None:
    extra = {**on_kubernetes("staging", STAGING_CLUSTER), **patched("staging", "release", {"id": "1.4+b7"})}
    run = run_stack("staging", extra=extra)
    assert run.error is not None
    assert f"{PROJECT}:release.id '1.4+b7' is also the API image's tag" in run.error
    assert kubernetes_objects(run) == []
