"""The parity report as a person reads it, as JSON, and the table of deliberate differences."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from parity.compare import ABSENT, Comparison, Finding
from parity.values import show, to_json

_STATUS_ORDER = ("mirrored", "deliberate", "runtime", "secret", "not deployed", "UNEXPLAINED")


def _value(value: Any) -> str:
    return "(absent)" if value is ABSENT else show(value)


def describe(finding: Finding) -> str:
    """One finding in words: the property path and both values where there are two."""
    path = finding.path
    if finding.program_path and finding.program_path != path:
        path = f"{path} (program: {finding.program_path})"
    if finding.kind == "not-deployed":
        return f"not deployed by the Bicep ({finding.bicep})"
    if not finding.path and finding.kind == "missing":
        if finding.program is ABSENT:
            return "missing from the program"
        return f"missing from the program (which has one named {_value(finding.program)})"
    if not finding.path:
        return "only in the program"
    if finding.kind == "same":
        return f"{path} = {_value(finding.bicep)}"
    if finding.kind == "missing":
        return f"{path}: Bicep {_value(finding.bicep)}, missing from the program"
    if finding.kind == "extra":
        return f"{path}: only in the program, {_value(finding.program)}"
    if finding.kind == "import-diff":
        if finding.bicep is ABSENT:
            return (
                f"{finding.program_path}: the import may fail: the program sends {_value(finding.program)}, "
                "the Bicep left it to Azure's default, and ignoreChanges does not cover it"
            )
        return (
            f"{finding.program_path}: the import would fail: the program sends {_value(finding.program)}, "
            f"the Bicep deployed {_value(finding.bicep)}, and ignoreChanges does not cover it"
        )
    if finding.kind == "secret":
        return f"{path}: a secret on both sides (values not compared)"
    note = " (the Bicep's value exists only after deployment)" if finding.kind == "runtime" else ""
    return f"{path}: Bicep {_value(finding.bicep)}, program {_value(finding.program)}{note}"


def print_comparison(comparison: Comparison, out: TextIO) -> None:
    scope = comparison.program.scope
    out.write(f"Bicep {comparison.template.file} vs stack {comparison.stack}\n")
    out.write(f"  evaluated in resource group {scope.resource_group} ({scope.location}), ")
    out.write(f"subscription {scope.subscription_id}\n")
    resources = [f for f in comparison.findings if f.resource != "output"]
    outputs = [f for f in comparison.findings if f.resource == "output"]
    _print_groups(resources, out)
    out.write("\nOutputs\n")
    _print_findings(outputs, out)
    out.write("\nAdoption: what the program would import (ARM ids the Bicep deployed)\n")
    for row in comparison.adoption:
        state = "import id set" if row.import_id else "not imported (adoption off)"
        out.write(f"  {row.resource_id}\n      <- {row.token} {row.logical_name}  [{state}]\n")
    counts: Counter[str] = Counter(f.status for f in comparison.findings)
    summary = ", ".join(f"{counts.get(status, 0)} {status}" for status in _STATUS_ORDER)
    out.write(f"\nSummary: {summary}\n")
    for finding in comparison.unexplained:
        out.write(f"  UNEXPLAINED {finding.subject}: {describe(finding)}\n")


def _print_groups(findings: Sequence[Finding], out: TextIO) -> None:
    subjects: dict[str, list[Finding]] = {}
    for finding in findings:
        subjects.setdefault(finding.subject, []).append(finding)
    for subject, group in subjects.items():
        out.write(f"\n{subject}\n")
        _print_findings(group, out)


def _print_findings(findings: Sequence[Finding], out: TextIO) -> None:
    last_reason = ""
    for finding in findings:
        out.write(f"  {finding.status:<12} {describe(finding)}\n")
        if finding.reason and finding.reason != last_reason:
            out.write(f"  {'':<12} why: {finding.reason}\n")
        last_reason = finding.reason


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    scope = comparison.program.scope
    return {
        "bicep": str(comparison.template.file),
        "stack": comparison.stack,
        "scope": {
            "subscriptionId": scope.subscription_id,
            "resourceGroup": scope.resource_group,
            "location": scope.location,
        },
        "findings": [
            {
                "status": f.status,
                "kind": f.kind,
                "subject": f.subject,
                "path": f.path,
                "programPath": f.program_path,
                **({"bicep": to_json(f.bicep)} if f.bicep is not ABSENT else {}),
                **({"program": to_json(f.program)} if f.program is not ABSENT else {}),
                **({"reason": f.reason} if f.reason else {}),
            }
            for f in comparison.findings
        ],
        "adoption": [
            {"id": a.resource_id, "token": a.token, "name": a.logical_name, "importId": a.import_id}
            for a in comparison.adoption
        ],
        "unexplained": len(comparison.unexplained),
    }
