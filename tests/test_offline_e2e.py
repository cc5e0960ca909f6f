"""End to end: the fixture program under the mock engine, fixture packs over the real analyzer protocol.

Each module fixture is one `python -m offline` run; pack processes are the slow part, so the runs
are shared by several tests and start only the packs they need.
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

from offline import parallel
from offline.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "offline"
PROJECT = FIXTURES / "project"
PACKS = FIXTURES / "packs"
CONFIGS = FIXTURES / "config"
# The secure values in the fixture stack files, and what the tool puts in their place.
PLACEHOLDER_MARK = "offline-placeholder-secret"
CIPHERTEXT_MARKS = ("AAAAfake", "BBBBanother", "CCCCprod", "DDDDprod")


def run_offline(
    args: list[str], tmp: Path, progress: io.StringIO | None = None
) -> tuple[int, str, dict[str, Any]]:
    buf = io.StringIO()
    json_path = tmp / "report.json"
    code = main(
        ["-C", str(PROJECT), "--json", str(json_path), *args],
        out=Console(file=buf, width=200, highlight=False),
        err=Console(file=progress if progress is not None else io.StringIO(), width=200),
    )
    return code, buf.getvalue(), json.loads(json_path.read_text())


def stack(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in report["stacks"] if s["stack"] == name)


def pack(stack_entry: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in stack_entry["policyPacks"] if p["name"] == name or p["path"].endswith(name))


def violations(pack_entry: dict[str, Any], policy: str) -> list[dict[str, Any]]:
    return [v for v in pack_entry["violations"] if v["policy"] == policy]


@pytest.fixture(scope="module")
def preview_dev(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("preview_dev")
    return run_offline(
        ["--stack", "dev", "--policy-pack", str(PACKS / "strict"), "--policy-pack", str(PACKS / "lenient")],
        tmp,
    )


@pytest.fixture(scope="module")
def configured_prod(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("configured_prod")
    return run_offline(
        [
            "--stack",
            "prod",
            "--policy-pack",
            str(PACKS / "strict"),
            "--policy-pack-config",
            str(CONFIGS / "raise-servicebus-tags.json"),
            "--policy-pack",
            str(PACKS / "lenient"),
            "--policy-pack-config",
            str(CONFIGS / "bad-topic-limit.json"),
            "--policy-pack",
            str(PACKS / "crashing"),
        ],
        tmp,
    )


def test_mandatory_violation_fails_the_preview_at_its_level(
    preview_dev: tuple[int, str, dict[str, Any]],
) -> None:
    code, text, report = preview_dev
    assert code != 0
    strict = pack(stack(report, "dev"), "offline-strict")
    found = violations(strict, "webapp-https-only")
    assert [(v["enforcementLevel"], v["resourceType"], v["resourceName"]) for v in found] == [
        ("mandatory", "azure-native:web:WebApp", "api-app")
    ]
    assert found[0]["remediation"] == "Set https_only=True on the WebApp."
    assert "[mandatory]  webapp-https-only  (azure-native:web:WebApp: api-app)" in text
    assert "remediation: Set https_only=True on the WebApp." in text


def test_advisory_findings_alone_do_not_fail(preview_dev: tuple[int, str, dict[str, Any]]) -> None:
    _, _, report = preview_dev
    lenient = pack(stack(report, "dev"), "offline-lenient")
    assert lenient["status"] == "ok"
    levels = {v["policy"]: v["enforcementLevel"] for v in lenient["violations"]}
    assert levels == {"rg-naming": "advisory", "topic-limit": "advisory"}
    assert stack(report, "dev")["problems"] == ["1 mandatory policy violation(s)"]


def test_unknown_during_preview_is_reported_as_the_sdk_sends_it(
    preview_dev: tuple[int, str, dict[str, Any]],
) -> None:
    _, text, report = preview_dev
    skipped = violations(pack(stack(report, "dev"), "offline-strict"), "webapp-plan-known")
    assert len(skipped) == 1
    assert skipped[0]["enforcementLevel"] == "advisory"
    assert skipped[0]["skippedUnknownDuringPreview"] is True
    assert skipped[0]["message"].startswith("can't run policy 'webapp-plan-known'")
    assert "[advisory, unknown during preview]  webapp-plan-known" in text


def test_preview_tree_counts_and_unknown_outputs(preview_dev: tuple[int, str, dict[str, Any]]) -> None:
    _, text, report = preview_dev
    dev = stack(report, "dev")
    assert dev["summary"]["byType"]["azure-native:servicebus:Topic"] == 2
    assert dev["summary"]["create"] == 11
    by_name = {r["name"]: r for r in dev["resources"]}
    assert by_name["api-app"]["parent"] == by_name["api"]["urn"]
    assert by_name["sb"]["options"]["protect"] is True
    assert by_name["sb"]["options"]["ignoreChanges"] == ["tags"]
    assert by_name["api-key"]["options"]["retainOnDelete"] is True
    assert dev["outputs"]["apiHost"] == "[unknown]"
    assert dev["outputs"]["dbLogin"] == "pgadmin"
    assert "│  └─ azure-native:web:WebApp" in text


def test_secrets_never_reach_the_report(preview_dev: tuple[int, str, dict[str, Any]]) -> None:
    _, text, report = preview_dev
    raw = json.dumps(report)
    for blob in (text, raw):
        assert PLACEHOLDER_MARK not in blob
        assert not any(mark in blob for mark in CIPHERTEXT_MARKS)
    dev = stack(report, "dev")
    assert dev["outputs"]["dbPassword"] == "[secret]"
    # Exported without the secret marker: masked anyway, and called out.
    assert dev["outputs"]["dbPasswordInClear"] == "[secret]"
    assert dev["plaintextSecrets"] == ["stack output dbPasswordInClear"]
    assert "a secure config value reaches stack output dbPasswordInClear" in text
    # The careless pack did print the placeholder; the report masks it.
    echo = violations(pack(dev, "offline-strict"), "secret-echo")
    assert echo[0]["message"].endswith("saw secret value [secret]")


def test_policy_pack_config_overrides_levels(configured_prod: tuple[int, str, dict[str, Any]]) -> None:
    code, _, report = configured_prod
    assert code != 0
    strict = pack(stack(report, "prod"), "offline-strict")
    assert strict["configFile"].endswith("raise-servicebus-tags.json")
    assert [v["enforcementLevel"] for v in violations(strict, "servicebus-tags")] == ["mandatory"]
    effective = {p["name"]: p["enforcementLevel"] for p in strict["policies"]}
    # "all" lowered the pack's mandatory default; the named entry then raised one policy.
    assert effective["webapp-https-only"] == "advisory"
    assert effective["servicebus-tags"] == "mandatory"


def test_config_failing_the_policy_schema_stops_the_pack(
    configured_prod: tuple[int, str, dict[str, Any]],
) -> None:
    _, _, report = configured_prod
    lenient = pack(stack(report, "prod"), "lenient")
    assert lenient["status"] == "error"
    assert "validating policy config" in lenient["error"]
    assert "topic-limit: maxTopics: 'lots' is not of type 'integer'" in lenient["error"]


def test_pack_crashing_at_start_is_reported_with_its_stderr(
    configured_prod: tuple[int, str, dict[str, Any]],
) -> None:
    _, text, report = configured_prod
    crashing = pack(stack(report, "prod"), "crashing")
    assert crashing["status"] == "error"
    assert "before its handshake" in crashing["error"]
    assert "RuntimeError: this pack is broken on purpose" in crashing["stderr"]
    assert "this pack is broken on purpose" in text


def test_program_errors_are_reported_with_their_message(tmp_path: Path) -> None:
    code, text, report = run_offline(["--stack", "broken", "--stack", "crash"], tmp_path)
    assert code != 0
    broken = stack(report, "broken")["program"]["error"]
    assert broken["kind"] == "RunError"
    assert broken["message"] == "offline-fixture:fail is 'runerror': the settings refuse this stack"
    assert broken["traceback"] is None
    crash = stack(report, "crash")["program"]["error"]
    assert crash["kind"] == "ValueError"
    assert "fixture program blew up on purpose" in crash["traceback"]
    assert "program failed (RunError): offline-fixture:fail is 'runerror'" in text


def test_update_mode_from_the_command_line_shows_values_and_exits_zero(tmp_path: Path) -> None:
    json_path = tmp_path / "update.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "offline",
            "-C",
            str(PROJECT),
            "--stack",
            "prod",
            "--mode",
            "update",
            "--policy-pack",
            str(PACKS / "lenient"),
            "--json",
            str(json_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(json_path.read_text())
    prod = stack(report, "prod")
    assert prod["outputs"]["apiHost"] == "app-api-prod.azurewebsites.net"
    assert prod["outputs"]["generatedPassword"] == "[secret]"
    assert [v["policy"] for v in pack(prod, "offline-lenient")["violations"]] == ["rg-naming"]
    assert "running the program (update mode)" in proc.stderr
    assert PLACEHOLDER_MARK not in proc.stdout + proc.stderr


def test_unknown_stack_is_a_usage_error(tmp_path: Path) -> None:
    code, text, report = run_offline(["--stack", "qa"], tmp_path)
    assert code == 2
    assert "no stack file for qa" in report["error"]
    assert "no stack file for qa" in text


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report less what differs between two runs of the same path too.

    Durations; and the order of registrations and of dependency lists, which follows the SDK's
    executor threads (two sequential runs differ there as well).
    """

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: strip(v) for k, v in value.items() if k != "durationSeconds"}
            if isinstance(out.get("dependencies"), list):
                out["dependencies"] = sorted(out["dependencies"])
            if isinstance(out.get("propertyDependencies"), dict):
                out["propertyDependencies"] = {k: sorted(v) for k, v in out["propertyDependencies"].items()}
            return out
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    stripped: dict[str, Any] = strip(report)
    for entry in stripped["stacks"]:
        entry["resources"] = sorted(entry.get("resources", []), key=lambda r: r["urn"])
    return stripped


def test_forked_stacks_give_the_same_report_as_one_after_another(tmp_path: Path) -> None:
    args = ["--stack", "dev", "--stack", "prod", "--stack", "broken", "--policy-pack", str(PACKS / "strict")]
    runs = {}
    for jobs in ("1", "3"):
        progress = io.StringIO()
        runs[jobs] = (*run_offline([*args, "--jobs", jobs], tmp_path / jobs, progress), progress.getvalue())
    (seq_code, seq_text, seq_report, seq_progress) = runs["1"]
    (fork_code, fork_text, fork_report, fork_progress) = runs["3"]
    # Each path ran as asked: the forked one ran each stack in a child process.
    assert "in process" not in seq_progress
    for name in ("dev", "prod", "broken"):
        assert f"{name}: running the program (preview mode) in process" in fork_progress
    assert fork_code == seq_code == 1
    assert fork_text == seq_text
    assert _comparable(fork_report) == _comparable(seq_report)
    # Not vacuous: both reports carry the mandatory finding, the program error, and the stack order.
    assert [s["stack"] for s in fork_report["stacks"]] == ["dev", "prod", "broken"]
    assert stack(fork_report, "dev")["problems"] == ["1 mandatory policy violation(s)"]
    assert stack(fork_report, "broken")["program"]["error"]["kind"] == "RunError"


def test_a_stack_whose_process_dies_fails_the_run_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run = parallel.run_program

    def dying(config: Any, preview: bool) -> Any:
        if config.stack == "prod":
            os._exit(3)  # in the forked child: as if the interpreter crashed mid-program
        return real_run(config, preview)

    monkeypatch.setattr(parallel, "run_program", dying)
    code, text, report = run_offline(["--stack", "dev", "--stack", "prod", "--jobs", "2"], tmp_path)
    assert code == 1
    assert stack(report, "dev")["ok"] is True
    assert stack(report, "dev")["summary"]["create"] == 11
    error = stack(report, "prod")["program"]["error"]
    assert error["kind"] == "WorkerDied"
    assert error["message"] == "the process running stack prod exited with code 3 before sending its result"
    assert "program failed (WorkerDied)" in text


def test_a_failed_program_is_not_reported_as_clean_by_its_packs(tmp_path: Path) -> None:
    progress = io.StringIO()
    code, text, report = run_offline(
        ["--stack", "broken", "--stack", "dev", "--policy-pack", str(PACKS / "lenient")], tmp_path, progress
    )
    assert code == 1
    broken = pack(stack(report, "broken"), "offline-lenient")
    assert (broken["status"], broken["evaluated"], broken["violations"]) == ("ok", False, [])
    section = text.split("Previewing stack dev")[0]
    assert "no violations" not in section
    assert "not evaluated: the program failed (RunError)" in " ".join(section.split())
    assert "broken: policy pack offline-lenient: not evaluated, the program failed" in " ".join(
        progress.getvalue().split()
    )
    # The same pack over a program that ran reports its findings as usual.
    assert pack(stack(report, "dev"), "offline-lenient")["evaluated"] is True
    assert [e["state"] for e in report["overview"]] == ["failed", "ok"]
