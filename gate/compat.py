"""Compatibility knowledge (gate/compatibility.yaml) and the risk assessment of a release."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gate.config import Version
from gate.facts import EF_CORE, HANGFIRE_CORE, HANGFIRE_PG, NPGSQL, NPGSQL_EF, ReleaseFacts
from gate.versions import in_range, major, version_key

DATA_FILE = Path(__file__).with_name("compatibility.yaml")
KNOWN_PACKAGES = (NPGSQL, NPGSQL_EF, EF_CORE, HANGFIRE_CORE, HANGFIRE_PG)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class HangfireRange(_Strict):
    low: Version = Field(alias="from")
    high: Version = Field(alias="to")
    built_against_npgsql: Version = Field(alias="builtAgainstNpgsql")

    @model_validator(mode="after")
    def _ordered(self) -> HangfireRange:
        if version_key(self.low) > version_key(self.high):
            raise ValueError(f"range {self.low}..{self.high} is reversed")
        return self


class ValidatedCombination(_Strict):
    name: str
    source: str
    packages: dict[str, Version]

    @model_validator(mode="after")
    def _known(self) -> ValidatedCombination:
        unknown = sorted(set(self.packages) - set(KNOWN_PACKAGES))
        if unknown:
            raise ValueError(f"unknown packages {unknown}; expected some of {list(KNOWN_PACKAGES)}")
        if HANGFIRE_PG not in self.packages or NPGSQL not in self.packages:
            raise ValueError(f"a validated combination must name exact {NPGSQL} and {HANGFIRE_PG} versions")
        return self


class Knowledge(_Strict):
    hangfire_postgre_sql: tuple[HangfireRange, ...] = Field(alias="hangfirePostgreSql", min_length=1)
    validated_combinations: tuple[ValidatedCombination, ...] = Field(alias="validatedCombinations")


class KnowledgeError(ValueError):
    pass


def load_knowledge(path: Path = DATA_FILE) -> Knowledge:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Knowledge.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: cannot read compatibility data ({exc})") from exc
    except ValidationError as exc:
        raise KnowledgeError(f"{path}: invalid compatibility data:\n{exc}") from exc


@cache
def default_knowledge() -> Knowledge:
    return load_knowledge()


Basis = Literal["validated-combination", "compatible", "risky"]


@dataclass(frozen=True)
class Assessment:
    basis: Basis
    reason: str
    built_against_npgsql: str | None = None


def built_against(hangfire_postgresql: str, knowledge: Knowledge) -> str | None:
    for entry in knowledge.hangfire_postgre_sql:
        if in_range(hangfire_postgresql, entry.low, entry.high):
            return entry.built_against_npgsql
    return None


def _unknown_version(version: str, knowledge: Knowledge) -> str:
    newest = max((entry.high for entry in knowledge.hangfire_postgre_sql), key=version_key)
    if version_key(version) > version_key(newest):
        return (
            f"{HANGFIRE_PG} {version} is newer than the compatibility data, which knows releases up to "
            f"{newest}: add the Npgsql it is built against to gate/compatibility.yaml (its csproj at the "
            "release tag); until then it is treated as risky"
        )
    return (
        f"{HANGFIRE_PG} {version} is not in the compatibility data (gate/compatibility.yaml); "
        "unknown versions are treated as risky"
    )


def assess(facts: ReleaseFacts, knowledge: Knowledge | None = None) -> Assessment:
    """Is this package set validated, compatible by construction, or risky (needs the checklist)?"""
    knowledge = knowledge or default_knowledge()
    versions = facts.gate_packages()
    for combo in knowledge.validated_combinations:
        # Exact string match: 8.0.5 and 8.0.5.0 are different strings in a props file, and a
        # validated set is only as good as the exact versions that were tested. A package the set does
        # not name (Hangfire.Core in the runbook's fallback) may be listed or not.
        if all(versions.get(name) == version for name, version in combo.packages.items()):
            return Assessment("validated-combination", f"matches the validated set '{combo.name}'")
    target = built_against(facts.hangfire_postgresql, knowledge)
    if target is None:
        return Assessment("risky", _unknown_version(facts.hangfire_postgresql, knowledge))
    if major(target) == facts.npgsql_major:
        return Assessment(
            "compatible",
            f"{HANGFIRE_PG} {facts.hangfire_postgresql} is built against {NPGSQL} {target}, "
            f"the same major the app runs ({facts.npgsql_display})",
            target,
        )
    return Assessment(
        "risky",
        f"{HANGFIRE_PG} {facts.hangfire_postgresql} is built against {NPGSQL} {target}, "
        f"the app runs {NPGSQL} {facts.npgsql_display}",
        target,
    )
