"""The committed stacks under the baseline pack, over the analyzer protocol, in both offline modes.

Preview (values computed by Azure unknown) and update (every value known): no stack may have a mandatory
violation, and no violation may be the SDK's "can't run during preview" skip. A mandatory rule does not pass
on a value it cannot see, so this holds only because the program builds what the rules read (Key Vault
references, the web tests' hidden-link tag) from names known at preview.

The program runs come from tests/program.py's cache (shared with the program tests in this process);
the six pack processes start at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.analyzer import PackResult
from offline.engine import ProgramRun
from offline.stackconfig import StackConfig, load_project, load_stack
from tests.fixtures.baseline.protocol import PACK, ROOT, analyze_all
from tests.program import STACKS, run_stack

MODES = ("preview", "update")


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], PackResult]:
    project = load_project(ROOT)
    jobs: list[tuple[ProgramRun, StackConfig, Path | None]] = []
    keys = []
    for mode in MODES:
        for stack in STACKS:
            run = run_stack(stack, preview=mode == "preview")
            assert run.error is None, run.error
            jobs.append((run.raw, load_stack(project, stack), PACK / "config" / f"{stack}.json"))
            keys.append((stack, mode))
    found = analyze_all(jobs)
    for key, result in zip(keys, found, strict=True):
        assert result.status == "ok", f"{key}: {result.error}\n{result.stderr}"
    return dict(zip(keys, found, strict=True))


def mandatory(result: PackResult) -> list[tuple[str, str, str]]:
    return [
        (v.policy, v.resource_name or "stack", v.message.splitlines()[-1])
        for v in result.violations
        if v.level == "mandatory"
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", STACKS)
def test_committed_stack_has_no_mandatory_baseline_violation(
    results: dict[tuple[str, str], PackResult], stack: str, mode: str
) -> None:
    assert mandatory(results[(stack, mode)]) == []


def test_the_pack_saw_every_resource_and_skipped_none(results: dict[tuple[str, str], PackResult]) -> None:
    for (stack, mode), result in results.items():
        run = run_stack(stack, preview=mode == "preview")
        custom = [r for r in run.raw.resources if r.custom]
        assert result.analyzed == len(custom), (stack, mode)
        assert not [v for v in result.violations if v.skipped_unknown], (stack, mode)
