"""Run each stack's program in its own forked process, after importing the program's SDK once.

Most of a stack's cost is importing the SDK modules its program uses (the azure-native submodules
alone take seconds). `preload_program_imports` imports them once, in this process, by reading the
program's import statements (no program code runs here); `ForkedPrograms` then forks one child per
stack. Each child runs `run_program` exactly as the sequential path does (fresh contextvars context
and event loop, the program's own modules imported afresh) and sends its `ProgramRun` back pickled
over a pipe; nothing a child does reaches this process or another child.

Forking rules, checked by the caller's order of operations: no gRPC object and no event loop exists
in this process until every child is forked (gRPC's core is not fork-safe without
GRPC_ENABLE_FORK_SUPPORT, and the children never call gRPC: the mock monitor is in-process), and
no thread is started before the forks. All children are forked up front, while this process is
still single-threaded; each one waits on its own "go" pipe, so at most `jobs` programs run at once,
in the order of the stacks asked.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import os
import pickle
import selectors
import signal
import struct
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from .engine import ProgramError, ProgramRun, purge_program_modules, run_program
from .stackconfig import ProjectInfo, StackConfig

Progress = Callable[[str], None]

_HEADER = struct.Struct("!cQ")
_STARTED = b"S"
_RESULT = b"R"


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


# ---- importing what the program imports -----------------------------------------------------


def _program_entry(project: ProjectInfo) -> tuple[Path, Path]:
    program = project.main
    if program.is_dir():
        return program / "__main__.py", program
    return program, program.parent


def _local_file(module: str, root: Path) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@dataclass
class _Imports:
    """What the program's files import from outside the program directory."""

    # Module names from `import a.b` and `from a.b import ...`.
    modules: set[str]
    # (module, attribute path): `from a import b` gives ("a", ("b",)); `x.y.z` where `x` names
    # module `a` gives ("a", ("y", "z")); `y` where `y` came from `from a import b` gives ("a", ("b", ...)).
    attributes: set[tuple[str, tuple[str, ...]]]


def _attribute_chain(node: ast.Attribute) -> tuple[str, tuple[str, ...]] | None:
    chain: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        chain.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    return current.id, tuple(reversed(chain))


def external_imports(project: ProjectInfo) -> _Imports:
    """Follow the program's local imports from its entry file; collect every outside import."""
    entry, root = _program_entry(project)
    found = _Imports(set(), set())
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue  # the program run reports it
        # name bound in this file -> (outside module, attribute path from it)
        names: dict[str, tuple[str, tuple[str, ...]]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _local_file(alias.name.split(".")[0], root) is not None:
                        local = _local_file(alias.name, root)
                        if local is not None:
                            todo.append(local)
                        continue
                    found.modules.add(alias.name)
                    bound = alias.asname or alias.name.split(".")[0]
                    names[bound] = (alias.name if alias.asname else bound, ())
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if _local_file(node.module.split(".")[0], root) is not None:
                    local = _local_file(node.module, root)
                    if local is not None:
                        todo.append(local)
                    todo.extend(
                        sub
                        for alias in node.names
                        if (sub := _local_file(f"{node.module}.{alias.name}", root)) is not None
                    )
                    continue
                found.modules.add(node.module)
                for alias in node.names:
                    if alias.name != "*":
                        found.attributes.add((node.module, (alias.name,)))
                        names[alias.asname or alias.name] = (node.module, (alias.name,))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                chain = _attribute_chain(node)
                if chain is not None and chain[0] in names:
                    module, prefix = names[chain[0]]
                    found.attributes.add((module, prefix + chain[1]))
    return found


def _load(module: types.ModuleType) -> None:
    # Any attribute lookup materialises a lazily imported module (pulumi's `lazy_import`,
    # importlib's LazyLoader); the probe name exists nowhere.
    hasattr(module, "_offline_preload_probe_")


def preload_program_imports(project: ProjectInfo) -> int:
    """Import, in this process, the outside modules the program imports; returns how many now loaded.

    Only modules outside the program directory are imported (never the program's own, which could
    read config at import time): the packages named by its import statements, the submodules it
    reaches through attributes (`k8s.core.v1`, `azure_native.web`), and lazily loaded modules are
    materialised. A module that fails to import is skipped: the program run will report it.
    """
    wanted = external_imports(project)
    before = len(sys.modules)
    for name in sorted(wanted.modules):
        with contextlib.suppress(Exception):
            _load(importlib.import_module(name))
    for module_name, path in sorted(wanted.attributes):
        current: Any = sys.modules.get(module_name)
        for attr in path:
            if not isinstance(current, types.ModuleType):
                break
            try:
                value = getattr(current, attr)
            except Exception:
                try:
                    value = importlib.import_module(f"{current.__name__}.{attr}")
                except Exception:
                    break
            if isinstance(value, types.ModuleType):
                with contextlib.suppress(Exception):
                    _load(value)
            current = value
    # Belt and braces: nothing from the program directory stays imported in the parent.
    purge_program_modules(project.directory)
    return len(sys.modules) - before


def freeze_gc() -> None:
    """Move every object that exists now to the permanent generation (`gc.unfreeze()` undoes it).

    The imported SDK is some 300k long-lived objects; without this, every full collection during a
    program run walks them all (~30% of a program run's CPU, measured). Objects created
    afterwards are collected as usual. No collection first: over the SDK it costs ~0.3 s, more than
    the garbage it would free is worth.
    """
    gc.freeze()


# The SDK allocates a great many short-lived objects per resource (outputs, tasks, futures): with
# the default first-generation threshold (700) a program run spends ~17% of its CPU in collections
# that find little (measured over the three stacks: 4.5 s of CPU, 3.7 s at 10 000, 3.6 s with the
# collector off, peak memory unchanged within 3 MB). Set for a run, then restored.
GC_GEN0_THRESHOLD = 10_000


# ---- the children ---------------------------------------------------------------------------


def _failed_run(config: StackConfig, preview: bool, kind: str, message: str, tb: str | None) -> ProgramRun:
    run = ProgramRun(stack=config.stack, project=config.project.name, preview=preview)
    run.error = ProgramError(kind, message, tb)
    return run


def _write_frame(fd: int, tag: bytes, payload: bytes) -> None:
    data = memoryview(_HEADER.pack(tag, len(payload)) + payload)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _child(config: StackConfig, preview: bool, go_fd: int, out_fd: int) -> NoReturn:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        if os.read(go_fd, 1) != b"1":
            os._exit(0)  # the parent gave up before this stack's turn
        os.close(go_fd)
        _write_frame(out_fd, _STARTED, str(os.getpid()).encode())
        try:
            run = run_program(config, preview)
        except Exception as exc:  # run_program reports program errors itself; this is the harness
            run = _failed_run(config, preview, type(exc).__name__, str(exc), traceback.format_exc())
        try:
            payload = pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            failed = _failed_run(
                config, preview, "OfflineError", f"could not send the program run back: {exc}", None
            )
            payload = pickle.dumps(failed, protocol=pickle.HIGHEST_PROTOCOL)
        _write_frame(out_fd, _RESULT, payload)
    except BaseException:
        code = 70
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


@dataclass
class _Worker:
    stack: str
    config: StackConfig
    pid: int
    go_fd: int
    out_fd: int
    buffer: bytearray


class ForkedPrograms:
    """One forked child per stack, each running that stack's program; results in completion order.

    Construct it before creating any thread, event loop or gRPC object in this process.
    """

    def __init__(self, configs: dict[str, StackConfig], preview: bool, jobs: int, progress: Progress) -> None:
        self.preview = preview
        self.jobs = max(1, jobs)
        self.progress = progress
        self.workers: list[_Worker] = []
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        # Keep everything that exists out of the children's collections: no object from before the
        # fork (a gRPC object left over by an earlier caller, say) is finalized in a child, the
        # shared pages stay shared, and a child's collections do not walk the SDK's ~300k objects.
        # The caller unfreezes once it is done (`gc.unfreeze`).
        freeze_gc()
        try:
            for stack, config in configs.items():
                go_read, go_write = os.pipe()
                out_read, out_write = os.pipe()
                pid = os.fork()
                if pid == 0:
                    # The child keeps only its own ends: a sibling's "go" pipe must reach EOF
                    # when the parent closes it, and the parent must see EOF on a dead child's pipe.
                    for fd in (go_write, out_read, *(f for w in self.workers for f in (w.go_fd, w.out_fd))):
                        with contextlib.suppress(OSError):
                            os.close(fd)
                    _child(config, preview, go_read, out_write)
                os.close(go_read)
                os.close(out_write)
                self.workers.append(_Worker(stack, config, pid, go_write, out_read, bytearray()))
        except BaseException:
            self.close()
            raise

    def _start(self, worker: _Worker) -> None:
        os.write(worker.go_fd, b"1")
        os.close(worker.go_fd)
        worker.go_fd = -1

    def results(self) -> Iterator[tuple[str, ProgramRun]]:
        """Each stack's ProgramRun as its child finishes; a child that dies is a program error."""
        pending = list(self.workers)
        queue = list(self.workers)
        with selectors.DefaultSelector() as sel:
            for worker in pending:
                sel.register(worker.out_fd, selectors.EVENT_READ, worker)
            running = 0
            while pending:
                while queue and running < self.jobs:
                    self._start(queue.pop(0))
                    running += 1
                for key, _ in sel.select():
                    worker = key.data
                    chunk = os.read(worker.out_fd, 1 << 16)
                    if chunk:
                        worker.buffer += chunk
                        run = self._parse(worker)
                        if run is None:
                            continue
                    else:
                        run = self._died(worker)
                    sel.unregister(worker.out_fd)
                    os.close(worker.out_fd)
                    worker.out_fd = -1
                    pending.remove(worker)
                    running -= 1
                    self._reap(worker)
                    yield worker.stack, run

    def _parse(self, worker: _Worker) -> ProgramRun | None:
        while len(worker.buffer) >= _HEADER.size:
            tag, size = _HEADER.unpack_from(worker.buffer)
            if len(worker.buffer) < _HEADER.size + size:
                return None
            payload = bytes(worker.buffer[_HEADER.size : _HEADER.size + size])
            del worker.buffer[: _HEADER.size + size]
            if tag == _STARTED:
                mode = "preview" if self.preview else "update"
                self.progress(
                    f"{worker.stack}: running the program ({mode} mode) in process {payload.decode()}"
                )
            elif tag == _RESULT:
                run: ProgramRun = pickle.loads(payload)
                return run
        return None

    def _died(self, worker: _Worker) -> ProgramRun:
        status = self._reap(worker)
        if status is not None and os.WIFSIGNALED(status):
            how = f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
        elif status is not None and os.WIFEXITED(status):
            how = f"exited with code {os.WEXITSTATUS(status)}"
        else:
            how = "ended"
        return _failed_run(
            worker.config,
            self.preview,
            "WorkerDied",
            f"the process running stack {worker.stack} {how} before sending its result",
            None,
        )

    def _reap(self, worker: _Worker) -> int | None:
        if worker.pid <= 0:
            return None
        pid, status = os.waitpid(worker.pid, 0)
        worker.pid = -1
        return status if pid else None

    def close(self) -> None:
        """Stop and reap every child that has not finished (on error or interrupt)."""
        for worker in self.workers:
            for fd in (worker.go_fd, worker.out_fd):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            worker.go_fd = worker.out_fd = -1
            if worker.pid > 0:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGTERM)
                deadline = time.monotonic() + 5
                while True:
                    pid, _ = os.waitpid(worker.pid, os.WNOHANG)
                    if pid or time.monotonic() > deadline:
                        break
                    time.sleep(0.02)
                if not pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker.pid, signal.SIGKILL)
                    os.waitpid(worker.pid, 0)
                worker.pid = -1
