"""Time the offline preview against the floor of importing the SDK modules it uses.

Run from the repo root:  ./venv/bin/python benchmarks/offline_preview.py [--repeat 3] [--topics 0,50,200]

Everything is measured in this one run, side by side, each case in a fresh interpreter, `--repeat`
times in round-robin order (so background load hits every case alike); the table shows the median
and the minimum. Cases:
  * floor            - a fresh interpreter importing exactly the SDK modules (pulumi, providers,
                       policy SDK, grpc, rich, ...) that an offline preview of all stacks imports,
                       then leaving with os._exit as `python -m offline` does (no module teardown);
  * pack start floor - a fresh interpreter importing what one policy pack process imports before
                       it can answer (`pulumi.policy` + `pulumi_policy`); the preview starts one
                       per stack and pack, as the CLI does;
  * <stack>          - `python -m offline --stack <stack>` with every pack under policies/;
  * all stacks       - `python -m offline` (all stacks, all packs; the default: SDK imported once,
                       one forked process per stack, one per CPU at a time);
  * all, --jobs 1    - the same, the stacks one after another in one process;
  * <stack> +N topics - one stack (prod by default) with N extra Service Bus topics injected through
                       its `messaging.topics` config (`--config`), nothing special in the program.

Wall time depends on how many CPUs are free; CPU time (user+sys of the process and of every
process it waited for: forked stacks, pack processes) does much less. The 1-minute load average
is sampled before every run and reported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT_KEY = "meajudaai-infra"
SDK_PREFIXES = ("pulumi", "grpc", "google", "rich", "yaml", "pydantic", "jsonschema", "opentelemetry")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user+sys of the process and every child it waited for)."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    # Exit 1 is a policy verdict (e.g. the gate blocking prod), not a benchmark failure.
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed with {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, cpu


def sdk_modules() -> list[str]:
    """The SDK modules an offline preview of all stacks ends up importing in its own process."""
    probe = (
        "import sys, json, io\n"
        "from rich.console import Console\n"
        "from offline.__main__ import main\n"
        # --jobs 1: every module the programs import lands in this process, not in forked children.
        "main(['-q', '--jobs', '1'], out=Console(file=io.StringIO()), err=Console(file=io.StringIO()))\n"
        f"prefixes = {SDK_PREFIXES!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0].startswith(prefixes))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def topics_override(stack: str, extra: int) -> str:
    """`messaging` config for `stack` with `extra` more topics, as a --config override."""
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    messaging = dict((doc.get("config") or {}).get(f"{PROJECT_KEY}:messaging") or {})
    topics = messaging.get("topics")
    if topics is None:
        sys.path.insert(0, str(ROOT))
        # The program's own default list (its validator wants the default topics kept).
        from components.settings import MessagingSettings  # noqa: PLC0415 - only when needed

        topics = list(MessagingSettings.model_fields["topics"].get_default(call_default_factory=True))
    messaging["topics"] = list(topics) + [f"bench-topic-{i:03d}" for i in range(extra)]
    return f"{PROJECT_KEY}:messaging=" + json.dumps(messaging)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stacks", default="dev,staging,prod")
    parser.add_argument("--topics", default="0,50,200", help="extra topic counts for the growth cases")
    parser.add_argument("--growth-stack", default="prod", help="stack the extra topics are added to")
    args = parser.parse_args()
    stacks = [s for s in args.stacks.split(",") if s]
    py = sys.executable
    modules = sdk_modules()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write("".join(f"import {m}\n" for m in modules) + "import os\nos._exit(0)\n")
        floor_script = f.name
    cases: dict[str, list[str]] = {
        "floor (import SDK modules)": [py, floor_script],
        # A pack process never tears its modules down either: the preview terminates it.
        "pack start floor (1 pack)": [py, "-c", "import pulumi.policy, pulumi_policy, os; os._exit(0)"],
    }
    offline = [py, "-m", "offline", "-q", "--json", os.devnull]
    for stack in stacks:
        cases[f"stack {stack}"] = [*offline, "--stack", stack]
    all_stacks = [a for s in stacks for a in ("--stack", s)]
    cases["all stacks"] = [*offline, *all_stacks]
    cases["all stacks, --jobs 1"] = [*offline, "--jobs", "1", *all_stacks]
    for n in (int(x) for x in args.topics.split(",") if x):
        cases[f"{args.growth_stack} +{n} topics"] = [
            *offline,
            "--stack",
            args.growth_stack,
            "-c",
            topics_override(args.growth_stack, n),
        ]
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    loads: list[float] = []
    for round_ in range(args.repeat):
        for name, cmd in cases.items():
            loads.append(os.getloadavg()[0])
            w, c = timed(cmd)
            wall[name].append(w)
            cpu[name].append(c)
        print(f"round {round_ + 1}/{args.repeat} done", file=sys.stderr)
    Path(floor_script).unlink()

    floor_name = "floor (import SDK modules)"
    floor_wall, floor_cpu = statistics.median(wall[floor_name]), statistics.median(cpu[floor_name])
    print(
        f"\nOffline preview, {args.repeat} run(s) per case, {os.cpu_count()} CPUs, "
        f"{len(modules)} SDK modules in the floor; 1-min load average before the runs: min {min(loads):.1f}, "
        f"median {statistics.median(loads):.1f}, max {max(loads):.1f}"
    )
    print(f"{'case':<28} {'wall med':>9} {'wall min':>9} {'x floor':>8} {'CPU med':>8} {'x floor':>8}")
    for name in cases:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"{name:<28} {w:>8.2f}s {min(wall[name]):>8.2f}s {w / floor_wall:>8.2f} "
            f"{c:>7.2f}s {c / floor_cpu:>8.2f}"
        )
    per_wall = sum(statistics.median(wall[f"stack {s}"]) for s in stacks)
    per_cpu = sum(statistics.median(cpu[f"stack {s}"]) for s in stacks)
    print(
        f"{'one process per stack (sum)':<28} {per_wall:>8.2f}s {'':>9} {per_wall / floor_wall:>8.2f} "
        f"{per_cpu:>7.2f}s {per_cpu / floor_cpu:>8.2f}"
    )


if __name__ == "__main__":
    main()
