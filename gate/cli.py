"""``python -m gate``: record checklist evidence into a stack's config and show the gate's status.

Exit codes: 0 ok (status: pass or advisory), 1 status blocked, 2 bad input (nothing written).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gate.compat import KnowledgeError
from gate.config import (
    DEFAULT_CLASS_PATTERN,
    EVIDENCE_ITEMS,
    HANGFIRE_TEST_CATEGORY,
    BackupVerificationEvidence,
    EvidenceRecord,
    GateEvidence,
    IntegrationTestsEvidence,
    ReportSummary,
    RollbackTestEvidence,
    StagingValidationEvidence,
    StakeholdersEvidence,
    TrainingEvidence,
)
from gate.decision import HANGFIRE_TESTS, Decision, Derived, decide, evidence_problems, report_counts
from gate.evidence import ITEM_TITLES, summarize
from gate.facts import FactsError, Limits, ReleaseFacts, resolve_release
from gate.hints import record_commands
from gate.props import PropsError
from gate.reports import FORMAT_NAMES, HangfireSelector, read_report
from gate.stackfile import StackFile, StackFileError, load, stack_path
from gate.testrun import ReportError
from gate.text import shell_lines, wrap

EXIT_OK, EXIT_BLOCKED, EXIT_INPUT = 0, 1, 2
DESCRIPTION = "Record compatibility-gate evidence into Pulumi.<stack>.yaml and show the gate status."

# CLI item name -> (runbook number, evidence model)
ITEMS: dict[str, tuple[int, type[EvidenceRecord]]] = {
    "tests": (1, IntegrationTestsEvidence),
    "staging": (2, StagingValidationEvidence),
    "rollback": (4, RollbackTestEvidence),
    "backup": (5, BackupVerificationEvidence),
    "training": (6, TrainingEvidence),
    "stakeholders": (7, StakeholdersEvidence),
}


class CliError(Exception):
    pass


def _aware(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"'{text}' has no time zone (add Z or an offset such as -03:00)")
    return value


_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def _utc_offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    match = _OFFSET.match(text)
    if not match or int(match[2]) > 23 or int(match[3]) > 59:
        raise argparse.ArgumentTypeError(f"'{text}' is not a UTC offset such as +00:00, -03:00 or Z")
    sign = -1 if match[1] == "-" else 1
    return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--stack", required=True, help="stack name: dev, staging or prod")
    parser.add_argument(
        "--project-dir", type=Path, default=Path(), help="directory holding Pulumi.<stack>.yaml (default: .)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gate", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)

    status = commands.add_parser("status", help="show the gate's decision and missing items for a stack")
    _common(status)
    status.add_argument("--props", type=Path, help="Directory.Packages.props to use instead of the config's")
    status.add_argument("--now", type=_aware, help="evaluate as of this time (default: now)")
    status.add_argument("--json", action="store_true", help="print the decision as JSON")

    record = commands.add_parser("record", help="record evidence for one checklist item")
    items = record.add_subparsers(dest="item", required=True)
    for name, (number, _model) in ITEMS.items():
        sub = items.add_parser(name, help=f"item {number}: {ITEM_TITLES[number]}")
        _common(sub)
        sub.add_argument("--by", required=True, help="who is recording this evidence")
        sub.add_argument("--release", help="release id the evidence is for (default: the stack's release)")
        sub.add_argument("--at", type=_aware, help="when the evidence was produced (default: now)")
        sub.add_argument(
            "--props",
            type=Path,
            help="Directory.Packages.props of the release the evidence is for, if not the config's "
            "(its package digest is recorded with the evidence)",
        )
        _item_arguments(name, sub)
    return parser


def _item_arguments(name: str, sub: argparse.ArgumentParser) -> None:
    if name == "tests":
        sub.add_argument(
            "--report",
            "--trx",
            dest="report",
            type=Path,
            required=True,
            help="the run's test report: TRX (dotnet test --logger trx) or xUnit v2/v3 XML",
        )
        sub.add_argument(
            "--category",
            default=HANGFIRE_TEST_CATEGORY,
            help=f"test category (TRX TestCategory, xUnit trait Category) of the Hangfire integration tests "
            f"(default: {HANGFIRE_TEST_CATEGORY})",
        )
        sub.add_argument(
            "--class",
            dest="class_patterns",
            action="append",
            metavar="GLOB",
            help=f"fully-qualified class name glob of the Hangfire integration tests, repeatable "
            f"(default: {DEFAULT_CLASS_PATTERN})",
        )
        sub.add_argument(
            "--filter",
            dest="run_filter",
            help='the dotnet test --filter the run was made with, e.g. "Category=HangfireIntegration"',
        )
        sub.add_argument(
            "--utc-offset",
            type=_utc_offset,
            help="UTC offset of the machine that wrote an xUnit report without finish-rtf (e.g. +00:00)",
        )
    elif name == "staging":
        sub.add_argument("--jobs", type=int, required=True, help="number of test jobs enqueued")
        sub.add_argument("--persisted", action="store_true", help="jobs persisted across a restart")
        sub.add_argument("--retries", action="store_true", help="induced failures were retried")
        sub.add_argument("--recurring", action="store_true", help="recurring jobs validated")
        sub.add_argument("--dashboard", action="store_true", help="dashboard watched")
    elif name == "rollback":
        sub.add_argument("--minutes", type=int, required=True, help="measured duration of the rehearsal")
    elif name == "backup":
        sub.add_argument("--backup-name", required=True, help="the backup or dump that was verified")
        sub.add_argument("--restore-tested", action="store_true", help="the backup was restored and checked")
    elif name == "training":
        sub.add_argument("--trained", action="append", required=True, help="a person trained (repeatable)")
    elif name == "stakeholders":
        sub.add_argument("--channel", required=True, help="how stakeholders were notified")


def _selector(args: argparse.Namespace) -> HangfireSelector:
    return HangfireSelector(args.category, tuple(args.class_patterns or (DEFAULT_CLASS_PATTERN,)))


def _payload(args: argparse.Namespace) -> dict[str, Any]:
    if args.item == "tests":
        report = read_report(args.report, _selector(args), args.run_filter, args.utc_offset)
        return {"report": report}
    if args.item == "staging":
        return {
            "jobsEnqueued": args.jobs,
            "persistedAcrossRestart": args.persisted,
            "retriesVerified": args.retries,
            "recurringJobsVerified": args.recurring,
            "dashboardWatched": args.dashboard,
        }
    if args.item == "rollback":
        return {"durationMinutes": args.minutes}
    if args.item == "backup":
        return {"backupName": args.backup_name, "restoreTested": args.restore_tested}
    if args.item == "training":
        return {"trained": args.trained}
    return {"channel": args.channel}


def _limits(stack: StackFile) -> Limits:
    release = stack.release()
    return Limits(release.evidence_max_age_days, release.backup_max_age_hours, release.min_hangfire_tests)


def _report_label(args: argparse.Namespace) -> str:
    return f"{HANGFIRE_TESTS} ({_selector(args).describe()})"


def _refusal(entry: EvidenceRecord, number: int, problems: list[str]) -> str:
    reasons = "; ".join(problems)
    if not isinstance(entry, IntegrationTestsEvidence):
        return f"not recorded: this evidence would not satisfy item {number}: {reasons}"
    report = entry.report
    about = [FORMAT_NAMES[report.format], f"outcome {report.outcome}"]
    if report.run_errors:
        about.append(f"{report.run_errors} run-level errors")
    if report.filter:
        about.append(f"filter {report.filter}")
    return f"not recorded: report {report.file} ({', '.join(about)}) would not satisfy item 1: {reasons}"


def record(args: argparse.Namespace, out: Any) -> int:
    stack = load(stack_path(args.stack, args.project_dir))
    release = stack.release()
    facts = _facts(stack, args.props)
    number, model = ITEMS[args.item]
    key = EVIDENCE_ITEMS[number]
    data = {
        "release": args.release or release.id,
        # Evidence binds to the package set it was produced with, not only to the release's name.
        "releaseDigest": facts.digest,
        "recordedBy": args.by,
        "recordedAt": args.at or datetime.now(UTC),
        **_payload(args),
    }
    try:
        entry = model.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CliError(f"invalid evidence for '{key}': {details}") from exc
    summary = summarize(GateEvidence.model_validate({key: entry}))[number]
    label = _report_label(args) if args.item == "tests" else HANGFIRE_TESTS
    problems = evidence_problems(number, summary, _limits(stack), datetime.now(UTC), test_label=label)
    if problems:
        raise CliError(_refusal(entry, number, problems))
    stack.set_evidence(key, entry)
    stack.save()
    print(
        f"recorded {key} for release {entry.release} (packages {facts.short_digest}) in {stack.path}",
        file=out,
    )
    if args.item == "tests":
        print(f"  {report_counts(summary.values, label)}", file=out)
    if entry.release != release.id:
        print(f"note: the stack currently deploys release {release.id}, so this does not count yet", file=out)
    return EXIT_OK


def _facts(stack: StackFile, props: Path | None) -> ReleaseFacts:
    return resolve_release(stack.release(), stack.path.parent.resolve(), props)


def _report_line(report: ReportSummary) -> str:
    """Where item 1's numbers came from, for traceability (not part of the decision)."""
    selector = HangfireSelector(report.category, report.class_patterns)
    return (
        f"report {report.file} ({FORMAT_NAMES[report.format]}, sha256 {report.sha256[:12]}, "
        f"filter {report.filter or 'not recorded'}); Hangfire tests: {selector.describe()}"
    )


def render(
    decision: Decision, facts: ReleaseFacts, evidence: GateEvidence | None = None, stack: str = ""
) -> str:
    """The decision in lines of at most 100 columns, ending with the commands that clear what is missing."""
    packages = "; ".join(f"{name} {version}" for name, version in facts.display_packages().items())
    lines = [
        *wrap(decision.summary()),
        *wrap(f"packages: {packages}", "  ", "    "),
        f"  package digest: {facts.short_digest} (of every package the release lists)",
    ]
    tests = evidence.integration_tests if evidence else None
    for item in decision.items:
        mark = "~" if item.deferred else ("x" if item.complete else " ")
        lines += wrap(item.line(), f"  [{mark}] ", "      ")
        if item.number == 1 and tests is not None:
            lines += wrap(_report_line(tests.report), "      ", "        ")
    if decision.verdict == "blocked":
        numbers = ", ".join(str(i.number) for i in decision.missing)
        lines.append(f"  missing{' once the API runs again' if decision.stopped else ''}: {numbers}")
        if stack:
            # The same commands as the offline preview's summary (gate/hints.py).
            lines.append("  to record them (fill in the <placeholders>):")
            for command in record_commands(stack, [i.number for i in decision.missing]):
                lines += shell_lines(command, "    ")
    return "\n".join(lines)


def status(args: argparse.Namespace, out: Any) -> int:
    stack = load(stack_path(args.stack, args.project_dir))
    facts = _facts(stack, args.props)
    now = args.now or datetime.now(UTC)
    evidence = stack.evidence()
    # Item 3 and the backup settings come from planned resources: the stack policy checks them.
    decision = decide(
        stack.environment(), facts, summarize(evidence), Derived(), now, stopped=stack.api_stopped()
    )
    if args.json:
        print(
            json.dumps(
                {"stack": stack.stack, "environment": decision.environment, **decision.as_outputs()}, indent=2
            ),
            file=out,
        )
    else:
        print(render(decision, facts, evidence, stack.stack), file=out)
    return EXIT_OK if decision.allowed else EXIT_BLOCKED


def main(argv: Sequence[str] | None = None, out: Any = None, err: Any = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        if args.command == "record":
            return record(args, out)
        return status(args, out)
    except (CliError, StackFileError, FactsError, PropsError, ReportError, KnowledgeError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_INPUT
