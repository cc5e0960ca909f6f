"""Release facts: the package versions that will run, from Directory.Packages.props or from config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gate.config import PackageVersions, ReleaseConfig
from gate.props import read_props
from gate.versions import is_version, major

NPGSQL = "Npgsql"
NPGSQL_EF = "Npgsql.EntityFrameworkCore.PostgreSQL"
EF_CORE = "Microsoft.EntityFrameworkCore"
HANGFIRE_CORE = "Hangfire.Core"
HANGFIRE_PG = "Hangfire.PostgreSql"
REQUIRED_PACKAGES = (NPGSQL_EF, EF_CORE, HANGFIRE_CORE, HANGFIRE_PG)


class FactsError(ValueError):
    """Release facts cannot be established; the message names the file/key and the package."""


@dataclass(frozen=True)
class Limits:
    evidence_max_age_days: int = 14
    backup_max_age_hours: int = 24
    min_hangfire_tests: int = 6


@dataclass(frozen=True)
class ReleaseFacts:
    release: str
    # Exact Npgsql version when the release pins it; None when it comes transitively.
    npgsql: str | None
    # The Npgsql major that will run: the pin's, or the EF Core provider's (provider N.x brings Npgsql N.x).
    npgsql_major: int
    npgsql_ef_core: str
    ef_core: str
    hangfire_core: str
    hangfire_postgresql: str
    limits: Limits = Limits()

    @property
    def npgsql_display(self) -> str:
        return self.npgsql if self.npgsql else f"{self.npgsql_major}.x (transitive via {NPGSQL_EF})"


def facts_from_versions(release: str, versions: dict[str, str], limits: Limits, where: str) -> ReleaseFacts:
    """Build facts from NuGet id -> version. ``where`` names the source for error messages."""
    problems = [
        f"{where}: package '{name}' is missing (expected a PackageVersion with an exact version)"
        for name in REQUIRED_PACKAGES
        if name not in versions
    ]
    problems += [
        f"{where}: package '{name}' has version '{value}', expected an exact NuGet version such as 10.0.3"
        for name, value in versions.items()
        if name in (*REQUIRED_PACKAGES, NPGSQL) and not is_version(value)
    ]
    if problems:
        raise FactsError("\n".join(problems))
    npgsql = versions.get(NPGSQL)
    return ReleaseFacts(
        release=release,
        npgsql=npgsql,
        npgsql_major=major(npgsql) if npgsql else major(versions[NPGSQL_EF]),
        npgsql_ef_core=versions[NPGSQL_EF],
        ef_core=versions[EF_CORE],
        hangfire_core=versions[HANGFIRE_CORE],
        hangfire_postgresql=versions[HANGFIRE_PG],
        limits=limits,
    )


def _config_versions(packages: PackageVersions) -> dict[str, str]:
    versions = {
        NPGSQL_EF: packages.npgsql_entity_framework_core_postgre_sql,
        EF_CORE: packages.microsoft_entity_framework_core,
        HANGFIRE_CORE: packages.hangfire_core,
        HANGFIRE_PG: packages.hangfire_postgre_sql,
    }
    if packages.npgsql:
        versions[NPGSQL] = packages.npgsql
    return versions


def resolve_release(
    release: ReleaseConfig, base_dir: Path, props_override: Path | None = None
) -> ReleaseFacts:
    """Facts for the configured release.

    ``packagesProps`` is relative to ``base_dir`` (the Pulumi project directory); ``props_override``
    (the command line's ``--props``) wins over both config sources.
    """
    limits = Limits(
        evidence_max_age_days=release.evidence_max_age_days,
        backup_max_age_hours=release.backup_max_age_hours,
        min_hangfire_tests=release.min_hangfire_tests,
    )
    if props_override is not None or release.packages_props is not None:
        path = props_override or base_dir / str(release.packages_props)
        return facts_from_versions(release.id, read_props(path), limits, str(path))
    assert release.packages is not None  # guaranteed by ReleaseConfig's validator
    return facts_from_versions(
        release.id, _config_versions(release.packages), limits, "meajudaai-infra:release.packages"
    )
