"""Settings for the API on Kubernetes and dev's local PostgreSQL: the `kubernetes` part of the stack config.

Embedded in `components.settings.Settings` as `kubernetes: KubernetesSettings` (key
`meajudaai-infra:kubernetes`), with `KUBERNETES_PRESETS[env]` merged into each environment's preset and
`environment_problems(...)` called from the root model's validator, so a bad value fails once, naming the
key, like every other setting.

The program never creates the cluster: it reaches an existing one through a kubeconfig file and/or one of
its contexts (AKS via `az aks get-credentials`, kind, Docker Desktop; see docs/kubernetes.md).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator, model_validator

from components.config_model import ConfigModel

# RFC 1123 subdomain (Secret names, storage classes) and a DNS host name (Ingress hosts, wildcard allowed).
_SUBDOMAIN = r"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$"
_HOST = r"^(?:\*\.)?[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)+$"
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_SUFFIX: dict[str | None, Decimal] = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    **{s: Decimal(1000) ** (i + 1) for i, s in enumerate(("k", "M", "G", "T", "P", "E"))},
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
}
# Schema versions for the manifests (kubernetes-validate in the tests): 1.<two-digit minor>.
_K8S_VERSION = r"^1\.[2-9][0-9]$"


def quantity(text: str) -> Decimal:
    """A Kubernetes resource quantity ("500m", "1.5", "512Mi") as a number; ValueError if malformed."""
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity such as 250m, 1, 512Mi or 1Gi")
    return Decimal(match.group(1)) * _SUFFIX[match.group(2)]


class ResourceAmounts(ConfigModel):
    cpu: str
    """CPU as a Kubernetes quantity (250m, 1)."""
    memory: str
    """Memory as a Kubernetes quantity (256Mi, 1Gi)."""

    @field_validator("cpu", "memory")
    @classmethod
    def _quantity(cls, value: str) -> str:
        if quantity(value) <= 0:
            raise ValueError(f"{value!r} must be more than zero")
        return value


class Resources(ConfigModel):
    requests: ResourceAmounts = ResourceAmounts(cpu="250m", memory="256Mi")
    """What the scheduler reserves for the container."""
    limits: ResourceAmounts = ResourceAmounts(cpu="1", memory="512Mi")
    """The most the container may use."""

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        for kind in ("cpu", "memory"):
            request, limit = getattr(self.requests, kind), getattr(self.limits, kind)
            if quantity(request) > quantity(limit):
                raise ValueError(f"requests.{kind} {request} is above limits.{kind} {limit}")
        return self


class AutoscalingSettings(ConfigModel):
    """A HorizontalPodAutoscaler (autoscaling/v2) on CPU; needs metrics-server (AKS has it, kind does not)."""

    enabled: bool = False
    """Create the HorizontalPodAutoscaler (needs metrics-server: AKS has it, kind does not)."""
    min_replicas: int = Field(default=2, ge=1, le=100)
    """Fewest API pods."""
    max_replicas: int = Field(default=4, ge=1, le=100)
    """Most API pods."""
    target_cpu_utilization: int = Field(default=70, ge=10, le=100)
    """Average CPU utilization (percent of requests) the autoscaler aims for."""

    @model_validator(mode="after")
    def _range(self) -> AutoscalingSettings:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas {self.min_replicas} is above maxReplicas {self.max_replicas}")
        return self


class DisruptionBudgetSettings(ConfigModel):
    min_available: int = Field(default=1, ge=1)
    """API pods that must stay up during voluntary disruptions (below the fewest replicas)."""


class IngressSettings(ConfigModel):
    host: str = Field(pattern=_HOST, max_length=253)
    """The host name the Ingress answers on."""
    tls_secret_name: str | None = Field(default=None, pattern=_SUBDOMAIN, max_length=253)
    """The Secret holding the host's TLS certificate (required outside dev)."""
    class_name: str | None = Field(default=None, pattern=_SUBDOMAIN, max_length=253)
    """The ingress class (e.g. webapprouting.kubernetes.azure.com on AKS)."""


class LocalPostgresSettings(ConfigModel):
    """dev's PostGIS container, as the platform's compose files run it; used with api.hosting kubernetes."""

    enabled: bool = False
    """Run PostGIS 16 in the cluster and point the API at it (dev only)."""
    storage_size: str = "8Gi"
    """Size of its volume (at least 1Gi)."""
    storage_class: str | None = Field(default=None, pattern=_SUBDOMAIN, max_length=253)
    """Its storage class (standard on kind, hostpath on Docker Desktop). Default the cluster's."""
    username: str = Field(default="meajudaai", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """Its database user (the password is generated)."""

    @field_validator("storage_size")
    @classmethod
    def _storage(cls, value: str) -> str:
        if quantity(value) < 1024**3:
            raise ValueError(f"{value!r} is below 1Gi (PostGIS alone needs several hundred MiB)")
        return value


class KubernetesSettings(ConfigModel):
    # The cluster: a kubeconfig file (default: $KUBECONFIG or ~/.kube/config) and/or a context in it.
    kubeconfig: str | None = Field(default=None, min_length=1)
    """Path of the kubeconfig file (relative to the project; default $KUBECONFIG or ~/.kube/config)."""
    context: str | None = Field(default=None, min_length=1)
    """The kubeconfig context (kind-meajudaai, docker-desktop, an AKS context)."""
    # Which cluster this is, for Pulumi: the provider (and every object) is replaced only when this changes,
    # not when the kubeconfig path or context does. Default `meajudaai-<environment>`.
    cluster_identifier: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    """Which cluster this is for Pulumi: the provider, and every object, is replaced only when it changes.
    Default `meajudaai-<env>`."""
    # Kubernetes minor version the manifests are validated against (the cluster's).
    version: str = Field(default="1.34", pattern=_K8S_VERSION)
    """The cluster's Kubernetes minor version; the manifests are validated against it."""
    # spec.replicas when autoscaling is off; with autoscaling on the HPA owns the count.
    replicas: int = Field(default=1, ge=1, le=100)
    """API pods when autoscaling is off."""
    resources: Resources = Resources()
    """The API container's requests and limits."""
    autoscaling: AutoscalingSettings = AutoscalingSettings()
    """A CPU HorizontalPodAutoscaler for the API."""
    pod_disruption_budget: DisruptionBudgetSettings = DisruptionBudgetSettings()
    """A PodDisruptionBudget for the API (outside dev)."""
    ingress: IngressSettings | None = None
    """An Ingress for the API (TLS required outside dev)."""
    liveness_path: str = Field(default="/health/live", pattern=r"^/[A-Za-z0-9/_.-]*$")
    """The container's startup and liveness probe path."""
    readiness_path: str = Field(default="/health/ready", pattern=r"^/[A-Za-z0-9/_.-]*$")
    """The container's readiness probe path."""
    # The .NET images' non-root `app` user (APP_UID); root (0) is refused.
    run_as_user: int = Field(default=1654, ge=1)
    """The container's non-root user id (the .NET images' `app` user is 1654; root is refused)."""
    local_postgres: LocalPostgresSettings = LocalPostgresSettings()
    """dev's local PostGIS container."""

    @field_validator("kubeconfig")
    @classmethod
    def _kubeconfig(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("~"):
            # The provider does not expand '~', and an expanded path differs from machine to machine.
            raise ValueError(
                "'~' is not expanded: leave kubeconfig unset to use $KUBECONFIG or ~/.kube/config"
            )
        return value

    @property
    def lowest_replicas(self) -> int:
        """The fewest pods the API runs with when it is not stopped."""
        return self.autoscaling.min_replicas if self.autoscaling.enabled else self.replicas


# Per-environment values, merged under "kubernetes" into components.settings.PRESETS.
KUBERNETES_PRESETS: dict[str, dict[str, Any]] = {
    "dev": {
        "replicas": 1,
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        # kind and Docker Desktop ship no metrics-server, so an HPA there would only report <unknown>.
        "autoscaling": {"enabled": False},
        "localPostgres": {"enabled": True, "storageSize": "8Gi"},
    },
    "staging": {
        "resources": {
            "requests": {"cpu": "250m", "memory": "384Mi"},
            "limits": {"cpu": "1", "memory": "768Mi"},
        },
        "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 4, "targetCpuUtilization": 70},
        "podDisruptionBudget": {"minAvailable": 1},
    },
    "prod": {
        "resources": {
            "requests": {"cpu": "500m", "memory": "512Mi"},
            "limits": {"cpu": "2", "memory": "1Gi"},
        },
        "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 10, "targetCpuUtilization": 70},
        "podDisruptionBudget": {"minAvailable": 2},
    },
}


def environment_problems(settings: KubernetesSettings, environment: str) -> list[str]:
    """Rules that need the environment; each message names its key.

    For the root settings model: `raise ValueError("; ".join(problems))` when any.
    """
    problems: list[str] = []
    prefix = "kubernetes."
    if environment != "dev" and settings.local_postgres.enabled:
        problems.append(
            f"{prefix}localPostgres.enabled is for dev only: {environment} uses the Azure flexible server "
            "(backups, HA, the gate's backup checks)"
        )
    floor_key = prefix + ("autoscaling.minReplicas" if settings.autoscaling.enabled else "replicas")
    if environment != "dev":
        budget = settings.pod_disruption_budget.min_available
        if budget >= settings.lowest_replicas:
            problems.append(
                f"{prefix}podDisruptionBudget.minAvailable {budget} must be below {floor_key} "
                f"{settings.lowest_replicas}, or no pod may ever be evicted and node drains hang"
            )
        if settings.ingress is not None and settings.ingress.tls_secret_name is None:
            problems.append(f"{prefix}ingress.tlsSecretName is required in {environment} (HTTPS only)")
    if environment == "prod" and settings.lowest_replicas < 2:
        problems.append(f"{floor_key} is {settings.lowest_replicas}: prod runs at least 2 API pods")
    return problems
