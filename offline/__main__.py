"""`python -m offline`: the offline `pulumi preview --policy-pack` for this project.

Runs the real program under Pulumi's mock engine for each stack and the real policy packs over the
analyzer protocol, then prints a preview-like report (stdout) after progress lines (stderr).
Exit status: 0 when every stack is clean, 1 on a mandatory violation, a program or configuration
error or a pack that failed, 2 on bad usage (including a --json/--sarif file that cannot be written).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from importlib import metadata
from pathlib import Path

from rich.console import Console
from rich.text import Text

from gate.text import wrap

from .report import SCHEMA_VERSION, build_report, render
from .runner import Options, UsageError, resolve_packs, resolve_stacks, run_all
from .sarif import to_sarif
from .stackconfig import ConfigError, load_project


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m offline",
        description="Offline preview: the program under Pulumi's mock engine, the policy packs over the "
        "analyzer protocol, no cloud and no Pulumi CLI needed.",
    )
    parser.add_argument(
        "-s",
        "--stack",
        action="append",
        default=[],
        help="stack to preview (dev, staging, prod or all; repeatable, or comma-separated; default all)",
    )
    parser.add_argument(
        "--mode",
        choices=("preview", "update"),
        default="preview",
        help="preview: computed outputs unknown, as in a first preview; update: plausible known outputs",
    )
    parser.add_argument(
        "--policy-pack",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="policy pack directory (repeatable; default: every pack under policies/)",
    )
    parser.add_argument(
        "--policy-pack-config",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="policy config JSON for the pack at the same position (default: <pack>/config/<stack>.json)",
    )
    parser.add_argument(
        "-c",
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a stack config value for this run only (a JSON object/array value stays structured)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=0,
        metavar="N",
        help="stack programs run at once, each in its own forked process (default: one per CPU); "
        "1 runs them one after another in this process",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON to FILE")
    parser.add_argument(
        "--sarif",
        type=Path,
        metavar="FILE",
        help="also write the policy results as SARIF 2.1.0 to FILE (for GitHub code scanning)",
    )
    parser.add_argument(
        "-C",
        "--cwd",
        type=Path,
        default=None,
        metavar="DIR",
        help="project directory, the one with Pulumi.yaml (default: the project this tool belongs to, "
        "whatever the current directory)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument(
        "--version", action="store_true", help="print the tool, project and pinned SDK versions, then exit"
    )
    return parser.parse_args(argv)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_overrides(items: list[str]) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--config {item!r}: expected KEY=VALUE")
        value: object = raw
        if raw.startswith(("[", "{")):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise UsageError(
                    f"--config {key}: value looks like JSON but is not valid ({exc.msg})"
                ) from None
        overrides[key] = value
    return overrides


# The project this package belongs to: the directory above it, when it holds the Pulumi.yaml.
OWN_PROJECT = Path(__file__).resolve().parent.parent
PINNED = ("pulumi", "pulumi-policy")


def project_directory(requested: Path | None) -> Path:
    """-C when given, else this package's own project (falling back to the current directory)."""
    if requested is not None:
        directory = requested.expanduser().resolve()
        if not directory.is_dir():
            raise UsageError(f"-C {requested}: not a directory (expected the project directory)")
        return directory
    if (OWN_PROJECT / "Pulumi.yaml").is_file() or (OWN_PROJECT / "Pulumi.yml").is_file():
        return OWN_PROJECT
    return Path.cwd()


def check_output(flag: str, path: Path | None) -> str:
    """Why FILE cannot be written, or "": checked before the run, so a bad path costs no run."""
    if path is None:
        return ""
    if path.is_dir():
        return f"{flag} {path}: is a directory (expected a file to write)"
    parent = path.parent
    blocker = next((p for p in (parent, *parent.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return f"{flag} {path}: {blocker} is a file, not a directory"
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"{flag} {path}: cannot create the directory {parent} ({exc.strerror or exc})"
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"{flag} {path}: not writable (permission denied)"
    return ""


def _installed(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _pins(directory: Path) -> dict[str, str]:
    """`name==version` lines of the project's requirements files, for the SDKs the tool runs."""
    pins: dict[str, str] = {}
    for name in ("requirements.txt", "requirements-dev.txt"):
        try:
            text = (directory / name).read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+)", line)
            if match:
                pins.setdefault(match.group(1).lower().replace("_", "-"), match.group(2))
    return pins


def version_text(directory: Path) -> str:
    try:
        project = load_project(directory).name
    except ConfigError:
        project = "no Pulumi project"
    pins = _pins(directory)
    sdks = []
    for name in PINNED:
        installed = _installed(name)
        pinned = pins.get(name)
        if pinned is None:
            sdks.append(f"{name} {installed} (not pinned)")
        elif pinned == installed:
            sdks.append(f"{name} {installed} (pinned)")
        else:
            sdks.append(f"{name} {installed} (requirements pin {pinned}: run make setup)")
    return "\n".join(
        [
            f"offline-preview (python -m offline), report schema {SCHEMA_VERSION}, SARIF 2.1.0",
            f"project: {project} at {directory}",
            f"{'; '.join(sdks)}; Python {platform.python_version()}",
        ]
    )


def main(argv: list[str] | None = None, out: Console | None = None, err: Console | None = None) -> int:
    args = parse_args(argv)
    stdout = out or Console(highlight=False)
    stderr = err or Console(stderr=True, highlight=False)
    started = time.perf_counter()

    def progress(message: str) -> None:
        if args.quiet:
            return
        for line in wrap(f"{time.perf_counter() - started:6.1f}s {message}", "", " " * 10):
            text = Text(line)
            if not line.startswith(" " * 10):
                text.stylize("dim", 0, 7)
            stderr.print(text, soft_wrap=True)

    if args.version:
        try:
            directory = project_directory(args.cwd)
        except UsageError as exc:
            stderr.print(Text(f"error: {exc}"), soft_wrap=True)
            return 2
        stdout.print(Text(version_text(directory)), soft_wrap=True)
        return 0

    mode = args.mode
    stacks = [s for item in args.stack for s in item.split(",") if s]
    outputs = {"--json": args.json, "--sarif": args.sarif}
    bad_outputs = {flag: why for flag, path in outputs.items() if (why := check_output(flag, path))}
    try:
        if bad_outputs:
            raise UsageError("; ".join(bad_outputs.values()))
        project = load_project(project_directory(args.cwd))
        opts = Options(
            project=project,
            stacks=resolve_stacks(project, stacks),
            preview=mode == "preview",
            packs=resolve_packs(project, args.policy_pack, args.policy_pack_config),
            pack_configs=list(args.policy_pack_config),
            extra_config=parse_overrides(args.config),
            jobs=args.jobs,
        )
    except (ConfigError, UsageError) as exc:
        report = build_report("", mode, [], usage_error=str(exc))
        report["exitCode"] = 2
        render(report, stdout)
        if "--json" not in bad_outputs:
            _write(args.json, "--json", _json_text(report), stderr)
        return 2

    results, engine_logs = run_all(opts, progress)
    report = build_report(
        project.name, mode, results, engine_logs=engine_logs, directory=str(project.directory)
    )
    render(report, stdout)
    written = _write(args.json, "--json", _json_text(report), stderr)
    written &= _write(args.sarif, "--sarif", _json_text(to_sarif(report)), stderr)
    progress(f"done: {'ok' if report['ok'] else 'failed'}")
    return int(report["exitCode"]) if written else 2


def _json_text(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def _write(path: Path | None, flag: str, text: str, stderr: Console) -> bool:
    """Write FILE; on failure one `error:` line naming the flag and the file, never a traceback."""
    if path is None:
        return True
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        stderr.print(Text(f"error: {flag} {path}: cannot write ({exc.strerror or exc})"), soft_wrap=True)
        return False
    return True


if __name__ == "__main__":
    exit_code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Every file is written and closed and every child process reaped by now: skip the interpreter's
    # teardown of the ~2000 imported modules (about 1 s of CPU, measured in docs/offline-preview.md).
    os._exit(exit_code)
