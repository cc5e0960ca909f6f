"""The offline preview's pieces without pack processes: config, policy config, wire values, engine."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import pytest

from offline import runner
from offline.engine import ProgramRun, run_program
from offline.parallel import external_imports, preload_program_imports
from offline.policyconfig import PolicyConfig, PolicyConfigError, PolicyMeta, parse_config, reconcile
from offline.stackconfig import ConfigError, load_project, load_stack
from offline.values import (
    RESOURCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    display,
    for_analyzer,
    scrub,
    to_python,
    to_struct,
)

PROJECT = Path(__file__).resolve().parent / "fixtures" / "offline" / "project"


def write_project(tmp: Path, stack_yaml: str, project_extra: str = "") -> Path:
    (tmp / "Pulumi.yaml").write_text(f"name: demo\nruntime: python\n{project_extra}")
    (tmp / "__main__.py").write_text("")
    (tmp / "Pulumi.dev.yaml").write_text(stack_yaml)
    return tmp


# ---- stack configuration --------------------------------------------------------------------


def test_secure_values_become_marked_placeholders_and_secret_keys(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        "config:\n"
        "  demo:db:\n"
        "    login: admin\n"
        "    password:\n"
        "      secure: v1:abc\n"
        "  demo:token:\n"
        "    secure: v1:def\n"
        "  demo:plain: hello\n",
    )
    cfg = load_stack(load_project(tmp_path), "dev")
    assert cfg.values["demo:token"] == "offline-placeholder-secret:demo:token"
    assert json.loads(cfg.values["demo:db"]) == {
        "login": "admin",
        "password": "offline-placeholder-secret:demo:db.password",
    }
    assert sorted(cfg.secret_keys) == ["demo:db", "demo:token"]
    assert "v1:abc" not in cfg.env_json() and "v1:def" not in cfg.env_json()


def test_values_are_strings_as_the_engine_passes_them(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        "config:\n  demo:on: true\n  demo:n: 3\n  demo:list: [b, a]\n  demo:obj: {z: 1, a: {k: x}}\n",
        "config:\n  region:\n    default: brazilsouth\n  pulumi:tags:\n    value:\n      team: platform\n",
    )
    cfg = load_stack(load_project(tmp_path), "dev")
    assert cfg.values["demo:on"] == "true"
    assert cfg.values["demo:n"] == "3"
    assert cfg.values["demo:list"] == '["b","a"]'
    assert cfg.values["demo:obj"] == '{"a":{"k":"x"},"z":1}'
    # Project-level defaults land in the project namespace; stack tags are not program config.
    assert cfg.values["demo:region"] == "brazilsouth"
    assert "pulumi:tags" not in cfg.values
    assert cfg.stack_tags["team"] == "platform"
    assert cfg.stack_tags["pulumi:project"] == "demo"


@pytest.mark.parametrize(
    ("stack_yaml", "expected"),
    [
        ("config:\n  region: x\n", "config key 'region' has no namespace"),
        ("config:\n  demo:empty:\n", "config key 'demo:empty' has no value"),
        ("config: [1, 2]\n", "`config` must be a mapping"),
        ("config:\n  demo:x: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_stack_config_names_file_and_key(tmp_path: Path, stack_yaml: str, expected: str) -> None:
    write_project(tmp_path, stack_yaml)
    with pytest.raises(ConfigError) as err:
        load_stack(load_project(tmp_path), "dev")
    assert expected in str(err.value)
    assert "Pulumi.dev.yaml" in str(err.value)


def test_project_must_be_python(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: nodejs\n")
    with pytest.raises(ConfigError, match="runtime"):
        load_project(tmp_path)


# ---- policy pack config ---------------------------------------------------------------------

POLICIES = [
    PolicyMeta("a", "A", "mandatory"),
    PolicyMeta(
        "b", "B", "advisory", schema_properties={"limit": {"type": "integer", "minimum": 1, "default": 5}}
    ),
]


def test_config_precedence_default_initial_all_then_named() -> None:
    initial = {"a": PolicyConfig("advisory"), "b": PolicyConfig(None, {"limit": 7})}
    user = parse_config({"all": "disabled", "b": {"enforcementLevel": "mandatory", "limit": 9}}, "cfg.json")
    effective, errors, unknown = reconcile(POLICIES, initial, user)
    assert errors == [] and unknown == []
    assert effective["a"].enforcement_level == "disabled"
    assert effective["b"].enforcement_level == "mandatory"
    assert effective["b"].properties == {"limit": 9}


def test_schema_defaults_apply_without_a_file() -> None:
    effective, errors, _ = reconcile(POLICIES, {}, {})
    assert errors == []
    assert effective["a"].enforcement_level == "mandatory"
    assert effective["b"].properties == {"limit": 5}


def test_config_is_validated_against_the_policy_schema() -> None:
    _, errors, unknown = reconcile(POLICIES, {}, parse_config({"b": {"limit": 0}, "zzz": "advisory"}, "f"))
    assert errors == ["b: limit: 0 is less than the minimum of 1"]
    assert unknown == ["zzz"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"a": "blocking"}, "'blocking' is not a valid enforcement level"),
        ({"a": {"enforcementLevel": 1}}, "must be a string"),
        ({"a": 3}, "must be a string or object"),
        ([1], "expected a JSON object"),
    ],
)
def test_malformed_policy_config_is_refused(data: object, expected: str) -> None:
    with pytest.raises(PolicyConfigError) as err:
        parse_config(data, "cfg.json")
    assert expected in str(err.value)
    assert "cfg.json" in str(err.value)


# ---- wire values ----------------------------------------------------------------------------


def test_analyzer_view_drops_resource_references_but_keeps_secrets_and_unknowns() -> None:
    struct = to_struct(
        {
            "plan": {SIG_KEY: RESOURCE_SIG, "urn": "urn:pulumi:dev::p::t::plan", "id": "/subs/x/plan"},
            "parent": {SIG_KEY: RESOURCE_SIG, "urn": "urn:pulumi:dev::p::c::comp"},
            "pending": {SIG_KEY: RESOURCE_SIG, "urn": "urn:x", "id": ""},
            "password": {SIG_KEY: SECRET_SIG, "value": "s3cret"},
            "later": UNKNOWN,
        }
    )
    view = to_python(for_analyzer(struct))
    assert view["plan"] == "/subs/x/plan"
    assert view["parent"] == "urn:pulumi:dev::p::c::comp"
    assert view["pending"] == UNKNOWN
    assert view["password"] == {SIG_KEY: SECRET_SIG, "value": "s3cret"}
    assert view["later"] == UNKNOWN


def test_display_masks_secrets_and_marks_unknowns() -> None:
    shown = display({"p": {SIG_KEY: SECRET_SIG, "value": "x"}, "u": UNKNOWN, "n": 7.0, "l": [UNKNOWN]})
    assert shown == {"p": "[secret]", "u": "[unknown]", "n": 7, "l": ["[unknown]"]}
    assert scrub({"m": ["a tok-1 b"]}, {"tok-1"}) == {"m": ["a [secret] b"]}


# ---- the engine -----------------------------------------------------------------------------


def _summary(run: ProgramRun) -> dict[str, dict[str, object]]:
    return {r.urn: display(to_python(r.inputs)) for r in run.resources}


def test_stacks_run_in_one_process_do_not_leak_into_each_other() -> None:
    project = load_project(PROJECT)
    dev_first = run_program(load_stack(project, "dev"), preview=False)
    prod_after_dev = run_program(load_stack(project, "prod"), preview=False)
    prod_again = run_program(load_stack(project, "prod"), preview=False)
    assert dev_first.error is None and prod_after_dev.error is None
    assert _summary(prod_after_dev) == _summary(prod_again)
    assert all(":dev::" not in urn for urn in _summary(prod_after_dev))
    # dev has two topics, prod none: module-level config must not carry over.
    assert sum(r.type == "azure-native:servicebus:Topic" for r in dev_first.resources) == 2
    assert sum(r.type == "azure-native:servicebus:Topic" for r in prod_after_dev.resources) == 0


def test_preview_leaves_computed_values_unknown_where_update_knows_them() -> None:
    cfg = load_stack(load_project(PROJECT), "prod")
    runs = {mode: run_program(cfg, preview=mode == "preview") for mode in ("preview", "update")}
    webapp = {m: next(r for r in run.resources if r.name == "api-app") for m, run in runs.items()}
    assert to_python(webapp["preview"].inputs)["serverFarmId"] == UNKNOWN
    assert to_python(webapp["update"].inputs)["serverFarmId"].startswith(
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-fixture-prod/"
    )
    assert webapp["preview"].id == ""
    assert to_python(webapp["update"].outputs)["defaultHostName"] == "app-api-prod.azurewebsites.net"
    assert display(to_python(runs["preview"].stack_outputs))["vaultUri"] == "[unknown]"
    assert (
        display(to_python(runs["update"].stack_outputs))["vaultUri"]
        == "https://kv-fixture-prod.vault.azure.net/"
    )


def test_engine_adds_the_default_providers_the_cli_would_register() -> None:
    run = run_program(load_stack(load_project(PROJECT), "dev"), preview=True)
    providers = {r.urn: r for r in run.resources if r.synthetic}
    azure = next(p for p in providers.values() if p.type == "pulumi:providers:azure-native")
    assert to_python(azure.inputs)["location"] == "brazilsouth"
    rg = next(r for r in run.resources if r.name == "rg")
    assert rg.provider_urn == azure.urn


# ---- running stacks in forked processes -----------------------------------------------------


def test_jobs_fork_only_when_there_is_more_than_one_stack_to_share_the_cpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert runner.effective_jobs(0, 3) == 2  # default: one per CPU
    assert runner.effective_jobs(0, 1) == 1  # a single stack runs here, no fork
    assert runner.effective_jobs(5, 3) == 3  # never more processes than stacks
    assert runner.effective_jobs(1, 3) == 1  # --jobs 1: the sequential path
    monkeypatch.setattr(runner, "can_fork", lambda: False)  # no os.fork (Windows)
    assert runner.effective_jobs(4, 3) == 1


def test_preload_reads_the_programs_imports_without_importing_the_program() -> None:
    project = load_project(PROJECT)
    found = external_imports(project)
    # fixture_helpers is the program's own module: followed (its `web` import is found), not listed.
    assert ("pulumi_azure_native", ("web",)) in found.attributes
    assert ("pulumi_azure_native", ("servicebus", "Topic")) in found.attributes
    assert {"pulumi", "pulumi_random", "pulumi_azure_native"} <= found.modules
    assert not any(m.startswith("fixture_helpers") for m in found.modules)
    preload_program_imports(project)
    assert "fixture_helpers" not in sys.modules
    web = sys.modules["pulumi_azure_native.web"]
    assert type(web) is types.ModuleType  # a lazily imported module, now really loaded
    assert hasattr(web, "WebApp")
