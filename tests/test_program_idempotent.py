"""A second `pulumi up` with nothing changed plans nothing: the program registers the same resources with the
same inputs and options every time it runs.

Each stack runs twice under the mock engine in update mode (outputs known, as on a real second run) and the
two registrations are compared resource by resource. A value drawn at random, a timestamp, or anything else
that moves between runs would be an update on every `pulumi up`. What Azure itself normalises (and the
`ignore_changes` the program sets for it) is in docs/offline-preview.md, "Idempotency".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.program import STACKS, Run, run_again, run_stack


def registration(run: Run) -> dict[str, dict[str, Any]]:
    return {
        r.urn: {
            "inputs": r.props,
            "protect": r.protect,
            "retainOnDelete": r.retain_on_delete,
            "ignoreChanges": sorted(r.ignore_changes),
            "importId": r.import_id,
            "dependencies": sorted(r.dependencies),
        }
        for r in run.resources
    }


def differences(first: dict[str, Any], second: dict[str, Any], path: str = "") -> list[str]:
    """Every path at which two registrations differ, with both values."""
    found: list[str] = []
    for key in sorted(set(first) | set(second)):
        where = f"{path}.{key}" if path else key
        if key not in first or key not in second:
            found.append(f"{where}: only in the {'second' if key not in first else 'first'} run")
            continue
        a, b = first[key], second[key]
        if isinstance(a, dict) and isinstance(b, dict):
            found.extend(differences(a, b, where))
        elif a != b:
            found.append(f"{where}: {a!r} then {b!r}")
    return found


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def test_the_comparison_finds_a_value_that_moves() -> None:
    first = {"urn:a": {"inputs": {"tags": {"deployedAt": "2026-12-02T10:00:00Z"}, "name": "x"}}}
    second = {"urn:a": {"inputs": {"tags": {"deployedAt": "2026-12-02T10:00:01Z"}, "name": "x"}}}
    assert differences(first, second) == [
        "urn:a.inputs.tags.deployedAt: '2026-12-02T10:00:00Z' then '2026-12-02T10:00:01Z'"
    ]
    assert differences(first, {"urn:b": first["urn:a"]}) == [
        "urn:a: only in the first run",
        "urn:b: only in the second run",
    ]
    assert differences(first, first) == []


@pytest.mark.parametrize("stack", STACKS)
def test_a_second_run_registers_the_same_resources_inputs_and_options(stack: str) -> None:
    first, second = run_stack(stack), run_again(stack)
    assert first.error is None and second.error is None, first.error or second.error
    assert len(first.resources) > 30
    assert differences(registration(first), registration(second)) == []


@pytest.mark.parametrize("stack", STACKS)
def test_no_input_carries_todays_date(stack: str) -> None:
    # A timestamp that happens to be equal in two runs a second apart still moves by the next deploy.
    now = datetime.now(UTC)
    days = {(now + timedelta(days=d)).strftime("%Y-%m-%d") for d in (-1, 0, 1)}
    found = [
        (r.name, s)
        for r in run_stack(stack).resources
        for s in strings(r.props)
        if any(day in s for day in days)
    ]
    assert found == []


@pytest.mark.parametrize("stack", STACKS)
def test_values_azure_chooses_are_never_taken_back(stack: str) -> None:
    # The program sets none of these; Azure fills them in and a refresh records them.
    run = run_stack(stack)
    server = run.one("azure-native:dbforpostgresql:Server")
    # The SDK sends its default "" (no preference) when the program names no zone.
    assert server.props.get("availabilityZone", "") == ""
    assert {"availabilityZone", "highAvailability.standbyAvailabilityZone"} <= set(server.ignore_changes)
    namespace = run.one("azure-native:servicebus:Namespace")
    assert "zoneRedundant" not in namespace.props
    assert "zoneRedundant" in namespace.ignore_changes
