"""Typed models for the two stack-config keys the gate reads.

``meajudaai-infra:release``       which release is being deployed and where its package versions come from.
``meajudaai-infra:gateEvidence``  the runbook checklist, one record per item, each bound to a release.

The program's settings (components/settings.py) embed these models; the ``python -m gate`` command
writes them. YAML keys are camelCase (the alias generator), so validation errors name the same camelCase
paths a release manager sees in ``Pulumi.<stack>.yaml``. Item 3 (production monitoring) is deliberately
absent from the evidence: it is derived from the planned alert resources, never from a checkbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

# NuGet versions as they appear in Directory.Packages.props: 2-4 numeric parts plus an optional
# prerelease label (10.0.0-rc.2.25502.107). Ranges such as "[8.0,9.0)" are rejected on purpose: the gate
# needs the exact version that will run.
VERSION_PATTERN = r"^\d+\.\d+(\.\d+){0,2}(-[0-9A-Za-z]+(\.[0-9A-Za-z-]+)*)?$"
Version = Annotated[str, StringConstraints(pattern=VERSION_PATTERN, max_length=64)]

# A release is named by a version (1.4.0, v2026.11.3) or a commit sha. No '|' or ';' so it can travel
# inside the stamp without escaping.
RELEASE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,79}$"
ReleaseId = Annotated[str, StringConstraints(pattern=RELEASE_PATTERN)]

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

HANGFIRE_TEST_CATEGORY = "HangfireIntegration"
# The platform's suite is MeAjudaAi.Integration.Tests.Jobs.HangfireIntegrationTests.
DEFAULT_CLASS_PATTERN = "*.HangfireIntegrationTests"
# A glob over fully-qualified .NET class names (nested classes use '+', generic ones a backtick).
CLASS_PATTERN = r"^[0-9A-Za-z_.*?+`\[\]-]{1,200}$"
ClassPattern = Annotated[str, StringConstraints(pattern=CLASS_PATTERN)]
FilterText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ReportFormat = Literal["trx", "xunit-v2", "xunit-v3"]
# Item 1 is stamped with eleven counts; five digits each keep the stamp value within 256 characters.
MAX_TESTS = 99_999
TestCount = Annotated[int, Field(ge=0, le=MAX_TESTS)]
# Clocks disagree a little; evidence from further in the future than this does not count.
CLOCK_SKEW = timedelta(minutes=5)


class GateModel(BaseModel):
    # Field docstrings are the descriptions the settings reference (docs/settings.md) is made from.
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        use_attribute_docstrings=True,
    )

    def to_config(self) -> dict[str, Any]:
        """The camelCase, JSON-compatible shape that goes back into Pulumi.<stack>.yaml."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --------------------------------------------------------------------------------------------------
# meajudaai-infra:release


class PackageVersions(GateModel):
    """Versions given directly in stack config instead of a Directory.Packages.props path.

    Keys are the camelCased NuGet ids. ``npgsql`` may be omitted: the EF Core provider then decides
    the Npgsql major, exactly as it does transitively in the app. ``hangfireCore`` may be omitted:
    the runbook's fallback set lists only the other four (Hangfire.PostgreSql brings Hangfire.Core).
    """

    npgsql: Version | None = None
    """Npgsql's exact version when the release pins it; unset, the EF Core provider's major decides."""
    npgsql_entity_framework_core_postgre_sql: Version
    """Npgsql.EntityFrameworkCore.PostgreSQL's exact version."""
    microsoft_entity_framework_core: Version
    """Microsoft.EntityFrameworkCore's exact version."""
    hangfire_core: Version | None = None
    """Hangfire.Core's exact version, if the release lists it."""
    hangfire_postgre_sql: Version
    """Hangfire.PostgreSql's exact version: what the gate compares with the Npgsql it was built against."""


class ReleaseConfig(GateModel):
    id: ReleaseId
    """The release (a version or a commit): the API image's tag, and what the gate's evidence is bound
    to."""
    packages_props: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    """Path (relative to the project) of the release's Directory.Packages.props; or give `packages`."""
    packages: PackageVersions | None = None
    """The release's package versions given here instead of a props file."""
    evidence_max_age_days: int = Field(default=14, ge=1, le=90)
    """How old a checklist record may be and still count."""
    backup_max_age_hours: int = Field(default=24, ge=1, le=168)
    """How old the backup verification may be: it must be taken right before the prod deploy."""
    min_hangfire_tests: int = Field(default=6, ge=1, le=10_000)
    """Hangfire integration tests a report must have run (the runbook names six test areas)."""

    @model_validator(mode="after")
    def _one_source(self) -> ReleaseConfig:
        if (self.packages_props is None) == (self.packages is None):
            raise ValueError(
                "set exactly one of 'packagesProps' (path to Directory.Packages.props) or 'packages'"
            )
        return self


# --------------------------------------------------------------------------------------------------
# meajudaai-infra:gateEvidence


class EvidenceRecord(GateModel):
    """Who recorded what, when, for which release and package set. Every checklist record carries this.

    ``releaseDigest`` is the package digest of the release the evidence was recorded for
    (gate.facts.package_digest): a release id reused with other packages does not reuse the evidence.
    """

    # The `python -m gate record` item that writes this record, for the re-record hint.
    cli_item: ClassVar[str] = ""

    release: ReleaseId
    release_digest: Sha256
    recorded_by: NonEmpty
    recorded_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _bound_to_packages(cls, data: Any) -> Any:
        older_format = (
            isinstance(data, dict)
            and not {"releaseDigest", "release_digest"} & set(data)
            and {"recordedAt", "recorded_at"} & set(data)
        )
        if older_format:
            # A record written before evidence was bound to the package set cannot be checked against it.
            # (A record that lacks more than the digest gets the usual per-field errors instead.)
            raise ValueError(
                "recorded without releaseDigest (an older evidence format, not bound to the release's "
                f"package set): record it again with `python -m gate record {cls.cli_item or '<item>'} "
                "-s <stack> --by <name> ...`"
            )
        return data

    @field_validator("recorded_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # Stored and compared in UTC so the YAML and the stamp never disagree about an offset.
        return value.astimezone(UTC)


class ReportSummary(GateModel):
    """What the gate kept from a test report (the file itself is not stored).

    Counts are whole-report counts, then the Hangfire integration tests among them: those in
    ``category`` or in a class matching one of ``classPatterns`` (xUnit traits never reach a TRX file,
    so a TRX of xUnit tests is recognised by its class names).
    """

    file: NonEmpty
    sha256: Sha256
    format: ReportFormat
    # The `dotnet test --filter` expression the run was made with, as the recorder states it: kept for
    # traceability only, since no report format records it.
    filter: FilterText | None = None
    category: NonEmpty
    class_patterns: tuple[ClassPattern, ...] = Field(max_length=10)
    # TRX: ResultSummary outcome ("Completed" for a clean run; "Failed", "Aborted", ... otherwise).
    # xUnit XML has no run outcome: a complete file is "Completed", and its assembly errors are runErrors.
    outcome: NonEmpty
    total: TestCount
    executed: TestCount
    passed: TestCount
    failed: TestCount
    error: TestCount
    aborted: TestCount
    timeout: TestCount
    # Errors outside any test (gate.testrun.RunReport.run_errors).
    run_errors: TestCount
    hangfire_tests: TestCount
    hangfire_ran: TestCount
    hangfire_passed: TestCount
    # When the run finished, by the report's own clock: item 1 ages from here, not from recordedAt.
    finished_at: AwareDatetime

    @field_validator("finished_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _consistent(self) -> ReportSummary:
        chain = (
            ("hangfirePassed", self.hangfire_passed, "hangfireRan", self.hangfire_ran),
            ("hangfireRan", self.hangfire_ran, "hangfireTests", self.hangfire_tests),
            ("hangfireRan", self.hangfire_ran, "executed", self.executed),
            ("hangfireTests", self.hangfire_tests, "total", self.total),
            ("passed", self.passed, "executed", self.executed),
            ("executed", self.executed, "total", self.total),
        )
        for low_name, low, high_name, high in chain:
            if low > high:
                raise ValueError(f"{low_name} ({low}) cannot exceed {high_name} ({high})")
        return self


class IntegrationTestsEvidence(EvidenceRecord):
    """Item 1: the Hangfire integration test report (TRX, or xUnit v2/v3 XML)."""

    cli_item: ClassVar[str] = "tests"
    report: ReportSummary

    @model_validator(mode="after")
    def _report_before_recording(self) -> IntegrationTestsEvidence:
        # A report cannot have finished after it was recorded; allow for clocks that disagree a little.
        if self.report.finished_at > self.recorded_at + CLOCK_SKEW:
            raise ValueError(
                f"report finished at {self.report.finished_at.isoformat()}, after recordedAt "
                f"{self.recorded_at.isoformat()}"
            )
        return self


class StagingValidationEvidence(EvidenceRecord):
    """Item 2: manual validation in staging under production-like load."""

    cli_item: ClassVar[str] = "staging"

    jobs_enqueued: int = Field(ge=0, le=1_000_000)
    persisted_across_restart: bool
    retries_verified: bool
    recurring_jobs_verified: bool
    dashboard_watched: bool


class RollbackTestEvidence(EvidenceRecord):
    """Item 4: the rollback procedure rehearsed in staging, with its measured duration."""

    cli_item: ClassVar[str] = "rollback"

    environment: Literal["staging"] = "staging"
    duration_minutes: int = Field(ge=1, le=24 * 60)


class BackupVerificationEvidence(EvidenceRecord):
    """Item 5 (recorded half): the backup taken before the prod deploy, restored and checked.

    The other half (the server's backup settings) is derived from the planned server's properties.
    """

    cli_item: ClassVar[str] = "backup"

    backup_name: NonEmpty
    restore_tested: bool


class TrainingEvidence(EvidenceRecord):
    """Item 6: team trained on the rollback."""

    cli_item: ClassVar[str] = "training"

    trained: tuple[NonEmpty, ...] = Field(min_length=1)


class StakeholdersEvidence(EvidenceRecord):
    """Item 7: stakeholders notified."""

    cli_item: ClassVar[str] = "stakeholders"

    channel: NonEmpty


_DERIVED_KEYS = ("monitoring", "monitoringConfigured", "productionMonitoring")


class GateEvidence(GateModel):
    integration_tests: IntegrationTestsEvidence | None = None
    staging_validation: StagingValidationEvidence | None = None
    rollback_tested: RollbackTestEvidence | None = None
    backup_verified: BackupVerificationEvidence | None = None
    team_trained: TrainingEvidence | None = None
    stakeholders_notified: StakeholdersEvidence | None = None

    @model_validator(mode="before")
    @classmethod
    def _monitoring_is_derived(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in _DERIVED_KEYS:
                if key in data:
                    raise ValueError(
                        f"'{key}' cannot be recorded: item 3 (production monitoring) is derived from the "
                        "planned alert resources"
                    )
        return data


# Evidence keys in checklist order, with the runbook's numbering (item 3 is derived, so it has no key).
EVIDENCE_ITEMS: dict[int, str] = {
    1: "integrationTests",
    2: "stagingValidation",
    4: "rollbackTested",
    5: "backupVerified",
    6: "teamTrained",
    7: "stakeholdersNotified",
}
