"""`python -m offline` on the command line: -s, the project found from any directory, -C, output files
that cannot be written, --version. Each bad input ends in a clear error and exit 2, never a traceback.

The runs use the fixture project without packs (no pack process), so each takes about a second.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from offline import __main__ as cli
from offline.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "fixtures" / "offline" / "project"


def flat(text: str) -> str:
    """The text with its wrapping at 100 columns undone."""
    return " ".join(text.split())


def run(*argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr, each with the wrapping undone."""
    out, err = io.StringIO(), io.StringIO()
    code = main(
        list(argv),
        out=Console(file=out, width=200, highlight=False),
        err=Console(file=err, width=200, highlight=False),
    )
    return code, flat(out.getvalue()), flat(err.getvalue())


def python_m_offline(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH only makes the package importable: where the project is, the tool finds out itself.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "offline", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def report_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# ---- -s, as `python -m gate` spells it -----------------------------------------------------------


def test_s_selects_stacks_like_stack(tmp_path: Path) -> None:
    code, _, _ = run("-C", str(PROJECT), "-q", "-s", "dev", "-s", "prod", "--json", str(tmp_path / "a.json"))
    assert code == 0
    assert [s["stack"] for s in report_of(tmp_path / "a.json")["stacks"]] == ["dev", "prod"]
    code, _, _ = run("-C", str(PROJECT), "-q", "-s", "prod,dev", "--json", str(tmp_path / "b.json"))
    assert code == 0
    assert [s["stack"] for s in report_of(tmp_path / "b.json")["stacks"]] == ["prod", "dev"]


def test_s_with_an_unknown_stack_is_a_usage_error(tmp_path: Path) -> None:
    code, out, _ = run("-C", str(PROJECT), "-q", "-s", "qa", "--json", str(tmp_path / "r.json"))
    assert code == 2
    assert "error: no stack file for qa in" in out
    assert "(known: dev, prod, broken, crash)" in out
    assert report_of(tmp_path / "r.json")["exitCode"] == 2


# ---- the project, from any directory -------------------------------------------------------------


def test_the_default_project_is_the_packages_own_whatever_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.project_directory(None) == ROOT
    # -C still wins, relative to the current directory.
    (tmp_path / "sub").mkdir()
    assert cli.project_directory(Path("sub")) == (tmp_path / "sub").resolve()


def test_run_from_another_directory_previews_this_project_and_honours_c(tmp_path: Path) -> None:
    proc = python_m_offline("-s", "dev", "-C", str(PROJECT), "--json", "r.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = report_of(tmp_path / "r.json")  # relative to the current directory, as typed
    assert report["project"] == "offline-fixture"
    assert report["directory"] == str(PROJECT)
    proc = python_m_offline("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"project: meajudaai-infra at {ROOT}" in proc.stdout


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp / "missing", "-C {arg}: not a directory (expected the project directory)"),
        (lambda tmp: tmp, "Pulumi.yaml: file not found"),
    ],
)
def test_a_c_without_a_project_is_a_usage_error(tmp_path: Path, make: Any, expected: str) -> None:
    directory = make(tmp_path)
    code, out, _ = run("-C", str(directory), "-q")
    assert code == 2
    assert expected.format(arg=directory) in out


# ---- output files that cannot be written ---------------------------------------------------------


@pytest.mark.parametrize("flag", ["--json", "--sarif"])
def test_an_output_under_a_file_is_a_clear_error_before_the_run(tmp_path: Path, flag: str) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    target = blocker / "report.json"
    code, out, err = run("-C", str(PROJECT), "-s", "dev", flag, str(target))
    assert code == 2
    assert f"error: {flag} {target}: {blocker} is a file, not a directory" in out
    assert "running the program" not in err  # refused before any stack ran
    assert "Traceback" not in out + err


def test_an_output_that_is_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    code, out, _ = run("-C", str(PROJECT), "-s", "dev", "--json", str(tmp_path))
    assert code == 2
    assert f"error: --json {tmp_path}: is a directory (expected a file to write)" in out


def test_no_traceback_from_the_command_line_either(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    proc = python_m_offline("-C", str(PROJECT), "-s", "dev", "--json", "file/r.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "error: --json file/r.json: file is a file, not a directory" in flat(proc.stdout)
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_write_that_fails_after_the_run_says_which_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.sarif"
    real = Path.write_text

    def refuse(self: Path, *args: Any, **kwargs: Any) -> int:
        if self == target:
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", refuse)
    code, _, err = run(
        "-C", str(PROJECT), "-q", "-s", "dev", "--json", str(tmp_path / "r.json"), "--sarif", str(target)
    )
    assert code == 2
    assert f"error: --sarif {target}: cannot write (Permission denied)" in err
    # The other file is still written, and says the run itself was clean.
    assert report_of(tmp_path / "r.json")["exitCode"] == 0


def test_writable_outputs_are_written(tmp_path: Path) -> None:
    code, _, err = run(
        "-C",
        str(PROJECT),
        "-q",
        "-s",
        "dev",
        "--json",
        str(tmp_path / "new" / "r.json"),
        "--sarif",
        str(tmp_path / "r.sarif"),
    )
    assert (code, err) == (0, "")
    assert report_of(tmp_path / "new" / "r.json")["schemaVersion"] == 1
    assert report_of(tmp_path / "r.sarif")["version"] == "2.1.0"


# ---- --version -----------------------------------------------------------------------------------


def test_version_names_the_tool_the_project_and_the_pinned_sdks() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.startswith(
        "offline-preview (python -m offline), report schema 1, SARIF 2.1.0 "
        f"project: meajudaai-infra at {ROOT} "
        "pulumi 3.272.0 (pinned); pulumi-policy 1.21.0 (pinned); Python 3."
    )


def test_version_says_when_the_installed_sdk_is_not_the_pinned_one(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "requirements.txt").write_text("pulumi==0.0.1\n")
    code, out, _ = run("--version", "-C", str(tmp_path))
    assert code == 0
    assert f"project: demo at {tmp_path.resolve()}" in out
    assert "pulumi 3.272.0 (requirements pin 0.0.1: run make setup)" in out
    assert "pulumi-policy 1.21.0 (not pinned)" in out
    code, _, err = run("--version", "-C", str(tmp_path / "nope"))
    assert code == 2
    assert "not a directory" in err


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (ROOT / "venv").resolve(), reason="only `make setup`'s venv has the .pth"
)
def test_the_setup_venv_runs_the_tools_from_any_directory(tmp_path: Path) -> None:
    # `make setup` puts the project on the venv's path, so no PYTHONPATH is needed.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for module in ("offline", "gate", "components"):
        proc = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, f"{module}: {proc.stderr}"
