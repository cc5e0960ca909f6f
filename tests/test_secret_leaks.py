"""No secret value in plaintext: stack outputs, tags, app settings, every other input, the outputs the
components register, and the offline preview's report (text and JSON), for all three stacks in update mode
(where the values are known).

The secrets are the ones this project makes or receives: the generated PostgreSQL admin password
(RandomPassword `result`), the Service Bus keys and connection strings (the invoke answers in
offline/outputs.py, for both SAS rules), the App Insights connection string and instrumentation key, and
the placeholders that stand in for secure config values. A value may appear only inside a secret wrapper.
Provider-computed outputs of custom resources are not checked: they are Azure's answers about its own
resources (the App Insights component does report its connection string), not something the program
places anywhere.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console

from offline import outputs as offline_outputs
from offline.analyzer import PackResult, discover_packs
from offline.engine import ProgramRun
from offline.report import StackResult, build_report, render
from offline.stackconfig import StackConfig, load_project, load_stack
from offline.values import is_secret, secret, to_python, to_struct
from tests.fixtures.baseline.protocol import ROOT, analyze_all
from tests.program import STACKS, Run, run_stack

LIST_KEYS = "azure-native:servicebus:listNamespaceKeys"
SAS_RULES = ("ManagementPolicy", "ApplicationPolicy")


# ------------------------------------------------------------------------------------------ the checker
def secret_values(run: Run, config: StackConfig) -> dict[str, str]:
    """label -> plaintext of every secret this stack has."""
    found: dict[str, str] = {}
    for generated in run.of_type("random:index/randomPassword:RandomPassword"):
        result = generated.outputs["result"]
        found[f"generated {generated.name}"] = result["value"] if is_secret(result) else result
    namespace = run.one("azure-native:servicebus:Namespace").get("namespaceName")
    for rule in SAS_RULES:
        keys = offline_outputs.invoke_result(
            LIST_KEYS, {"namespaceName": namespace, "authorizationRuleName": rule}
        )
        assert keys is not None
        for field in ("primaryKey", "secondaryKey", "primaryConnectionString", "secondaryConnectionString"):
            found[f"service bus {rule} {field}"] = keys[field]
    component = run.one("azure-native:applicationinsights:Component").outputs
    found["app insights connection string"] = component["connectionString"]
    found["app insights instrumentation key"] = component["instrumentationKey"]
    for placeholder in config.placeholders:
        found[f"secure config {placeholder.rsplit(':', 1)[-1]}"] = placeholder
    return found


@dataclass(frozen=True)
class Leak:
    where: str
    secret: str


def leaks_in(value: Any, secrets: Mapping[str, str], where: str) -> Iterator[Leak]:
    """Every place below `value` where a secret appears outside a secret wrapper."""
    if is_secret(value):
        return
    if isinstance(value, str):
        yield from (Leak(where, label) for label, text in secrets.items() if text in value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from leaks_in(item, secrets, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaks_in(item, secrets, f"{where}[{index}]")


def wrapped_strings(value: Any, inside: bool = False) -> Iterator[str]:
    """Every string that sits inside a secret wrapper."""
    if is_secret(value):
        yield from wrapped_strings(value.get("value"), True)
    elif isinstance(value, str):
        if inside:
            yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from wrapped_strings(item, inside)
    elif isinstance(value, list):
        for item in value:
            yield from wrapped_strings(item, inside)


def program_leaks(run: ProgramRun, secrets: Mapping[str, str]) -> list[Leak]:
    """Inputs of every resource (tags and app settings among them), component and stack outputs."""
    found: list[Leak] = []
    for resource in run.resources:
        inputs = to_python(resource.inputs)
        for key, value in inputs.items():
            area = {"tags": "tags", "siteConfig": "app settings"}.get(key, "inputs")
            found += leaks_in(value, secrets, f"{area}: {resource.type} {resource.name}.{key}")
    for urn, registered in run.component_outputs.items():
        found += leaks_in(to_python(registered), secrets, f"outputs: {urn.rsplit('::', 1)[-1]}")
    return found


def report_leaks(report: dict[str, Any], text: str, secrets: Mapping[str, str]) -> list[Leak]:
    as_json = json.dumps(report)
    return [
        Leak(f"report {kind}", label)
        for kind, content in (("JSON", as_json), ("text", text))
        for label, value in secrets.items()
        if value in content
    ]


def render_text(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    render(report, Console(file=buffer, width=400, highlight=False, color_system=None))
    return buffer.getvalue()


# ------------------------------------------------------------------------------ the committed stacks
@dataclass(frozen=True)
class Checked:
    run: Run
    config: StackConfig
    secrets: dict[str, str]
    packs: list[PackResult]


@pytest.fixture(scope="module")
def committed() -> dict[str, Checked]:
    """Update mode, all stacks, every pack under policies/ (as `python -m offline --mode update` runs)."""
    project = load_project(ROOT)
    packs = discover_packs(ROOT)
    runs = {stack: run_stack(stack) for stack in STACKS}
    configs = {stack: load_stack(project, stack) for stack in STACKS}
    jobs = [(runs[s].raw, configs[s], p / "config" / f"{s}.json") for s in STACKS for p in packs]
    results = iter(analyze_all(jobs))
    return {
        stack: Checked(
            runs[stack],
            configs[stack],
            secret_values(runs[stack], configs[stack]),
            [next(results) for _ in packs],
        )
        for stack in STACKS
    }


@pytest.fixture(scope="module")
def report(committed: dict[str, Checked]) -> tuple[dict[str, Any], str]:
    results = [StackResult(s, c.config, run=c.run.raw, packs=c.packs) for s, c in committed.items()]
    built = build_report("meajudaai-infra", "update", results)
    return built, render_text(built)


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_puts_no_secret_anywhere_in_plaintext(committed: dict[str, Checked], stack: str) -> None:
    checked = committed[stack]
    assert checked.run.error is None, checked.run.error
    assert len(checked.secrets) >= 11  # passwords, 8 Service Bus values, 2 App Insights values (+ config)
    outputs = list(leaks_in(checked.run.outputs, checked.secrets, "stack outputs"))
    assert outputs + program_leaks(checked.run.raw, checked.secrets) == []


def test_the_secrets_are_really_there_inside_secret_wrappers(committed: dict[str, Checked]) -> None:
    """Guards the test itself: the values it looks for are the ones the program handles."""
    for stack, checked in committed.items():
        wrapped = " ".join(wrapped_strings([to_python(r.inputs) for r in checked.run.raw.resources]))
        used = [label for label in checked.secrets if label.startswith("generated ")]
        used += ["app insights connection string"]
        assert len(used) >= 2, stack
        for label in used:
            assert checked.secrets[label] in wrapped, (stack, label)
        assert any(
            checked.secrets[f"service bus {rule} primaryConnectionString"] in wrapped for rule in SAS_RULES
        ), stack


def test_the_offline_report_shows_no_secret(
    committed: dict[str, Checked], report: tuple[dict[str, Any], str]
) -> None:
    built, text = report
    assert "Previewing stack prod" in text and len(built["stacks"]) == 3
    secrets = {f"{s} {label}": value for s, c in committed.items() for label, value in c.secrets.items()}
    assert report_leaks(built, text, secrets) == []
    assert {p["name"] for p in built["stacks"][0]["policyPacks"]} >= {"meajudaai-baseline"}


# ------------------------------------------------------------------------------------ it does catch
def test_the_checker_catches_leaks_planted_in_a_real_capture(committed: dict[str, Checked]) -> None:
    checked = committed["prod"]
    secrets = checked.secrets
    run = copy.deepcopy(checked.run.raw)
    password = secrets["generated postgres-admin-password"]
    sas = secrets["service bus ApplicationPolicy primaryKey"]
    for resource in run.resources:
        inputs = to_python(resource.inputs)
        if resource.type == "azure-native:web:WebApp":
            inputs["siteConfig"]["appSettings"].append({"name": "Debug", "value": f"Password={password}"})
            inputs["siteConfig"]["appSettings"].append({"name": "Fine", "value": secret(password)})
        if resource.type == "azure-native:keyvault:Vault":
            inputs["tags"]["sas"] = sas
        resource.inputs = to_struct(inputs)
    stack_outputs = to_python(run.stack_outputs) if run.stack_outputs is not None else {}
    stack_outputs["insights"] = secrets["app insights connection string"]
    found = program_leaks(run, secrets) + list(leaks_in(stack_outputs, secrets, "stack outputs"))
    assert {(leak.where.split(":")[0], leak.secret) for leak in found} == {
        ("app settings", "generated postgres-admin-password"),
        ("tags", "service bus ApplicationPolicy primaryKey"),
        ("stack outputs.insights", "app insights connection string"),
        # The connection string carries the instrumentation key: both are found.
        ("stack outputs.insights", "app insights instrumentation key"),
    }

    # The JSON report lists every input, so it shows what was planted (the text shows no inputs).
    built = build_report("meajudaai-infra", "update", [StackResult("prod", checked.config, run=run)])
    planted = {(leak.where, leak.secret) for leak in report_leaks(built, render_text(built), secrets)}
    assert planted == {
        ("report JSON", "generated postgres-admin-password"),
        ("report JSON", "service bus ApplicationPolicy primaryKey"),
    }
    # A message quoting a key is caught in the report even when the program planted nothing.
    clean = build_report(
        "meajudaai-infra", "update", [StackResult("prod", checked.config, run=checked.run.raw)]
    )
    quoted = f"a careless message quoting {secrets['app insights instrumentation key']}"
    clean["stacks"][0]["program"]["diagnostics"].append({"severity": "warning", "message": quoted})
    places = {leak.where for leak in report_leaks(clean, render_text(clean), secrets)}
    assert places == {"report JSON", "report text"}


def test_a_secure_config_value_never_becomes_a_plaintext_tag() -> None:
    extra = {"extraTags": {"note": {"secure": "v1:planted"}}}
    run = run_stack("dev", extra=extra)
    config = load_stack(load_project(ROOT), "dev", extra)
    placeholders = {p: p for p in config.placeholders}
    assert placeholders
    # Either the program refuses the config, naming the key, or nothing leaks.
    if run.error is not None:
        assert "meajudaai-infra:extraTags" in run.error
        return
    assert program_leaks(run.raw, placeholders) == []
