"""Test reports for checklist item 1: detect the format, pick out the Hangfire integration tests,
and keep the counts the gate needs (gate.config.ReportSummary)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from gate import trx, xunit
from gate.config import CLASS_PATTERN, DEFAULT_CLASS_PATTERN, HANGFIRE_TEST_CATEGORY, ReportSummary
from gate.testrun import CaseResult, ReportError, RunReport, load_xml

_CLASS_RE = re.compile(CLASS_PATTERN)
FORMAT_NAMES = {"trx": "TRX", "xunit-v2": "xUnit v2 XML", "xunit-v3": "xUnit v3 XML"}


@dataclass(frozen=True)
class HangfireSelector:
    """Which tests are the Hangfire integration tests: a category (TRX TestCategoryItem, xUnit trait
    ``Category``) or a fully-qualified class name matching one of the globs."""

    category: str = HANGFIRE_TEST_CATEGORY
    class_patterns: tuple[str, ...] = (DEFAULT_CLASS_PATTERN,)

    def __post_init__(self) -> None:
        if not self.category.strip():
            raise ValueError("--category must not be empty")
        for pattern in self.class_patterns:
            if not _CLASS_RE.match(pattern):
                raise ValueError(
                    f"--class {pattern!r} is not a class-name glob (letters, digits and . _ * ? + ` [ ] -), "
                    f"e.g. {DEFAULT_CLASS_PATTERN}"
                )

    def matches(self, case: CaseResult) -> bool:
        if self.category in case.categories:
            return True
        name = case.class_name
        return name is not None and any(fnmatchcase(name, pattern) for pattern in self.class_patterns)

    def describe(self) -> str:
        classes = " or ".join(self.class_patterns)
        return f"category {self.category}" + (f" or class {classes}" if classes else "")


def parse_report(data: bytes, where: str, utc_offset: tzinfo | None = None) -> RunReport:
    """The report in ``data``, whatever its format (told by the root element)."""
    root = load_xml(data, where)
    if root.tag == trx.ROOT:
        return trx.read_trx(root, where)
    if root.tag == xunit.ROOT:
        return xunit.read_xunit(root, where, utc_offset)
    raise ReportError(
        f"{where}: not a test report the gate reads (root element is <{root.tag}>; expected a TRX "
        f"<TestRun> in namespace {trx.NS}, or xUnit's <assemblies>)"
    )


def _hangfire(results: Sequence[CaseResult], selector: HangfireSelector) -> dict[str, int]:
    chosen = [r for r in results if selector.matches(r)]
    return {
        "hangfire_tests": len(chosen),
        "hangfire_ran": sum(r.ran for r in chosen),
        "hangfire_passed": sum(r.passed for r in chosen),
    }


def summarize_report(
    data: bytes,
    where: str,
    selector: HangfireSelector,
    run_filter: str | None = None,
    utc_offset: tzinfo | None = None,
) -> ReportSummary:
    """What evidence keeps of a report: its counts, its Hangfire tests', its finish time and hash."""
    report = parse_report(data, where, utc_offset)
    try:
        return ReportSummary(
            file=Path(where).name,
            sha256=hashlib.sha256(data).hexdigest(),
            format=report.format,
            filter=run_filter,
            category=selector.category,
            class_patterns=selector.class_patterns,
            outcome=report.outcome,
            run_errors=report.run_errors,
            finished_at=report.finished_at,
            **report.counts,
            **_hangfire(report.results, selector),
        )
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(to_camel(str(part)) for part in e['loc']) or 'report'}: {e['msg']}"
            for e in exc.errors()
        )
        raise ReportError(f"{where}: report values out of range: {details}") from exc


def read_report(
    path: Path,
    selector: HangfireSelector,
    run_filter: str | None = None,
    utc_offset: tzinfo | None = None,
) -> ReportSummary:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot read test report ({exc.strerror or exc})") from exc
    return summarize_report(data, str(path), selector, run_filter, utc_offset)
