"""Orchestration: load config, start packs, run programs, analyze, collect.

All pack processes start first (they need only the stack config, and their start-up is the
slowest part), so they warm up while the programs run. Each finished program run is handed to a
thread per pack, which talks gRPC while the other programs run.

Programs run one of two ways, with the same results:
  * forked (the default with more than one stack and CPU): this process imports the SDK modules
    the program imports once, then forks one child per stack (offline/parallel.py), at most
    `jobs` running at once; each child runs its stack and sends the ProgramRun back;
  * sequential (`jobs=1`, one stack, or no `os.fork`): one stack after another in this process.
"""

from __future__ import annotations

import gc
import os
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .analyzer import (
    EngineServer,
    PackError,
    PackProcess,
    PackResult,
    PackSpec,
    analyze,
    discover_packs,
    load_pack,
    reserve_port,
)
from .engine import ProgramRun, run_program
from .parallel import GC_GEN0_THRESHOLD, ForkedPrograms, can_fork, freeze_gc, preload_program_imports
from .report import StackResult
from .stackconfig import ConfigError, ProjectInfo, StackConfig, available_stacks, load_stack
from .values import scrub

Progress = Callable[[str], None]


class UsageError(Exception):
    """Bad command-line usage (unknown stack, unpaired config files, no project)."""


@dataclass
class Options:
    project: ProjectInfo
    stacks: list[str]
    preview: bool
    packs: list[Path]
    pack_configs: list[Path] = field(default_factory=list)
    extra_config: dict[str, object] = field(default_factory=dict)
    # Programs running at once, each in a forked process; 1 runs them one after another here.
    jobs: int = 0  # 0: one per CPU, at most one per stack


def effective_jobs(requested: int, stacks: int) -> int:
    """How many stack programs run at once; 1 means the sequential path in this process."""
    if stacks <= 1 or not can_fork():
        return 1
    wanted = requested if requested > 0 else (os.cpu_count() or 1)
    return max(1, min(wanted, stacks))


def resolve_stacks(project: ProjectInfo, requested: list[str]) -> list[str]:
    known = available_stacks(project.directory)
    if not requested or "all" in requested:
        if not known:
            raise UsageError(f"{project.directory}: no Pulumi.<stack>.yaml files found")
        return known
    missing = [s for s in requested if s not in known]
    if missing:
        known_list = ", ".join(known) or "none"
        raise UsageError(
            f"no stack file for {', '.join(missing)} in {project.directory} (known: {known_list})"
        )
    return list(dict.fromkeys(requested))


def resolve_packs(project: ProjectInfo, requested: list[Path], configs: list[Path]) -> list[Path]:
    packs = [p.resolve() for p in requested] if requested else discover_packs(project.directory)
    if len(configs) > len(packs):
        raise UsageError(
            f"{len(configs)} --policy-pack-config file(s) for {len(packs)} --policy-pack(s); "
            "configs pair with packs by position"
        )
    return packs


def _config_for(pack: Path, index: int, configs: list[Path], stack: str) -> Path | None:
    if index < len(configs):
        return configs[index].resolve()
    default = pack / "config" / f"{stack}.json"
    return default if default.is_file() else None


def run_all(opts: Options, report_progress: Progress) -> tuple[list[StackResult], list[tuple[str, str, str]]]:
    """Results per stack, in the order asked, and whatever packs logged through the Engine service."""
    results: dict[str, StackResult] = {s: StackResult(stack=s) for s in opts.stacks}
    configs: dict[str, StackConfig] = {}
    placeholders: set[str] = set()

    def progress(message: str) -> None:
        report_progress(scrub(message, placeholders))

    for stack in opts.stacks:
        try:
            configs[stack] = load_stack(opts.project, stack, opts.extra_config)
            results[stack].config = configs[stack]
            placeholders.update(configs[stack].placeholders)
        except ConfigError as exc:
            results[stack].config_error = str(exc)
            progress(f"{stack}: configuration error: {exc}")

    specs: list[PackSpec | PackError] = []
    for path in opts.packs:
        try:
            specs.append(load_pack(path))
        except PackError as exc:
            specs.append(exc)

    jobs = effective_jobs(opts.jobs, len(configs))
    engine: EngineServer | None = None
    reserved: socket.socket | None = None
    engine_address = ""
    forked: ForkedPrograms | None = None
    processes: dict[tuple[str, int], PackProcess] = {}
    futures: list[tuple[str, Future[PackResult]]] = []
    gc_threshold = gc.get_threshold()
    try:
        gc.set_threshold(GC_GEN0_THRESHOLD, *gc_threshold[1:])
        if opts.packs and jobs > 1:
            # No gRPC object before the forks: the packs get a reserved address, served later.
            reserved = reserve_port()
            engine_address = f"127.0.0.1:{reserved.getsockname()[1]}"
        elif opts.packs:
            engine = EngineServer()
            engine_address = engine.address
        for stack, cfg in configs.items():
            for i, spec in enumerate(specs):
                if isinstance(spec, PackSpec) and opts.packs:
                    processes[(stack, i)] = PackProcess(spec, cfg, opts.preview, engine_address)
        if processes:
            progress(f"started {len(processes)} policy pack process(es)")
        runs: Iterator[tuple[str, ProgramRun]]
        if jobs > 1:
            started = time.perf_counter()
            loaded = preload_program_imports(opts.project)
            progress(
                f"imported {loaded} modules the program uses in {time.perf_counter() - started:.1f}s; "
                f"one process per stack, {jobs} at a time"
            )
            forked = ForkedPrograms(configs, opts.preview, jobs, progress)
            if reserved is not None:
                engine = EngineServer(reserved.getsockname()[1])
                reserved.close()
                reserved = None
            runs = forked.results()
        else:
            runs = _run_here(configs, opts.preview, progress)
        with ThreadPoolExecutor(max_workers=max(len(processes), 1)) as pool:
            for stack, run in runs:
                cfg = configs[stack]
                results[stack].run = run
                status = f"failed: {run.error.message}" if run.error else "ok"
                progress(
                    f"{stack}: {len(run.resources)} resources registered in {run.duration:.1f}s ({status})"
                )
                for i, spec in enumerate(specs):
                    if isinstance(spec, PackError):
                        results[stack].packs.append(
                            PackResult(path=str(opts.packs[i]), status="error", error=str(spec))
                        )
                        continue
                    proc = processes.pop((stack, i))
                    config_file = _config_for(spec.path, i, opts.pack_configs, stack)
                    futures.append((stack, pool.submit(analyze, run, cfg, spec, proc, config_file)))
            for stack, fut in futures:
                pack = fut.result()
                results[stack].packs.append(pack)
                progress(
                    f"{stack}: policy pack {pack.name or pack.path}: {_pack_outcome(pack, results[stack])}"
                )
    finally:
        gc.set_threshold(*gc_threshold)
        gc.unfreeze()
        if forked is not None:
            forked.close()
        for proc in processes.values():
            proc.close()
        if reserved is not None:
            reserved.close()
        if engine is not None:
            engine.stop()
    for sr in results.values():
        sr.packs.sort(key=lambda p: p.name or p.path)
    logs = list(engine.servicer.logs) if engine is not None else []
    return [results[s] for s in opts.stacks], logs


def _pack_outcome(pack: PackResult, result: StackResult) -> str:
    if pack.status != "ok":
        return f"error: {pack.error}"
    if result.run is not None and result.run.error is not None:
        # Findings over a partial program say nothing about the stack (see report.py).
        return f"not evaluated, the program failed ({len(pack.violations)} finding(s) before it did)"
    return f"{len(pack.violations)} finding(s)"


def _run_here(
    configs: dict[str, StackConfig], preview: bool, progress: Progress
) -> Iterator[tuple[str, ProgramRun]]:
    for stack, cfg in configs.items():
        progress(f"{stack}: running the program ({'preview' if preview else 'update'} mode)")
        # What is imported by now (the SDK, after the first stack) stays out of the collections.
        freeze_gc()
        yield stack, run_program(cfg, preview)
