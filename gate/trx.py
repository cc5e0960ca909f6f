"""Read the TRX report ``dotnet test --logger trx`` writes (VSTest's TRX logger).

Read: ``ResultSummary/@outcome``; ``ResultSummary/Counters`` (total, executed, passed, failed, error,
timeout, aborted); ``ResultSummary/RunInfos/RunInfo/@outcome`` (Error = a run-level error);
``Times/@finish``; each ``Results/UnitTestResult``'s ``testId`` and ``outcome``; and
for each ``TestDefinitions/UnitTest`` its ``TestMethod/@className`` and ``TestCategoryItem``s. MSTest
and NUnit categories arrive as ``TestCategoryItem``; xUnit traits never do (xunit/xunit#1052), so an
xUnit test is recognised by its class.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from gate.testrun import CaseResult, ReportError, RunReport, timestamp, whole_number

NS = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"
ROOT = f"{{{NS}}}TestRun"
_Q = f"{{{NS}}}"
COUNTERS = ("total", "executed", "passed", "failed", "error", "timeout", "aborted")
# Result outcomes that mean the test did not run at all.
NOT_RUN = frozenset({"NotExecuted", "NotRunnable", "Pending", "Disconnected"})


def _child(parent: Element, name: str, where: str) -> Element:
    found = parent.find(_Q + name)
    if found is None:
        raise ReportError(f"{where}: malformed TRX, <{parent.tag.removeprefix(_Q)}> has no <{name}>")
    return found


def _class_name(unit: Element) -> str | None:
    method = unit.find(_Q + "TestMethod")
    raw = method.get("className", "") if method is not None else ""
    # MSTest writes assembly-qualified names ("Ns.Class, Assembly, Version=..."); the class comes first.
    name = raw.split(",", 1)[0].strip()
    return name or None


def _definitions(root: Element) -> dict[str, tuple[str | None, frozenset[str]]]:
    """testId -> (class name, categories)."""
    found: dict[str, tuple[str | None, frozenset[str]]] = {}
    definitions = root.find(_Q + "TestDefinitions")
    for unit in definitions.findall(_Q + "UnitTest") if definitions is not None else ():
        categories = frozenset(
            item.get("TestCategory", "")
            for item in unit.iter(_Q + "TestCategoryItem")
            if item.get("TestCategory")
        )
        found[unit.get("id", "")] = (_class_name(unit), categories)
    return found


def _results(root: Element, where: str) -> tuple[CaseResult, ...]:
    definitions = _definitions(root)
    results = []
    container = root.find(_Q + "Results")
    # Direct children only: data-driven MSTest rows nest as InnerResults of their parent's result.
    for result in container.findall(_Q + "UnitTestResult") if container is not None else ():
        test_id, outcome = result.get("testId"), result.get("outcome")
        if not test_id or not outcome:
            raise ReportError(f"{where}: malformed TRX, a UnitTestResult lacks testId or outcome")
        if test_id not in definitions:
            raise ReportError(
                f"{where}: malformed TRX, result for test {test_id} has no TestDefinitions entry"
            )
        class_name, categories = definitions[test_id]
        results.append(
            CaseResult(
                name=result.get("testName", test_id),
                class_name=class_name,
                categories=categories,
                ran=outcome not in NOT_RUN,
                passed=outcome == "Passed",
            )
        )
    return tuple(results)


def _finished(root: Element, where: str) -> str:
    times = root.find(_Q + "Times")
    raw = times.get("finish") if times is not None else None
    if not raw:
        raise ReportError(f"{where}: the TRX has no TestRun/Times/@finish, so the run's age cannot be judged")
    return raw


def _run_errors(summary: Element) -> int:
    # The TRX logger records run-level error messages (such as "The active test run was aborted")
    # as RunInfos with outcome Error; warnings ("No test matches the given testcase filter") do not count.
    infos = summary.find(_Q + "RunInfos")
    found = infos.findall(_Q + "RunInfo") if infos is not None else []
    return sum(info.get("outcome") == "Error" for info in found)


def read_trx(root: Element, where: str) -> RunReport:
    """A parsed TRX document (``root`` is its TestRun element); ``where`` names the file in errors."""
    summary = _child(root, "ResultSummary", where)
    counters = _child(summary, "Counters", where)
    counts = {name: whole_number(counters, name, where, "ResultSummary/Counters") for name in COUNTERS}
    results = _results(root, where)
    ran = sum(r.ran for r in results)
    if ran > counts["executed"]:
        raise ReportError(
            f"{where}: malformed TRX, {ran} results ran but Counters/@executed is {counts['executed']}"
        )
    return RunReport(
        format="trx",
        outcome=summary.get("outcome") or "Unknown",
        counts=counts,
        run_errors=_run_errors(summary),
        finished_at=timestamp(_finished(root, where), where, "TestRun/Times/@finish"),
        results=results,
    )
