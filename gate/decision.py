"""The gate's decision: a pure function of environment, release facts, evidence, derived checks and now."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal, get_args

from gate.compat import Assessment, Knowledge, assess
from gate.config import CLOCK_SKEW, EVIDENCE_ITEMS
from gate.evidence import DERIVED_ITEM, ITEM_TITLES, ItemRecord
from gate.facts import Limits, ReleaseFacts
from gate.monitoring import DerivedCheck

Environment = Literal["dev", "staging", "prod"]
ENVIRONMENTS: tuple[str, ...] = get_args(Environment)
GATED: frozenset[str] = frozenset({"staging", "prod"})
# Items (2) staging validation and (4) rollback rehearsal can only be produced by deploying the release to
# staging, and (5) the backup check and (6)/(7) sign-offs belong to the prod deploy; requiring them before
# staging would make a risky release impossible to validate. Staging needs what can exist before it: the
# integration tests and the monitoring that will watch the validation. Prod needs all seven.
REQUIRED_ITEMS: dict[str, frozenset[int]] = {
    "dev": frozenset(range(1, 8)),
    "staging": frozenset({1, 3}),
    "prod": frozenset(range(1, 8)),
}
Verdict = Literal["pass", "advisory", "blocked"]
MIN_STAGING_JOBS = 100
HANGFIRE_TESTS = "Hangfire integration tests"


@dataclass(frozen=True)
class ItemStatus:
    number: int
    title: str
    complete: bool
    detail: str
    # A derived item not assessed by this caller (the resource rule leaves item 3 to the stack rule).
    deferred: bool = False
    # Whether this environment requires the item before an update (see REQUIRED_ITEMS).
    required: bool = True

    def line(self) -> str:
        return f"({self.number}) {self.title}: {self.detail}"


@dataclass(frozen=True)
class Derived:
    """Results of the checks over planned resources; None = not assessed by this caller."""

    monitoring: DerivedCheck | None = None
    backup_settings: DerivedCheck | None = None


@dataclass(frozen=True)
class Decision:
    environment: str
    release: str
    assessment: Assessment
    verdict: Verdict
    items: tuple[ItemStatus, ...]
    # NuGet id -> version for the packages the gate reads; optional ones not listed say so.
    packages: Mapping[str, str] = field(default_factory=dict)
    # First 16 hex characters of the release's package digest, the one evidence must carry.
    package_digest: str = ""
    # The API is stopped (runbook rollback step 1): nothing runs Hangfire, so nothing is gated. `verdict`
    # is still the release's own, what it gets once the API runs again.
    stopped: bool = False

    @property
    def missing(self) -> tuple[ItemStatus, ...]:
        return tuple(i for i in self.items if not i.complete and not i.deferred and i.required)

    @property
    def status(self) -> str:
        """What the gate does now: `stopped` while the API is, else the verdict."""
        return "stopped" if self.stopped else self.verdict

    @property
    def allowed(self) -> bool:
        return self.stopped or self.verdict != "blocked"

    def summary(self) -> str:
        if self.stopped:
            later = f"{self.verdict}, {self.assessment.basis}"
            head = (
                f"release {self.release} in {self.environment}: stopped (api.stopped: the API runs no "
                f"Hangfire job, so nothing is gated; started again it is {later})"
            )
        else:
            head = f"release {self.release} in {self.environment}: {self.verdict} ({self.assessment.basis})"
        return f"{head}: {self.assessment.reason}"

    def as_outputs(self) -> dict[str, object]:
        """Plain values for the stack outputs (no secrets: versions, item numbers and reasons only)."""
        return {
            "status": self.status,
            "verdictWhenRunning": self.verdict,
            "basis": self.assessment.basis,
            "reason": self.assessment.reason,
            "release": self.release,
            "packageDigest": self.package_digest,
            "packages": dict(self.packages),
            "missingItems": [i.line() for i in self.missing],
            "deferredItems": [i.line() for i in self.items if i.deferred],
            "laterItems": [i.line() for i in self.items if not i.required and not i.complete],
        }


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"


def _max_age(number: int, limits: Limits) -> timedelta:
    if number == 5:
        return timedelta(hours=limits.backup_max_age_hours)
    return timedelta(days=limits.evidence_max_age_days)


def timing_problem(number: int, record: ItemRecord, limits: Limits, now: datetime) -> str | None:
    """Why the record is too old or from the future (item 1 by its run's finish, the rest by recording)."""
    noun = "the test run" if number == 1 else "evidence"
    if record.as_of > now + CLOCK_SKEW:
        return f"{noun} is dated in the future ({record.as_of.isoformat()})"
    max_age = _max_age(number, limits)
    age = now - record.as_of
    if age > max_age:
        when = f"finished {_age(age)} ago" if number == 1 else f"is {_age(age)} old"
        return f"{noun} {when}, the limit is {_age(max_age)}"
    return None


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def report_counts(v: Mapping[str, int], label: str = HANGFIRE_TESTS) -> str:
    """The report's true counts, e.g. "6 tests ran: 3 passed, 3 failed; 6 of them are <label>, 3 passed"."""
    ran, total = v["ran"], v["total"]
    head = f"{_n(ran, 'test')} ran" if ran == total else f"{ran} of {_n(total, 'test')} ran"
    extras = [(v["error"], "errors"), (v["aborted"], "aborted"), (v["timeout"], "timed out")]
    counts = f"{head}: {v['passed']} passed, {v['failed']} failed" + "".join(
        f", {n} {what}" for n, what in extras if n
    )
    hf, hf_ran, hf_passed = v["hf"], v["hfRan"], v["hfPassed"]
    if hf == 0:
        return f"{counts}; none of them are {label}"
    if hf_ran == hf:
        return f"{counts}; {hf} of them are {label}, {hf_passed} passed"
    which = f"all {hf}" if hf == total else f"{hf} of the {total}"
    return f"{counts}; {which} are {label}: {hf_ran} ran, {hf_passed} passed"


def _tests(v: Mapping[str, int], limits: Limits, label: str = HANGFIRE_TESTS) -> list[str]:
    unmet = []
    if v["ok"] != 1:
        unmet.append("a run that completed cleanly")
    if any(v[k] for k in ("failed", "error", "aborted", "timeout")):
        unmet.append("no failed, errored, aborted or timed-out test")
    if v["hfRan"] < limits.min_hangfire_tests:
        unmet.append(f"at least {limits.min_hangfire_tests} {HANGFIRE_TESTS} run")
    if v["hfPassed"] < v["hf"]:
        unmet.append(f"all {HANGFIRE_TESTS} passing")
    if not unmet:
        return []
    return [f"{report_counts(v, label)}; required: {', '.join(unmet)}"]


def _staging(v: Mapping[str, int], _limits: Limits) -> list[str]:
    problems = []
    if v["jobs"] < MIN_STAGING_JOBS:
        problems.append(f"{v['jobs']} jobs enqueued, at least {MIN_STAGING_JOBS} required")
    labels = {
        "persisted": "persistence across restart",
        "retries": "retries",
        "recurring": "recurring jobs",
        "dashboard": "dashboard",
    }
    unchecked = [label for key, label in labels.items() if v[key] != 1]
    if unchecked:
        problems.append("not verified: " + ", ".join(unchecked))
    return problems


def _rollback(v: Mapping[str, int], _limits: Limits) -> list[str]:
    return [] if v["minutes"] >= 1 else ["no measured rollback duration"]


def _backup(v: Mapping[str, int], _limits: Limits) -> list[str]:
    return [] if v["restoreTested"] == 1 else ["the backup's restore was not tested"]


def _training(v: Mapping[str, int], _limits: Limits) -> list[str]:
    return [] if v["trained"] >= 1 else ["nobody recorded as trained"]


def _no_payload(_v: Mapping[str, int], _limits: Limits) -> list[str]:
    return []


_PAYLOAD_CHECKS: dict[int, Callable[[Mapping[str, int], Limits], list[str]]] = {
    2: _staging,
    4: _rollback,
    5: _backup,
    6: _training,
    7: _no_payload,
}


def payload_problems(
    number: int, values: Mapping[str, int], limits: Limits, *, test_label: str = HANGFIRE_TESTS
) -> list[str]:
    """Why an item's recorded payload does not satisfy the runbook (release and age aside).

    ``test_label`` names item 1's Hangfire tests in its message (the recorder adds how they were chosen).
    """
    if number == 1:
        return _tests(values, limits, test_label)
    return _PAYLOAD_CHECKS[number](values, limits)


def evidence_problems(
    number: int, record: ItemRecord, limits: Limits, now: datetime, *, test_label: str = HANGFIRE_TESTS
) -> list[str]:
    """Everything but the binding to the release: age, and whether the payload meets the runbook."""
    timing = timing_problem(number, record, limits, now)
    return [timing] if timing else payload_problems(number, record.values, limits, test_label=test_label)


def binding_problem(record: ItemRecord, facts: ReleaseFacts) -> str | None:
    """Why the record is not for this release: another release id, another package set, or both."""
    same_release = record.release == facts.release
    same_packages = record.digest == facts.short_digest
    if same_release and same_packages:
        return None
    if same_packages:
        return (
            f"evidence is for release {record.release}, this deploy is release {facts.release} "
            "(same packages)"
        )
    if same_release:
        return (
            f"evidence is for packages {record.digest}, release {facts.release} now has packages "
            f"{facts.short_digest}: the package set changed since it was recorded, so record it again"
        )
    return (
        f"evidence is for release {record.release} with packages {record.digest}, this deploy is release "
        f"{facts.release} with packages {facts.short_digest}"
    )


def _recorded_item(
    number: int, record: ItemRecord | None, facts: ReleaseFacts, now: datetime
) -> tuple[bool, str]:
    if record is None:
        return False, "no evidence recorded"
    problem = binding_problem(record, facts)
    problems = [problem] if problem else evidence_problems(number, record, facts.limits, now)
    if problems:
        return False, "; ".join(problems)
    when = record.as_of.strftime("%Y-%m-%d %H:%M")
    if number == 1:
        return True, f"report of a run finished {when} UTC, for release {record.release}"
    return True, f"recorded {when} UTC for release {record.release}"


def _derived_item(number: int, title: str, check: DerivedCheck | None) -> ItemStatus:
    if check is None:
        return ItemStatus(number, title, False, "checked by the stack policy", deferred=True)
    detail = "; ".join(check.problems) or "alerts enabled and reaching an action group"
    return ItemStatus(number, title, check.ok, detail)


def evaluate_items(
    facts: ReleaseFacts, items: Mapping[int, ItemRecord], derived: Derived, now: datetime
) -> tuple[ItemStatus, ...]:
    statuses: list[ItemStatus] = []
    for number in sorted({*EVIDENCE_ITEMS, DERIVED_ITEM}):
        title = ITEM_TITLES[number]
        if number == DERIVED_ITEM:
            statuses.append(_derived_item(number, title, derived.monitoring))
            continue
        complete, detail = _recorded_item(number, items.get(number), facts, now)
        settings = derived.backup_settings
        if number == 5 and settings is not None and not settings.ok:
            settings_detail = "backup settings: " + "; ".join(settings.problems)
            detail = f"{detail}; {settings_detail}" if not complete else settings_detail
            complete = False
        statuses.append(ItemStatus(number, title, complete, detail))
    return tuple(statuses)


def environment_of(name: str) -> Environment:
    if name not in ENVIRONMENTS:
        raise ValueError(f"unknown environment '{name}', expected one of {', '.join(ENVIRONMENTS)}")
    return name  # type: ignore[return-value]


def decide(
    environment: str,
    facts: ReleaseFacts,
    items: Mapping[int, ItemRecord],
    derived: Derived,
    now: datetime,
    *,
    knowledge: Knowledge | None = None,
    stopped: bool = False,
) -> Decision:
    """Pass, advisory or blocked, with every checklist item's status.

    Validated and compatible package sets pass outright. A risky one passes only when every item is
    complete for this release and fresh; otherwise staging/prod are blocked and dev gets an advisory.
    With the API stopped the decision says so and allows the update (its verdict stays for later).
    """
    env = environment_of(environment)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    assessment = assess(facts, knowledge)
    required = REQUIRED_ITEMS[env]
    statuses = tuple(
        replace(status, required=status.number in required)
        for status in evaluate_items(facts, items, derived, now)
    )
    verdict: Verdict = "pass"
    if assessment.basis == "risky" and any(
        not s.complete and not s.deferred and s.required for s in statuses
    ):
        verdict = "blocked" if env in GATED else "advisory"
    return Decision(
        env,
        facts.release,
        assessment,
        verdict,
        statuses,
        facts.display_packages(),
        facts.short_digest,
        stopped=stopped,
    )
