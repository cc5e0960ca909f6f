"""The gate decision over every combination of the seven checklist items, and over evidence age/release."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from gate.config import GateEvidence
from gate.decision import Derived, decide
from gate.evidence import summarize
from gate.facts import Limits, ReleaseFacts
from gate.monitoring import DerivedCheck

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RELEASE = "cc4de0a8"
# MeAjudaAi at HEAD: Npgsql 10 with Hangfire.PostgreSql 1.21.1 (built against Npgsql 6).
RISKY = ReleaseFacts(RELEASE, "10.0.3", 10, "10.0.3", "10.0.10", "1.8.24", "1.21.1", Limits())
FALLBACK = ReleaseFacts(RELEASE, "8.0.5", 8, "9.0.0", "9.0.0", "1.8.21", "1.20.12", Limits())
NPGSQL6 = ReleaseFacts(RELEASE, None, 6, "6.0.29", "6.0.36", "1.8.21", "1.20.12", Limits())
MONITORING_OK = DerivedCheck(())
MONITORING_MISSING = DerivedCheck(("signal 'npgsql-errors': no alert tagged meajudaai-signal=npgsql-errors",))
SETTINGS_OK = DerivedCheck(())


def record(
    when: datetime = NOW - timedelta(hours=2), release: str = RELEASE, digest: str = RISKY.digest
) -> dict:
    """The fields every record has; by default for the risky release and its package set."""
    return {
        "release": release,
        "releaseDigest": digest,
        "recordedBy": "Ana Souza",
        "recordedAt": when.isoformat(),
    }


def trx_summary(finished: datetime = NOW - timedelta(hours=2, minutes=20)) -> dict:
    return {
        "file": "hangfire-integration-test-results.trx",
        "sha256": "a" * 64,
        "format": "trx",
        "filter": "Category=HangfireIntegration",
        "category": "HangfireIntegration",
        "classPatterns": ["*.HangfireIntegrationTests"],
        "outcome": "Completed",
        "total": 6, "executed": 6, "passed": 6, "failed": 0, "error": 0, "aborted": 0, "timeout": 0,
        "runErrors": 0,
        "hangfireTests": 6, "hangfireRan": 6, "hangfirePassed": 6,
        "finishedAt": finished.isoformat(),
    }  # fmt: skip


def complete(*, at: datetime = NOW - timedelta(hours=2), **overrides: dict | None) -> dict:
    """Every recorded item, complete, recorded at ``at`` (the test run finished 20 minutes earlier)."""
    items: dict[str, dict | None] = {
        "integrationTests": {**record(at), "report": trx_summary(at - timedelta(minutes=20))},
        "stagingValidation": {
            **record(at),
            "jobsEnqueued": 150,
            "persistedAcrossRestart": True,
            "retriesVerified": True,
            "recurringJobsVerified": True,
            "dashboardWatched": True,
        },
        "rollbackTested": {**record(at), "durationMinutes": 48},
        "backupVerified": {**record(at), "backupName": "hangfire_backup.dump", "restoreTested": True},
        "teamTrained": {**record(at), "trained": ["Ana Souza", "Bruno Lima"]},
        "stakeholdersNotified": {**record(at), "channel": "email to ops@meajudaai.com"},
    }
    items.update(overrides)
    return items


def run(environment, evidence, *, facts=RISKY, monitoring=MONITORING_OK, settings=SETTINGS_OK, now=NOW):
    items = summarize(GateEvidence.model_validate(evidence))
    return decide(environment, facts, items, Derived(monitoring, settings), now)


RECORDED_KEYS = {
    1: "integrationTests",
    2: "stagingValidation",
    4: "rollbackTested",
    5: "backupVerified",
    6: "teamTrained",
    7: "stakeholdersNotified",
}
COMBINATIONS = list(itertools.product([True, False], repeat=7))


@pytest.mark.parametrize("environment", ["prod", "staging", "dev"])
def test_all_128_combinations_of_the_seven_items(environment):
    assert len(COMBINATIONS) == 128
    full = complete()
    for present in COMBINATIONS:
        done = {number for number, ok in zip(range(1, 8), present, strict=True) if ok}
        evidence = {key: full[key] for number, key in RECORDED_KEYS.items() if number in done}
        monitoring = MONITORING_OK if 3 in done else MONITORING_MISSING
        decision = run(environment, evidence, monitoring=monitoring)
        # Staging is deployed to produce items 2 and 4 (and 5-7 belong to the prod deploy): it requires
        # the integration tests (1) and the monitoring (3) only; dev and prod list all seven.
        required = {1, 3} if environment == "staging" else set(range(1, 8))
        expected_missing = sorted(required - done)
        assert [i.number for i in decision.missing] == expected_missing, present
        if not expected_missing:
            assert decision.verdict == "pass"
        elif environment == "dev":
            assert decision.verdict == "advisory"
        else:
            assert decision.verdict == "blocked"
            assert not decision.allowed


def test_missing_items_say_why():
    decision = run("prod", complete(rollbackTested=None), monitoring=MONITORING_MISSING)
    lines = [i.line() for i in decision.missing]
    assert lines[0].startswith("(3) production monitoring")
    assert "npgsql-errors" in lines[0]
    assert lines[1] == "(4) rollback procedure tested in staging: no evidence recorded"


def test_evidence_for_another_release_does_not_count():
    decision = run("prod", complete(teamTrained={**record(release="v1.3.9"), "trained": ["Ana"]}))
    assert [i.number for i in decision.missing] == [6]
    assert "v1.3.9" in decision.missing[0].detail
    assert decision.verdict == "blocked"


OTHER_PACKAGES = "f" * 64


def test_evidence_for_the_same_release_id_with_other_packages_does_not_count():
    decision = run("prod", complete(teamTrained={**record(digest=OTHER_PACKAGES), "trained": ["Ana"]}))
    assert [i.number for i in decision.missing] == [6]
    assert decision.missing[0].detail == (
        f"evidence is for packages ffffffffffffffff, release {RELEASE} now has packages "
        f"{RISKY.short_digest}: the package set changed since it was recorded, so record it again"
    )


def test_evidence_for_another_release_id_with_the_same_packages_does_not_count():
    decision = run("prod", complete(teamTrained={**record(release="v1.3.9"), "trained": ["Ana"]}))
    assert decision.missing[0].detail.endswith("this deploy is release cc4de0a8 (same packages)")


def test_evidence_for_another_release_and_packages_names_both():
    other = {**record(release="v1.3.9", digest=OTHER_PACKAGES), "trained": ["Ana"]}
    detail = run("prod", complete(teamTrained=other)).missing[0].detail
    assert detail == (
        f"evidence is for release v1.3.9 with packages ffffffffffffffff, this deploy is release {RELEASE} "
        f"with packages {RISKY.short_digest}"
    )


@pytest.mark.parametrize(
    ("key", "item"), [("integrationTests", "tests"), ("stakeholdersNotified", "stakeholders")]
)
def test_a_record_without_a_package_digest_is_refused_with_how_to_record_it_again(key, item):
    old = complete()[key]
    assert old is not None
    del old["releaseDigest"]
    with pytest.raises(ValueError, match="recorded without releaseDigest") as info:
        GateEvidence.model_validate(complete(**{key: old}))
    assert f"record it again with `python -m gate record {item} -s <stack>" in str(info.value)


def test_stale_evidence_does_not_count():
    old = NOW - timedelta(days=15)
    decision = run("prod", complete(stakeholdersNotified={**record(old), "channel": "email"}))
    assert [i.number for i in decision.missing] == [7]
    assert "15d 0h old" in decision.missing[0].detail


def test_evidence_just_inside_the_limit_counts():
    recent = NOW - timedelta(days=13, hours=23)
    assert (
        run("prod", complete(stakeholdersNotified={**record(recent), "channel": "email"})).verdict == "pass"
    )


def test_backup_verification_ages_in_hours():
    backup = {"backupName": "hangfire_backup.dump", "restoreTested": True}
    assert (
        run("prod", complete(backupVerified={**record(NOW - timedelta(hours=23)), **backup})).verdict
        == "pass"
    )
    stale = run("prod", complete(backupVerified={**record(NOW - timedelta(hours=25)), **backup}))
    assert [i.number for i in stale.missing] == [5]


def test_configured_age_limit_is_used():
    facts = ReleaseFacts(
        RELEASE, "10.0.3", 10, "10.0.3", "10.0.10", "1.8.24", "1.21.1", Limits(evidence_max_age_days=1)
    )
    decision = run("prod", complete(), facts=facts)
    # Every record is 2h old, so all still count under a one-day limit; a 2-day-old one does not.
    assert decision.verdict == "pass"
    older = complete(rollbackTested={**record(NOW - timedelta(days=2)), "durationMinutes": 30})
    assert [i.number for i in run("prod", older, facts=facts).missing] == [4]


def test_item_1_ages_from_the_run_not_from_the_recording():
    # Recorded two hours ago, but of a run that finished 15 days ago.
    stale_run = {**record(), "report": trx_summary(NOW - timedelta(days=15))}
    decision = run("prod", complete(integrationTests=stale_run))
    assert [i.number for i in decision.missing] == [1]
    assert decision.missing[0].detail == "the test run finished 15d 0h ago, the limit is 14d 0h"
    recent_run = {**record(), "report": trx_summary(NOW - timedelta(days=13, hours=23))}
    assert run("prod", complete(integrationTests=recent_run)).verdict == "pass"


def test_a_complete_item_1_says_when_its_run_finished():
    (tests,) = [i for i in run("prod", complete()).items if i.number == 1]
    assert tests.detail == "report of a run finished 2026-11-28 09:40 UTC, for release cc4de0a8"


def test_a_report_that_finished_after_it_was_recorded_is_invalid():
    later = {**record(), "report": trx_summary(NOW)}
    with pytest.raises(ValueError, match=r"report finished at 2026-11-28T12:00:00\+00:00, after recordedAt"):
        GateEvidence.model_validate(complete(integrationTests=later))


def test_a_stored_report_must_say_how_its_hangfire_tests_were_chosen():
    report = trx_summary()
    del report["classPatterns"]
    with pytest.raises(ValueError) as info:
        GateEvidence.model_validate(complete(integrationTests={**record(), "report": report}))
    assert "integrationTests.report.classPatterns" in str(info.value)


def test_future_dated_evidence_does_not_count():
    decision = run(
        "prod", complete(rollbackTested={**record(NOW + timedelta(hours=1)), "durationMinutes": 30})
    )
    assert [i.number for i in decision.missing] == [4]
    assert "future" in decision.missing[0].detail


ALL_CHECKED = {"persistedAcrossRestart": True, "retriesVerified": True, "recurringJobsVerified": True}


@pytest.mark.parametrize(
    ("key", "payload", "fragment"),
    [
        ("stagingValidation", {"jobsEnqueued": 99, **ALL_CHECKED, "dashboardWatched": True}, "99 jobs"),
        (
            "stagingValidation",
            {"jobsEnqueued": 500, **ALL_CHECKED, "retriesVerified": False, "dashboardWatched": False},
            "retries, dashboard",
        ),
        ("backupVerified", {"backupName": "x.dump", "restoreTested": False}, "restore was not tested"),
    ],
)
def test_incomplete_payloads_do_not_count(key, payload, fragment):
    evidence = complete()
    evidence[key] = {**record(), **payload}
    decision = run("prod", evidence)
    assert decision.verdict == "blocked"
    assert fragment in decision.missing[0].detail


def test_bad_backup_settings_make_item_5_missing():
    settings = DerivedCheck(("server pg: backup.geoRedundantBackup is 'Disabled', not 'Enabled'",))
    decision = run("prod", complete(), settings=settings)
    assert [i.number for i in decision.missing] == [5]
    assert "geoRedundantBackup" in decision.missing[0].detail


def test_unassessed_derived_items_are_deferred_not_passed():
    items = summarize(GateEvidence.model_validate(complete()))
    decision = decide("prod", RISKY, items, Derived(), NOW)
    assert decision.verdict == "pass"
    deferred = [i for i in decision.items if i.deferred]
    assert [i.number for i in deferred] == [3]
    assert not deferred[0].complete


def test_validated_fallback_passes_prod_without_evidence():
    decision = run("prod", {}, facts=FALLBACK, monitoring=MONITORING_MISSING)
    assert decision.verdict == "pass"
    assert decision.assessment.basis == "validated-combination"


def test_compatible_npgsql_major_passes_prod_without_evidence():
    decision = run("prod", {}, facts=NPGSQL6, monitoring=MONITORING_MISSING)
    assert (decision.verdict, decision.assessment.basis) == ("pass", "compatible")


def test_unknown_hangfire_version_is_gated():
    facts = ReleaseFacts(RELEASE, "10.0.3", 10, "10.0.3", "10.0.10", "1.8.24", "2.0.0", Limits())
    decision = run("prod", {}, facts=facts)
    assert decision.verdict == "blocked"
    assert decision.assessment.basis == "risky"


def test_outputs_list_missing_items_and_no_secrets():
    outputs = run("prod", {}).as_outputs()
    assert outputs["status"] == "blocked"
    assert len(outputs["missingItems"]) == 6
    assert "Ana Souza" not in str(outputs)


def test_outputs_name_the_packages_and_an_absent_hangfire_core():
    four = ReleaseFacts(RELEASE, "8.0.5", 8, "9.0.0", "9.0.0", None, "1.20.12", Limits())
    outputs = run("prod", {}, facts=four).as_outputs()
    assert outputs["status"] == "pass"
    assert outputs["packages"] == {
        "Npgsql": "8.0.5",
        "Npgsql.EntityFrameworkCore.PostgreSQL": "9.0.0",
        "Microsoft.EntityFrameworkCore": "9.0.0",
        "Hangfire.Core": "not listed",
        "Hangfire.PostgreSql": "1.20.12",
    }


@pytest.mark.parametrize("environment", ["production", "", "Prod"])
def test_unknown_environment_is_an_error(environment):
    with pytest.raises(ValueError, match="unknown environment"):
        run(environment, complete())


def test_naive_now_is_an_error():
    with pytest.raises(ValueError, match="timezone"):
        run("prod", complete(), now=datetime(2026, 11, 28, 12, 0))


def test_recording_monitoring_is_rejected():
    with pytest.raises(ValueError, match="derived from the planned alert resources"):
        GateEvidence.model_validate({"monitoring": {"release": RELEASE}})
