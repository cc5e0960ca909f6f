"""TRX reports: parsed summaries, and whether they satisfy checklist item 1.

The xunit-*.trx fixtures are what VSTest's TRX logger writes for xUnit tests (no TestCategory); the
others carry TestCategoryItems, as MSTest and NUnit runs do.
"""

from pathlib import Path

import pytest

from gate.config import GateEvidence, IntegrationTestsEvidence
from gate.decision import payload_problems
from gate.evidence import summarize
from gate.facts import Limits
from gate.reports import HangfireSelector, read_report, summarize_report
from gate.testrun import ReportError
from tests.test_gate_reports import DEFAULT, item1

TRX = Path(__file__).parent / "fixtures" / "gate" / "trx"
SIX = (TRX / "xunit-six-passed.trx").read_bytes()


def summary(name: str, selector: HangfireSelector = DEFAULT):
    path = TRX / name
    return summarize_report(path.read_bytes(), str(path), selector)


def write(tmp_path: Path, data: bytes) -> Path:
    (tmp_path / "edited.trx").write_bytes(data)
    return tmp_path / "edited.trx"


def refused(data: bytes) -> str:
    with pytest.raises(ReportError) as info:
        summarize_report(data, "results/edited.trx", HangfireSelector())
    assert str(info.value).startswith("results/edited.trx: ")
    return str(info.value)


def test_all_passed_report_with_categories_counts():
    report = summary("all-passed.trx", HangfireSelector(class_patterns=()))
    assert (report.total, report.executed, report.passed, report.failed) == (6, 6, 6, 0)
    assert (report.hangfire_tests, report.hangfire_ran, report.hangfire_passed) == (6, 6, 6)
    assert (report.outcome, report.format, report.file) == ("Completed", "trx", "all-passed.trx")
    assert len(report.sha256) == 64
    assert report.finished_at.isoformat() == "2026-11-27T13:02:31.874046+00:00"
    assert item1(TRX / "all-passed.trx") == []


def test_other_tests_in_the_same_run_do_not_hurt():
    report = summary("mixed-run-passed.trx")
    assert (report.executed, report.hangfire_ran) == (8, 6)
    assert item1(TRX / "mixed-run-passed.trx") == []


def test_one_failed_test_blocks_with_true_counts():
    assert item1(TRX / "one-failed.trx") == [
        "6 tests ran: 5 passed, 1 failed; 6 of them are Hangfire integration tests, 5 passed; "
        "required: no failed, errored, aborted or timed-out test, all Hangfire integration tests passing"
    ]


def test_storage_tests_are_not_the_integration_suite_unless_their_class_is_named():
    # Seven passing tests of the later variant, HangfirePostgreSqlTests, in category Integration only.
    assert "none of them are Hangfire integration tests" in item1(TRX / "not-hangfire.trx")[0]
    variant = HangfireSelector(class_patterns=("*.HangfirePostgreSqlTests",))
    assert summary("not-hangfire.trx", variant).hangfire_passed == 7
    assert item1(TRX / "not-hangfire.trx", variant) == []


def test_assembly_qualified_class_names_are_matched_by_their_class(tmp_path):
    qualified = SIX.replace(
        b'className="MeAjudaAi.Integration.Tests.Jobs.HangfireIntegrationTests"',
        b'className="MeAjudaAi.Integration.Tests.Jobs.HangfireIntegrationTests, MeAjudaAi.Integration.Tests, '
        b'Version=1.0.0.0, Culture=neutral, PublicKeyToken=null"',
    )
    assert item1(write(tmp_path, qualified)) == []


def test_a_class_pattern_must_match_the_whole_name():
    assert (
        "none of them"
        in item1(TRX / "xunit-six-passed.trx", HangfireSelector(class_patterns=("Hangfire*",)))[0]
    )


def test_configured_minimum_is_applied():
    report = summary("xunit-six-passed.trx")
    entry = IntegrationTestsEvidence(
        release="r1",
        release_digest="0" * 64,
        recorded_by="ana",
        recorded_at=report.finished_at,
        report=report,
    )
    values = summarize(GateEvidence(integration_tests=entry))[1].values
    assert payload_problems(1, values, Limits(min_hangfire_tests=6)) == []
    assert payload_problems(1, values, Limits(min_hangfire_tests=7)) == [
        "6 tests ran: 6 passed, 0 failed; 6 of them are Hangfire integration tests, 6 passed; "
        "required: at least 7 Hangfire integration tests run"
    ]


def run_info(outcome: str, text: str) -> bytes:
    return (
        f'<RunInfos><RunInfo computerName="fv-az1187-412" outcome="{outcome}" '
        f'timestamp="2026-11-27T13:02:24+00:00"><Text>{text}</Text></RunInfo></RunInfos>\n  </ResultSummary>'
    ).encode()


def test_a_run_level_error_blocks_even_when_every_test_passed(tmp_path):
    info = run_info("Error", "Data collector 'Code Coverage' threw an exception")
    problems = item1(write(tmp_path, SIX.replace(b"</ResultSummary>", info)))
    assert problems[0].endswith("required: a run that completed cleanly")


def test_a_run_level_warning_does_not_block(tmp_path):
    info = run_info("Warning", "No code coverage data available.")
    assert item1(write(tmp_path, SIX.replace(b"</ResultSummary>", info))) == []


@pytest.mark.parametrize("outcome", ["Aborted", "Failed", "Error", "Timeout"])
def test_a_run_outcome_other_than_completed_blocks_unless_failing_tests_explain_it(tmp_path, outcome):
    text = SIX.replace(
        b'<ResultSummary outcome="Completed">', f'<ResultSummary outcome="{outcome}">'.encode()
    )
    assert item1(write(tmp_path, text))[0].endswith("required: a run that completed cleanly")


def test_zero_executed_blocks():
    assert item1(TRX / "zero-executed.trx") == [
        "0 tests ran: 0 passed, 0 failed; none of them are Hangfire integration tests; "
        "required: at least 6 Hangfire integration tests run"
    ]


def test_malformed_report_names_the_file():
    with pytest.raises(ReportError, match=r"malformed\.trx: not well-formed XML"):
        summary("malformed.trx")


def test_missing_counter_is_malformed():
    assert "Counters/@aborted is None, expected a whole number" in refused(SIX.replace(b' aborted="0"', b""))


def test_results_that_contradict_the_counters_are_malformed():
    # A hand-edited summary that claims fewer executions than the listed results.
    message = refused(SIX.replace(b'executed="6"', b'executed="2"'))
    assert "6 results ran but Counters/@executed is 2" in message


def test_a_result_without_its_definition_is_malformed():
    start = SIX.index(b"<TestDefinitions>")
    end = SIX.index(b"</UnitTest>", start) + len(b"</UnitTest>")
    message = refused(SIX[: start + len(b"<TestDefinitions>")] + SIX[end:])
    assert "has no TestDefinitions entry" in message


def test_a_trx_without_a_finish_time_is_refused():
    start = SIX.index(b"<Times ")
    end = SIX.index(b"/>", start) + 2
    assert "no TestRun/Times/@finish, so the run's age cannot be judged" in refused(SIX[:start] + SIX[end:])


def test_a_finish_time_without_an_offset_is_refused():
    naive = SIX.replace(
        b'finish="2026-11-27T13:02:23.9476400+00:00"', b'finish="2026-11-27T13:02:23.9476400"'
    )
    assert "TestRun/Times/@finish '2026-11-27T13:02:23.9476400' has no UTC offset" in refused(naive)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(ReportError, match=r"absent\.trx: cannot read test report"):
        read_report(tmp_path / "absent.trx", HangfireSelector())
