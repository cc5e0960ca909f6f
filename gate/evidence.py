"""The evidence summary: per checklist item, exactly what the decision needs and nothing more.

Both the program (from the full ``gateEvidence`` config) and the policy pack (from the stamp) arrive at
this same shape, so both run the same decision over the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gate.config import GateEvidence, ReportSummary

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


def summarize(evidence: GateEvidence | None) -> dict[int, ItemRecord]:
    if evidence is None:
        return {}
    items: dict[int, ItemRecord] = {}
    if (t := evidence.integration_tests) is not None:
        r = t.report
        items[1] = ItemRecord(
            t.release,
            to_second(r.finished_at),
            {
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
            },
        )
    if (s := evidence.staging_validation) is not None:
        items[2] = ItemRecord(
            s.release,
            to_second(s.recorded_at),
            {
                "jobs": s.jobs_enqueued,
                "persisted": int(s.persisted_across_restart),
                "retries": int(s.retries_verified),
                "recurring": int(s.recurring_jobs_verified),
                "dashboard": int(s.dashboard_watched),
            },
        )
    if (rb := evidence.rollback_tested) is not None:
        items[4] = ItemRecord(rb.release, to_second(rb.recorded_at), {"minutes": rb.duration_minutes})
    if (b := evidence.backup_verified) is not None:
        items[5] = ItemRecord(b.release, to_second(b.recorded_at), {"restoreTested": int(b.restore_tested)})
    if (tr := evidence.team_trained) is not None:
        items[6] = ItemRecord(tr.release, to_second(tr.recorded_at), {"trained": len(tr.trained)})
    if (n := evidence.stakeholders_notified) is not None:
        items[7] = ItemRecord(n.release, to_second(n.recorded_at), {})
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
