"""xUnit's own XML report (v2 and v3): what is read, and every way a file is refused."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from gate.reports import HangfireSelector, parse_report, summarize_report
from gate.testrun import ReportError
from tests.test_gate_reports import item1

XUNIT = Path(__file__).parent / "fixtures" / "gate" / "xunit"
V2 = (XUNIT / "v2-six-passed.xml").read_bytes()
V3 = (XUNIT / "v3-six-passed.xml").read_bytes()


def parse(data: bytes, offset=UTC):
    return parse_report(data, "TestResults/hangfire.xml", offset)


def refused(data: bytes, offset=UTC) -> str:
    with pytest.raises(ReportError) as info:
        parse(data, offset)
    message = str(info.value)
    assert message.startswith("TestResults/hangfire.xml: ")
    return message


def test_v2_has_only_a_local_start_time_so_the_offset_is_required():
    message = refused(V2, offset=None)
    assert "no finish-rtf" in message
    assert "run-date/run-time (2026-11-27 13:02:03)" in message
    assert "--utc-offset" in message


def test_v2_finish_is_the_local_start_plus_the_duration_at_the_given_offset():
    brasilia = timezone(timedelta(hours=-3))
    finished = parse(V2, offset=brasilia).finished_at
    # run-date 2026-11-27, run-time 13:02:03, time 15.229 seconds, written at UTC-3.
    assert finished == datetime(2026, 11, 27, 16, 2, 18, 229000, tzinfo=UTC)


def test_v2_with_finish_rtf_needs_no_offset():
    newer = V2.replace(b'errors="0">', b'errors="0" finish-rtf="2026-11-27T13:02:18.2290000+00:00">', 1)
    assert parse(newer, offset=None).finished_at == datetime(2026, 11, 27, 13, 2, 18, 229000, tzinfo=UTC)


def test_v3_reads_the_assembly_finish_rtf_and_ignores_the_offset():
    assert parse(V3, offset=None).finished_at == datetime(2026, 11, 27, 13, 2, 18, 457240, tzinfo=UTC)
    assert parse(V3, offset=timezone(timedelta(hours=5))).finished_at == parse(V3, offset=None).finished_at


def test_finish_rtf_without_an_offset_is_refused():
    naive = V3.replace(b'finish-rtf="2026-11-27T13:02:18.4572400+00:00"', b'finish-rtf="2026-11-27T13:02:18"')
    assert "has no UTC offset" in refused(naive)


def test_v3_formats_are_told_apart_by_schema_version():
    assert parse(V3).format == "xunit-v3"
    assert parse(V2).format == "xunit-v2"
    assert parse(V2.replace(b"<assemblies ", b'<assemblies schema-version="2" ', 1)).format == "xunit-v2"
    assert "schema-version '4' is not understood" in refused(
        V3.replace(b'schema-version="3"', b'schema-version="4"')
    )


def test_an_assembly_without_totals_did_not_finish():
    cut = V3.replace(b' total="6" passed="6" failed="0" skipped="0" not-run="0" errors="0"', b"", 1)
    assert "has no total: the runner did not finish writing it" in refused(cut)


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (b'total="6" passed="6"', b'total="7" passed="6"', "@total is 7 but it lists 6"),
        (b'total="6" passed="6"', b'total="6" passed="5"', "@passed is 5 but 6 tests have result Pass"),
        (b'failed="0" skipped="0" not-run="0" errors="0"', b'failed="2" skipped="0" not-run="0" errors="0"',
         "@failed is 2 but 0 tests have result Fail"),
        (b'errors="0"', b'errors="1"', "@errors is 1 but it lists 0 <error>"),
        (b'total="6"', b'total="six"', "@total is 'six', expected a whole number"),
    ],
)  # fmt: skip
def test_counts_that_contradict_the_listed_tests_are_malformed(old, new, fragment):
    message = refused(V3.replace(old, new, 1))
    assert "assembly /home/runner/work/MeAjudaAi" in message
    assert fragment in message


@pytest.mark.parametrize("seconds", ["inf", "1e400", "-5", "fifteen"])
def test_a_v2_duration_that_is_not_a_number_of_seconds_is_malformed(seconds):
    odd = V2.replace(b'time="15.229"', f'time="{seconds}"'.encode(), 1)
    assert "are not a date, a time and a number of seconds" in refused(odd)


def test_unknown_results_name_the_test_and_the_expected_values():
    message = refused(V2.replace(b'result="Pass"', b'result="Error"', 1))
    test = "MeAjudaAi.Integration.Tests.Jobs.HangfireIntegrationTests.Hangfire_ShouldPersistJobsInPostgreSql"
    assert f"test {test} in assembly" in message
    assert "has result 'Error', expected one of Fail, Pass, Skip" in message
    # NotRun exists only in v3.
    assert "'NotRun'" in refused(V2.replace(b'result="Pass"', b'result="NotRun"', 1))


def test_a_skipped_hangfire_test_blocks(tmp_path):
    skip = V3.replace(b'result="Pass"', b'result="Skip"', 1)
    skip = skip.replace(b'passed="6" failed="0" skipped="0"', b'passed="5" failed="0" skipped="1"')
    (tmp_path / "skip.xml").write_bytes(skip)
    assert item1(tmp_path / "skip.xml") == [
        "5 of 6 tests ran: 5 passed, 0 failed; all 6 are Hangfire integration tests: 5 ran, 5 passed; "
        "required: at least 6 Hangfire integration tests run, all Hangfire integration tests passing"
    ]


def test_trait_names_match_without_case_as_vstest_filters_do():
    lower = V2.replace(
        b'name="Category" value="HangfireIntegration"', b'name="category" value="HangfireIntegration"'
    )
    report = summarize_report(lower, "x.xml", HangfireSelector(class_patterns=()), utc_offset=UTC)
    assert report.hangfire_passed == 6


def test_a_file_without_assemblies_or_finish_time_is_refused():
    assert "no assembly and no finish-rtf" in refused(b"<assemblies />")


def test_v3_without_assemblies_but_with_a_finish_time_ran_zero_tests():
    empty = b'<assemblies schema-version="3" finish-rtf="2026-11-27T13:02:04.4013350+00:00" />'
    report = parse(empty)
    assert (report.counts["total"], report.results) == (0, ())


def test_v3_assembly_finish_falls_back_to_the_root_then_to_local_times():
    no_assembly_rtf = V3.replace(b' finish-rtf="2026-11-27T13:02:18.4572400+00:00" time=', b" time=", 1)
    assert parse(no_assembly_rtf, offset=None).finished_at == datetime(
        2026, 11, 27, 13, 2, 18, 457240, tzinfo=UTC
    )
