"""Item 1 from every report format the gate reads: the same matrix of runs for a TRX of xUnit tests
(no TestCategory), xUnit v2 XML and xUnit v3 XML, judged with true counts."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gate.config import GateEvidence, IntegrationTestsEvidence
from gate.decision import payload_problems
from gate.evidence import summarize
from gate.facts import Limits
from gate.reports import HangfireSelector, parse_report, summarize_report
from gate.testrun import ReportError

FIXTURES = Path(__file__).parent / "fixtures" / "gate"
# The same six runs written by three tools (see the fixtures' names).
FORMATS = {
    "trx": lambda kind: FIXTURES / "trx" / f"xunit-{kind}.trx",
    "xunit-v2": lambda kind: FIXTURES / "xunit" / f"v2-{kind}.xml",
    "xunit-v3": lambda kind: FIXTURES / "xunit" / f"v3-{kind}.xml",
}
HF = "Hangfire integration tests"
REFUSED = {
    "zero": f"0 tests ran: 0 passed, 0 failed; none of them are {HF}; required: at least 6 {HF} run",
    "other-tests": f"6 tests ran: 6 passed, 0 failed; none of them are {HF}; required: at least 6 {HF} run",
    "three-of-six": (
        f"3 tests ran: 3 passed, 0 failed; 3 of them are {HF}, 3 passed; required: at least 6 {HF} run"
    ),
    "one-failed": (
        f"6 tests ran: 5 passed, 1 failed; 6 of them are {HF}, 5 passed; "
        f"required: no failed, errored, aborted or timed-out test, all {HF} passing"
    ),
    "aborted": (
        f"3 tests ran: 3 passed, 0 failed; 3 of them are {HF}, 3 passed; "
        f"required: a run that completed cleanly, at least 6 {HF} run"
    ),
}
# xUnit v3 lists the tests a cancelled run never started as NotRun.
V3_ABORTED = (
    f"3 of 6 tests ran: 3 passed, 0 failed; all 6 are {HF}: 3 ran, 3 passed; "
    f"required: a run that completed cleanly, at least 6 {HF} run, all {HF} passing"
)
# v2 files carry only a local start time: the fixtures were written on a UTC machine.
OFFSET = UTC

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)")
_RUN_START = re.compile(r'run-date="(\d{4}-\d{2}-\d{2})" run-time="(\d{2}:\d{2}:\d{2})"')
_V2_STAMP = re.compile(r'timestamp="(\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2})"')
_PLAIN = re.compile(r"\d{4}-\d{2}-\d{2}[ _]\d{2}[:_]\d{2}[:_]\d{2}")


def _iso(value: datetime) -> str:
    return (
        value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0" + value.strftime("%z")[:3] + ":00"
    )


def _plain(text: str, delta: timedelta) -> str:
    # "2026-11-27 13:02:05" (TRX run name) or "2026-11-27_13_02_05" (its deployment directory)
    date_sep, time_sep = text[10], text[13]
    value = datetime.strptime(text.replace("_", " ", 1).replace("_", ":"), "%Y-%m-%d %H:%M:%S") + delta
    return value.strftime(f"%Y-%m-%d{date_sep}%H{time_sep}%M{time_sep}%S")


def shifted(data: bytes, delta: timedelta) -> bytes:
    """The report with every timestamp moved by ``delta``, as if the same run happened then."""
    text = data.decode("utf-8")
    text = _ISO.sub(lambda m: _iso(datetime.fromisoformat(m[0][:26] + m[0][-6:]) + delta), text)
    text = _RUN_START.sub(
        lambda m: (datetime.fromisoformat(f"{m[1]}T{m[2]}") + delta).strftime(
            'run-date="%Y-%m-%d" run-time="%H:%M:%S"'
        ),
        text,
    )
    text = _V2_STAMP.sub(
        lambda m: (datetime.strptime(m[1], "%m/%d/%Y %H:%M:%S") + delta).strftime(
            'timestamp="%m/%d/%Y %H:%M:%S"'
        ),
        text,
    )
    text = _PLAIN.sub(lambda m: _plain(m[0], delta), text)
    return text.encode("utf-8")


def fresh_report(source: Path, target_dir: Path, finished: datetime) -> Path:
    """A copy of a fixture whose run finished at ``finished``, to the second (fixtures date from 2026-11-27).

    Whole seconds, because xUnit v2's run-time has no fraction.
    """
    data = source.read_bytes()
    delta = finished - parse_report(data, str(source), OFFSET).finished_at
    delta = timedelta(seconds=round(delta.total_seconds()))
    target = target_dir / source.name
    target.write_bytes(shifted(data, delta))
    return target


DEFAULT = HangfireSelector()


def item1(path: Path, selector: HangfireSelector = DEFAULT) -> list[str]:
    report = summarize_report(path.read_bytes(), str(path), selector, utc_offset=OFFSET)
    entry = IntegrationTestsEvidence(
        release="r1",
        release_digest="0" * 64,
        recorded_by="ana",
        recorded_at=report.finished_at + timedelta(minutes=3),
        report=report,
    )
    values = summarize(GateEvidence(integration_tests=entry))[1].values
    return payload_problems(1, values, Limits())


@pytest.mark.parametrize("format_", FORMATS)
def test_six_passed_hangfire_tests_are_accepted(format_):
    path = FORMATS[format_]("six-passed")
    report = summarize_report(path.read_bytes(), str(path), HangfireSelector(), utc_offset=OFFSET)
    assert report.format == format_
    assert (report.total, report.executed, report.passed, report.failed) == (6, 6, 6, 0)
    assert (report.hangfire_tests, report.hangfire_ran, report.hangfire_passed) == (6, 6, 6)
    assert report.finished_at.tzinfo is not None
    assert item1(path) == []


@pytest.mark.parametrize("format_", FORMATS)
@pytest.mark.parametrize("kind", REFUSED)
def test_bad_runs_are_refused_with_true_counts(format_, kind):
    expected = V3_ABORTED if (format_, kind) == ("xunit-v3", "aborted") else REFUSED[kind]
    assert item1(FORMATS[format_](kind)) == [expected]


@pytest.mark.parametrize("format_", FORMATS)
def test_a_report_cut_off_mid_write_is_an_error_naming_the_file(format_):
    path = FORMATS[format_]("malformed")
    with pytest.raises(ReportError) as info:
        summarize_report(path.read_bytes(), str(path), HangfireSelector(), utc_offset=OFFSET)
    assert str(info.value).startswith(f"{path}: not well-formed XML")


def test_the_trx_of_xunit_tests_has_no_category_so_the_class_identifies_them():
    path = FORMATS["trx"]("six-passed")
    assert b"TestCategory" not in path.read_bytes()
    by_category_only = HangfireSelector(class_patterns=())
    assert "none of them are" in item1(path, by_category_only)[0]
    assert item1(path, HangfireSelector(class_patterns=("MeAjudaAi.Integration.Tests.Jobs.*",))) == []


@pytest.mark.parametrize("format_", ["xunit-v2", "xunit-v3"])
def test_xunit_traits_identify_the_tests_without_any_class_pattern(format_):
    assert item1(FORMATS[format_]("six-passed"), HangfireSelector(class_patterns=())) == []


@pytest.mark.parametrize("format_", FORMATS)
def test_another_category_name_is_honoured(format_):
    selector = HangfireSelector(category="Integration", class_patterns=())
    problems = item1(FORMATS[format_]("other-tests"), selector)
    if format_ == "trx":
        # TRX of xUnit tests carries no categories at all.
        assert "none of them are" in problems[0]
    else:
        assert problems == []


def test_selector_describes_itself_for_messages():
    assert HangfireSelector().describe() == "category HangfireIntegration or class *.HangfireIntegrationTests"
    two = HangfireSelector("Jobs", ("*.A", "*.B"))
    assert two.describe() == "category Jobs or class *.A or *.B"
    assert HangfireSelector(class_patterns=()).describe() == "category HangfireIntegration"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"<testsuites><testsuite/></testsuites>", "root element is <testsuites>"),
        (b"<TestRun><ResultSummary/></TestRun>", "root element is <TestRun>"),
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><assemblies>&x;</assemblies>', "unsafe XML"),
        (b"", "not well-formed XML"),
        (b'<?xml version="1.0" encoding="utf-42"?><assemblies/>', "not readable XML (unknown encoding"),
    ],
)
def test_files_that_are_no_report_we_read_are_errors(data, fragment):
    with pytest.raises(ReportError) as info:
        parse_report(data, "results/report.xml")
    assert str(info.value).startswith("results/report.xml: ")
    assert fragment in str(info.value)


def test_report_with_more_tests_than_the_stamp_can_carry_is_refused():
    path = FORMATS["trx"]("six-passed")
    huge = (
        path.read_bytes()
        .replace(b'total="6"', b'total="100000"')
        .replace(b'executed="6"', b'executed="100000"')
    )
    with pytest.raises(ReportError, match=r"report values out of range: total: .*99999"):
        summarize_report(huge, "huge.trx", HangfireSelector())


def test_fresh_report_moves_every_timestamp(tmp_path):
    when = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    for fixture in FORMATS.values():
        copy = fresh_report(fixture("six-passed"), tmp_path, when)
        finished = parse_report(copy.read_bytes(), str(copy), OFFSET).finished_at
        assert abs(finished - when) < timedelta(seconds=1)
        assert b"2026-11-27" not in copy.read_bytes()
