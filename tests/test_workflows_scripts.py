"""The helper scripts the workflows run: post-deploy validation, preview summary, venv setup.

The validation is exercised against a real HTTP server on 127.0.0.1 (bounded: short deadlines, a handful
of requests), so retries, accepted statuses, redirects and the deadline are tested as the runner sees them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
import yaml
from pydantic import BaseModel

from components.settings import Settings
from offline.analyzer import PackResult, Violation
from offline.report import StackResult, build_report

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / ".github" / "scripts"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"workflow_scripts_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is being created.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


validate = _load("validate_deployment")
summary = _load("preview_summary")


# ------------------------------------------------------------------------------ a scripted API


class _Api(BaseHTTPRequestHandler):
    # path -> statuses to answer in turn (the last one repeats); unknown paths answer 404.
    script: ClassVar[dict[str, list[int]]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        statuses = self.script.get(self.path)
        status = (statuses.pop(0) if len(statuses) > 1 else statuses[0]) if statuses else 404
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "https://login.invalid/authorize")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    _Api.script = {}
    _Api.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _healthy(**overrides: list[int]) -> dict[str, list[int]]:
    script = {"/health": [200], "/health/ready": [200], "/health/live": [200], "/hangfire": [401]}
    script.update({k.replace("_", "/"): v for k, v in overrides.items()})
    return script


def _run(url: str, *extra: str, deadline: float = 3.0) -> int:
    args = ["--url", url, "--deadline", str(deadline), "--interval", "0.05", "--request-timeout", "1", *extra]
    code: int = validate.main(args)
    return code


# ------------------------------------------------------------------------------ validation


def test_a_healthy_api_passes_first_time(api: str) -> None:
    _Api.script = _healthy()
    assert _run(api) == 0
    assert sorted(_Api.seen) == ["/hangfire", "/health", "/health/live", "/health/ready"]


def test_it_retries_until_a_warming_api_answers(api: str) -> None:
    _Api.script = _healthy(**{"/health/ready": [503, 503, 200]})
    assert _run(api) == 0
    assert _Api.seen.count("/health/ready") == 3
    # Paths that already passed are not asked again.
    assert _Api.seen.count("/health") == 1


def test_it_gives_up_at_the_deadline(api: str) -> None:
    _Api.script = _healthy(**{"/health/ready": [503]})
    started = time.monotonic()
    assert _run(api, deadline=0.5) == 1
    assert time.monotonic() - started < 3
    assert _Api.seen.count("/health/ready") >= 2


@pytest.mark.parametrize(("status", "expected"), [(200, 0), (302, 0), (401, 0), (403, 0), (404, 1), (500, 1)])
def test_hangfire_counts_as_up_when_it_answers_even_behind_login(
    api: str, status: int, expected: int
) -> None:
    _Api.script = _healthy(**{"/hangfire": [status]})
    assert _run(api, deadline=0.3) == expected


def test_a_login_redirect_is_not_followed(api: str) -> None:
    # Following it would leave the API (login.invalid does not resolve) and fail.
    _Api.script = _healthy(**{"/hangfire": [302]})
    assert _run(api, "--check", "/hangfire=302") == 0


def test_a_path_prefix_in_the_api_url_is_kept(api: str) -> None:
    _Api.script = {"/api/health": [200]}
    assert _run(api + "/api", "--check", "/health") == 0
    assert _Api.seen == ["/api/health"]


def test_nothing_listening_fails_within_the_deadline() -> None:
    started = time.monotonic()
    assert _run("http://127.0.0.1:9", deadline=0.5) == 1
    assert time.monotonic() - started < 5


def test_the_url_comes_from_the_named_stack_output(api: str, tmp_path: Path) -> None:
    _Api.script = _healthy()
    outputs = tmp_path / "dev.json"
    outputs.write_text(json.dumps({"publicEndpoint": api, "apiUrl": "http://127.0.0.1:9"}), encoding="utf-8")
    common = ["--outputs", str(outputs), "--deadline", "2", "--interval", "0.05", "--request-timeout", "1"]
    assert validate.main([*common, "--output-name", "publicEndpoint"]) == 0


@pytest.mark.parametrize(
    ("outputs", "words"),
    [
        ({"other": "https://x"}, "no output 'apiUrl' (outputs: other)"),
        ({"apiUrl": "[secret]"}, "is a secret"),
        ({"apiUrl": ""}, "not an absolute http(s) URL"),
        ({"apiUrl": "ftp://host"}, "not an absolute http(s) URL"),
        ({"apiUrl": 42}, "must be a URL string"),
        ([], "must hold a JSON object"),
    ],
)
def test_bad_outputs_are_input_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], outputs: object, words: str
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs), encoding="utf-8")
    assert validate.main(["--outputs", str(path)]) == 2
    assert words in capsys.readouterr().err


def test_a_missing_outputs_file_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate.main(["--outputs", str(tmp_path / "absent.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("spec", ["health", "/health=abc", "/health=99", "/health=200,"])
def test_bad_check_specs_are_input_errors(spec: str) -> None:
    assert validate.main(["--url", "https://api.example.test", "--check", spec]) == 2


def test_the_result_goes_to_the_job_summary(
    api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary_file = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    _Api.script = _healthy(**{"/hangfire": [404]})
    assert _run(api, "--stack", "staging", deadline=0.3) == 1
    text = summary_file.read_text(encoding="utf-8")
    assert "Post-deploy validation: `staging`" in text
    assert "| `/health` | 200 | pass: HTTP 200 |" in text
    assert "| `/hangfire` | 200, 302, 401, 403 | FAIL: HTTP 404 |" in text


# ------------------------------------------------------------------------------ preview summary


def _violation(level: str, policy: str, message: str, unknown: bool = False) -> dict[str, Any]:
    return {
        "policy": policy,
        "enforcementLevel": level,
        "resourceType": "azure-native:web:WebApp",
        "resourceName": "api-webapp",
        "message": f"Policy description.\n{message}",
        "description": "Policy description.",
        "skippedUnknownDuringPreview": unknown,
    }


def _report() -> dict[str, Any]:
    gate = {"name": "meajudaai-compatibility-gate", "path": "policies/compatibility_gate", "violations": []}
    baseline = {"name": "meajudaai-baseline", "path": "policies/baseline", "violations": []}
    prod_gate = dict(
        gate, violations=[_violation("mandatory", "hangfire-npgsql-gate", "release x | blocked")]
    )
    prod_base = dict(baseline, violations=[_violation("advisory", "tls", "unknown", unknown=True)])
    return {
        "schemaVersion": 1,
        "tool": "offline-preview",
        "mode": "preview",
        "ok": False,
        "stacks": [
            {
                "stack": "dev",
                "ok": True,
                "problems": [],
                "summary": {"create": 30},
                "policyPacks": [gate, baseline],
                "policyCounts": {},
            },
            {
                "stack": "prod",
                "ok": False,
                "problems": ["1 mandatory policy violation(s)"],
                "summary": {"create": 39},
                "policyPacks": [prod_gate, prod_base],
                "policyCounts": {"mandatory": 1, "skippedUnknown": 1},
            },
        ],
    }


def test_the_summary_has_a_verdict_line_per_stack() -> None:
    text = summary.render(_report())
    assert text.startswith("## Offline preview: FAILED")
    assert "| `dev` | ok | 30 | meajudaai-compatibility-gate, meajudaai-baseline | 0 | 0 | 0 |" in text
    assert (
        "| `prod` | **failed** | 39 | meajudaai-compatibility-gate, meajudaai-baseline | 1 | 0 | 1 |" in text
    )
    # dev has nothing to explain, prod has its own section.
    assert "### `dev`" not in text
    assert "### `prod`" in text


def test_violations_show_their_own_message_with_pipes_escaped() -> None:
    text = summary.render(_report())
    assert "| mandatory | meajudaai-compatibility-gate | hangfire-npgsql-gate |" in text
    assert "release x \\| blocked |" in text
    assert "Policy description." not in text
    assert "advisory (unknown in preview)" in text


def test_a_runaway_rule_is_truncated() -> None:
    report = _report()
    many = [_violation("advisory", f"p{i}", "m") for i in range(summary.MAX_VIOLATIONS_PER_STACK + 5)]
    report["stacks"][1]["policyPacks"][1]["violations"] = many
    text = summary.render(report)
    assert "and 6 more" in text  # 1 mandatory + 65 advisory, 60 shown


def test_the_summary_reads_the_offline_tools_own_report() -> None:
    # Built by offline.report itself, so a renamed key in the tool's JSON shows up here, not as zeros.
    gate = PackResult(
        path="policies/compatibility_gate",
        name="meajudaai-compatibility-gate",
        violations=[
            Violation(
                policy="hangfire-npgsql-gate",
                level="mandatory",
                message="Gate.\nrelease r1 in prod: blocked",
                description="Gate.",
                urn="urn:pulumi:prod::meajudaai-infra::azure-native:web:WebApp::api-webapp",
                resource_type="azure-native:web:WebApp",
                resource_name="api-webapp",
            )
        ],
    )
    baseline = PackResult(path="policies/baseline", name="meajudaai-baseline")
    report = build_report(
        "meajudaai-infra",
        "preview",
        [StackResult(stack="dev"), StackResult(stack="prod", packs=[gate, baseline])],
    )
    text = summary.render(report)
    assert "## Offline preview: FAILED" in text
    # Only the gate fails prod: the tool's overview calls that blocked, and so does the summary.
    assert (
        "| `prod` | **blocked** | - | meajudaai-compatibility-gate, meajudaai-baseline | 1 | 0 | 0 |" in text
    )
    assert (
        "| mandatory | meajudaai-compatibility-gate | hangfire-npgsql-gate "
        "| azure-native:web:WebApp: api-webapp |" in text
    )
    assert "| release r1 in prod: blocked |" in text
    assert "- 1 mandatory policy violation(s)" in text


def test_a_passing_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _report()
    report["ok"] = True
    report["stacks"] = report["stacks"][:1]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert summary.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Offline preview: passed")
    assert "###" not in out


@pytest.mark.parametrize(
    ("version", "found"),
    [(None, "has no schemaVersion"), (2, "has schemaVersion 2"), ("1", "has schemaVersion '1'")],
)
def test_a_report_of_another_schema_version_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: object, found: str
) -> None:
    report = _report()
    if version is None:
        del report["schemaVersion"]
    else:
        report["schemaVersion"] = version
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert summary.main([str(path)]) == 1
    captured = capsys.readouterr()
    expected = f"The report {found}; this summary reads schemaVersion 1"
    assert expected in captured.out
    assert f"error: {path}: {expected}" in captured.err
    assert "| `prod` |" not in captured.out  # nothing read from a shape it does not know


def test_the_summary_and_the_tool_agree_on_the_schema_version() -> None:
    report = build_report("meajudaai-infra", "preview", [])
    assert report["schemaVersion"] == summary.SCHEMA_VERSION
    assert summary.schema_problem(report) is None


def test_a_blocked_stack_lists_the_commands_that_clear_it() -> None:
    from tests.test_offline_summary import blocking, gate_output, gate_pack, stack_result  # noqa: PLC0415

    report = build_report(
        "meajudaai-infra",
        "preview",
        [
            stack_result(
                "prod", {"compatibilityGate": gate_output("blocked", [1])}, gate_pack(blocking("prod", [1]))
            )
        ],
    )
    text = summary.render(report)
    assert "| `prod` | **blocked** |" in text
    assert "Compatibility gate: release `cc4de0a8` is risky: Hangfire.PostgreSql 1.21.1" in text
    assert "```sh\n# (1) Hangfire integration tests (TRX or xUnit report): no evidence recorded\n" in text
    assert "./venv/bin/python -m gate record tests -s prod --by <name> --report <file.trx>" in text


def test_an_unreadable_report_still_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_text("{not json", encoding="utf-8")
    assert summary.main([str(path)]) == 1
    assert "could not be read" in capsys.readouterr().out


# ------------------------------------------------------------------------------ venv setup


def _fake_project(root: Path, packs: list[str]) -> None:
    (root / "requirements.txt").write_text("# program\npulumi==3.272.0\n", encoding="utf-8")
    (root / "requirements-dev.txt").write_text("", encoding="utf-8")
    for pack in packs:
        (root / "policies" / pack).mkdir(parents=True)
        (root / "policies" / pack / "PulumiPolicy.yaml").write_text("runtime: python\n", encoding="utf-8")
        (root / "policies" / pack / "requirements.txt").write_text("", encoding="utf-8")


def _setup(root: Path) -> subprocess.CompletedProcess[str]:
    # The fake requirements install nothing; a stub "python" keeps venv creation out of the test's time.
    stub = root / "fake-python"
    stub.write_text(
        '#!/bin/sh\n# "python -m venv DIR": a venv whose pip installs nothing\n'
        'mkdir -p "$3/bin" && printf \'#!/bin/sh\\nexit 0\\n\' > "$3/bin/pip" && chmod +x "$3/bin/pip"\n',
        encoding="utf-8",
    )
    stub.chmod(0o755)
    env = {**os.environ, "PYTHON": str(stub), "GITHUB_OUTPUT": str(root / "github-output")}
    return subprocess.run(
        ["bash", str(SCRIPTS / "setup-venvs.sh"), "requirements.txt"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_setup_creates_a_venv_per_pack_and_reports_the_cli_version(tmp_path: Path) -> None:
    _fake_project(tmp_path, ["baseline", "compatibility_gate"])
    result = _setup(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "venv" / "bin" / "pip").exists()
    for pack in ("baseline", "compatibility_gate"):
        assert (tmp_path / "policies" / pack / "venv" / "bin" / "pip").exists()
    assert (tmp_path / "github-output").read_text(encoding="utf-8") == "pulumi-version=3.272.0\n"


def test_setup_fails_when_a_pack_is_missing(tmp_path: Path) -> None:
    _fake_project(tmp_path, ["baseline"])
    result = _setup(tmp_path)
    assert result.returncode != 0
    assert "found 1" in result.stderr


def test_the_cli_version_follows_the_projects_sdk_pin() -> None:
    # The CLI CI installs (setup-venvs.sh reads this pin) must be the SDK version the program is tested with.
    pins = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("pulumi==") for line in pins)


# ------------------------------------------------------------------------------ rollback contract


def _rollback_stop_path() -> str:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "rollback.yml").read_text(encoding="utf-8"))
    path: str = doc["env"]["STOP_CONFIG_PATH"]
    return path


def stop_setting_problem(config_path: str) -> str | None:
    """Why `pulumi config set --path <config_path> true` would not reach a boolean the program reads."""
    model: type[BaseModel] = Settings
    *parents, leaf = config_path.split(".")
    for segment in parents:
        field = next((f for f in model.model_fields.values() if f.alias == segment), None)
        if field is None:
            return f"{model.__name__} has no {segment!r}"
        if not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return f"{segment!r} is not an object"
        model = field.annotation
    field = next((f for f in model.model_fields.values() if f.alias == leaf), None)
    if field is None:
        return f"{model.__name__} has no {leaf!r}"
    if field.annotation is not bool:
        return f"{leaf!r} is {field.annotation}, not bool"
    return None


def test_the_rollback_stop_setting_exists_in_the_settings_model() -> None:
    assert stop_setting_problem(_rollback_stop_path()) is None


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("app.stopped", "no 'app'"),
        ("api.halted", "no 'halted'"),
        ("api.planSku", "not bool"),
        ("api.auth.x", "no 'x'"),
    ],
)
def test_a_wrong_stop_setting_is_caught(path: str, words: str) -> None:
    problem = stop_setting_problem(path)
    assert problem is not None and words in problem


def test_the_stop_setting_key_is_an_object_in_every_stack_file() -> None:
    # --path merges into the existing object; a scalar there would make `config set --path` fail.
    top = _rollback_stop_path().split(".")[0]
    for stack in ("dev", "staging", "prod"):
        doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
        value = (doc.get("config") or {}).get(f"meajudaai-infra:{top}")
        assert value is None or isinstance(value, dict), stack
