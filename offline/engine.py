"""Run the real Pulumi program under the SDK's mock engine and capture what it registers.

The program runs the way the Python language host runs it (`run_in_stack` around `runpy.run_path`
of the program directory), with `pulumi.runtime.set_mocks` supplying the engine. A MockMonitor
subclass records every RegisterResource request as the SDK serialised it: the inputs Struct keeps
secret and unknown sentinels exactly as the engine would hand them to analyzers.

Each stack runs in a fresh `contextvars` context with a fresh event loop, and the program's own
modules are purged from `sys.modules` before and after, so no module-level state, config or root
stack carries over from one stack to the next. The SDK modules stay imported: that is the speed win
of running all stacks in one process (see docs/offline-preview.md for the measurement).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import json
import logging
import os
import re
import runpy
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pulumi
import pulumi.runtime
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack

from . import outputs as computed
from .stackconfig import StackConfig
from .values import UNKNOWN, is_secret, secret, to_python, to_struct

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
_OWN_PACKAGE = Path(__file__).resolve().parent


@dataclass
class CapturedResource:
    seq: int
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    id: str
    inputs: struct_pb2.Struct
    outputs: struct_pb2.Struct
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    import_id: str = ""
    provider_urn: str = ""
    delete_before_replace: bool = False
    delete_before_replace_defined: bool = False
    additional_secret_outputs: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    custom_timeouts: dict[str, float] = field(default_factory=dict)
    version: str = ""
    # A default provider the engine (not the program) would register.
    synthetic: bool = False

    @property
    def is_provider(self) -> bool:
        return self.type.startswith(PROVIDER_PREFIX)


@dataclass
class ProgramError:
    kind: str
    message: str
    traceback: str | None = None


@dataclass
class Diagnostic:
    severity: str
    message: str


@dataclass
class ProgramRun:
    stack: str
    project: str
    preview: bool
    resources: list[CapturedResource] = field(default_factory=list)
    stack_outputs: struct_pb2.Struct | None = None
    component_outputs: dict[str, struct_pb2.Struct] = field(default_factory=dict)
    error: ProgramError | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    unanswered_invokes: list[str] = field(default_factory=list)
    duration: float = 0.0

    @property
    def root_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{STACK_TYPE}::{self.project}-{self.stack}"

    def by_urn(self) -> dict[str, CapturedResource]:
        return {r.urn: r for r in self.resources}


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Go duration strings ("5m", "1h30m") as the SDK sends custom timeouts, in seconds."""
    return sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_RE.findall(text or ""))


def _merge_computed(inputs: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Inputs win; computed values only fill what the inputs do not say."""
    merged = dict(inputs)
    for key, value in extra.items():
        current = merged.get(key)
        if key not in merged:
            merged[key] = value
        elif isinstance(current, dict) and isinstance(value, dict) and not is_secret(current):
            merged[key] = _merge_computed(current, value)
    return merged


def _all_unknown(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _all_unknown(v) for k, v in value.items()}
    return UNKNOWN


def _plain_for_outputs(value: Any) -> Any:
    """Inputs with secrets unwrapped, for deriving names and ids (never shown)."""
    if isinstance(value, list):
        return [_plain_for_outputs(v) for v in value]
    if isinstance(value, dict):
        if is_secret(value):
            return _plain_for_outputs(value.get("value"))
        return {k: _plain_for_outputs(v) for k, v in value.items()}
    return value


class OfflineMocks(Mocks):
    """Answers invokes from offline/outputs.py; records the ones it cannot answer."""

    def __init__(self, preview: bool) -> None:
        self.preview = preview
        self.unanswered: list[str] = []

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        result = computed.invoke_result(args.token, args.args or {})
        if result is None:
            self.unanswered.append(args.token)
            return {}, []
        return result, []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        # Only reached for reads (`Resource.get`); registrations are answered by the monitor.
        rid = args.resource_id or computed.resource_id(args.typ, args.name, args.inputs)
        return rid, {**computed.computed_outputs(args.typ, args.name, args.inputs, rid), **args.inputs}


class CaptureMonitor(MockMonitor):
    """A mock resource monitor that keeps each registration as the engine would see it."""

    def __init__(self, mocks: OfflineMocks, config: StackConfig, preview: bool) -> None:
        super().__init__(mocks)
        self.config = config
        self.preview = preview
        self.captured: list[CapturedResource] = []
        self.registered_outputs: dict[str, struct_pb2.Struct] = {}
        self._default_providers: dict[tuple[str, str], CapturedResource] = {}
        self._lock = threading.Lock()

    def _next_seq(self) -> int:
        return len(self.captured)

    def _default_provider(self, package: str, version: str) -> CapturedResource:
        key = (package, version)
        existing = self._default_providers.get(key)
        if existing is not None:
            return existing
        name = "default_" + re.sub(r"[^A-Za-z0-9]", "_", version) if version else "default"
        ptype = PROVIDER_PREFIX + package
        urn = f"urn:pulumi:{self.config.stack}::{self.config.project.name}::{ptype}::{name}"
        props: dict[str, Any] = {}
        prefix = package + ":"
        for k, v in self.config.values.items():
            if k.startswith(prefix):
                props[k[len(prefix) :]] = secret(v) if k in self.config.secret_keys else v
        if version:
            props["version"] = version
        struct = to_struct(props)
        pid = UNKNOWN if self.preview else computed.fake_guid(urn)
        provider = CapturedResource(
            seq=self._next_seq(),
            urn=urn,
            type=ptype,
            name=name,
            custom=True,
            parent="",
            id=pid,
            inputs=struct,
            outputs=copy.deepcopy(struct),
            version=version,
            synthetic=True,
        )
        self.captured.append(provider)
        self._default_providers[key] = provider
        return provider

    def _outputs_for(self, request: Any, urn: str) -> tuple[str, struct_pb2.Struct]:
        if not request.custom:
            return "", struct_pb2.Struct()
        plain_inputs = to_python(request.object)
        visible = _plain_for_outputs(plain_inputs)
        if self.preview:
            # A first preview knows only the inputs: the id and every output the provider
            # computes (top-level or nested, as listed in offline/outputs.py) stay unknown.
            rid = request.importId or ""
            extra = _all_unknown(computed.computed_outputs(request.type, request.name, visible, rid))
        else:
            rid = request.importId or (
                computed.fake_guid(urn)
                if request.type.startswith(PROVIDER_PREFIX)
                else computed.resource_id(request.type, request.name, visible)
            )
            extra = computed.computed_outputs(request.type, request.name, visible, rid)
        merged = _merge_computed(computed.output_shaped(plain_inputs, self.preview, UNKNOWN), extra)
        # The engine marks these outputs secret (pulumi-random's `result`, for example).
        for key in request.additionalSecretOutputs:
            if key in merged and not is_secret(merged[key]):
                merged[key] = secret(merged[key])
        return rid, to_struct(merged)

    def RegisterResource(self, request: Any) -> resource_pb2.RegisterResourceResponse:
        urn = self.make_urn(request.parent, request.type, request.name)
        rid, out = self._outputs_for(request, urn)
        provider_urn = ""
        if request.provider:
            provider_urn = request.provider.rsplit("::", 1)[0]
        aliases = [a.urn for a in request.aliases if a.WhichOneof("alias") == "urn"] + list(request.aliasURNs)
        timeouts: dict[str, float] = {}
        if request.HasField("customTimeouts"):
            for phase in ("create", "update", "delete"):
                seconds = parse_duration(getattr(request.customTimeouts, phase))
                if seconds:
                    timeouts[phase] = seconds
        inputs = struct_pb2.Struct()
        inputs.CopyFrom(request.object)
        with self._lock:
            if (
                request.custom
                and not provider_urn
                and not request.type.startswith(PROVIDER_PREFIX)
                and request.type != STACK_TYPE
            ):
                provider_urn = self._default_provider(request.type.split(":", 1)[0], request.version).urn
            self.captured.append(
                CapturedResource(
                    seq=self._next_seq(),
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent,
                    id=rid,
                    inputs=inputs,
                    outputs=out,
                    dependencies=list(request.dependencies),
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    ignore_changes=list(request.ignoreChanges),
                    import_id=request.importId,
                    provider_urn=provider_urn,
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    delete_before_replace_defined=bool(request.deleteBeforeReplaceDefined),
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    aliases=aliases,
                    custom_timeouts=timeouts,
                    version=request.version,
                )
            )
            if request.type != STACK_TYPE:
                self.resources[urn] = MockMonitor.ResourceRegistration(urn, rid, to_python(out))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=rid, object=out)

    def RegisterResourceOutputs(self, request: Any) -> empty_pb2.Empty:
        outs = struct_pb2.Struct()
        outs.CopyFrom(request.outputs)
        with self._lock:
            self.registered_outputs[request.urn] = outs
        return empty_pb2.Empty()


class _CaptureLogs(logging.Handler):
    def __init__(self, sink: list[Diagnostic]) -> None:
        super().__init__(level=logging.INFO)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(Diagnostic(record.levelname.lower(), record.getMessage()))


def _forget_modules_imported_since(before: set[str], program_dir: Path) -> None:
    """Forget the project modules this run imported, so the next stack imports them afresh.

    Modules the caller had imported before the run (a test suite's own, a tool's such as `parity`) are
    left alone: dropping them would split their classes and caches in two (isinstance failing on a
    class imported twice).
    """
    inside = str(program_dir) + os.sep
    for name in set(sys.modules) - before:
        filename = getattr(sys.modules.get(name), "__file__", None)
        if isinstance(filename, str) and filename.startswith(inside) and "site-packages" not in filename:
            del sys.modules[name]


def purge_program_modules(program_dir: Path) -> None:
    """Forget the program's own modules so the next stack imports them afresh.

    Plain string prefixes, not Path.resolve(): this walks every loaded module twice per stack.
    """
    inside = str(program_dir) + os.sep
    outside = (str(Path(sys.prefix).resolve()) + os.sep, sys.prefix + os.sep, str(_OWN_PACKAGE) + os.sep)
    for name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if (
            isinstance(filename, str)
            and filename.startswith(inside)
            and not filename.startswith(outside)
            and "site-packages" not in filename
        ):
            del sys.modules[name]


# Any non-None value: keeps `set_mocks` from creating and finishing a throwaway root stack, so
# the program's exports reach the engine through the stack that `run_in_stack` creates.
_ROOT_PENDING = object()


def _language_host_env(config: StackConfig) -> dict[str, str]:
    """PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS as the Python language host sets them for a program."""
    return {
        "PULUMI_CONFIG": json.dumps(dict(config.values)),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(config.secret_keys)),
    }


def _run_in_this_context(config: StackConfig, preview: bool) -> ProgramRun:
    project = config.project
    run = ProgramRun(stack=config.stack, project=project.name, preview=preview)
    logger = logging.getLogger(f"offline.program.{config.stack}.{id(run)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = _CaptureLogs(run.diagnostics)
    logger.addHandler(handler)
    mocks = OfflineMocks(preview)
    monitor = CaptureMonitor(mocks, config, preview)
    program = project.main
    program_dir = program if program.is_dir() else program.parent
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    old_cwd = Path.cwd()
    extra_path = [] if program.is_dir() else [str(program_dir)]
    modules_before = set(sys.modules)
    saved_env: dict[str, str | None] = {}
    started = time.perf_counter()
    try:
        runtime_settings.reset_options(
            project=project.name,
            stack=config.stack,
            root_directory=str(project.directory),
            preview=preview,
            organization="organization",
        )
        pulumi.runtime.set_all_config(dict(config.values), list(config.secret_keys))
        # The language host also hands the program its config in these variables; a program that lists
        # its keys (to refuse unknown ones) can only do so from there.
        for name, value in _language_host_env(config).items():
            saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value
        runtime_settings.ROOT.set(cast(Any, _ROOT_PENDING))
        pulumi.runtime.set_mocks(
            mocks, project=project.name, stack=config.stack, preview=preview, logger=logger, monitor=monitor
        )
        runtime_settings.ROOT.set(None)
        os.chdir(project.directory)
        sys.path[:0] = extra_path

        def run_main() -> None:
            runpy.run_path(str(program), run_name="__main__")

        loop.run_until_complete(run_in_stack(run_main))
    except pulumi.RunError as exc:
        run.error = ProgramError("RunError", str(exc))
    except (Exception, SystemExit) as exc:  # any program failure is reported, not raised
        run.error = ProgramError(type(exc).__name__, str(exc) or type(exc).__name__, traceback.format_exc())
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
        os.chdir(old_cwd)
        for name, previous in saved_env.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous
        for p in extra_path:
            with contextlib.suppress(ValueError):
                sys.path.remove(p)
        _forget_modules_imported_since(modules_before, project.directory)
        logger.removeHandler(handler)
    run.duration = time.perf_counter() - started
    run.resources = list(monitor.captured)
    run.component_outputs = dict(monitor.registered_outputs)
    run.stack_outputs = monitor.registered_outputs.get(run.root_urn)
    run.unanswered_invokes = sorted(set(mocks.unanswered))
    return run


def run_program(config: StackConfig, preview: bool) -> ProgramRun:
    """Run the program for one stack, isolated from every other stack run in this process."""
    return contextvars.copy_context().run(_run_in_this_context, config, preview)
