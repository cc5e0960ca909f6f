#!/usr/bin/env python3
"""Markdown for the job summary from the offline preview's JSON report (``python -m offline --json``).

Reviewers read the summary, not the log: one line per stack (verdict, resources, violations by level),
then each stack's problems and policy violations. The report is already scrubbed of secrets by the
offline tool; this only reformats it. Standard library only. It reads report schemaVersion 1 and refuses
any other (exit 1, said in the summary), so a change of shape shows up instead of reading as zeros.

usage: preview_summary.py REPORT.json >> "$GITHUB_STEP_SUMMARY"
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The report shape this script reads (the report's `schemaVersion`, offline/report.py SCHEMA_VERSION).
SCHEMA_VERSION = 1
# GitHub caps one step's summary at 1 MiB; a runaway rule must not push the verdict table out of it.
MAX_VIOLATIONS_PER_STACK = 60
MAX_CELL = 600
LEVELS = ("mandatory", "advisory", "skippedUnknown", "remediate")


def cell(text: object) -> str:
    """One Markdown table cell: single line, pipes escaped, bounded length."""
    value = " ".join(str(text if text is not None else "").split())
    value = value.replace("|", "\\|")
    return value if len(value) <= MAX_CELL else value[: MAX_CELL - 1] + "…"


def _counts(stack: dict[str, Any]) -> dict[str, int]:
    raw = stack.get("policyCounts") or {}
    return {level: int(raw.get(level, 0)) for level in LEVELS}


def _pack_names(stack: dict[str, Any]) -> str:
    names = [p.get("name") or p.get("path") or "?" for p in stack.get("policyPacks") or []]
    return ", ".join(names) if names else "none"


def _specific_message(violation: dict[str, Any]) -> str:
    """The violation's own words: packs repeat the policy's description as the message's first line."""
    message = (violation.get("message") or "").strip()
    description = (violation.get("description") or "").strip()
    if description and message.startswith(description) and message != description:
        message = message[len(description) :].strip()
    return message


def schema_problem(report: dict[str, Any]) -> str | None:
    """Why this script cannot read the report, or None: a report of another shape would read as zeros."""
    version = report.get("schemaVersion")
    if version == SCHEMA_VERSION:
        return None
    found = "has no schemaVersion" if version is None else f"has schemaVersion {version!r}"
    return (
        f"The report {found}; this summary reads schemaVersion {SCHEMA_VERSION} "
        "(update .github/scripts/preview_summary.py together with offline/report.py)."
    )


def _verdict(stack: dict[str, Any], state: str | None) -> str:
    if state in ("blocked", "failed"):
        return f"**{state}**"
    if state:
        return state
    return "ok" if stack.get("ok") else "**failed**"


def _remedies(entry: dict[str, Any]) -> list[str]:
    """The gate's missing items for a blocked stack, each with the command that records its evidence."""
    gate = entry.get("gate") or {}
    items = gate.get("items") or []
    if entry.get("state") not in ("blocked", "failed") or not items:
        return []
    lines = [
        f"Compatibility gate: release `{cell(gate.get('release'))}` is {cell(gate.get('basis'))}: "
        f"{cell(gate.get('reason'))}. Expected while its checklist evidence is missing; each item clears "
        "once recorded (fill in the `<placeholders>`):",
        "",
        "```sh",
    ]
    for item in items:
        lines.append(f"# {' '.join(str(item.get('text') or '').split())}")
        if item.get("command"):
            lines.append(str(item["command"]))
    lines += ["```", ""]
    return lines


def render(report: dict[str, Any]) -> str:
    stacks: list[dict[str, Any]] = list(report.get("stacks") or [])
    states = {str(e.get("stack")): e for e in report.get("overview") or []}
    ok = bool(report.get("ok"))
    lines = [
        f"## Offline preview: {'passed' if ok else 'FAILED'}",
        "",
        "The program under Pulumi's mock engine and the policy packs over the analyzer protocol "
        f"(mode `{report.get('mode', '?')}`); what `pulumi preview --policy-pack` reports, less the "
        "provider's own checks.",
        "",
    ]
    if report.get("error"):
        lines += [f"**Error:** {cell(report['error'])}", ""]
    if not stacks:
        lines += ["No stack was previewed.", ""]
        return "\n".join(lines)

    lines += [
        "| stack | result | resources | policy packs | mandatory | advisory | unknown in preview |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in stacks:
        counts = _counts(s)
        created = (s.get("summary") or {}).get("create", "-")
        verdict = _verdict(s, (states.get(str(s.get("stack"))) or {}).get("state"))
        lines.append(
            f"| `{cell(s.get('stack'))}` | {verdict} | {created} | {cell(_pack_names(s))} "
            f"| {counts['mandatory']} | {counts['advisory']} | {counts['skippedUnknown']} |"
        )
    lines.append("")

    for s in stacks:
        problems = list(s.get("problems") or [])
        violations = [
            (pack.get("name") or pack.get("path") or "?", v)
            for pack in s.get("policyPacks") or []
            for v in pack.get("violations") or []
        ]
        if not problems and not violations:
            continue
        lines += [f"### `{cell(s.get('stack'))}`", ""]
        lines += [f"- {cell(p)}" for p in problems]
        if problems:
            lines.append("")
        lines += _remedies(states.get(str(s.get("stack"))) or {})
        if violations:
            lines += ["| level | pack | policy | resource | message |", "|---|---|---|---|---|"]
            for pack, v in violations[:MAX_VIOLATIONS_PER_STACK]:
                level = (
                    "advisory (unknown in preview)"
                    if v.get("skippedUnknownDuringPreview")
                    else v.get("enforcementLevel", "?")
                )
                target = (
                    f"{v.get('resourceType')}: {v.get('resourceName')}" if v.get("resourceType") else "stack"
                )
                lines.append(
                    f"| {cell(level)} | {cell(pack)} | {cell(v.get('policy'))} | {cell(target)} "
                    f"| {cell(_specific_message(v))} |"
                )
            hidden = len(violations) - MAX_VIOLATIONS_PER_STACK
            if hidden > 0:
                lines.append(f"\n… and {hidden} more; the `offline-preview` artifact has them all.")
            lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: preview_summary.py REPORT.json", file=sys.stderr)
        return 2
    try:
        report = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"## Offline preview\n\nThe report could not be read: {cell(error)}\n")
        return 1
    if not isinstance(report, dict):
        print("## Offline preview\n\nThe report is not a JSON object.\n")
        return 1
    problem = schema_problem(report)
    if problem:
        print(f"## Offline preview\n\n{problem}\n")
        print(f"error: {args[0]}: {problem}", file=sys.stderr)
        return 1
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
