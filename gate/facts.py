"""Release facts: the package versions that will run, from Directory.Packages.props or from config."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
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
# Without these the gate cannot judge the release, so their absence fails closed. Npgsql may come
# transitively, and Hangfire.Core may be absent: the runbook's fallback set (rollback step 3) lists
# only the other four, Hangfire.PostgreSql bringing Hangfire.Core with it.
REQUIRED_PACKAGES = (NPGSQL_EF, EF_CORE, HANGFIRE_PG)
OPTIONAL_PACKAGES = (NPGSQL, HANGFIRE_CORE)
NOT_LISTED = "not listed"
# Evidence and stamps carry this many hex characters of the digest: 64 bits tell package sets apart
# and keep every stamp value within Azure's 256-character tag limit.
SHORT_DIGEST = 16
_DIGEST_RE = re.compile(rf"^(?:[0-9a-f]{{{SHORT_DIGEST}}}|[0-9a-f]{{64}})$")


class FactsError(ValueError):
    """Release facts cannot be established; the message names the file/key and the package."""


@dataclass(frozen=True)
class Limits:
    evidence_max_age_days: int = 14
    backup_max_age_hours: int = 24
    min_hangfire_tests: int = 6


def package_digest(versions: Mapping[str, str]) -> str:
    """sha256 over the sorted ``name=version`` lines of a package set.

    NuGet ids are case-insensitive, so names are lowercased: recasing an id in the props file is not a
    new package set. Versions are kept verbatim, as the compatibility data compares them.
    """
    lines = sorted(f"{name.lower()}={version}\n" for name, version in versions.items())
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def shorten_digest(digest: str) -> str:
    return digest[:SHORT_DIGEST]


def listed_packages(
    npgsql_ef_core: str, ef_core: str, hangfire_postgresql: str, npgsql: str | None, hangfire_core: str | None
) -> dict[str, str]:
    """NuGet id -> version of the packages the gate reads, the optional ones only when listed."""
    versions = {NPGSQL_EF: npgsql_ef_core, EF_CORE: ef_core, HANGFIRE_PG: hangfire_postgresql}
    if npgsql:
        versions[NPGSQL] = npgsql
    if hangfire_core:
        versions[HANGFIRE_CORE] = hangfire_core
    return versions


@dataclass(frozen=True)
class ReleaseFacts:
    release: str
    # Exact Npgsql version when the release pins it; None when it comes transitively.
    npgsql: str | None
    # The Npgsql major that will run: the pin's, or the EF Core provider's (provider N.x brings Npgsql N.x).
    npgsql_major: int
    npgsql_ef_core: str
    ef_core: str
    # None when the release does not list Hangfire.Core (it then comes with Hangfire.PostgreSql).
    hangfire_core: str | None
    hangfire_postgresql: str
    limits: Limits = Limits()
    # Digest of every resolved package (package_digest), 64 hex characters, or its first 16 when read
    # back from a stamp. Facts built without one get the digest of the packages they name, which is
    # the whole package set when nothing else is known about it.
    digest: str = ""

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", package_digest(self.gate_packages()))
        elif not _DIGEST_RE.match(self.digest):
            raise ValueError(f"package digest '{self.digest}' is not 16 or 64 lowercase hex characters")

    @property
    def npgsql_display(self) -> str:
        return self.npgsql if self.npgsql else f"{self.npgsql_major}.x (transitive via {NPGSQL_EF})"

    @property
    def short_digest(self) -> str:
        return shorten_digest(self.digest)

    def gate_packages(self) -> dict[str, str]:
        """The listed packages the gate reads, by NuGet id (optional ones only when listed)."""
        return listed_packages(
            self.npgsql_ef_core, self.ef_core, self.hangfire_postgresql, self.npgsql, self.hangfire_core
        )

    def display_packages(self) -> dict[str, str]:
        """Every package the gate reads, in a fixed order, with absent optional ones as 'not listed'."""
        return {
            NPGSQL: self.npgsql_display,
            NPGSQL_EF: self.npgsql_ef_core,
            EF_CORE: self.ef_core,
            HANGFIRE_CORE: self.hangfire_core or NOT_LISTED,
            HANGFIRE_PG: self.hangfire_postgresql,
        }


def _by_id(versions: Mapping[str, str]) -> dict[str, str]:
    # MSBuild and NuGet match package ids without regard to case; so does the gate.
    return {name.lower(): version for name, version in versions.items()}


def facts_from_versions(
    release: str, versions: Mapping[str, str], limits: Limits, where: str
) -> ReleaseFacts:
    """Build facts from NuGet id -> version. ``where`` names the source for error messages.

    ``versions`` is the whole resolved package set: the digest covers all of it, so evidence recorded
    for this set does not count once any package changes.
    """
    by_id = _by_id(versions)
    problems = [
        f"{where}: package '{name}' is missing (expected a PackageVersion with an exact version)"
        for name in REQUIRED_PACKAGES
        if name.lower() not in by_id
    ]
    problems += [
        f"{where}: package '{name}' has version '{by_id[name.lower()]}', expected an exact NuGet version "
        "such as 10.0.3"
        for name in (*REQUIRED_PACKAGES, *OPTIONAL_PACKAGES)
        if name.lower() in by_id and not is_version(by_id[name.lower()])
    ]
    if problems:
        raise FactsError("\n".join(problems))
    npgsql = by_id.get(NPGSQL.lower())
    return ReleaseFacts(
        release=release,
        npgsql=npgsql,
        npgsql_major=major(npgsql) if npgsql else major(by_id[NPGSQL_EF.lower()]),
        npgsql_ef_core=by_id[NPGSQL_EF.lower()],
        ef_core=by_id[EF_CORE.lower()],
        hangfire_core=by_id.get(HANGFIRE_CORE.lower()),
        hangfire_postgresql=by_id[HANGFIRE_PG.lower()],
        limits=limits,
        digest=package_digest(versions),
    )


def _config_versions(packages: PackageVersions) -> dict[str, str]:
    return listed_packages(
        packages.npgsql_entity_framework_core_postgre_sql,
        packages.microsoft_entity_framework_core,
        packages.hangfire_postgre_sql,
        packages.npgsql,
        packages.hangfire_core,
    )


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
