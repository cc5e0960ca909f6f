"""One verdict per stack across the run, and what would clear it: how the report ends.

Built from the report itself (already scrubbed of secrets), so the text and the JSON say the same.
A stack is
  * `ok`: nothing fails it (the compatibility gate may still advise, as it does in dev);
  * `stopped`: ok, and its `apiStopped` output is true: the API is stopped, nothing for the gate to hold;
  * `blocked`: the only thing failing it is the compatibility gate (expected while a risky release's
    checklist evidence is missing), listed item by item with the `gate record` command that clears it;
  * `failed`: anything else (program or config error, a pack that failed, another mandatory policy).

The gate's items come from the program's `compatibilityGate` output ("(N) title: detail" lines) and
from the gate pack's violations, which use the same form; item 3 and item 5's backup settings are judged
from the planned resources by the gate's stack policy, so they have no command to record.
"""

from __future__ import annotations

import re
from typing import Any

GATE_OUTPUT = "compatibilityGate"
STOPPED_OUTPUT = "apiStopped"
GATE_PACK_SUFFIX = "compatibility-gate"
GATE_PACK_DIRECTORY = "compatibility_gate"
_ITEM_LINE = re.compile(r"^\((\d+)\) ([^:]+): ")
_ITEM_START = re.compile(r"\((\d+)\) ")
# How the gate's stack policy words a backup-settings problem of item 5 (policies/compatibility_gate).
_BACKUP_SETTINGS = ": backup settings: "


def is_gate_pack(pack: dict[str, Any]) -> bool:
    name = str(pack.get("name") or "")
    directory = str(pack.get("path") or "").rstrip("/").rsplit("/", 1)[-1]
    return name.endswith(GATE_PACK_SUFFIX) or directory == GATE_PACK_DIRECTORY


def _titles(gate: dict[str, Any]) -> dict[int, str]:
    titles: dict[int, str] = {}
    for key in ("missingItems", "deferredItems", "laterItems"):
        for line in gate.get(key) or []:
            match = _ITEM_LINE.match(str(line))
            if match:
                titles[int(match.group(1))] = match.group(2)
    return titles


def item_lines(message: str, titles: dict[int, str]) -> list[tuple[int, str]]:
    """The "(N) title: detail" parts of a gate message, for items whose title is known.

    A title must follow the number: "Item (3) is checked by the stack policy" is not an item line.
    """
    starts = [
        (m.start(), int(m.group(1)))
        for m in _ITEM_START.finditer(message)
        if int(m.group(1)) in titles and message.startswith(titles[int(m.group(1))] + ": ", m.end())
    ]
    found = []
    for i, (position, number) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(message)
        text = message[position:end].split(". Item (", 1)[0]
        found.append((number, text.rstrip(" ;.")))
    return found


def _command(stack: str, number: int, text: str) -> str | None:
    from gate.hints import DERIVED_ITEMS, RECORD_ITEMS, record_command  # noqa: PLC0415

    # Imported here, after every program ran: `gate/` is the program's own package, which the
    # parent process does not import before the stacks run (docs/offline-preview.md).
    if number == 5 and _BACKUP_SETTINGS in text:
        return (
            "# (5) change the PostgreSQL backup settings the stack plans (retention, geo-redundancy); "
            "recording a backup check does not fix them"
        )
    if number in DERIVED_ITEMS:
        return f"# ({number}) {DERIVED_ITEMS[number]}"
    if number in RECORD_ITEMS:
        return record_command(stack, number)
    return None


def _gate_items(stack: str, gate: dict[str, Any], violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    titles = _titles(gate)
    lines: list[tuple[int, str]] = []
    for line in gate.get("missingItems") or []:
        match = _ITEM_LINE.match(str(line))
        if match:
            lines.append((int(match.group(1)), str(line)))
    for v in violations:
        lines.extend(item_lines(str(v.get("message") or ""), titles))
    items: list[dict[str, Any]] = []
    # The output and the pack word the same item alike; one entry per item and remedy.
    seen: set[tuple[int, str | None]] = set()
    for number, text in sorted(lines, key=lambda nt: nt[0]):
        command = _command(stack, number, text)
        if (number, command) in seen:
            continue
        seen.add((number, command))
        items.append({"number": number, "text": text, "command": command})
    return items


def _numbers(items: list[dict[str, Any]]) -> str:
    numbers = sorted({int(i["number"]) for i in items})
    noun = "item" if len(numbers) == 1 else "items"
    return f"{noun} {', '.join(map(str, numbers))}" if numbers else "no items"


def _stack_overview(s: dict[str, Any]) -> dict[str, Any]:
    stack = str(s["stack"])
    raw_outputs = s.get("outputs")
    outputs: dict[str, Any] = raw_outputs if isinstance(raw_outputs, dict) else {}
    gate_output = outputs.get(GATE_OUTPUT)
    gate: dict[str, Any] = gate_output if isinstance(gate_output, dict) else {}
    stopped = outputs.get(STOPPED_OUTPUT) is True or gate.get("status") == "stopped"
    program = s.get("program") or {}
    failed_program = program.get("status") == "error"

    packs = s.get("policyPacks") or []
    gate_packs = [p for p in packs if is_gate_pack(p)]
    counted = [
        (p, v) for p in packs for v in p.get("violations") or [] if not v.get("skippedUnknownDuringPreview")
    ]
    gate_mandatory = [v for p, v in counted if is_gate_pack(p) and v.get("enforcementLevel") == "mandatory"]
    gate_advice = [v for p, v in counted if is_gate_pack(p) and v.get("enforcementLevel") == "advisory"]
    other_mandatory = [
        (p, v) for p, v in counted if not is_gate_pack(p) and v.get("enforcementLevel") == "mandatory"
    ]

    reasons: list[str] = []
    for problem in s.get("problems") or []:
        # Mandatory violations are described below, by pack, instead of as one count.
        if not problem.endswith("mandatory policy violation(s)"):
            reasons.append(problem)
    if other_mandatory:
        policies = sorted({str(v.get("policy")) for _, v in other_mandatory})
        packs_named = sorted({str(p.get("name") or p.get("path")) for p, _ in other_mandatory})
        count = len(other_mandatory)
        reasons.append(f"{count} mandatory violation(s) of {', '.join(packs_named)}: {', '.join(policies)}")

    entry: dict[str, Any] = {"stack": stack, "state": "ok", "why": "", "gate": None}
    items: list[dict[str, Any]] = []
    if gate_mandatory and not failed_program:
        items = _gate_items(stack, gate, gate_mandatory)
        release = gate.get("release")
        subject = f"release {release}" if release else "the release"
        if items:
            reasons.append(f"compatibility gate: {subject} lacks checklist {_numbers(items)}")
        else:
            reasons.append(f"compatibility gate: {len(gate_mandatory)} mandatory violation(s)")
    elif gate.get("status") == "advisory" and not failed_program:
        items = _gate_items(stack, gate, gate_advice)
    if gate or gate_packs:
        entry["gate"] = {
            "status": "stopped" if stopped and not gate_mandatory else gate.get("status"),
            "release": gate.get("release"),
            "basis": gate.get("basis"),
            "reason": gate.get("reason"),
            "packRan": any(p.get("status") == "ok" for p in gate_packs),
            "items": items,
        }

    if reasons:
        only_gate = bool(gate_mandatory) and len(reasons) == 1 and not other_mandatory
        entry["state"] = "blocked" if only_gate else "failed"
        entry["why"] = "; ".join(reasons)
    elif stopped:
        entry["state"] = "stopped"
        entry["why"] = "the API is stopped (apiStopped: true): the gate has nothing to hold back"
    elif gate.get("status") == "advisory":
        release = gate.get("release")
        entry["why"] = (
            f"gate advises only: release {release} is {gate.get('basis')}, {_numbers(items)} missing"
        )
    elif gate.get("status") == "blocked" and not gate_packs:
        entry["why"] = "the compatibilityGate output says blocked, but the gate's policy pack did not run"
    elif gate.get("status"):
        entry["why"] = f"compatibility gate: {gate.get('status')} ({gate.get('basis')})"
    return entry


def overview(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per stack: state, the reason in one line, and the gate's items with their commands."""
    return [_stack_overview(s) for s in report.get("stacks") or []]
