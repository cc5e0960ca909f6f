"""Release facts from Directory.Packages.props / config, and the risk assessment over them."""

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from gate.compat import Knowledge, assess, default_knowledge, load_knowledge
from gate.config import ReleaseConfig
from gate.decision import Derived, decide
from gate.facts import REQUIRED_PACKAGES, FactsError, package_digest, resolve_release
from gate.props import PropsError
from gate.stamp import read_stamp, stamp

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


def test_runbook_four_package_fallback_without_hangfire_core_resolves_and_passes():
    # Rollback step 3 lists four packages; Hangfire.Core comes with Hangfire.PostgreSql.
    facts = facts_for("fallback-four.props")
    assert facts.hangfire_core is None
    assert facts.display_packages()["Hangfire.Core"] == "not listed"
    assert assess(facts).basis == "validated-combination"
    decision = decide("prod", facts, {}, Derived(), datetime(2026, 11, 28, tzinfo=UTC))
    assert decision.verdict == "pass"
    tags = stamp(facts, None)
    assert tags["meajudaai-gate-hangfire-core"] == "none"
    assert read_stamp(tags).facts.hangfire_core is None


@pytest.mark.parametrize("name", REQUIRED_PACKAGES)
def test_each_required_package_missing_from_the_four_fails_closed(tmp_path, name):
    text = (PROPS / "fallback-four.props").read_text()
    line = next(ln for ln in text.splitlines() if f'Include="{name}"' in ln)
    (tmp_path / "p.props").write_text(text.replace(line, ""))
    with pytest.raises(FactsError) as info:
        resolve_release(ReleaseConfig(id="r1", packages_props="p.props"), tmp_path)
    assert f"p.props: package '{name}' is missing" in str(info.value)


def test_package_ids_match_without_regard_to_case(tmp_path):
    text = (PROPS / "fallback-four.props").read_text().replace('Include="Npgsql"', 'Include="npgsql"')
    (tmp_path / "p.props").write_text(text)
    facts = resolve_release(ReleaseConfig(id="r1", packages_props="p.props"), tmp_path)
    # The lowercased pin is still the pin: without it, the provider's Npgsql 9 would be assumed.
    assert (facts.npgsql, facts.npgsql_major) == ("8.0.5", 8)
    assert facts.digest == facts_for("fallback-four.props").digest


def test_one_package_listed_twice_with_different_case_and_version_is_an_error(tmp_path):
    text = (PROPS / "fallback-four.props").read_text()
    duplicate = '  <PackageVersion Include="npgsql" Version="10.0.3" />\n  </ItemGroup>'
    text = text.replace("</ItemGroup>", duplicate)
    (tmp_path / "p.props").write_text(text)
    with pytest.raises(PropsError, match="'npgsql' is listed twice with different versions"):
        resolve_release(ReleaseConfig(id="r1", packages_props="p.props"), tmp_path)


def test_digest_covers_every_package_in_the_props_file(tmp_path):
    base = facts_for("pinned.props")
    # Hangfire.InMemory is not read by the gate, but it is part of the release's package set.
    text = (
        (PROPS / "pinned.props")
        .read_text()
        .replace('"Hangfire.InMemory" Version="1.0.0"', '"Hangfire.InMemory" Version="1.0.1"')
    )
    (tmp_path / "p.props").write_text(text)
    changed = resolve_release(ReleaseConfig(id="r1", packages_props="p.props"), tmp_path)
    assert changed.gate_packages() == base.gate_packages()
    assert changed.digest != base.digest
    assert len(base.digest) == 64


def test_digest_is_of_sorted_lowercased_name_version_lines():
    expected = hashlib.sha256(b"hangfire.postgresql=1.20.12\nnpgsql=8.0.5\n").hexdigest()
    assert package_digest({"Npgsql": "8.0.5", "Hangfire.PostgreSql": "1.20.12"}) == expected
    assert package_digest({"hangfire.postgresql": "1.20.12", "NPGSQL": "8.0.5"}) == expected


def test_same_npgsql_major_as_hangfire_is_compatible():
    facts = facts_for("npgsql6.props")
    assert facts.npgsql_major == 6
    assert facts.hangfire_postgresql == "1.20.12"  # from the <Version> child element form
    assert assess(facts).basis == "compatible"


def test_unknown_hangfire_postgresql_is_risky_and_a_newer_one_says_so():
    newer = assess(facts_for("unknown-hangfire.props"))
    assert newer.basis == "risky"
    assert (
        "Hangfire.PostgreSql 2.0.0 is newer than the compatibility data, which knows releases up to 1.21.1"
        in (newer.reason)
    )
    assert "add the Npgsql it is built against to gate/compatibility.yaml" in newer.reason
    older = assess(replace(facts_for("unknown-hangfire.props"), hangfire_postgresql="1.10.0"))
    assert older.basis == "risky"
    assert "Hangfire.PostgreSql 1.10.0 is not in the compatibility data" in older.reason


def test_the_documented_ranges_are_the_data():
    # docs/compatibility-gate.md's table of built-against versions is the compatibility data, row by row.
    text = (Path(__file__).resolve().parent.parent / "docs" / "compatibility-gate.md").read_text()
    documented = re.findall(r"^\s*\| (\d[\d.]*)\u2013(\d[\d.]*) \| (\d[\d.]*) \|$", text, flags=re.M)
    data = [(e.low, e.high, e.built_against_npgsql) for e in default_knowledge().hangfire_postgre_sql]
    assert documented == data


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
    assert facts.hangfire_core == "1.8.21"


def test_versions_from_config_without_hangfire_core_match_the_fallback():
    packages = {
        "npgsql": "8.0.5",
        "npgsqlEntityFrameworkCorePostgreSql": "9.0.0",
        "microsoftEntityFrameworkCore": "9.0.0",
        "hangfirePostgreSql": "1.20.12",
    }
    facts = resolve_release(ReleaseConfig.model_validate({"id": "rb", "packages": packages}), Path("/x"))
    assert facts.hangfire_core is None
    assert assess(facts).basis == "validated-combination"
    # The same four packages give the same digest from config as from a props file.
    assert facts.digest == facts_for("fallback-four.props").digest


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
