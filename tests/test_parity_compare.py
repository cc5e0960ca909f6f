"""Bicep fixtures against the program's dev stack (run once, offline), and the comparison's rules."""

import io
from pathlib import Path

import pytest

import parity.program
from parity.cli import main
from parity.compare import Finding, compare
from parity.differences import DELIBERATE, Deliberate, covers, differences_markdown
from parity.program import ProgramResource, ProgramStack, capture_stack
from parity.template import ArmResource, DeploymentScope, TemplateResult, load_template
from parity.values import Runtime, Secret

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "parity"
SB = "Microsoft.ServiceBus/namespaces"
PG = "Microsoft.DBforPostgreSQL/flexibleServers"


@pytest.fixture(scope="module")
def dev() -> ProgramStack:
    return capture_stack("dev", ROOT)


def findings(comparison, subject_start: str) -> dict[str, Finding]:
    return {f.path: f for f in comparison.findings if f.subject.startswith(subject_start)}


def test_gen1_against_dev_mirrors_the_namespace_and_both_rules(dev):
    comparison = compare(load_template(FIXTURES / "gen1" / "main.bicep", dev.scope), dev)
    assert comparison.unexplained == []
    namespace = findings(comparison, f"{SB} sb-MeAjudaAi-dev =")
    for path in ("sku.name", "properties.minimumTlsVersion", "properties.disableLocalAuth", "location"):
        assert namespace[path].status == "mirrored", path
    assert namespace["tags.environment"].status == "deliberate"
    rule = findings(comparison, f"{SB}/authorizationRules sb-MeAjudaAi-dev/ManagementPolicy")
    assert rule["properties.rights"].status == "mirrored"
    assert rule["properties.rights"].program_path == "rights"
    outputs = findings(comparison, "output ")
    assert outputs["serviceBusNamespace"].status == "mirrored"
    assert outputs["serviceBusEndpoint"].status == "runtime"
    rg = f"/subscriptions/{dev.scope.subscription_id}/resourceGroups/{dev.scope.resource_group}"
    assert [a.resource_id for a in comparison.adoption] == [
        rg,
        f"{rg}/providers/{SB}/sb-MeAjudaAi-dev",
        f"{rg}/providers/{SB}/sb-MeAjudaAi-dev/authorizationRules/ManagementPolicy",
        f"{rg}/providers/{SB}/sb-MeAjudaAi-dev/authorizationRules/ApplicationPolicy",
    ]


def test_gen2_against_dev_has_only_declared_differences(dev):
    template = load_template(
        FIXTURES / "gen2" / "main.bicep", dev.scope, FIXTURES / "gen2" / "dev.parameters.json"
    )
    comparison = compare(template, dev)
    assert comparison.unexplained == []
    server = findings(comparison, f"{PG} psql-dev-")
    for path in ("sku.name", "properties.version", "properties.backup.backupRetentionDays"):
        assert server[path].status == "mirrored", path
    assert server["properties.administratorLoginPassword"].status == "secret"
    assert server["properties.publicNetworkAccess"].status == "deliberate"
    assert server["network.publicNetworkAccess"].kind == "extra"
    redis = [f for f in comparison.findings if f.resource == "Microsoft.Cache/redisEnterprise"]
    assert [(f.kind, f.status) for f in redis] == [("missing", "deliberate")]
    assert {f.status for f in comparison.findings if f.resource.startswith("Microsoft.Network/")} == {
        "not deployed"
    }
    assert findings(comparison, "output ")["postgresDatabase"].status == "mirrored"


def test_an_unexplained_difference_names_the_path_and_both_values_and_fails(dev, monkeypatch):
    monkeypatch.setattr(parity.program, "capture_stack", lambda *args, **kwargs: dev)
    out = io.StringIO()
    assert main(["compare", str(FIXTURES / "drift" / "main.bicep"), "--stack", "dev"], out=out) == 1
    summary = out.getvalue().split("\nSummary: ", 1)[1].splitlines()
    assert summary[0].endswith("2 UNEXPLAINED")
    unexplained = summary[1:]
    assert len(unexplained) == 2
    assert "properties.minimumTlsVersion" in unexplained[0] and "Bicep '1.0', program '1.2'" in unexplained[0]
    assert "properties.zoneRedundant" in unexplained[1] and "missing from the program" in unexplained[1]


def test_the_fixtures_compare_clean_through_the_command(dev, monkeypatch, tmp_path):
    monkeypatch.setattr(parity.program, "capture_stack", lambda *args, **kwargs: dev)
    gen2 = [
        "compare",
        str(FIXTURES / "gen2" / "main.bicep"),
        "-p",
        str(FIXTURES / "gen2" / "dev.parameters.json"),
    ]
    report = tmp_path / "parity.json"
    assert main([*gen2, "--stack", "dev", "--json", str(report)], out=io.StringIO()) == 0
    assert '"unexplained": 0' in report.read_text()


SCOPE = DeploymentScope("0000", "rg", "brazilsouth")


def synthetic(body: dict, inputs: dict, import_id: str = "", outputs: tuple = ({}, {})) -> list[Finding]:
    rid = f"/subscriptions/0000/resourceGroups/rg/providers/{SB}/Sb-One"
    resource = ArmResource(
        "ns",
        SB,
        "2022-10-01-preview",
        "Sb-One",
        rid,
        body,
        deployed=True,
        existing=False,
        file=Path("x.bicep"),
        line=1,
    )
    template = TemplateResult(Path("x.bicep"), [resource], outputs[0])
    program = ProgramStack(
        "dev",
        SCOPE,
        [
            ProgramResource(
                "azure-native:servicebus:Namespace", "ns", {"namespaceName": "sb-one", **inputs}, import_id
            )
        ],
        outputs[1],
    )
    return compare(template, program, deliberate=()).findings


def statuses(found: list[Finding]) -> dict[str, str]:
    return {f.path: f.status for f in found if f.path != "@apiVersion"}


def test_values_are_compared_as_arm_reads_them():
    body = {
        "location": "Brazil South",
        "properties": {"rights": ["Send", "Listen"], "id": "/SUBSCRIPTIONS/x/Y", "on": True, "n": 7},
    }
    inputs = {
        "location": "brazilsouth",
        "rights": ["Listen", "Send"],
        "id": "/subscriptions/x/y",
        "on": True,
        "n": 7.0,
    }
    assert set(statuses(synthetic(body, inputs)).values()) == {"mirrored"}
    assert statuses(synthetic({"properties": {"on": True}}, {"on": 1}))["properties.on"] == "UNEXPLAINED"
    assert statuses(synthetic({"properties": {"tier": "Standard"}}, {"tier": "standard"}))[
        "properties.tier"
    ] == ("UNEXPLAINED")


def test_secrets_and_runtime_values_are_never_compared_by_value():
    found = statuses(
        synthetic({"properties": {"a": Secret("p"), "b": Secret("q"), "c": Runtime("x.properties.y")}},
                  {"a": Secret("s"), "b": "plain", "c": "value"})
    )  # fmt: skip
    assert found == {"properties.a": "secret", "properties.b": "UNEXPLAINED", "properties.c": "runtime"}


def test_a_wrong_import_id_is_an_unexplained_difference():
    found = synthetic({}, {}, import_id="/subscriptions/0000/resourceGroups/rg/providers/" + SB + "/other")
    assert statuses(found)["@import"] == "UNEXPLAINED"
    right = synthetic({}, {}, import_id="/subscriptions/0000/resourceGroups/RG/providers/" + SB + "/sb-one")
    assert "@import" not in statuses(right)


def test_outputs_missing_extra_and_different():
    found = synthetic({}, {}, outputs=({"a": "x", "b": "y"}, {"a": "z", "c": 1}))
    kinds = {f.path: f.kind for f in found if f.resource == "output"}
    assert kinds == {"a": "differs", "b": "missing", "c": "extra"}


def finding(kind, resource, path, token=""):
    return Finding(kind, resource, "s", path, token=token)


def test_a_declaration_covers_its_path_and_below_in_its_stacks_only():
    entry = Deliberate("differs", PG, "properties.backup", "r", stacks=("prod",))
    assert covers(entry, finding("differs", PG, "properties.backup.backupRetentionDays"), "prod", set())
    assert not covers(entry, finding("differs", PG, "properties.backupx"), "prod", set())
    assert not covers(entry, finding("differs", PG, "properties.backup.geoRedundantBackup"), "dev", set())
    assert not covers(entry, finding("missing", PG, "properties.backup"), "prod", set())


def test_when_bicep_lacks_excuses_an_extra_resource_only_if_the_bicep_has_none():
    entry = Deliberate("extra", "azure-native:servicebus:*", "", "r", when_bicep_lacks=SB)
    extra = finding("extra", "azure-native:servicebus:Namespace", "", "azure-native:servicebus:Namespace")
    assert covers(entry, extra, "dev", {PG.lower()})
    assert not covers(entry, extra, "dev", {SB.lower()})


def test_every_declaration_has_a_reason_and_the_docs_carry_the_table():
    assert all(d.reason.strip() and d.kind in ("differs", "missing", "extra") for d in DELIBERATE)
    docs = (ROOT / "docs" / "bicep-parity.md").read_text(encoding="utf-8")
    assert differences_markdown(DELIBERATE) in docs


def test_a_resource_missing_under_another_name_names_the_programs_one():
    resource = ArmResource(
        "ns",
        SB,
        "v",
        "sb-MeAjudaAi-dev",
        "id",
        {},
        deployed=True,
        existing=False,
        file=Path("x.bicep"),
        line=1,
    )
    program = ProgramStack(
        "staging",
        SCOPE,
        [
            ProgramResource(
                "azure-native:servicebus:Namespace", "ns", {"namespaceName": "sb-MeAjudaAi-staging"}, ""
            )
        ],
        {},
    )
    found = compare(TemplateResult(Path("x.bicep"), [resource], {}), program, deliberate=())
    missing = [f for f in found.findings if f.kind == "missing"]
    assert [(f.status, f.program) for f in missing] == [("UNEXPLAINED", "sb-MeAjudaAi-staging")]


@pytest.fixture(scope="module")
def adopting_dev() -> list:
    zeros = "00000000-0000-0000-0000-000000000000"  # the offline engine's subscription
    adopting = capture_stack("dev", ROOT, {"meajudaai-infra:adopt": {"subscriptionId": zeros}})
    params = FIXTURES / "gen2" / "dev.parameters.json"
    return [
        compare(load_template(FIXTURES / "gen1" / "main.bicep", adopting.scope), adopting),
        compare(load_template(FIXTURES / "gen2" / "main.bicep", adopting.scope, params), adopting),
    ]


def test_with_adoption_on_the_program_imports_exactly_the_ids_the_bicep_deployed(adopting_dev):
    for comparison in adopting_dev:
        assert comparison.adoption and all(a.import_id == a.resource_id for a in comparison.adoption)
        assert all(f.kind == "import-diff" for f in comparison.unexplained)
    assert {a.token.rsplit(":", 1)[1] for c in adopting_dev for a in c.adoption} == {
        "ResourceGroup", "Namespace", "NamespaceAuthorizationRule", "Server", "Database",
    }  # fmt: skip


def test_with_adoption_on_no_adopted_input_differs_from_the_bicep_unignored(adopting_dev):
    assert [f.program_path for c in adopting_dev for f in c.findings if f.kind == "import-diff"] == []


def test_an_adopted_resource_must_ignore_every_input_that_differs_from_the_bicep():
    rid = f"/subscriptions/0000/resourceGroups/rg/providers/{SB}/sb-one"
    resource = ArmResource(
        "ns", SB, "v", "sb-one", rid, {"properties": {"minimumTlsVersion": "1.0"}},
        deployed=True, existing=False, file=Path("x.bicep"), line=1,
    )  # fmt: skip
    inputs = {
        "namespaceName": "sb-one",
        "tags": {"a": "b"},
        "minimumTlsVersion": "1.2",
        "zoneRedundant": True,
    }
    program = ProgramStack(
        "dev", SCOPE, [ProgramResource("azure-native:servicebus:Namespace", "ns", inputs, rid, ("tags",))], {}
    )
    declared = (
        Deliberate("extra", "*", "tags", "r"),
        Deliberate("extra", SB, "zoneRedundant", "r"),
        Deliberate("differs", SB, "properties.minimumTlsVersion", "r"),
    )
    found = compare(TemplateResult(Path("x.bicep"), [resource], {}), program, deliberate=declared).findings
    blocked = sorted(f.program_path for f in found if f.kind == "import-diff")
    assert blocked == [
        "minimumTlsVersion",
        "zoneRedundant",
    ]  # tags are ignored; declared or not, these are not
    assert all(f.status == "UNEXPLAINED" for f in found if f.kind == "import-diff")
