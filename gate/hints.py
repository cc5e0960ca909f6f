"""The release manager's next step for each missing checklist item: the `gate record` command to run.

One table, so that `python -m gate status` and the offline preview's summary print the same commands.
Pure and standard library only: the offline preview imports it after a run, and must not pay for the
evidence models to print a line of text.

Placeholders stay unquoted on purpose (`--by <name>`): pasted unedited, the shell reads `<name>` as a
redirection from a missing file and stops, where a quoted placeholder would record bogus evidence.
Every line returned is safe to paste into a shell; an item with no command (3, derived from the
planned alerts) comes back as a `#` comment that says what to do instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

GATE = "./venv/bin/python -m gate"

# Runbook item -> `gate record` sub-command and the arguments the evidence needs to count
# (docs/compatibility-gate.md, "Release-manager command"; flags as in gate/cli.py).
RECORD_ITEMS: dict[int, tuple[str, str]] = {
    1: ("tests", '--report <file.trx> --filter "Category=HangfireIntegration"'),
    2: ("staging", "--jobs <count> --persisted --retries --recurring --dashboard"),
    4: ("rollback", "--minutes <minutes>"),
    5: ("backup", "--backup-name <backup-file> --restore-tested"),
    6: ("training", "--trained <person> --trained <another-person>"),
    7: ("stakeholders", "--channel <how-they-were-notified>"),
}
# Item 3 is judged from the planned resources by the stack policy: nothing to record.
DERIVED_ITEMS: dict[int, str] = {
    3: "add or enable the alerts, each reaching an action group (docs/compatibility-gate.md, "
    "Alert contract); no record command",
}
ITEMS = tuple(sorted({*RECORD_ITEMS, *DERIVED_ITEMS}))
_STACK = re.compile(r"^[A-Za-z0-9_.-]+$")


def _check_stack(stack: str) -> None:
    # The name is pasted into a shell line: only what a Pulumi stack name may contain.
    if not _STACK.match(stack):
        raise ValueError(f"stack name {stack!r} may only contain letters, digits, '-', '_' and '.'")


def record_command(stack: str, item: int) -> str:
    """The `gate record` command for one recorded item; ValueError for item 3 or an unknown number."""
    _check_stack(stack)
    if item in DERIVED_ITEMS:
        raise ValueError(f"item {item} has no record command: {DERIVED_ITEMS[item]}")
    if item not in RECORD_ITEMS:
        raise ValueError(f"no checklist item {item}; the items are {', '.join(map(str, ITEMS))}")
    name, arguments = RECORD_ITEMS[item]
    return f"{GATE} record {name} -s {stack} --by <name> {arguments}"


def record_commands(stack: str, items: Iterable[int]) -> list[str]:
    """One shell line per item, in item order, each item once: its command, or a comment for item 3."""
    lines = []
    for item in sorted(set(items)):
        if item in DERIVED_ITEMS:
            _check_stack(stack)
            lines.append(f"# ({item}) {DERIVED_ITEMS[item]}")
        else:
            lines.append(record_command(stack, item))
    return lines
