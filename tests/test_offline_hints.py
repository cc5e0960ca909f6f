"""gate/hints.py: the `gate record` command per checklist item, as the offline preview's summary prints it.

The commands are checked against the real CLI: each parses with `python -m gate`'s own parser, and with
the placeholders filled in, running them on the committed prod stack clears the gate.
"""

from __future__ import annotations

import io
import re
import shlex
import shutil
from pathlib import Path

import pytest

from gate.cli import ITEMS as CLI_ITEMS
from gate.cli import build_parser
from gate.cli import main as gate_main
from gate.hints import DERIVED_ITEMS, GATE, ITEMS, RECORD_ITEMS, record_command, record_commands
from tests.test_gate_cli import FIXTURES, FRESH_TRX

# What a release manager would type in place of each placeholder.
FILLED = {
    "<name>": "Ana Souza",
    "<file.trx>": str(FRESH_TRX),
    "<count>": "150",
    "<minutes>": "52",
    "<backup-file>": "hangfire_backup_20261128.dump",
    "<person>": "Ana Souza",
    "<another-person>": "Bruno Lima",
    "<how-they-were-notified>": "email to stakeholders",
}


def argv_of(command: str) -> list[str]:
    prefix = GATE + " "
    assert command.startswith(prefix), command
    words = shlex.split(command[len(prefix) :])
    unknown = sorted({w for w in words if re.fullmatch(r"<[^>]+>", w)} - set(FILLED))
    assert not unknown, f"placeholders without a filled-in value in this test: {unknown}"
    return [FILLED.get(w, w) for w in words]


def test_every_item_has_a_command_or_advice_and_the_cli_agrees_on_the_names() -> None:
    assert ITEMS == (1, 2, 3, 4, 5, 6, 7)
    assert {name: number for number, (name, _) in RECORD_ITEMS.items()} == {
        name: number for name, (number, _) in CLI_ITEMS.items()
    }
    assert set(DERIVED_ITEMS) == {3}


@pytest.mark.parametrize("item", sorted(RECORD_ITEMS))
def test_each_command_parses_with_the_gate_cli(item: int) -> None:
    command = record_command("staging", item)
    args = build_parser().parse_args(argv_of(command))
    assert (args.command, args.item, args.stack, args.by) == (
        "record",
        RECORD_ITEMS[item][0],
        "staging",
        "Ana Souza",
    )


def test_the_placeholders_stop_an_unedited_paste() -> None:
    # Unquoted, `<name>` is a redirection from a file that does not exist: the shell refuses the line.
    command = record_command("prod", 4)
    assert " --by <name> " in command and "'<name>'" not in command and '"<name>"' not in command


def test_filled_in_commands_clear_every_recorded_item_of_the_committed_release(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "stack" / "Pulumi.prod.yaml", tmp_path)
    shutil.copy(FIXTURES / "props" / "pinned.props", tmp_path)
    status = ["status", "-s", "prod", "--project-dir", str(tmp_path)]
    assert gate_main(status, out=io.StringIO(), err=io.StringIO()) == 1
    lines = record_commands("prod", [7, 1, 2, 4, 5, 6, 1])
    assert [line.split()[4] for line in lines] == [
        "tests",
        "staging",
        "rollback",
        "backup",
        "training",
        "stakeholders",
    ]
    for line in lines:
        err = io.StringIO()
        code = gate_main([*argv_of(line), "--project-dir", str(tmp_path)], out=io.StringIO(), err=err)
        assert (code, err.getvalue()) == (0, ""), line
    out = io.StringIO()
    assert gate_main(status, out=out, err=io.StringIO()) == 0, out.getvalue()
    assert "pass (risky)" in out.getvalue()


def test_item_3_is_a_comment_saying_to_add_the_alerts() -> None:
    assert record_commands("prod", [3, 1])[1] == f"# (3) {DERIVED_ITEMS[3]}"
    assert "add or enable the alerts" in DERIVED_ITEMS[3]
    with pytest.raises(ValueError, match="item 3 has no record command: add or enable the alerts"):
        record_command("prod", 3)


@pytest.mark.parametrize(
    ("stack", "item", "expected"),
    [
        ("prod", 8, "no checklist item 8; the items are 1, 2, 3, 4, 5, 6, 7"),
        ("prod", 0, "no checklist item 0"),
        ("prod; rm -rf ~", 1, "stack name 'prod; rm -rf ~' may only contain letters, digits"),
        ("", 1, "stack name '' may only contain"),
    ],
)
def test_bad_input_is_a_clear_error(stack: str, item: int, expected: str) -> None:
    with pytest.raises(ValueError, match=re.escape(expected)):
        record_commands(stack, [item])
