"""The KQL files for the alerts (monitoring/kql/*.kql): parameters, rendering, and an offline parse and
semantic check with Microsoft's Kusto.Language against the telemetry contract (monitoring/telemetry.py).

The Kusto.Language check needs Node.js and `npm ci --prefix monitoring/kqlcheck`; without them it is
skipped on a developer machine and fails in CI (CI=true), so a missing install cannot pass unnoticed.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from monitoring.kql_check import KqlCheckUnavailable, kql_diagnostics
from monitoring.queries import (
    QUERY_ROOT,
    KqlValue,
    QueryError,
    fill_placeholders,
    kql,
    kql_names,
    kql_parameters,
)
from monitoring.queries import render_kql_value as render
from monitoring.telemetry import TABLES

DOC = Path(__file__).resolve().parents[1] / "docs" / "monitoring.md"

EXPECTED_PARAMETERS = {
    "api_http_5xx": {"window", "min_requests"},
    "hangfire_failure_rate": {"window", "min_finished_jobs"},
    "job_duration_vs_baseline": {"window", "baseline_period", "min_jobs"},
    "npgsql_errors": {"window"},
}

# The ways the monitoring component is expected to call them, including both failure-rate windows.
SAMPLES: dict[str, tuple[str, dict[str, KqlValue]]] = {
    "failure rate 1h": ("hangfire_failure_rate", {"window": timedelta(hours=1), "min_finished_jobs": 10}),
    "failure rate 24h": ("hangfire_failure_rate", {"window": timedelta(hours=24), "min_finished_jobs": 20}),
    "npgsql errors": ("npgsql_errors", {"window": timedelta(minutes=15)}),
    "job duration": (
        "job_duration_vs_baseline",
        {"window": timedelta(hours=1), "baseline_period": timedelta(days=7), "min_jobs": 5},
    ),
    "api 5xx": ("api_http_5xx", {"window": timedelta(minutes=5), "min_requests": 1}),
}


def test_every_kql_file_has_the_expected_parameters() -> None:
    assert set(kql_names()) == set(EXPECTED_PARAMETERS)
    for name, expected in EXPECTED_PARAMETERS.items():
        assert kql_parameters(name) == expected, name


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_rendering_fills_every_placeholder(sample: str) -> None:
    name, params = SAMPLES[sample]
    text = kql(name, **params)
    assert "{{" not in text
    assert "}}" not in text


def test_window_parameter_selects_the_1h_or_24h_variant() -> None:
    one_hour = kql("hangfire_failure_rate", window=timedelta(hours=1), min_finished_jobs=10)
    one_day = kql("hangfire_failure_rate", window=timedelta(hours=24), min_finished_jobs=10)
    assert "let window = 1h;" in one_hour
    assert "let window = 1d;" in one_day
    assert "let min_finished_jobs = 10;" in one_day


def test_missing_and_unknown_parameters_fail_naming_the_file() -> None:
    with pytest.raises(QueryError, match=r"monitoring/kql/npgsql_errors\.kql: missing parameter\(s\) window"):
        kql("npgsql_errors")
    with pytest.raises(QueryError, match=r"api_http_5xx\.kql: unknown parameter\(s\) windw"):
        kql("api_http_5xx", window=timedelta(hours=1), min_requests=1, windw=timedelta(hours=1))
    with pytest.raises(QueryError, match=r"monitoring/kql/nope\.kql does not exist"):
        kql("nope")


@pytest.mark.parametrize("placeholder", ["{{ window }}", "{{Window}}", "{{}}", "{{min-jobs}}"])
def test_malformed_placeholders_are_reported_not_left_in_the_query(placeholder: str) -> None:
    with pytest.raises(QueryError, match="malformed placeholder"):
        fill_placeholders(f"print {placeholder}", {}, source="test.kql")


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (timedelta(hours=1), "1h"),
        (timedelta(hours=24), "1d"),
        (timedelta(hours=36), "36h"),
        (timedelta(minutes=90), "90m"),
        (timedelta(seconds=300), "5m"),
        (timedelta(seconds=1.5), "1500ms"),
        (True, "true"),
        (False, "false"),
        (20, "20"),
        (5.5, "5.5"),
        ('say "hi"\\\n', '"say \\"hi\\"\\\\\\n"'),
    ],
)
def test_values_render_as_kql_literals(value: KqlValue, literal: str) -> None:
    assert render("p", value) == literal


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "finite number"),
        (float("inf"), "finite number"),
        (timedelta(0), "positive duration"),
        (timedelta(hours=-1), "positive duration"),
        (timedelta(microseconds=1500), "whole number of milliseconds"),
        ("a\x00b", "control character"),
        (["a"], "unsupported type list"),
        (None, "unsupported type NoneType"),
    ],
)
def test_unrepresentable_values_fail_naming_the_parameter(value: object, message: str) -> None:
    with pytest.raises(QueryError, match=rf"x\.kql: parameter 'threshold'.*{message}"):
        render("threshold", value, "x.kql")


# --- Kusto.Language parse and semantic check --------------------------------------------------------------

NEGATIVE_CONTROLS = {
    "unknown column": "AppRequests | where Nope > 1",
    "unknown table": "requests | take 1",
    "syntax error": "AppRequests | wher ResultCode == '500'",
    "type error": "AppRequests | where ResultCode between (500 .. 599)",
}


@pytest.fixture(scope="module")
def diagnostics() -> dict[str, list[str]]:
    queries = {sample: kql(name, **params) for sample, (name, params) in SAMPLES.items()}
    try:
        return kql_diagnostics({**queries, **NEGATIVE_CONTROLS})
    except KqlCheckUnavailable as missing:
        if os.environ.get("CI"):
            pytest.fail(f"KQL check unavailable in CI: {missing}")
        pytest.skip(str(missing))


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_query_parses_and_uses_only_contract_tables_and_columns(
    diagnostics: dict[str, list[str]], sample: str
) -> None:
    assert diagnostics[sample] == []


@pytest.mark.parametrize("control", sorted(NEGATIVE_CONTROLS))
def test_the_checker_reports_broken_queries(diagnostics: dict[str, list[str]], control: str) -> None:
    assert diagnostics[control], f"{control}: the checker found nothing wrong"


# --- the contract is documented ---------------------------------------------------------------------------


def test_the_documented_contract_covers_every_table_column_and_metric() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for table, columns in TABLES.items():
        assert f"`{table}`" in doc, table
        for column in columns:
            assert f"`{column}`" in doc, f"{table}.{column}"
    metric_names = set()
    for path in (QUERY_ROOT / "kql").glob("*.kql"):
        metric_names |= set(re.findall(r'Name == "([^"]+)"', path.read_text(encoding="utf-8")))
    assert metric_names, "expected the KQL files to read custom metrics"
    for metric in metric_names:
        assert f"`{metric}`" in doc, metric
