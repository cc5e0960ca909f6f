"""The evidence summary: per checklist item, exactly what the decision needs and nothing more.

Both the program (from the full ``gateEvidence`` config) and the policy pack (from the stamp) arrive at
this same shape, so both run the same decision over the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic.alias_generators import to_snake

from gate.config import (
    EVIDENCE_ITEMS,
    BackupVerificationEvidence,
    EvidenceRecord,
    GateEvidence,
    IntegrationTestsEvidence,
    ReportSummary,
    RollbackTestEvidence,
    StagingValidationEvidence,
    TrainingEvidence,
)
from gate.facts import shorten_digest

ITEM_TITLES: dict[int, str] = {
    1: "Hangfire integration tests (TRX or xUnit report)",
    2: "staging validation (>=100 jobs, restart, retries, recurring, dashboard)",
    3: "production monitoring (alerts enabled and reaching an action group)",
    4: "rollback procedure tested in staging",
    5: "database backup verified before the deploy",
    6: "team trained on rollback",
    7: "stakeholders notified",
}
RECORDED_ITEMS = (1, 2, 4, 5, 6, 7)
# Report outcomes of a run that finished cleanly (TRX ResultSummary; xUnit files are "Completed").
RUN_OK_OUTCOMES = frozenset({"Completed", "Passed"})
DERIVED_ITEM = 3


@dataclass(frozen=True)
class ItemRecord:
    release: str
    # First 16 hex characters of the package digest of the release it was recorded for.
    digest: str
    # The time the item's age is judged from: the test run's own finish for item 1 (a report recorded
    # today of a run from last month is a month old), the recording time for the others.
    as_of: datetime
    values: Mapping[str, int] = field(default_factory=dict)


def to_second(value: datetime) -> datetime:
    # The stamp keeps whole seconds; truncating here too keeps program and pack decisions identical.
    return value.astimezone(UTC).replace(microsecond=0)


def run_completed(report: ReportSummary) -> bool:
    """Whether the run itself finished cleanly (its tests may still have failed; they count apart)."""
    # TRX says "Failed" both when tests fail and when the run fails (error messages, an abort); only
    # failing tests explain it, and run-level errors are counted on their own.
    failing = report.failed + report.error + report.timeout + report.aborted
    explained = report.outcome == "Failed" and failing > 0
    return report.run_errors == 0 and (report.outcome in RUN_OK_OUTCOMES or explained)


def _report_values(r: ReportSummary) -> dict[str, int]:
    return {
        "ok": int(run_completed(r)),
        "total": r.total,
        "ran": r.executed,
        "passed": r.passed,
        "failed": r.failed,
        "error": r.error,
        "aborted": r.aborted,
        "timeout": r.timeout,
        "hf": r.hangfire_tests,
        "hfRan": r.hangfire_ran,
        "hfPassed": r.hangfire_passed,
    }


def _values(record: EvidenceRecord) -> dict[str, int]:
    if isinstance(record, IntegrationTestsEvidence):
        return _report_values(record.report)
    if isinstance(record, StagingValidationEvidence):
        return {
            "jobs": record.jobs_enqueued,
            "persisted": int(record.persisted_across_restart),
            "retries": int(record.retries_verified),
            "recurring": int(record.recurring_jobs_verified),
            "dashboard": int(record.dashboard_watched),
        }
    if isinstance(record, RollbackTestEvidence):
        return {"minutes": record.duration_minutes}
    if isinstance(record, BackupVerificationEvidence):
        return {"restoreTested": int(record.restore_tested)}
    if isinstance(record, TrainingEvidence):
        return {"trained": len(record.trained)}
    return {}


def item_record(record: EvidenceRecord) -> ItemRecord:
    as_of = record.report.finished_at if isinstance(record, IntegrationTestsEvidence) else record.recorded_at
    return ItemRecord(
        record.release, shorten_digest(record.release_digest), to_second(as_of), _values(record)
    )


def summarize(evidence: GateEvidence | None) -> dict[int, ItemRecord]:
    if evidence is None:
        return {}
    items: dict[int, ItemRecord] = {}
    for number, key in EVIDENCE_ITEMS.items():
        record = getattr(evidence, to_snake(key))
        if record is not None:
            items[number] = item_record(record)
    return items


# The numbers each recorded item carries in its summary (and therefore in the stamp). Item 1's names are
# short because eleven of them share one 256-character tag value; "hf" are the Hangfire integration tests.
ITEM_VALUE_KEYS: dict[int, tuple[str, ...]] = {
    1: ("ok", "total", "ran", "passed", "failed", "error", "aborted", "timeout", "hf", "hfRan", "hfPassed"),
    2: ("jobs", "persisted", "retries", "recurring", "dashboard"),
    4: ("minutes",),
    5: ("restoreTested",),
    6: ("trained",),
    7: (),
}
