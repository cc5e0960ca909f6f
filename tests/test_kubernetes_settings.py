"""The `kubernetes` settings through the real loader (`components.settings.load_settings`): presets per
environment, the hosting default, and every bad value rejected naming its key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from components.kubernetes_app import Scaling, scaling
from components.kubernetes_settings import KUBERNETES_PRESETS, KubernetesSettings, quantity
from components.settings import SettingsError
from tests.test_settings import KEYCLOAK, PROD_AUTH
from tests.test_settings import load as load_stack_settings

# What each environment needs of `api` besides the hosting (staging and prod authenticate with Keycloak).
AUTH: dict[str, dict[str, Any]] = {"dev": {}, "staging": KEYCLOAK, "prod": PROD_AUTH}


def load(environment: str = "dev", hosting: str = "kubernetes", **keys: Any) -> KubernetesSettings:
    """The settings of a stack of `environment` whose `meajudaai-infra:kubernetes` is `keys` and whose
    `api.hosting` is `hosting`."""
    return load_stack_settings(
        environment, api={**AUTH[environment], "hosting": hosting}, kubernetes=keys
    ).kubernetes


def error_of(environment: str = "dev", hosting: str = "kubernetes", **keys: Any) -> str:
    with pytest.raises(SettingsError) as caught:
        load(environment, hosting, **keys)
    return str(caught.value)


@pytest.mark.parametrize("environment", sorted(KUBERNETES_PRESETS))
def test_presets_are_valid(environment) -> None:
    settings = load(environment)
    assert settings.local_postgres.enabled is (environment == "dev")
    assert settings.autoscaling.enabled is (environment != "dev")
    assert settings.version == "1.34"
    assert settings.lowest_replicas == {"dev": 1, "staging": 2, "prod": 3}[environment]


def test_dev_defaults_to_kubernetes_and_staging_and_prod_to_app_service() -> None:
    assert load_stack_settings("dev").api.hosting == "kubernetes"
    for environment in ("staging", "prod"):
        assert load_stack_settings(environment, api=AUTH[environment]).api.hosting == "appService"


def test_the_stack_file_overrides_the_preset_key_by_key() -> None:
    settings = load("prod", autoscaling={"minReplicas": 4}, resources={"limits": {"memory": "2Gi"}})
    autoscaling, resources = settings.autoscaling, settings.resources
    assert (autoscaling.enabled, autoscaling.min_replicas, autoscaling.max_replicas) == (True, 4, 10)
    assert (resources.limits.cpu, resources.limits.memory, resources.requests.cpu) == ("2", "2Gi", "500m")


@pytest.mark.parametrize(
    ("keys", "key", "words"),
    [
        # The image moved to api.image (one image for both hosts, tagged with release.id).
        ({"image": {"repository": "acrmeajudaai.azurecr.io/meajudaai-api", "tag": "1.4.2"}},
         "kubernetes.image", "unknown setting"),
        ({"version": "1.9"}, "kubernetes.version", "String should match pattern"),
        ({"version": 1.34}, "kubernetes.version", "Input should be a valid string"),
        ({"replicas": 0}, "kubernetes.replicas", "greater than or equal to 1"),
        ({"resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}, "kubernetes.resources",
         "requests.cpu 2 is above limits.cpu 1"),
        ({"resources": {"limits": {"cpu": "one", "memory": "1Gi"}}}, "kubernetes.resources.limits.cpu",
         "not a Kubernetes quantity"),
        ({"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}, "kubernetes.autoscaling",
         "minReplicas 5 is above maxReplicas 3"),
        ({"autoscaling": {"targetCpuUtilization": 5}}, "kubernetes.autoscaling.targetCpuUtilization",
         "greater than or equal to 10"),
        ({"ingress": {"host": "API.example.com"}}, "kubernetes.ingress.host", "should match pattern"),
        ({"ingress": {"host": "api.example.com", "tlsSecretName": "Bad_Name"}},
         "kubernetes.ingress.tlsSecretName", "should match pattern"),
        ({"localPostgres": {"storageSize": "512Mi"}}, "kubernetes.localPostgres.storageSize", "below 1Gi"),
        ({"kubeconfig": "~/.kube/config"}, "kubernetes.kubeconfig", "'~' is not expanded"),
        ({"runAsUser": 0}, "kubernetes.runAsUser", "greater than or equal to 1"),
        ({"namespace": "other"}, "kubernetes.namespace", "unknown setting"),
    ],
)  # fmt: skip
def test_bad_values_are_rejected_naming_the_key(keys, key, words) -> None:
    message = error_of(**keys)
    assert f"meajudaai-infra:{key}:" in message
    assert words in message


@pytest.mark.parametrize(
    ("environment", "hosting", "keys", "words"),
    [
        ("prod", "appService", {"localPostgres": {"enabled": True}},
         "kubernetes.localPostgres.enabled is for dev"),
        ("staging", "kubernetes", {"podDisruptionBudget": {"minAvailable": 2}},
         "kubernetes.podDisruptionBudget.minAvailable 2 must be below kubernetes.autoscaling.minReplicas 2"),
        ("staging", "kubernetes", {"autoscaling": {"enabled": False}, "replicas": 1},
         "kubernetes.podDisruptionBudget.minAvailable 1 must be below kubernetes.replicas 1"),
        ("prod", "kubernetes", {"ingress": {"host": "api.meajudaai.com"}},
         "kubernetes.ingress.tlsSecretName is required in prod"),
        ("prod", "kubernetes", {"autoscaling": {"minReplicas": 1}},
         "kubernetes.autoscaling.minReplicas is 1: prod runs at least 2 API pods"),
        ("prod", "kubernetes", {"autoscaling": {"enabled": False}, "replicas": 1},
         "kubernetes.replicas is 1: prod runs at least 2 API pods"),
    ],
)  # fmt: skip
def test_environment_rules_name_the_key(environment, hosting, keys, words) -> None:
    message = error_of(environment, hosting, **keys)
    assert words in message
    assert "meajudaai-infra:kubernetes." in message


def test_environment_rules_allow_what_dev_needs() -> None:
    # dev: one pod, no budget, no TLS, its own database.
    ingress = load("dev", ingress={"host": "api.meajudaai.localhost"}).ingress
    assert ingress is not None and ingress.tls_secret_name is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", Decimal("0.25")), ("1", Decimal(1)), ("1.5", Decimal("1.5")), ("512Mi", Decimal(512 * 1024**2)),
     ("1Gi", Decimal(1024**3)), ("1G", Decimal(10**9)), ("100k", Decimal(100_000))],
)  # fmt: skip
def test_quantities(text, value) -> None:
    assert quantity(text) == value


@pytest.mark.parametrize("text", ["", "1.", "-1", "1gi", "1 Gi", "0x10"])
def test_bad_quantities(text) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        quantity(text)


@pytest.mark.parametrize(
    ("environment", "stopped", "expected"),
    [("dev", False, (1, None)), ("dev", True, (0, None)),
     ("prod", False, (None, (3, 10))), ("prod", True, (0, None))],
)  # fmt: skip
def test_scaling_decision(environment, stopped, expected) -> None:
    plan: Scaling = scaling(load(environment), stopped)
    autoscaler = plan.autoscaler and (plan.autoscaler.min_replicas, plan.autoscaler.max_replicas)
    assert (plan.replicas, autoscaler) == expected
