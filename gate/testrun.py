"""One shape for every test report the gate reads (TRX, xUnit v2 and v3 XML), and the XML helpers
the readers share."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from gate.config import ReportFormat

# TRX and xUnit write up to 7 fractional digits (.NET ticks); Python's parser takes at most 6.
_FRACTION = re.compile(r"(\.\d{6})\d+")


class ReportError(ValueError):
    """The file is not a usable test report; the message names the file and what was expected."""


@dataclass(frozen=True)
class CaseResult:
    """One test's result, with what identifies it as a Hangfire integration test."""

    name: str
    # Fully-qualified class; None when the report does not say.
    class_name: str | None
    categories: frozenset[str]
    ran: bool
    passed: bool


@dataclass(frozen=True)
class RunReport:
    format: ReportFormat
    outcome: str
    # total, executed, passed, failed, error, aborted, timeout (ReportSummary's names)
    counts: Mapping[str, int]
    # Errors outside any test: TRX RunInfos with outcome Error (an aborted run, a crashed test host),
    # xUnit assembly errors (fatal, fixture cleanup). Any of them means the run did not finish cleanly.
    run_errors: int
    finished_at: datetime
    results: tuple[CaseResult, ...]


def load_xml(data: bytes, where: str) -> Element:
    try:
        root: Element = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise ReportError(f"{where}: refused unsafe XML ({type(exc).__name__})") from exc
    except SafeET.ParseError as exc:
        raise ReportError(f"{where}: not well-formed XML ({exc})") from exc
    except LookupError as exc:
        # The XML declaration names an encoding Python does not know.
        raise ReportError(f"{where}: not readable XML ({exc})") from exc
    return root


def whole_number(element: Element, name: str, where: str, path: str) -> int:
    raw = element.get(name)
    if raw is None or not raw.strip().isdigit():
        raise ReportError(f"{where}: malformed report, {path}/@{name} is {raw!r}, expected a whole number")
    return int(raw)


def timestamp(raw: str, where: str, path: str) -> datetime:
    """An ISO 8601 time with its UTC offset, as TRX and xUnit's ``*-rtf`` attributes write it."""
    try:
        value = datetime.fromisoformat(_FRACTION.sub(r"\1", raw.strip()))
    except ValueError as exc:
        raise ReportError(f"{where}: malformed report, {path} {raw!r} is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise ReportError(f"{where}: {path} {raw!r} has no UTC offset, so the report's age cannot be judged")
    return value
