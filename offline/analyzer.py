"""Run policy packs the way the Pulumi CLI runs them, over the analyzer gRPC protocol.

Each pack is started as its own plugin process: `<python> -u -m pulumi.policy <engine-address>
<pack-dir>` in the pack directory, with PULUMI_PROJECT/STACK/DRY_RUN/CONFIG/CONFIG_SECRET_KEYS set
as the engine sets them. The port comes from the first line of its stdout. Then, as the CLI does:
Handshake (older SDKs answer UNIMPLEMENTED, which the CLI tolerates), GetAnalyzerInfo, Configure with
the reconciled policy config, ConfigureStack (stack tags), Remediate (only when a policy runs at
the `remediate` level) and Analyze for every custom resource, AnalyzeStack once, then stop.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from .engine import CapturedResource, ProgramRun
from .policyconfig import PolicyConfig, PolicyConfigError, PolicyMeta, load_config_file, reconcile
from .stackconfig import StackConfig
from .values import for_analyzer

PORT_TIMEOUT = float(os.environ.get("OFFLINE_PACK_START_TIMEOUT", "90"))
RPC_TIMEOUT = 300.0
PACK_NICENESS = 5
_LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.DISABLED: "disabled",
    analyzer_pb2.REMEDIATE: "remediate",
}
_LEVEL_VALUES = {v: k for k, v in _LEVEL_NAMES.items()}
_SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
# What the SDK says when a policy read a value that is unknown during preview.
UNKNOWN_SKIP_PREFIX = "can't run policy"


class PackError(Exception):
    """The pack could not be run; `stderr` holds what the process printed, if anything."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


@dataclass(frozen=True)
class PackSpec:
    path: Path
    version: str | None
    python: str
    note: str = ""
    # The pack's own virtualenv when it is declared but absent (this repo's venv ran the pack instead).
    missing_virtualenv: str = ""


def discover_packs(root: Path) -> list[Path]:
    base = root / "policies"
    if not base.is_dir():
        return []
    return sorted(p.parent for p in base.glob("*/PulumiPolicy.yaml"))


def load_pack(path: Path) -> PackSpec:
    path = path.resolve()
    manifest = path / "PulumiPolicy.yaml"
    if not manifest.is_file():
        raise PackError(f"{path}: not a policy pack (no PulumiPolicy.yaml)")
    try:
        doc = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PackError(f"{manifest}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise PackError(f"{manifest}: expected a mapping with `runtime`")
    runtime = doc.get("runtime")
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if name != "python":
        raise PackError(f"{manifest}: runtime {name!r} is not supported offline (python packs only)")
    options = runtime.get("options") or {} if isinstance(runtime, dict) else {}
    venv = options.get("virtualenv") if isinstance(options, dict) else None
    python, note, missing = sys.executable, "", ""
    if isinstance(venv, str) and venv:
        venv_dir = Path(venv) if Path(venv).is_absolute() else path / venv
        candidate = venv_dir / "bin" / "python"
        if candidate.exists():
            python = str(candidate)
        else:
            # The CLI would create this virtualenv from requirements.txt; offline we reuse ours.
            note = f"virtualenv {venv_dir} not found; ran with {sys.executable}"
            missing = str(venv_dir)
    version = doc.get("version")
    return PackSpec(
        path=path,
        version=str(version) if version is not None else None,
        python=python,
        note=note,
        missing_virtualenv=missing,
    )


class _Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.logs: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        severity = engine_pb2.LogSeverity.Name(request.severity).lower()
        with self._lock:
            self.logs.append((severity, request.message, request.urn))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> engine_pb2.GetRootResourceResponse:
        return engine_pb2.GetRootResourceResponse()

    def SetRootResource(self, request: Any, context: Any) -> engine_pb2.SetRootResourceResponse:
        return engine_pb2.SetRootResourceResponse()


class EngineServer:
    """The minimal Engine service whose address packs get on their command line."""

    def __init__(self, port: int = 0) -> None:
        self.servicer = _Engine()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self.servicer, self.server)
        bound = self.server.add_insecure_port(f"127.0.0.1:{port}")
        if port and bound != port:
            raise OSError(f"the engine service could not listen on its reserved port {port}")
        self.address = f"127.0.0.1:{bound}"
        self.server.start()

    def stop(self) -> None:
        self.server.stop(0)


def reserve_port() -> socket.socket:
    """A loopback port for the Engine service, held until the service binds it.

    The forked path starts the packs (which get the engine address on their command line) before
    any gRPC object may exist in this process; the service binds the port once the forks are done.
    gRPC binds with SO_REUSEPORT, so the reservation sets it too; close it after the service binds.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def pack_env(config: StackConfig, dry_run: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_CONFIG")}
    env.update(
        {
            "PULUMI_PROJECT": config.project.name,
            "PULUMI_STACK": config.stack,
            "PULUMI_DRY_RUN": "true" if dry_run else "false",
            "PULUMI_CONFIG": config.env_json(),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(config.secret_keys),
        }
    )
    return env


class PackProcess:
    """One running pack plugin for one stack, as the CLI would start it."""

    def __init__(self, spec: PackSpec, config: StackConfig, dry_run: bool, engine_address: str) -> None:
        self.spec = spec
        self.config = config
        self.dry_run = dry_run
        self.engine_address = engine_address
        # Lives as long as the process; a file, not a pipe, so a chatty pack can never block on it.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._stdout_rest = bytearray()
        self.proc = subprocess.Popen(
            [spec.python, "-u", "-m", "pulumi.policy", engine_address, str(spec.path)],
            cwd=spec.path,
            env=pack_env(config, dry_run),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self.port: int | None = None
        # Packs start while the programs run in this process: let the program, which is on the
        # critical path, have the CPU first. Scheduling only; the pack runs exactly as the CLI runs it.
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, PACK_NICENESS)

    def stderr_text(self) -> str:
        with contextlib.suppress(ValueError, OSError):
            self._stderr.seek(0)
            return self._stderr.read().decode("utf-8", "replace").strip()
        return ""

    def wait_port(self, timeout: float = PORT_TIMEOUT) -> int:
        if self.port is not None:
            return self.port
        assert self.proc.stdout is not None
        stream = self.proc.stdout
        buf = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(stream, selectors.EVENT_READ)
            while b"\n" not in buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.stop()
                    raise PackError(
                        f"policy pack did not print its port within {timeout:.0f}s", self.stderr_text()
                    )
                if not sel.select(remaining):
                    continue
                chunk = os.read(stream.fileno(), 4096)
                if not chunk:
                    code = self.proc.wait()
                    raise PackError(
                        f"policy pack exited with code {code} before its handshake", self.stderr_text()
                    )
                buf += chunk
        line, _, rest = buf.partition(b"\n")
        self._stdout_rest += rest
        try:
            self.port = int(line.strip())
        except ValueError:
            self.stop()
            raise PackError(
                f"policy pack printed {line[:200]!r} instead of a port number", self.stderr_text()
            ) from None
        threading.Thread(target=self._drain, args=(stream,), daemon=True).start()
        return self.port

    def _drain(self, stream: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            for chunk in iter(lambda: stream.read1(4096), b""):  # type: ignore[attr-defined]
                self._stdout_rest += chunk

    def stdout_text(self) -> str:
        return bytes(self._stdout_rest).decode("utf-8", "replace").strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            self._stderr.close()
        if self.proc.stdout is not None:
            with contextlib.suppress(OSError):
                self.proc.stdout.close()


@dataclass
class Violation:
    policy: str
    level: str
    message: str
    description: str
    urn: str
    resource_type: str = ""
    resource_name: str = ""
    severity: str = ""
    remediation: str = ""
    phase: str = "resource"
    skipped_unknown: bool = False


@dataclass
class PackResult:
    path: str
    name: str = ""
    version: str = ""
    status: str = "ok"
    error: str = ""
    stderr: str = ""
    stdout: str = ""
    note: str = ""
    python: str = ""
    missing_virtualenv: str = ""
    config_file: str = ""
    policies: list[PolicyMeta] = field(default_factory=list)
    effective: dict[str, PolicyConfig] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    not_applicable: list[tuple[str, str, str]] = field(default_factory=list)
    remediations: list[tuple[str, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    analyzed: int = 0
    duration: float = 0.0


def _meta(info: Any) -> PolicyMeta:
    schema_props = None
    required: list[str] = []
    if info.HasField("configSchema"):
        schema_props = json_format.MessageToDict(info.configSchema.properties)
        required = list(info.configSchema.required)
    kind = "stack" if info.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource"
    return PolicyMeta(
        name=info.name,
        description=info.description,
        enforcement_level=_LEVEL_NAMES.get(info.enforcementLevel, "advisory"),
        kind=kind,
        schema_properties=schema_props,
        schema_required=required,
        remediation_steps=info.remediation_steps,
        severity=_SEVERITY_NAMES.get(info.severity, ""),
        url=info.url,
    )


def _initial_config(info: Any) -> dict[str, PolicyConfig]:
    result = {}
    for name, cfg in info.initialConfig.items():
        props = json_format.MessageToDict(cfg.properties) if cfg.HasField("properties") else None
        result[name] = PolicyConfig(_LEVEL_NAMES.get(cfg.enforcementLevel), props or None)
    return result


def _options(r: CapturedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    opts = analyzer_pb2.AnalyzerResourceOptions(
        protect=r.protect,
        ignoreChanges=r.ignore_changes,
        deleteBeforeReplace=r.delete_before_replace,
        deleteBeforeReplaceDefined=r.delete_before_replace_defined,
        additionalSecretOutputs=r.additional_secret_outputs,
        aliases=r.aliases,
        parent=r.parent,
    )
    if r.custom_timeouts:
        opts.customTimeouts.CopyFrom(
            analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
                create=r.custom_timeouts.get("create", 0.0),
                update=r.custom_timeouts.get("update", 0.0),
                delete=r.custom_timeouts.get("delete", 0.0),
            )
        )
    return opts


def _provider(
    r: CapturedResource, by_urn: dict[str, CapturedResource]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    prov = by_urn.get(r.provider_urn)
    if prov is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=prov.type, properties=for_analyzer(prov.inputs), urn=prov.urn, name=prov.name
    )


def _stack_resource(
    r: CapturedResource, run: ProgramRun, by_urn: dict[str, CapturedResource]
) -> analyzer_pb2.AnalyzerResource:
    # AnalyzeStack sees each resource's outputs: what the provider returned for custom
    # resources, what `register_outputs` recorded for components and the stack.
    props = r.outputs if r.custom else (run.component_outputs.get(r.urn) or struct_pb2.Struct())
    res = analyzer_pb2.AnalyzerResource(
        type=r.type,
        properties=for_analyzer(props),
        urn=r.urn,
        name=r.name,
        options=_options(r),
        parent=r.parent,
        dependencies=r.dependencies,
    )
    prov = _provider(r, by_urn)
    if prov is not None:
        res.provider.CopyFrom(prov)
    for key, urns in r.property_dependencies.items():
        res.propertyDependencies[key].urns.extend(urns)
    return res


def _stack_configure_request(
    config: StackConfig, dry_run: bool
) -> analyzer_pb2.AnalyzerStackConfigureRequest:
    return analyzer_pb2.AnalyzerStackConfigureRequest(
        stack=config.stack,
        project=config.project.name,
        organization="organization",
        dry_run=dry_run,
        config=config.values,
        config_secret_keys=config.secret_keys,
        tags=config.stack_tags,
    )


def _call(stub_method: Any, request: Any, what: str, optional: bool = False) -> Any:
    try:
        return stub_method(request, timeout=RPC_TIMEOUT)
    except grpc.RpcError as exc:
        if optional and exc.code() == grpc.StatusCode.UNIMPLEMENTED:
            return None
        raise PackError(f"{what} failed: {exc.code().name}: {exc.details()}") from None


class _Collector:
    def __init__(self, result: PackResult, run: ProgramRun, by_urn: dict[str, CapturedResource]) -> None:
        self.result = result
        self.run = run
        self.by_urn = by_urn
        self.meta = {p.name: p for p in result.policies}

    def add(self, diag: Any, default_urn: str, phase: str) -> None:
        urn = diag.urn or default_urn
        target = self.by_urn.get(urn)
        meta = self.meta.get(diag.policyName)
        skipped = diag.message.startswith(UNKNOWN_SKIP_PREFIX)
        self.result.violations.append(
            Violation(
                policy=diag.policyName,
                level=_LEVEL_NAMES.get(diag.enforcementLevel, "advisory"),
                message=diag.message,
                description=diag.description,
                urn=urn,
                resource_type=target.type if target else "",
                resource_name=target.name if target else "",
                severity=_SEVERITY_NAMES.get(diag.severity, ""),
                remediation=meta.remediation_steps if meta else "",
                phase=phase,
                skipped_unknown=skipped,
            )
        )
        if diag.policyPackName and not self.result.name:
            self.result.name = diag.policyPackName


def analyze(
    run: ProgramRun, config: StackConfig, spec: PackSpec, proc: PackProcess, config_file: Path | None
) -> PackResult:
    """Talk to one started pack about one program run; never raises for pack problems."""
    started = time.perf_counter()
    result = PackResult(
        path=str(spec.path),
        version=spec.version or "",
        note=spec.note,
        python=spec.python,
        missing_virtualenv=spec.missing_virtualenv,
    )
    result.config_file = str(config_file) if config_file else ""
    try:
        _analyze(run=run, config=config, spec=spec, proc=proc, config_file=config_file, result=result)
    except PackError as exc:
        result.status = "error"
        result.error = str(exc)
        result.stderr = exc.stderr or proc.stderr_text()
    except PolicyConfigError as exc:
        result.status = "error"
        result.error = str(exc)
    finally:
        proc.stop()
        result.stdout = proc.stdout_text()
        if result.status == "error" and not result.stderr:
            result.stderr = proc.stderr_text()
        proc.close()
    result.duration = time.perf_counter() - started
    return result


def _analyze(
    *,
    run: ProgramRun,
    config: StackConfig,
    spec: PackSpec,
    proc: PackProcess,
    config_file: Path | None,
    result: PackResult,
) -> None:
    user_config = load_config_file(config_file) if config_file else {}
    port = proc.wait_port()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = analyzer_pb2_grpc.AnalyzerStub(channel)
        try:
            grpc.channel_ready_future(channel).result(timeout=30)
        except grpc.FutureTimeoutError:
            raise PackError(f"could not connect to the policy pack on port {port}") from None
        _call(
            stub.Handshake,
            analyzer_pb2.AnalyzerHandshakeRequest(
                engine_address=proc.engine_address,
                root_directory=str(spec.path),
                program_directory=str(spec.path),
            ),
            "Handshake",
            optional=True,
        )
        info = _call(stub.GetAnalyzerInfo, empty_pb2.Empty(), "GetAnalyzerInfo")
        result.name = info.name
        # PulumiPolicy.yaml's version wins: the Python SDK always reports 0.0.1.
        result.version = spec.version or info.version
        result.policies = [_meta(p) for p in info.policies]

        effective, errors, unknown = reconcile(result.policies, _initial_config(info), user_config)
        for name in unknown:
            result.warnings.append(f"{config_file}: {name!r} is not a policy of pack {info.name!r}; ignored")
        if errors:
            raise PackError(
                f"validating policy config: {info.name} {result.version}\n  " + "\n  ".join(errors)
            )
        result.effective = effective
        if info.supportsConfig:
            request = analyzer_pb2.ConfigureAnalyzerRequest()
            for name, cfg in effective.items():
                entry = request.policyConfig[name]
                entry.enforcementLevel = _LEVEL_VALUES[cfg.enforcement_level or "advisory"]
                if cfg.properties:
                    entry.properties.update(cfg.properties)
            _call(stub.Configure, request, "Configure")
        _call(
            stub.ConfigureStack,
            _stack_configure_request(config, run.preview),
            "ConfigureStack",
            optional=True,
        )

        by_urn = run.by_urn()
        collect = _Collector(result, run, by_urn)
        remediating = any(c.enforcement_level == "remediate" for c in effective.values())
        for r in sorted(run.resources, key=lambda r: r.seq):
            if not r.custom:
                continue
            props = for_analyzer(r.inputs)
            request_kwargs: dict[str, Any] = {
                "type": r.type,
                "urn": r.urn,
                "name": r.name,
                "options": _options(r),
            }
            prov = _provider(r, by_urn)
            if prov is not None:
                request_kwargs["provider"] = prov
            if remediating:
                rem = _call(
                    stub.Remediate,
                    analyzer_pb2.AnalyzeRequest(properties=props, **request_kwargs),
                    f"Remediate({r.urn})",
                )
                for item in rem.remediations:
                    if item.HasField("properties"):
                        props = item.properties
                    result.remediations.append((item.policyName, r.urn, item.diagnostic))
            response = _call(
                stub.Analyze,
                analyzer_pb2.AnalyzeRequest(properties=props, **request_kwargs),
                f"Analyze({r.urn})",
            )
            result.analyzed += 1
            for diag in response.diagnostics:
                collect.add(diag, r.urn, "resource")
            for na in response.not_applicable:
                result.not_applicable.append((na.policy_name, r.urn, na.reason))

        # The engine analyzes the stack only once the program has finished without error.
        if run.error is None:
            stack_request = analyzer_pb2.AnalyzeStackRequest(
                resources=[
                    _stack_resource(r, run, by_urn) for r in sorted(run.resources, key=lambda r: r.seq)
                ]
            )
            response = _call(stub.AnalyzeStack, stack_request, "AnalyzeStack")
            for diag in response.diagnostics:
                collect.add(diag, "", "stack")
            for na in response.not_applicable:
                result.not_applicable.append((na.policy_name, "", na.reason))
