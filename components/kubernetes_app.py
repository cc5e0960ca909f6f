"""The API on Kubernetes: namespace, config, Deployment, Service, optional Ingress, HPA and PDB.

The pure functions build manifest fragments with Kubernetes' own (camelCase) field names; the SDK passes
such dict keys through unchanged, so what the tests validate against Kubernetes' OpenAPI schemas is what
the provider applies. The components are thin wrappers that register them.

Configuration mirrors App Service: the ConfigMap holds the same app settings (`ApiConfiguration.settings`)
and the Secret the same secret-backed keys (`ApiConfiguration.secret_settings`), so the API sees one set
of keys whichever way it is hosted. The Deployment carries the gate stamp as `metadata.annotations`, the
way the web app carries it as tags, and the compatibility gate pack reads it there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.app_config import ApiConfiguration
from components.kubernetes_settings import AutoscalingSettings, IngressSettings, KubernetesSettings

NAMESPACE = "meajudaai"
API_NAME = "meajudaai-api"
HTTP_PORT = 8080  # the .NET 8+ container images listen on 8080 as their non-root user
SERVICE_PORT = 80
TMP_VOLUME = "tmp"
# Lets `pulumi up` take spec.replicas back from the HPA's field manager when the API is stopped
# (server-side apply would otherwise refuse with a field conflict).
PATCH_FORCE = "pulumi.com/patchForce"

Manifest = dict[str, Any]


def as_input(fragment: Manifest) -> Any:
    """A camelCase manifest fragment handed to a typed SDK argument (the SDK keeps its keys as written)."""
    return fragment


def object_name(obj: Any) -> pulumi.Output[str]:
    """`metadata.name` as the cluster has it (auto-named objects get a suffix), for references."""
    metadata: pulumi.Output[Any] = obj.metadata
    return metadata.apply(lambda meta: str(meta.name or ""))


def labels(component: str, environment: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/part-of": "meajudaai",
        "app.kubernetes.io/managed-by": "pulumi",
        "meajudaai/environment": environment,
    }


def selector(component: str) -> dict[str, str]:
    # Selectors are immutable on Deployments and StatefulSets: keep them to the one label that never changes.
    return {"app.kubernetes.io/name": component}


def restricted_pod_security(run_as_user: int) -> Manifest:
    """Pod-level settings that satisfy the `restricted` Pod Security Standard."""
    return {
        "runAsNonRoot": True,
        "runAsUser": run_as_user,
        "runAsGroup": run_as_user,
        "fsGroup": run_as_user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_container_security() -> Manifest:
    return {
        "runAsNonRoot": True,
        "privileged": False,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resource_amounts(settings: KubernetesSettings) -> Manifest:
    resources = settings.resources
    return {
        "requests": {"cpu": resources.requests.cpu, "memory": resources.requests.memory},
        "limits": {"cpu": resources.limits.cpu, "memory": resources.limits.memory},
    }


@dataclass(frozen=True)
class Scaling:
    """Who sets the API's pod count.

    `replicas` None means the Deployment leaves spec.replicas to the HPA: a replica count in the
    Deployment would be re-applied by every `pulumi up` and fight the autoscaler.
    """

    replicas: int | None
    autoscaler: AutoscalingSettings | None


def scaling(settings: KubernetesSettings, stopped: bool) -> Scaling:
    """Runbook rollback step 1 (`kubectl scale deployment meajudaai-api --replicas=0`) as desired state.

    Stopped means spec.replicas 0 AND no HPA. An HPA cannot hold a workload at zero: maxReplicas must be
    >= 1 and minReplicas 0 needs the HPAScaleToZero feature gate (alpha, off on AKS). Today's controller
    does skip a target at zero replicas, but that is behaviour, not contract, and a half-applied update or
    anyone's `kubectl scale --replicas=1` would hand the count back to it. Deleting the HPA while stopped
    leaves one owner of the count (this program), and restarting recreates it from settings.
    """
    if stopped:
        return Scaling(replicas=0, autoscaler=None)
    if settings.autoscaling.enabled:
        return Scaling(replicas=None, autoscaler=settings.autoscaling)
    return Scaling(replicas=settings.replicas, autoscaler=None)


def secret_string_data(
    configuration: ApiConfiguration, secret_values: Mapping[str, pulumi.Input[str]]
) -> dict[str, pulumi.Input[str]]:
    """The Secret's keys are the App Service setting names; values come by Key Vault secret name."""
    missing = sorted(set(configuration.secret_settings.values()) - set(secret_values))
    if missing:
        raise ValueError(f"no value for the API's secrets: {', '.join(missing)}")
    return {key: secret_values[name] for key, name in sorted(configuration.secret_settings.items())}


def _http_probe(path: str, period: int, failures: int) -> Manifest:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def api_container(
    settings: KubernetesSettings,
    image: str,
    config_map_name: Any,
    secret_name: Any,
    command_line_args: list[str],
) -> Manifest:
    container: Manifest = {
        "name": "api",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        # Not in the ConfigMap: the ConfigMap holds exactly the App Service settings, and App Service
        # chooses the port itself.
        "env": [{"name": "ASPNETCORE_HTTP_PORTS", "value": str(HTTP_PORT)}],
        "envFrom": [{"configMapRef": {"name": config_map_name}}, {"secretRef": {"name": secret_name}}],
        "resources": resource_amounts(settings),
        # Migrations run at startup: give it up to 3 minutes before liveness may restart the pod.
        "startupProbe": _http_probe(settings.liveness_path, period=5, failures=36),
        "livenessProbe": _http_probe(settings.liveness_path, period=10, failures=3),
        "readinessProbe": _http_probe(settings.readiness_path, period=5, failures=3),
        "securityContext": restricted_container_security(),
        # The root filesystem is read-only; .NET needs a writable temp directory (diagnostics, uploads).
        "volumeMounts": [{"name": TMP_VOLUME, "mountPath": "/tmp"}],
    }
    if command_line_args:
        # Appended to the image's entrypoint (`dotnet <assembly>`), as App Service's startup command does.
        container["args"] = list(command_line_args)
    return container


def deployment_spec(
    settings: KubernetesSettings,
    *,
    image: str,
    environment: str,
    replicas: int | None,
    config_map_name: Any,
    secret_name: Any,
    command_line_args: list[str],
) -> Manifest:
    spec: Manifest = {
        "selector": {"matchLabels": selector(API_NAME)},
        "revisionHistoryLimit": 5,
        # Never below the running count during a rollout (Hangfire workers included).
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": labels(API_NAME, environment)},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": restricted_pod_security(settings.run_as_user),
                # Hangfire requeues in-flight jobs on a graceful shutdown: give it time to.
                "terminationGracePeriodSeconds": 60,
                "containers": [
                    api_container(settings, image, config_map_name, secret_name, command_line_args)
                ],
                "volumes": [{"name": TMP_VOLUME, "emptyDir": {"sizeLimit": "256Mi"}}],
            },
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return spec


def service_spec() -> Manifest:
    return {
        "type": "ClusterIP",
        "selector": selector(API_NAME),
        "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
    }


def ingress_spec(ingress: IngressSettings) -> Manifest:
    spec: Manifest = {
        "rules": [
            {
                "host": ingress.host,
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": API_NAME, "port": {"name": "http"}}},
                        }
                    ]
                },
            }
        ]
    }
    if ingress.class_name:
        spec["ingressClassName"] = ingress.class_name
    if ingress.tls_secret_name:
        spec["tls"] = [{"hosts": [ingress.host], "secretName": ingress.tls_secret_name}]
    return spec


def autoscaler_spec(autoscaling: AutoscalingSettings) -> Manifest:
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": API_NAME},
        "minReplicas": autoscaling.min_replicas,
        "maxReplicas": autoscaling.max_replicas,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "averageUtilization": autoscaling.target_cpu_utilization,
                    },
                },
            }
        ],
    }


def disruption_budget_spec(min_available: int) -> Manifest:
    return {
        "minAvailable": min_available,
        "selector": {"matchLabels": selector(API_NAME)},
        # A crash-looping pod must not block a node drain (it is not serving anyway).
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }


def namespace_metadata(environment: str, version: str) -> Manifest:
    # Pod Security Admission rejects any pod that is not `restricted`, whatever creates it.
    return {
        "name": NAMESPACE,
        "labels": {
            **labels(NAMESPACE, environment),
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": f"v{version}",
        },
    }


def provider_args(settings: KubernetesSettings, environment: str) -> dict[str, Any]:
    """The explicit provider's inputs. `cluster_identifier` keeps the provider (and so every object) from
    being replaced when only the way to reach the cluster changes, e.g. a different kubeconfig path in CI."""
    return {
        "kubeconfig": settings.kubeconfig,
        "context": settings.context,
        "cluster_identifier": settings.cluster_identifier or f"meajudaai-{environment}",
        "enable_server_side_apply": True,
    }


class ClusterTarget(pulumi.ComponentResource):
    """The cluster as the program reaches it: an explicit provider and the `meajudaai` namespace.

    Separate from the API so dev's database (whose connection string the API's Secret needs) can be
    created in the same namespace before the API.
    """

    provider: k8s.Provider
    namespace: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        settings: KubernetesSettings,
        environment: str,
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:kubernetes:ClusterTarget", name, None, opts)
        self.provider = k8s.Provider(
            f"{name}-provider",
            **provider_args(settings, environment),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Deleting a namespace deletes everything in it: in prod a destroy or replacement must be explicit.
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=as_input(namespace_metadata(environment, settings.version)),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, protect=protect),
        )
        self.namespace = object_name(namespace)
        self.register_outputs({"namespace": self.namespace})

    def child_options(
        self, parent: pulumi.Resource, after: Sequence[pulumi.Resource] = ()
    ) -> pulumi.ResourceOptions:
        """Options for an object in this cluster: this provider, created after the namespace (and `after`)."""
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, depends_on=[self, *after])


class KubernetesApi(pulumi.ComponentResource):
    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        target: ClusterTarget,
        settings: KubernetesSettings,
        environment: str,
        image: str,
        configuration: ApiConfiguration,
        secret_values: Mapping[str, pulumi.Input[str]],
        annotations: Mapping[str, str],
        stopped: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:kubernetes:KubernetesApi", name, None, opts)
        child = target.child_options(self)
        namespace = target.namespace
        meta = {"namespace": namespace, "labels": labels(API_NAME, environment)}
        # Auto-named: a changed ConfigMap/Secret is a new object (Pulumi treats both as immutable), so the
        # Deployment's reference changes and a rollout picks the new values up.
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=as_input(meta),
            data=dict(sorted(configuration.settings.items())),
            immutable=True,
            opts=child,
        )
        secret = k8s.core.v1.Secret(
            f"{name}-secrets",
            metadata=as_input(meta),
            type="Opaque",
            string_data={
                key: pulumi.Output.secret(value)
                for key, value in secret_string_data(configuration, secret_values).items()
            },
            immutable=True,
            opts=child,
        )
        plan = scaling(settings, stopped)
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=as_input(
                {**meta, "name": API_NAME, "annotations": {**annotations, PATCH_FORCE: "true"}}
            ),
            spec=as_input(
                deployment_spec(
                    settings,
                    image=image,
                    environment=environment,
                    replicas=plan.replicas,
                    config_map_name=object_name(config),
                    secret_name=object_name(secret),
                    command_line_args=configuration.command_line_args,
                )
            ),
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=as_input({**meta, "name": API_NAME}),
            spec=as_input(service_spec()),
            opts=child,
        )
        if settings.ingress is not None:
            k8s.networking.v1.Ingress(
                f"{name}-ingress",
                metadata=as_input({**meta, "name": API_NAME}),
                spec=as_input(ingress_spec(settings.ingress)),
                opts=child,
            )
        if plan.autoscaler is not None:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-autoscaler",
                metadata=as_input({**meta, "name": API_NAME}),
                spec=as_input(autoscaler_spec(plan.autoscaler)),
                opts=target.child_options(self, after=[deployment]),
            )
        if environment != "dev":
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-disruption-budget",
                metadata=as_input({**meta, "name": API_NAME}),
                spec=as_input(disruption_budget_spec(settings.pod_disruption_budget.min_available)),
                opts=child,
            )
        self.deployment_name = object_name(deployment)
        self.service_name = object_name(service)
        host = settings.ingress.host if settings.ingress else None
        scheme = "https" if settings.ingress and settings.ingress.tls_secret_name else "http"
        self.url = pulumi.Output.from_input(f"{scheme}://{host}" if host else "")
        self.register_outputs(
            {"deploymentName": self.deployment_name, "serviceName": self.service_name, "url": self.url}
        )
