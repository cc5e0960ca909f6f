"""The runbook's SQL checks (monitoring/sql/*.sql) on a real PostgreSQL server, on Hangfire's tables.

Each test builds the `hangfire` schema inside a transaction that is rolled back afterwards, inserts jobs
of known outcome and asserts exact results. Row times are computed from the transaction's now(), so
"25 hours ago" is exact. The session runs in America/Sao_Paulo (UTC-3) so a query that let the session's
time zone shift its 24-hour window would fail. Each test runs on three shapes of the schema: `state.data`
and `job.invocationdata` as jsonb or (older Hangfire.PostgreSql versions) as text, and the `createdat`
columns as `timestamp` holding UTC or as `timestamptz`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from monitoring.queries import QueryError, sql, sql_names

SCHEMA_DDL = """
create schema hangfire;
create table hangfire.job (
    id bigserial primary key,
    stateid bigint,
    statename varchar(20),
    invocationdata {json} not null,
    arguments {json} not null,
    createdat {ts} not null,
    expireat {ts},
    updatecount integer not null default 0
);
create table hangfire.state (
    id bigserial primary key,
    jobid bigint not null references hangfire.job (id) on update cascade on delete cascade,
    name varchar(20) not null,
    reason varchar(100),
    createdat {ts} not null,
    data {json},
    updatecount integer not null default 0
);
create table hangfire.set (
    id bigserial primary key,
    key text not null,
    score double precision not null,
    value text not null,
    expireat {ts},
    updatecount integer not null default 0,
    unique (key, value)
);
create table hangfire.hash (
    id bigserial primary key,
    key text not null,
    field text not null,
    value text,
    expireat {ts},
    updatecount integer not null default 0,
    unique (key, field)
);
"""

SCHEMA_VARIANTS = {
    "jsonb-timestamp": {"json": "jsonb", "ts": "timestamp"},
    "jsonb-timestamptz": {"json": "jsonb", "ts": "timestamptz"},
    "text-timestamp": {"json": "text", "ts": "timestamp"},
}

INVOCATION = {"Type": "MeAjudaAi.Jobs.CleanupJob, MeAjudaAi", "Method": "Run", "ParameterTypes": "[]"}


@dataclass
class State:
    name: str
    hours_ago: float
    reason: str | None = None
    data: dict[str, str] | None = None


def failed(hours_ago: float, message: str = "boom", reason: str = "An exception occurred") -> State:
    data = {"ExceptionType": "Npgsql.NpgsqlException", "ExceptionMessage": message, "FailedAt": "x"}
    return State("Failed", hours_ago, reason, data)


def succeeded(hours_ago: float) -> State:
    return State("Succeeded", hours_ago, None, {"PerformanceDuration": "12", "Latency": "3"})


@dataclass
class Hangfire:
    conn: psycopg.Connection[dict[str, Any]]
    timestamp_type: str

    def _at(self) -> str:
        # How Hangfire.PostgreSql stores a time: UTC wall-clock in `timestamp`, the instant in `timestamptz`.
        moment = "now() - make_interval(secs => %s * 3600)"
        return f"({moment}) at time zone 'UTC'" if self.timestamp_type == "timestamp" else moment

    def add_job(self, *states: State) -> int:
        """A job that went through `states` in order; its current state is the last one."""
        created = max(state.hours_ago for state in states)
        job_id: int = self.conn.execute(
            f"insert into hangfire.job (invocationdata, arguments, createdat) values (%s, %s, {self._at()})"
            " returning id",
            (json.dumps(INVOCATION), "[]", created),
        ).fetchone()["id"]  # type: ignore[index]
        state_id = None
        for state in states:
            state_id = self.conn.execute(
                "insert into hangfire.state (jobid, name, reason, createdat, data)"
                f" values (%s, %s, %s, {self._at()}, %s) returning id",
                (
                    job_id,
                    state.name,
                    state.reason,
                    state.hours_ago,
                    json.dumps(state.data) if state.data else None,
                ),
            ).fetchone()["id"]  # type: ignore[index]
        self.conn.execute(
            "update hangfire.job set stateid = %s, statename = %s where id = %s",
            (state_id, states[-1].name, job_id),
        )
        return job_id

    def add_jobs(self, count: int, outcome: str) -> None:
        for index in range(count):
            hours_ago = 0.5 + index * 0.25
            self.add_job(State("Enqueued", hours_ago + 0.1), State("Processing", hours_ago + 0.05),
                         succeeded(hours_ago) if outcome == "Succeeded" else failed(hours_ago))  # fmt: skip

    def run(self, name: str) -> list[dict[str, Any]]:
        return self.conn.execute(sql(name)).fetchall()


@pytest.fixture(params=sorted(SCHEMA_VARIANTS))
def hangfire(request: pytest.FixtureRequest, postgres_dsn: str) -> Iterator[Hangfire]:
    variant = SCHEMA_VARIANTS[request.param]
    with psycopg.connect(postgres_dsn, row_factory=dict_row) as conn:
        conn.execute("set time zone 'America/Sao_Paulo'")
        conn.execute(SCHEMA_DDL.format(**variant))
        try:
            yield Hangfire(conn, variant["ts"])
        finally:
            conn.rollback()


# --- 24-hour failure rate ---------------------------------------------------------------------------------


def test_failure_rate_with_no_jobs_is_null_not_a_division_by_zero(hangfire: Hangfire) -> None:
    assert hangfire.run("failure_rate_24h") == [
        {"succeeded_count": 0, "failed_count": 0, "total_count": 0, "failure_rate_percent": None}
    ]


@pytest.mark.parametrize(
    ("succeeded_jobs", "failed_jobs", "rate"),
    [
        (7, 0, "0.00"),  # all succeeded
        (19, 1, "5.00"),  # exactly the runbook's 5%: not above it
        (37, 2, "5.13"),  # 2/39 = 5.128...%: just above
        (18, 2, "10.00"),
        (0, 3, "100.00"),
    ],
)
def test_failure_rate_counts_jobs_by_outcome(
    hangfire: Hangfire, succeeded_jobs: int, failed_jobs: int, rate: str
) -> None:
    hangfire.add_jobs(succeeded_jobs, "Succeeded")
    hangfire.add_jobs(failed_jobs, "Failed")
    assert hangfire.run("failure_rate_24h") == [
        {
            "succeeded_count": succeeded_jobs,
            "failed_count": failed_jobs,
            "total_count": succeeded_jobs + failed_jobs,
            "failure_rate_percent": Decimal(rate),
        }
    ]


def test_failure_rate_window_is_when_the_outcome_happened_and_only_outcomes_count(hangfire: Hangfire) -> None:
    hangfire.add_job(State("Enqueued", 1.2), succeeded(1))  # in
    hangfire.add_job(State("Enqueued", 23.6), failed(23.5))  # in, near the edge
    hangfire.add_job(State("Enqueued", 25.2), succeeded(25))  # out: finished 25 h ago
    hangfire.add_job(State("Enqueued", 48.2), failed(48))  # out
    # in: created 30 h ago, failed 2 h ago
    hangfire.add_job(State("Scheduled", 30), State("Enqueued", 2.1), failed(2))
    # in: requeued after failing, now succeeded
    hangfire.add_job(failed(3), State("Enqueued", 1.5), succeeded(1))
    # no outcome yet, or none at all
    hangfire.add_job(State("Enqueued", 1), State("Processing", 0.5))
    hangfire.add_job(State("Enqueued", 2), State("Processing", 1.9), State("Scheduled", 1.8, "Retry 1 of 10"))
    hangfire.add_job(State("Enqueued", 2), State("Deleted", 1))
    assert hangfire.run("failure_rate_24h") == [
        {"succeeded_count": 2, "failed_count": 2, "total_count": 4, "failure_rate_percent": Decimal("50.00")}
    ]


# --- last failed jobs -------------------------------------------------------------------------------------


def test_last_failed_jobs_newest_first_limited_to_50_with_exception_details(hangfire: Hangfire) -> None:
    for hours in range(1, 56):  # 55 failed jobs, "boom 1" the newest
        hangfire.add_job(State("Enqueued", hours + 0.5), failed(hours, f"boom {hours}"))
    tie_a = hangfire.add_job(failed(0.25, "tie a"))
    tie_b = hangfire.add_job(failed(0.25, "tie b"))  # same instant: the higher id comes first
    hangfire.add_job(succeeded(0.1))
    hangfire.add_job(failed(0.5, "requeued"), State("Enqueued", 0.4), succeeded(0.3))

    rows = hangfire.run("last_failed_jobs")

    assert len(rows) == 50
    expected_messages = ["tie b", "tie a"] + [f"boom {hours}" for hours in range(1, 49)]
    assert [row["exception_message"] for row in rows] == expected_messages
    assert [row["job_id"] for row in rows[:2]] == [tie_b, tie_a]
    assert rows[0]["job_type"] == "MeAjudaAi.Jobs.CleanupJob, MeAjudaAi"
    assert rows[0]["job_method"] == "Run"
    assert rows[0]["reason"] == "An exception occurred"
    assert rows[0]["exception_type"] == "Npgsql.NpgsqlException"
    failed_at = [row["failed_at"] for row in rows]
    assert failed_at == sorted(failed_at, reverse=True)


def test_last_failed_jobs_failed_at_is_the_utc_instant(hangfire: Hangfire) -> None:
    hangfire.add_job(failed(2))
    (row,) = hangfire.run("last_failed_jobs")
    now = hangfire.conn.execute("select now() as now").fetchone()["now"]  # type: ignore[index]
    assert (now - row["failed_at"]).total_seconds() == pytest.approx(2 * 3600, abs=0.001)


# --- failed count -----------------------------------------------------------------------------------------


def test_failed_count_counts_jobs_currently_failed(hangfire: Hangfire) -> None:
    hangfire.add_job(failed(1))
    hangfire.add_job(failed(30))  # age does not matter for the count
    hangfire.add_job(failed(5), State("Enqueued", 4), State("Processing", 3.9), failed(3.8))  # counted once
    hangfire.add_job(failed(2), State("Enqueued", 1.5), succeeded(1))  # requeued, succeeded: not failed
    hangfire.add_job(succeeded(1))
    hangfire.add_job(succeeded(2))
    assert hangfire.run("failed_count") == [{"failed_count": 3}]


def test_failed_count_with_no_jobs_is_zero(hangfire: Hangfire) -> None:
    assert hangfire.run("failed_count") == [{"failed_count": 0}]


# --- recurring jobs ---------------------------------------------------------------------------------------


def test_recurring_jobs_lists_the_registered_ones_with_their_last_run(hangfire: Hangfire) -> None:
    next_run = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    last_job = hangfire.add_job(State("Enqueued", 20), failed(19.9))
    add_to_set = "insert into hangfire.set (key, score, value) values (%s, %s, %s)"
    hangfire.conn.execute(add_to_set, ("recurring-jobs", next_run.timestamp(), "cleanup-expired"))
    hangfire.conn.execute(add_to_set, ("recurring-jobs", 0, "send-reminders"))
    hangfire.conn.execute(add_to_set, ("schedule", 1.0, "999"))  # another set: not a recurring job
    add_field = "insert into hangfire.hash (key, field, value) values (%s, %s, %s)"
    for field, value in [
        ("Cron", "0 3 * * *"),
        ("LastExecution", "2026-11-28T03:00:00.0000000Z"),
        ("LastJobId", str(last_job)),
    ]:
        hangfire.conn.execute(add_field, ("recurring-job:cleanup-expired", field, value))
    hangfire.conn.execute(add_field, ("recurring-job:send-reminders", "Cron", "*/5 * * * *"))

    assert hangfire.run("recurring_jobs") == [
        {
            "recurring_job_id": "cleanup-expired",
            "cron": "0 3 * * *",
            "next_execution": next_run,
            "last_execution": "2026-11-28T03:00:00.0000000Z",
            "last_job_id": str(last_job),
            "last_job_state": "Failed",
        },
        {
            "recurring_job_id": "send-reminders",
            "cron": "*/5 * * * *",
            "next_execution": None,
            "last_execution": None,
            "last_job_id": None,
            "last_job_state": None,
        },
    ]


def test_recurring_jobs_tolerates_a_non_numeric_last_job_id(hangfire: Hangfire) -> None:
    hangfire.conn.execute("insert into hangfire.set (key, score, value) values ('recurring-jobs', 0, 'odd')")
    hangfire.conn.execute(
        "insert into hangfire.hash (key, field, value) values (%s, %s, %s)",
        ("recurring-job:odd", "LastJobId", "not-a-number"),
    )
    (row,) = hangfire.run("recurring_jobs")
    assert (row["last_job_id"], row["last_job_state"]) == ("not-a-number", None)


# --- the files themselves ---------------------------------------------------------------------------------


def test_the_shipped_checks_are_the_four_runbook_checks() -> None:
    assert sql_names() == ("failed_count", "failure_rate_24h", "last_failed_jobs", "recurring_jobs")


def test_unknown_or_malformed_query_names_fail_clearly() -> None:
    with pytest.raises(QueryError, match=r"monitoring/sql/nope\.sql does not exist.*failure_rate_24h"):
        sql("nope")
    with pytest.raises(QueryError, match="not valid"):
        sql("../kql/api_http_5xx")
    with pytest.raises(QueryError, match="not valid"):
        sql("failed_count.sql")
