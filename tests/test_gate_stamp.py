"""The stamp on the app resources: round trip, Azure/Kubernetes constraints, fail-closed reading."""

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gate.config import GateEvidence
from gate.decision import Derived, decide
from gate.evidence import summarize
from gate.facts import Limits, ReleaseFacts
from gate.stamp import StampError, read_stamp, stamp
from tests.test_gate_decision import complete, record

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FACTS = ReleaseFacts("cc4de0a8", "10.0.3", 10, "10.0.3", "10.0.10", "1.8.24", "1.21.1", Limits(14, 24, 6))
TRANSITIVE = ReleaseFacts("c2f3a2362", None, 10, "10.0.0-rc.2", "10.0.0-rc.2.25502.107", "1.8.21", "1.20.12")
# Kubernetes annotation name without prefix: <= 63 chars, alphanumeric at both ends, [-_.] inside.
K8S_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def evidence(**overrides):
    return GateEvidence.model_validate(complete(**overrides))


def test_round_trip_keeps_facts_and_evidence():
    ev = evidence()
    stamped = read_stamp(stamp(FACTS, ev))
    # The stamp carries the digest's first 16 hex characters, as does every summarized item.
    assert stamped.facts == replace(FACTS, digest=FACTS.digest[:16])
    assert stamped.items == summarize(ev)
    assert all(item.digest == FACTS.digest[:16] for item in stamped.items.values())


def test_round_trip_of_transitive_npgsql_and_no_evidence():
    stamped = read_stamp(stamp(TRANSITIVE, None))
    assert stamped.facts.npgsql is None
    assert stamped.facts.npgsql_major == 10
    assert stamped.items == {}


def test_program_and_pack_reach_the_same_decision():
    # Sub-second timestamps and a partial checklist: the stamp must not change the outcome.
    odd_time = datetime(2026, 11, 28, 9, 0, 0, 987654, tzinfo=UTC)
    ev = evidence(teamTrained=None, rollbackTested={**record(odd_time), "durationMinutes": 40})
    direct = decide("prod", FACTS, summarize(ev), Derived(), NOW)
    stamped = read_stamp(stamp(FACTS, ev))
    via_stamp = decide("prod", stamped.facts, stamped.items, Derived(), NOW)
    assert [i.line() for i in via_stamp.items] == [i.line() for i in direct.items]
    assert via_stamp.verdict == direct.verdict == "blocked"


def test_the_pack_sees_through_the_stamp_that_the_package_set_changed():
    ev = evidence()
    same = read_stamp(stamp(FACTS, ev))
    assert decide("prod", same.facts, same.items, Derived(), NOW).verdict == "pass"
    # The same release id deployed with other packages, stamped with the evidence recorded before.
    changed = read_stamp(stamp(replace(FACTS, digest="e" * 64), ev))
    decision = decide("prod", changed.facts, changed.items, Derived(), NOW)
    assert [i.number for i in decision.missing] == [1, 2, 4, 5, 6, 7]
    assert "release cc4de0a8 now has packages eeeeeeeeeeeeeeee" in decision.missing[0].detail


def test_keys_and_values_fit_azure_tags_and_kubernetes_annotations():
    longest = ReleaseFacts(
        "r" * 80,
        "10.0.0-rc.2.25502.107",
        10,
        "10.0.0-rc.2.25502.107",
        "10.0.0-rc.2.25502.107",
        "1.8.24",
        "1.21.1",
    )
    ev = evidence(**{k: {**v, "release": "r" * 80} for k, v in complete().items()})
    tags = stamp(longest, ev)
    assert len(tags) <= 15  # Azure allows 50 tags per resource; the program has its own too
    for key, value in tags.items():
        assert not set(key) & set("<>%&\\?/"), key
        assert K8S_NAME.match(key), key
        assert isinstance(value, str)
        assert len(value) <= 256, key


def test_the_largest_item_1_still_fits_one_tag_value():
    most = dict.fromkeys(("total", "executed", "passed", "failed", "error", "aborted", "timeout"), 99999)
    most |= {"hangfireTests": 99_999, "hangfireRan": 99_999, "hangfirePassed": 99_999, "runErrors": 99_999}
    report = {**complete()["integrationTests"]["report"], **most}
    ev = evidence(integrationTests={**record(), "release": "r" * 80, "report": report})
    value = stamp(FACTS, ev)["meajudaai-gate-item1"]
    assert len(value) <= 256


def test_other_tags_are_ignored():
    tags = {"environment": "prod", "owner": "platform", **stamp(FACTS, None)}
    assert read_stamp(tags).facts == replace(FACTS, digest=FACTS.short_digest)


@pytest.mark.parametrize("mapping", [None, {}, {"environment": "prod"}])
def test_no_stamp_fails_closed(mapping):
    with pytest.raises(StampError, match=r"no gate stamp|missing gate stamp keys"):
        read_stamp(mapping)


ITEM1 = "ok=1;total=6;ran=6;passed=6;failed=0;error=0;aborted=0;timeout=0;hf=6;hfRan=6;hfPassed=6"


def edited(key: str, value) -> dict:
    tags: dict = stamp(FACTS, evidence())
    if value is None:
        del tags[key]
    else:
        tags[key] = value
    return tags


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("meajudaai-gate-release", None, "missing gate stamp keys: meajudaai-gate-release"),
        ("meajudaai-gate-validated", "true", "unknown gate stamp key"),
        ("meajudaai-gate-stamp", "1", "format '1' is not understood (expected '2')"),
        ("meajudaai-gate-hangfire-postgresql", "latest", "not an exact NuGet version"),
        ("meajudaai-gate-npgsql", "transitive:6", "does not match the EF Core provider"),
        ("meajudaai-gate-npgsql", "ten", "neither a version"),
        ("meajudaai-gate-limits", "maxAgeDays=14;minTests=6", "missing backupMaxAgeHours"),
        ("meajudaai-gate-limits", "maxAgeDays=0;backupMaxAgeHours=24;minTests=6", ">= 1"),
        ("meajudaai-gate-package-digest", "DBFF7B69D5C5347D", "is not 16 lowercase hex characters"),
        ("meajudaai-gate-package-digest", None, "missing gate stamp keys: meajudaai-gate-package-digest"),
        (
            "meajudaai-gate-item1",
            "cc4de0a8|dbff7b69d5c5347d|2026-11-28T10:00:00Z|ran=6",
            "missing ok, total, passed",
        ),
        (
            "meajudaai-gate-item1",
            "cc4de0a8|2026-11-28T10:00:00Z|" + ITEM1,
            "expected 'none' or '<release>|<digest>",
        ),
        ("meajudaai-gate-item2", "cc4de0a8|dbff7b69d5c5347d|yesterday|jobs=150", "not a UTC time"),
        (
            "meajudaai-gate-item2",
            "cc4de0a8|dbff7b69|2026-11-28T10:00:00Z|jobs=150",
            "'dbff7b69' is not a package digest",
        ),
        (
            "meajudaai-gate-item4",
            "cc4de0a8|dbff7b69d5c5347d|2026-11-28T10:00:00Z|minutes=-3",
            "unexpected 'minutes=-3'",
        ),
        ("meajudaai-gate-item6", "complete", "expected 'none' or"),
        ("meajudaai-gate-item7", "cc 4de|dbff7b69d5c5347d|2026-11-28T10:00:00Z|", "not a release id"),
        (
            "meajudaai-gate-item5",
            "cc4de0a8|dbff7b69d5c5347d|2026-02-30T10:00:00Z|restoreTested=1",
            "not a valid date",
        ),
        ("meajudaai-gate-efcore", 10, "expected a string"),
    ],
)
def test_garbled_stamps_fail_closed(key, value, fragment):
    with pytest.raises(StampError) as info:
        read_stamp(edited(key, value))
    assert fragment in str(info.value)
