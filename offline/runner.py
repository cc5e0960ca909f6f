"""Orchestration: load config, start packs, run programs, analyze, collect.

All pack processes start first (they need only the stack config, and their start-up is the
slowest part), so they warm up while the programs run one after another in this process. Each
finished program run is handed to a thread per pack, which talks gRPC while the next program runs.
"""

from __future__ import annotations

from collections.abc import Callable
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
)
from .engine import run_program
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

    engine = EngineServer() if opts.packs else None
    processes: dict[tuple[str, int], PackProcess] = {}
    futures: list[tuple[str, Future[PackResult]]] = []
    try:
        for stack, cfg in configs.items():
            for i, spec in enumerate(specs):
                if isinstance(spec, PackSpec) and engine is not None:
                    processes[(stack, i)] = PackProcess(spec, cfg, opts.preview, engine.address)
        if processes:
            progress(f"started {len(processes)} policy pack process(es)")
        with ThreadPoolExecutor(max_workers=max(len(processes), 1)) as pool:
            for stack, cfg in configs.items():
                progress(f"{stack}: running the program ({'preview' if opts.preview else 'update'} mode)")
                run = run_program(cfg, opts.preview)
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
                    f"{stack}: policy pack {pack.name or pack.path}: "
                    + (
                        f"{len(pack.violations)} finding(s)"
                        if pack.status == "ok"
                        else f"error: {pack.error}"
                    )
                )
    finally:
        for proc in processes.values():
            proc.close()
        if engine is not None:
            engine.stop()
    for sr in results.values():
        sr.packs.sort(key=lambda p: p.name or p.path)
    logs = list(engine.servicer.logs) if engine is not None else []
    return [results[s] for s in opts.stacks], logs
