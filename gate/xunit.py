"""Read xUnit's own XML report, v2 (``xunit.runner.console -xml``, the XunitXml.TestLogger's
``--logger xunit``) and v3 (``schema-version="3"``, xUnit v3 runners' ``-xml`` / ``--report-xunit``).

Unlike TRX it carries traits, so ``[Trait("Category", "HangfireIntegration")]`` is visible here.

Read: ``assemblies/@schema-version`` (absent or 2: v2; 3: v3); each ``assembly``'s ``total``,
``passed``, ``failed``, ``skipped``, ``not-run`` (v3), ``errors`` and its ``errors/error`` elements
(fatal and cleanup failures, outside any test); the finish time; and every ``test`` element's
``result`` (v2: Pass, Fail, Skip; v3 also NotRun), ``type`` (the fully-qualified class) and
``traits/trait`` name/value pairs. The finish time is the latest ``assembly/@finish-rtf``, else
``assemblies/@finish-rtf``; a file with neither (v2 runners write only ``run-date``/``run-time``, the
local start time without a zone, and ``time``, the duration in seconds) needs the UTC offset of the
machine that ran it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from xml.etree.ElementTree import Element

from gate.config import ReportFormat
from gate.testrun import CaseResult, ReportError, RunReport, timestamp, whole_number

ROOT = "assemblies"
RESULTS: dict[ReportFormat, frozenset[str]] = {
    "xunit-v2": frozenset({"Pass", "Fail", "Skip"}),
    "xunit-v3": frozenset({"Pass", "Fail", "Skip", "NotRun"}),
}
# Assembly attribute -> the test result it counts.
_TALLIES = (("passed", "Pass"), ("failed", "Fail"), ("skipped", "Skip"), ("not-run", "NotRun"))


def _version(root: Element, where: str) -> ReportFormat:
    schema = root.get("schema-version")
    if schema in (None, "2"):
        return "xunit-v2"
    if schema == "3":
        return "xunit-v3"
    raise ReportError(f"{where}: xUnit schema-version {schema!r} is not understood (expected 2 or 3)")


def _categories(test: Element) -> frozenset[str]:
    traits = test.find("traits")
    return frozenset(
        trait.get("value", "")
        for trait in (traits.findall("trait") if traits is not None else ())
        # VSTest filters match trait names without regard to case (Category=..., category=...).
        if (trait.get("name") or "").lower() == "category" and trait.get("value")
    )


def _case(test: Element, allowed: frozenset[str], where: str, label: str) -> CaseResult:
    name = test.get("name") or "(unnamed)"
    result = test.get("result")
    if result not in allowed:
        raise ReportError(
            f"{where}: malformed xUnit report, test {name} in {label} has result {result!r}, "
            f"expected one of {', '.join(sorted(allowed))}"
        )
    return CaseResult(
        name=name,
        class_name=test.get("type") or None,
        categories=_categories(test),
        ran=result in ("Pass", "Fail"),
        passed=result == "Pass",
    )


def _assembly_errors(assembly: Element, where: str, label: str) -> int:
    container = assembly.find("errors")
    listed = len(container.findall("error")) if container is not None else 0
    if assembly.get("errors") is None:
        return listed
    declared = whole_number(assembly, "errors", where, label)
    if container is not None and declared != listed:
        raise ReportError(
            f"{where}: malformed xUnit report, {label}/@errors is {declared} but it lists {listed} <error>"
        )
    return declared


def _assembly(
    assembly: Element, format_: ReportFormat, where: str, index: int
) -> tuple[list[CaseResult], int]:
    label = f"assembly {assembly.get('name') or index}"
    if assembly.get("total") is None:
        raise ReportError(f"{where}: {label} has no total: the runner did not finish writing it")
    tests = list(assembly.iter("test"))
    results = [_case(test, RESULTS[format_], where, label) for test in tests]
    total = whole_number(assembly, "total", where, label)
    if total != len(tests):
        raise ReportError(
            f"{where}: malformed xUnit report, {label}/@total is {total} but it lists {len(tests)}"
        )
    for attribute, outcome in _TALLIES:
        if assembly.get(attribute) is None:
            continue
        declared = whole_number(assembly, attribute, where, label)
        counted = sum(test.get("result") == outcome for test in tests)
        if declared != counted:
            raise ReportError(
                f"{where}: malformed xUnit report, {label}/@{attribute} is {declared} but {counted} tests "
                f"have result {outcome}"
            )
    return results, _assembly_errors(assembly, where, label)


def _local_finish(assembly: Element, where: str, label: str, offset: tzinfo) -> datetime:
    date, time, seconds = assembly.get("run-date"), assembly.get("run-time"), assembly.get("time")
    if not (date and time and seconds):
        raise ReportError(
            f"{where}: {label} has neither finish-rtf nor run-date, run-time and time, so the run's age "
            "cannot be judged"
        )
    try:
        start = datetime.fromisoformat(f"{date}T{time}")
        duration = timedelta(seconds=float(seconds))
        if duration < timedelta(0):
            raise ValueError("negative duration")
        return start.replace(tzinfo=offset) + duration
    except (ValueError, OverflowError) as exc:
        raise ReportError(
            f"{where}: malformed xUnit report, {label} run-date/run-time/time {date!r} {time!r} {seconds!r} "
            "are not a date, a time and a number of seconds"
        ) from exc


def _finished(root: Element, assemblies: list[Element], where: str, offset: tzinfo | None) -> datetime:
    stamps = [(a.get("finish-rtf"), "assembly/@finish-rtf") for a in assemblies if a.get("finish-rtf")]
    if not stamps and root.get("finish-rtf"):
        stamps = [(root.get("finish-rtf"), "assemblies/@finish-rtf")]
    if stamps:
        return max(timestamp(raw or "", where, path) for raw, path in stamps)
    if not assemblies:
        raise ReportError(
            f"{where}: the xUnit report has no assembly and no finish-rtf, so it has no finish time"
        )
    if offset is None:
        first = assemblies[0]
        raise ReportError(
            f"{where}: the xUnit report has no finish-rtf, and its run-date/run-time "
            f"({first.get('run-date')} {first.get('run-time')}) are the runner's local time without a zone: "
            "give that machine's UTC offset with --utc-offset (GitHub-hosted runners: +00:00)"
        )
    return max(
        _local_finish(a, where, f"assembly {a.get('name') or i}", offset) for i, a in enumerate(assemblies, 1)
    )


def read_xunit(root: Element, where: str, utc_offset: tzinfo | None = None) -> RunReport:
    """A parsed xUnit document (``root`` is its ``assemblies`` element); ``where`` names the file.

    ``utc_offset`` is used only when the file has no ``finish-rtf``.
    """
    format_ = _version(root, where)
    assemblies = root.findall("assembly")
    results: list[CaseResult] = []
    errors = 0
    for index, assembly in enumerate(assemblies, 1):
        found, assembly_errors = _assembly(assembly, format_, where, index)
        results += found
        errors += assembly_errors
    counts = {
        "total": len(results),
        "executed": sum(r.ran for r in results),
        "passed": sum(r.passed for r in results),
        "failed": sum(r.ran and not r.passed for r in results),
        "error": 0,
        "aborted": 0,
        "timeout": 0,
    }
    return RunReport(
        format=format_,
        outcome="Completed",
        counts=counts,
        run_errors=errors,
        finished_at=_finished(root, assemblies, where, utc_offset),
        results=tuple(results),
    )
