"""dev's PostgreSQL: the PostGIS 16 container the platform's compose files run, as a StatefulSet.

One pod with a persistent volume, a headless Service for its stable DNS name, and a generated password in
a Secret. The API in dev gets `connection_string` (a secret Output) instead of the Azure server's. The
pod passes the same baseline rules as the API: non-root (the image's `postgres` user, 999), read-only root
filesystem with emptyDirs for the socket and temp directories, probes, requests and limits.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.kubernetes_app import (
    ClusterTarget,
    Manifest,
    as_input,
    labels,
    object_name,
    restricted_container_security,
    restricted_pod_security,
    selector,
)
from components.kubernetes_settings import LocalPostgresSettings

POSTGRES_NAME = "meajudaai-postgres"
POSTGRES_IMAGE = "postgis/postgis:16-3.4"  # as the platform's compose files and CI use it
POSTGRES_UID = 999  # `postgres` in the Debian-based image; the entrypoint runs as it without gosu
POSTGRES_PORT = 5432
DATA_DIR = "/var/lib/postgresql/data"
PASSWORD_KEY = "POSTGRES_PASSWORD"


def service_host(namespace: str) -> str:
    return f"{POSTGRES_NAME}.{namespace}.svc.cluster.local"


def local_connection_string(host: str, database: str, user: str, password: str, max_pool_size: int) -> str:
    """Npgsql key/value form. No TLS: the container has no certificate and traffic stays in the cluster.

    The password is alphanumeric (see the RandomPassword below), so it needs no quoting here.
    """
    return (
        f"Host={host};Port={POSTGRES_PORT};Database={database};Username={user};Password={password};"
        f"SSL Mode=Disable;Maximum Pool Size={max_pool_size}"
    )


def _pg_isready(user: str, database: str, period: int, failures: int) -> Manifest:
    # Over TCP: during first-start initialisation the server listens on its socket only, and is not ready.
    return {
        "exec": {"command": ["pg_isready", "-h", "127.0.0.1", "-U", user, "-d", database]},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def statefulset_spec(
    settings: LocalPostgresSettings, *, environment: str, database: str, secret_name: Any
) -> Manifest:
    user = settings.username
    claim: Manifest = {
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": settings.storage_size}},
        },
    }
    if settings.storage_class:
        claim["spec"]["storageClassName"] = settings.storage_class
    container: Manifest = {
        "name": "postgres",
        "image": POSTGRES_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "postgres", "containerPort": POSTGRES_PORT, "protocol": "TCP"}],
        "env": [
            {"name": "POSTGRES_USER", "value": user},
            {"name": "POSTGRES_DB", "value": database},
            {"name": PASSWORD_KEY, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": PASSWORD_KEY}}},
            # A subdirectory: the volume's root may hold lost+found, which initdb refuses.
            {"name": "PGDATA", "value": f"{DATA_DIR}/pgdata"},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        # First start runs initdb and the PostGIS setup scripts: allow 5 minutes.
        "startupProbe": _pg_isready(user, database, period=5, failures=60),
        "livenessProbe": _pg_isready(user, database, period=10, failures=6),
        "readinessProbe": _pg_isready(user, database, period=5, failures=3),
        "securityContext": restricted_container_security(),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_DIR},
            {"name": "run", "mountPath": "/var/run/postgresql"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    return {
        "serviceName": POSTGRES_NAME,
        "replicas": 1,
        "selector": {"matchLabels": selector(POSTGRES_NAME)},
        # The data outlives the StatefulSet object (deleting the namespace still removes the claim).
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "template": {
            "metadata": {"labels": labels(POSTGRES_NAME, environment)},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": restricted_pod_security(POSTGRES_UID),
                "terminationGracePeriodSeconds": 60,
                "containers": [container],
                "volumes": [
                    {"name": "run", "emptyDir": {}},
                    {"name": "tmp", "emptyDir": {}},
                ],
            },
        },
        "volumeClaimTemplates": [claim],
    }


def service_spec() -> Manifest:
    # Headless: the StatefulSet's governing service; its name resolves to the pod.
    return {
        "clusterIP": "None",
        "selector": selector(POSTGRES_NAME),
        "ports": [{"name": "postgres", "port": POSTGRES_PORT, "targetPort": "postgres", "protocol": "TCP"}],
    }


class LocalPostgres(pulumi.ComponentResource):
    host: pulumi.Output[str]
    database_name: str
    connection_string: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        target: ClusterTarget,
        settings: LocalPostgresSettings,
        environment: str,
        database_name: str,
        max_pool_size: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meajudaai:database:LocalPostgres", name, None, opts)
        child = target.child_options(self)
        # Alphanumeric only: the value goes unquoted into a key/value connection string.
        password = random.RandomPassword(
            f"{name}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        password_value: pulumi.Output[str] = pulumi.Output.secret(password.result)
        meta = {"namespace": target.namespace, "labels": labels(POSTGRES_NAME, environment)}
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=as_input({**meta, "name": POSTGRES_NAME}),
            type="Opaque",
            string_data={PASSWORD_KEY: password_value},
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=as_input({**meta, "name": POSTGRES_NAME}),
            spec=as_input(service_spec()),
            opts=child,
        )
        k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=as_input({**meta, "name": POSTGRES_NAME}),
            spec=as_input(
                statefulset_spec(
                    settings, environment=environment, database=database_name, secret_name=object_name(secret)
                )
            ),
            opts=target.child_options(self, after=[service]),
        )
        self.host = target.namespace.apply(service_host)
        self.database_name = database_name
        connection: pulumi.Output[str] = pulumi.Output.all(self.host, password.result).apply(
            lambda values: local_connection_string(
                values[0], database_name, settings.username, values[1], max_pool_size
            )
        )
        self.connection_string = pulumi.Output.secret(connection)
        self.register_outputs({"host": self.host, "databaseName": database_name})
