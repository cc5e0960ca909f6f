"""Loading the Gen-1 and Gen-2 Bicep fixtures: names, conditions, modules, outputs, and input errors."""

import io
from pathlib import Path

import pytest

from parity.cli import main
from parity.errors import ParityInputError
from parity.paths import leaves
from parity.template import DeploymentScope, load_template
from parity.values import Runtime, Secret

FIXTURES = Path(__file__).parent / "fixtures" / "parity"
GEN1 = FIXTURES / "gen1" / "main.bicep"
GEN2 = FIXTURES / "gen2" / "main.bicep"
SUB = "00000000-0000-0000-0000-000000000000"
# uniqueString of this resource group id is bmg7c6xu4tw46 (tests/test_naming.py: a published ARM value)
SCOPE = DeploymentScope(SUB, "my-rg", "westeurope")
RG_ID = f"/subscriptions/{SUB}/resourceGroups/my-rg"
VNET = "/subscriptions/*/resourceGroups/*/providers/Microsoft.Network/virtualNetworks/*"
SUBNET = VNET + "/subnets/*"


def by_type(result):
    return {(r.arm_type, r.name): r for r in result.resources}


def test_gen1_module_params_override_defaults_and_children_get_parent_names():
    result = load_template(GEN1, SCOPE)
    resources = by_type(result)
    namespace = resources[("Microsoft.ServiceBus/namespaces", "sb-MeAjudaAi-dev")]
    assert namespace.api_version == "2022-10-01-preview"
    assert namespace.body == {
        "location": "westeurope",
        "sku": {"name": "Standard", "tier": "Standard"},
        "properties": {
            "minimumTlsVersion": "1.2",
            "publicNetworkAccess": "Enabled",
            "disableLocalAuth": False,
        },
    }
    rule_type = "Microsoft.ServiceBus/namespaces/authorizationRules"
    manage = resources[(rule_type, "sb-MeAjudaAi-dev/ManagementPolicy")]
    assert manage.body == {"properties": {"rights": ["Manage", "Send", "Listen"]}}
    assert manage.resource_id == (
        f"{RG_ID}/providers/Microsoft.ServiceBus/namespaces/sb-MeAjudaAi-dev/authorizationRules/ManagementPolicy"
    )
    assert resources[(rule_type, "sb-MeAjudaAi-dev/ApplicationPolicy")].body["properties"]["rights"] == [
        "Send",
        "Listen",
    ]
    assert all(r.deployed for r in result.resources) and len(result.resources) == 3
    assert manage.symbol == "serviceBus/managementPolicy" and manage.file.name == "servicebus.bicep"


def test_gen1_outputs_pass_through_the_module_and_runtime_values_stay_symbolic():
    outputs = load_template(GEN1, SCOPE, overrides={"environmentName": "prod"}).outputs
    assert outputs == {
        "serviceBusNamespace": "sb-MeAjudaAi-prod",
        "managementPolicyName": "ManagementPolicy",
        "applicationPolicyName": "ApplicationPolicy",
        "serviceBusEndpoint": Runtime("serviceBusNamespace.properties.serviceBusEndpoint"),
    }


def test_gen2_dev_parameters_give_a_public_server_and_no_private_network():
    result = load_template(GEN2, SCOPE, FIXTURES / "gen2" / "dev.parameters.json")
    resources = by_type(result)
    server = resources[("Microsoft.DBforPostgreSQL/flexibleServers", "psql-dev-bmg7c6xu4tw46")]
    assert server.body["location"] == "brazilsouth"  # the parameters file wins over resourceGroup().location
    assert dict(leaves(server.body)) == {
        "location": "brazilsouth",
        "sku.name": "Standard_B1ms",
        "sku.tier": "Burstable",
        "properties.version": "16",
        "properties.administratorLogin": "psqladmin",
        "properties.administratorLoginPassword": Secret("parameter postgresAdminPassword"),
        "properties.storage.storageSizeGB": 32,
        "properties.backup.backupRetentionDays": 7,
        "properties.backup.geoRedundantBackup": "Disabled",
        "properties.publicNetworkAccess": "Enabled",
    }
    database = resources[
        ("Microsoft.DBforPostgreSQL/flexibleServers/databases", "psql-dev-bmg7c6xu4tw46/meajudaai")
    ]
    assert database.deployed and database.body == {}
    not_deployed = {r.arm_type.rsplit("/", 1)[-1] for r in result.resources if not r.deployed}
    assert not_deployed == {
        "privateEndpoints",
        "privateDnsZones",
        "virtualNetworkLinks",
        "privateDnsZoneGroups",
    }
    assert resources[("Microsoft.Cache/redisEnterprise", "redis-dev-bmg7c6xu4tw46")].deployed
    assert result.outputs["postgresPrivateEndpointIp"] == ""
    assert result.outputs["privateDnsZoneName"] == ""
    assert result.outputs["postgresHost"] == Runtime("postgresServer.properties.fullyQualifiedDomainName")


def test_gen2_private_network_conditions_are_uneven():
    only_vnet = load_template(GEN2, SCOPE, overrides={"environmentName": "dev", "vnetId": VNET})
    deployed = {r.arm_type.rsplit("/", 1)[-1] for r in only_vnet.resources if r.deployed}
    assert {"privateDnsZones", "virtualNetworkLinks"} <= deployed
    assert not {"privateEndpoints", "privateDnsZoneGroups"} & deployed
    assert only_vnet.outputs["privateDnsZoneName"] == "privatelink.postgres.database.azure.com"

    both = load_template(
        GEN2, SCOPE, overrides={"environmentName": "dev", "vnetId": VNET, "vnetSubnetId": SUBNET}
    )
    resources = by_type(both)
    assert all(r.deployed for r in both.resources)
    link = resources[
        (
            "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
            "privatelink.postgres.database.azure.com/privatelink.postgres.database.azure.com-link",
        )
    ]
    assert link.body["properties"] == {"registrationEnabled": False, "virtualNetwork": {"id": VNET}}
    server = resources[("Microsoft.DBforPostgreSQL/flexibleServers", "psql-dev-bmg7c6xu4tw46")]
    assert server.body["properties"]["publicNetworkAccess"] == "Disabled"
    endpoint = resources[("Microsoft.Network/privateEndpoints", "psql-dev-bmg7c6xu4tw46-pe")]
    connection = endpoint.body["properties"]["privateLinkServiceConnections"][0]
    assert connection["name"] == "psql-dev-bmg7c6xu4tw46-pe-connection"
    assert connection["properties"]["privateLinkServiceId"] == server.resource_id
    group = resources[
        ("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "psql-dev-bmg7c6xu4tw46-pe/default")
    ]
    zone_id = group.body["properties"]["privateDnsZoneConfigs"][0]["properties"]["privateDnsZoneId"]
    assert (
        zone_id
        == f"{RG_ID}/providers/Microsoft.Network/privateDnsZones/privatelink.postgres.database.azure.com"
    )
    assert both.outputs["postgresPrivateEndpointIp"] == Runtime(
        "postgresPrivateEndpoint.properties.customDnsConfigs[0].ipAddresses[0]"
    )


def test_gen2_allowed_values_are_matched_literally_so_real_ids_are_rejected():
    real = "/subscriptions/1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"
    with pytest.raises(ParityInputError, match="not one of the @allowed values"):
        load_template(GEN2, SCOPE, overrides={"environmentName": "dev", "vnetId": real})


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("files", "params", "where", "fragment"),
    [
        (
            {"main.bicep": "var a = 1\nmodule m 'nope.bicep' = {\n  name: 'm'\n}\n"},
            None,
            "main.bicep:2",
            "file 'nope.bicep' not found",
        ),
        (
            {"main.bicep": "var a = format('{0}', 1)\noutput o string = a\n"},
            None,
            "main.bicep:1",
            "function format() is not supported",
        ),
        ({"main.bicep": "output o string = missing\n"}, None, "main.bicep:1", "unknown symbol 'missing'"),
        (
            {"main.bicep": "param n string\nresource r 'A.B/c@1' = {\n  name: n\n}\n"},
            None,
            "main.bicep:1",
            "has no default and no value",
        ),
        (
            {"main.bicep": "param n int = 1\n"},
            '{"parameters": {\n  "n": {"value": "x"}\n}}',
            "params.json:2",
            "expects int",
        ),
        (
            {"main.bicep": "param n int = 1\n"},
            '{"parameters": {\n  "m": {"value": 1}\n}}',
            "params.json:2",
            "'m' is not declared",
        ),
        (
            {"main.bicep": "param n int = 1\n"},
            '{"parameters": {\n  "n": {"value": 1},\n}}',
            "params.json:3",
            "invalid JSON",
        ),
        (
            {
                "main.bicep": "module m 'm.bicep' = {\n  name: 'm'\n  params: {\n    x: 1\n  }\n}\n",
                "m.bicep": "param y int = 1\n",
            },
            None,
            "main.bicep:4",
            "declares no parameter 'x'",
        ),
        (
            {"main.bicep": "module m 'm.bicep' = {\n  name: 'm'\n}\n", "m.bicep": "var a = (\n"},
            None,
            "m.bicep:",
            "syntax error",
        ),
        (
            {"main.bicep": "resource r 'A.B/c/d@1' = {\n  name: 'x'\n}\n"},
            None,
            "main.bicep:1",
            "does not fit type",
        ),
    ],
)
def test_bad_input_is_reported_with_file_and_line(tmp_path, capsys, files, params, where, fragment):
    for name, text in files.items():
        write(tmp_path, name, text)
    argv = ["resources", str(tmp_path / "main.bicep"), "--resource-group", "rg"]
    if params is not None:
        argv += ["-p", str(write(tmp_path, "params.json", params))]
    assert main(argv, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and where in err and fragment in err
    assert "Traceback" not in err


def test_cli_lists_resources_and_writes_json(tmp_path):
    out = io.StringIO()
    report = tmp_path / "r.json"
    argv = ["resources", str(GEN1), "--resource-group", "my-rg", "--json", str(report)]
    assert main(argv, out=out) == 0
    text = out.getvalue()
    assert "sb-MeAjudaAi-dev/ManagementPolicy  [deployed]" in text
    assert "properties.rights = ['Manage', 'Send', 'Listen']" in text
    assert "<runtime: serviceBusNamespace.properties.serviceBusEndpoint>" in report.read_text()


def test_nested_resources_existing_and_module_conditions(tmp_path):
    write(
        tmp_path,
        "main.bicep",
        "param on bool = false\n"
        "resource vnet 'Microsoft.Network/virtualNetworks@2024-01-01' existing = {\n  name: 'shared'\n}\n"
        "resource zone 'Microsoft.Network/privateDnsZones@2020-06-01' = if (on) {\n"
        "  name: 'z.example'\n"
        "  location: 'global'\n"
        "  resource link 'virtualNetworkLinks' = {\n"
        "    name: 'l'\n"
        "    properties: {\n      virtualNetwork: {\n        id: vnet.id\n      }\n    }\n"
        "  }\n"
        "}\n"
        "module m 'm.bicep' = if (!on) {\n  name: 'inner'\n  params: {\n    prefix: zone::link.name\n  }\n}\n"
        "output linkName string = zone::link.name\n"
        "output fromModule string = m.outputs.full\n",
    )
    write(
        tmp_path,
        "m.bicep",
        "param prefix string\nresource sb 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {\n"
        "  name: '${prefix}-ns'\n}\noutput full string = sb.name\n",
    )
    result = load_template(tmp_path / "main.bicep", SCOPE)
    resources = {r.symbol: r for r in result.resources}
    assert resources["vnet"].existing and not resources["vnet"].deployed
    link = resources["zone::link"]
    assert link.arm_type == "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
    assert link.api_version == "2020-06-01" and link.name == "z.example/l"
    assert not link.deployed  # a nested resource inherits its parent's `if`
    assert link.body["properties"]["virtualNetwork"]["id"] == (
        f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/shared"
    )
    assert resources["m/sb"].deployed and resources["m/sb"].name == "l-ns"
    assert result.outputs == {"linkName": "l", "fromModule": "l-ns"}
