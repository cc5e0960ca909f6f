"""Parse the TRX report ``dotnet test --logger trx`` writes, keeping what the gate needs."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from pydantic import ValidationError

from gate.config import HANGFIRE_TEST_CATEGORY, TrxSummary

NS = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"
_Q = f"{{{NS}}}"
COUNTERS = ("total", "executed", "passed", "failed", "error", "timeout", "aborted")
# Result outcomes that mean the test did not run at all.
NOT_RUN = frozenset({"NotExecuted", "NotRunnable", "Pending", "Disconnected"})
# TRX writes up to 7 fractional digits; Python's parser takes at most 6.
_FRACTION = re.compile(r"(\.\d{6})\d+")


class TrxError(ValueError):
    """The file is not a usable TRX report; the message names the file."""


def _child(parent: Element, name: str, where: str) -> Element:
    found = parent.find(_Q + name)
    if found is None:
        raise TrxError(f"{where}: malformed TRX, <{parent.tag.removeprefix(_Q)}> has no <{name}>")
    return found


def _counter(counters: Element, name: str, where: str) -> int:
    raw = counters.get(name)
    if raw is None or not raw.strip().isdigit():
        raise TrxError(f"{where}: malformed TRX, Counters/@{name} is {raw!r}, expected a whole number")
    return int(raw)


def _finished(root: Element, where: str) -> datetime | None:
    times = root.find(_Q + "Times")
    raw = times.get("finish") if times is not None else None
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(_FRACTION.sub(r"\1", raw))
    except ValueError as exc:
        raise TrxError(f"{where}: malformed TRX, Times/@finish {raw!r} is not a timestamp") from exc
    return value if value.tzinfo else None


def _categories(root: Element) -> dict[str, set[str]]:
    by_test: dict[str, set[str]] = {}
    definitions = root.find(_Q + "TestDefinitions")
    for unit in definitions.iter(_Q + "UnitTest") if definitions is not None else ():
        test_id = unit.get("id", "")
        by_test[test_id] = {
            item.get("TestCategory", "")
            for item in unit.iter(_Q + "TestCategoryItem")
            if item.get("TestCategory")
        }
    return by_test


def parse_trx_text(data: bytes, where: str, category: str = HANGFIRE_TEST_CATEGORY) -> TrxSummary:
    """Summary of a TRX document. ``where`` names the file in every error."""
    try:
        root: Element = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise TrxError(f"{where}: refused unsafe XML ({type(exc).__name__})") from exc
    except SafeET.ParseError as exc:
        raise TrxError(f"{where}: not well-formed XML ({exc})") from exc
    if root.tag != _Q + "TestRun":
        raise TrxError(f"{where}: not a TRX report (root is {root.tag}, expected TestRun in namespace {NS})")
    summary = _child(root, "ResultSummary", where)
    counters = _child(summary, "Counters", where)
    counts = {name: _counter(counters, name, where) for name in COUNTERS}

    categories = _categories(root)
    cat_executed = cat_passed = 0
    results = root.find(_Q + "Results")
    for result in results.iter(_Q + "UnitTestResult") if results is not None else ():
        test_id, outcome = result.get("testId"), result.get("outcome")
        if not test_id or not outcome:
            raise TrxError(f"{where}: malformed TRX, a UnitTestResult lacks testId or outcome")
        if test_id not in categories:
            raise TrxError(f"{where}: malformed TRX, result for test {test_id} has no TestDefinitions entry")
        if category in categories[test_id] and outcome not in NOT_RUN:
            cat_executed += 1
            cat_passed += outcome == "Passed"
    if cat_executed > counts["executed"]:
        raise TrxError(
            f"{where}: malformed TRX, {cat_executed} executed results but Counters/@executed is "
            f"{counts['executed']}"
        )
    try:
        return TrxSummary(
            file=Path(where).name,
            sha256=hashlib.sha256(data).hexdigest(),
            category=category,
            outcome=summary.get("outcome") or "Unknown",
            category_executed=cat_executed,
            category_passed=cat_passed,
            category_not_passed=cat_executed - cat_passed,
            finished_at=_finished(root, where),
            **counts,
        )
    except ValidationError as exc:
        raise TrxError(f"{where}: TRX values out of range: {exc.errors()[0]['msg']}") from exc


def parse_trx(path: Path, category: str = HANGFIRE_TEST_CATEGORY) -> TrxSummary:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrxError(f"{path}: cannot read TRX report ({exc.strerror or exc})") from exc
    return parse_trx_text(data, str(path), category)
