"""TRX reports: parsed summaries, and whether they satisfy checklist item 1."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gate.config import GateEvidence, IntegrationTestsEvidence
from gate.decision import payload_problems
from gate.evidence import summarize
from gate.facts import Limits
from gate.trx import TrxError, parse_trx, parse_trx_text

TRX = Path(__file__).parent / "fixtures" / "gate" / "trx"
AT = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def item1_problems(name: str, minimum: int = 6) -> list[str]:
    report = parse_trx(TRX / name)
    entry = IntegrationTestsEvidence(release="r1", recorded_by="ana", recorded_at=AT, report=report)
    values = summarize(GateEvidence(integration_tests=entry))[1].values
    return payload_problems(1, values, Limits(min_hangfire_tests=minimum))


def test_all_passed_report_counts():
    report = parse_trx(TRX / "all-passed.trx")
    assert (report.total, report.executed, report.passed, report.failed) == (6, 6, 6, 0)
    assert (report.category_executed, report.category_not_passed) == (6, 0)
    assert report.outcome == "Completed"
    assert report.file == "all-passed.trx"
    assert len(report.sha256) == 64
    assert report.finished_at is not None and report.finished_at.year == 2026
    assert item1_problems("all-passed.trx") == []


def test_other_tests_in_the_same_run_do_not_hurt():
    report = parse_trx(TRX / "mixed-run-passed.trx")
    assert (report.executed, report.category_executed) == (8, 6)
    assert item1_problems("mixed-run-passed.trx") == []


def test_one_failed_test_blocks():
    problems = " ".join(item1_problems("one-failed.trx"))
    assert "failed: 1" in problems
    assert "1 HangfireIntegration tests did not pass" in problems


def test_zero_executed_blocks():
    problems = " ".join(item1_problems("zero-executed.trx"))
    assert "zero tests" in problems
    assert "0 HangfireIntegration tests executed" in problems


def test_tests_without_the_hangfire_category_do_not_count():
    # Seven passing Hangfire storage tests, but not the Category=HangfireIntegration suite.
    problems = item1_problems("not-hangfire.trx")
    assert problems == ["0 HangfireIntegration tests executed, at least 6 required"]


def test_configured_minimum_is_applied():
    assert item1_problems("all-passed.trx", minimum=7) == [
        "6 HangfireIntegration tests executed, at least 7 required"
    ]


def test_malformed_report_names_the_file():
    with pytest.raises(TrxError) as info:
        parse_trx(TRX / "malformed.trx")
    assert "malformed.trx" in str(info.value)
    assert "not well-formed" in str(info.value)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(TrxError, match=r"absent\.trx"):
        parse_trx(tmp_path / "absent.trx")


def test_xml_that_is_not_a_trx_is_rejected():
    with pytest.raises(TrxError, match="not a TRX report"):
        parse_trx_text(b"<TestRun><ResultSummary/></TestRun>", "plain.xml")


def test_missing_counter_is_malformed():
    text = (TRX / "all-passed.trx").read_bytes().replace(b' aborted="0"', b"")
    with pytest.raises(TrxError, match="aborted"):
        parse_trx_text(text, "edited.trx")


def test_results_that_contradict_the_counters_are_malformed():
    # A hand-edited summary that claims fewer executions than the listed results.
    text = (TRX / "all-passed.trx").read_bytes().replace(b'executed="6"', b'executed="2"')
    with pytest.raises(TrxError, match="Counters/@executed"):
        parse_trx_text(text, "edited.trx")


def test_aborted_run_blocks_even_when_counters_look_clean():
    text = (TRX / "all-passed.trx").read_bytes().replace(b'outcome="Completed"', b'outcome="Aborted"')
    report = parse_trx_text(text, "aborted.trx")
    entry = IntegrationTestsEvidence(release="r1", recorded_by="ana", recorded_at=AT, report=report)
    values = summarize(GateEvidence(integration_tests=entry))[1].values
    assert payload_problems(1, values, Limits()) == ["the test run did not complete cleanly"]
