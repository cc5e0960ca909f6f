"""Release facts from Directory.Packages.props / config, and the risk assessment over them."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from gate.compat import Knowledge, assess, load_knowledge
from gate.config import ReleaseConfig
from gate.facts import FactsError, resolve_release
from gate.props import PropsError

PROPS = Path(__file__).parent / "fixtures" / "gate" / "props"


def facts_for(name: str):
    return resolve_release(ReleaseConfig(id="r1", packages_props=name), PROPS)


def test_pinned_props_reads_the_pinned_npgsql():
    facts = facts_for("pinned.props")
    assert (facts.npgsql, facts.npgsql_major) == ("10.0.3", 10)
    assert facts.hangfire_postgresql == "1.21.1"
    assert facts.hangfire_core == "1.8.24"
    assessment = assess(facts)
    assert assessment.basis == "risky"
    assert assessment.built_against_npgsql == "6.0.11"


def test_transitive_npgsql_takes_the_ef_provider_major():
    facts = facts_for("transitive.props")
    # The commented-out 8.0.5 line in the file must not count as a pin.
    assert facts.npgsql is None
    assert facts.npgsql_major == 10
    assert assess(facts).basis == "risky"


def test_runbook_fallback_set_is_validated():
    facts = facts_for("fallback.props")
    assert (facts.npgsql, facts.npgsql_ef_core, facts.ef_core) == ("8.0.5", "9.0.0", "9.0.0")
    assert assess(facts).basis == "validated-combination"


def test_same_npgsql_major_as_hangfire_is_compatible():
    facts = facts_for("npgsql6.props")
    assert facts.npgsql_major == 6
    assert facts.hangfire_postgresql == "1.20.12"  # from the <Version> child element form
    assert assess(facts).basis == "compatible"


def test_unknown_hangfire_postgresql_is_risky():
    assessment = assess(facts_for("unknown-hangfire.props"))
    assert assessment.basis == "risky"
    assert "2.0.0" in assessment.reason
    assert "not in the compatibility data" in assessment.reason


def test_fallback_without_the_npgsql_pin_is_not_the_validated_set(tmp_path):
    text = (
        (PROPS / "fallback.props")
        .read_text()
        .replace('<PackageVersion Include="Npgsql" Version="8.0.5" />', "")
    )
    (tmp_path / "p.props").write_text(text)
    facts = resolve_release(ReleaseConfig(id="r1", packages_props="p.props"), tmp_path)
    # EF provider 9 brings Npgsql 9, not the validated 8.0.5, and Hangfire is built against 6.
    assert facts.npgsql_major == 9
    assert assess(facts).basis == "risky"


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("missing-hangfire.props", ["missing-hangfire.props", "Hangfire.PostgreSql", "missing"]),
        ("version-range.props", ["version-range.props", "'Npgsql'", "[10.0,11.0)"]),
    ],
)
def test_bad_package_entries_name_file_and_package(name, fragments):
    with pytest.raises(FactsError) as info:
        facts_for(name)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("name", "fragment"), [("malformed.props", "not well-formed"), ("nope.props", "not found")]
)
def test_unreadable_props_name_the_file(name, fragment):
    with pytest.raises(PropsError) as info:
        facts_for(name)
    assert name in str(info.value)
    assert fragment in str(info.value)


def test_props_with_entity_expansion_is_refused(tmp_path):
    (tmp_path / "bomb.props").write_text(
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><Project>&a;</Project>'
    )
    with pytest.raises(PropsError, match="unsafe XML"):
        resolve_release(ReleaseConfig(id="r1", packages_props="bomb.props"), tmp_path)


def test_versions_from_config_without_npgsql_pin():
    release = ReleaseConfig.model_validate(
        {
            "id": "c2f3a2362",
            "packages": {
                "npgsqlEntityFrameworkCorePostgreSql": "10.0.0-rc.2",
                "microsoftEntityFrameworkCore": "10.0.0-rc.2.25502.107",
                "hangfireCore": "1.8.21",
                "hangfirePostgreSql": "1.20.12",
            },
        }
    )
    facts = resolve_release(release, Path("/nonexistent"))
    assert (facts.npgsql, facts.npgsql_major) == (None, 10)


def test_release_config_errors_use_camel_case_paths():
    with pytest.raises(ValidationError) as info:
        ReleaseConfig.model_validate(
            {"id": "r1", "packages": {"hangfireCore": "1.8.21"}, "minHangfireTests": 0}
        )
    locations = {".".join(map(str, e["loc"])) for e in info.value.errors()}
    assert "packages.hangfirePostgreSql" in locations
    assert "minHangfireTests" in locations


def test_release_config_needs_exactly_one_source():
    with pytest.raises(ValidationError, match="exactly one"):
        ReleaseConfig.model_validate({"id": "r1"})


def test_compatibility_data_rejects_a_combination_without_exact_npgsql(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text(
        "hangfirePostgreSql: [{from: 1.0.0, to: 1.0.1, builtAgainstNpgsql: 6.0.0}]\n"
        "validatedCombinations: [{name: x, source: y, packages: {Hangfire.PostgreSql: 1.0.0}}]\n"
    )
    with pytest.raises(ValueError, match=r"c\.yaml"):
        load_knowledge(bad)


def test_knowledge_is_data_a_new_range_changes_the_assessment():
    facts = facts_for("unknown-hangfire.props")
    knowledge = Knowledge.model_validate(
        {
            "hangfirePostgreSql": [{"from": "2.0.0", "to": "2.0.9", "builtAgainstNpgsql": "10.0.0"}],
            "validatedCombinations": [],
        }
    )
    assert assess(facts, knowledge).basis == "compatible"
