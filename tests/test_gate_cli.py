"""``python -m gate``: recording evidence into a stack file and showing the gate's status."""

import hashlib
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from gate.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "gate"
TRX = FIXTURES / "trx"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(FIXTURES / "stack" / "Pulumi.prod.yaml", tmp_path)
    shutil.copy(FIXTURES / "props" / "pinned.props", tmp_path)
    return tmp_path


def gate(project: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "-s", "prod", "--project-dir", str(project)], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def record(project: Path, item: str, *extra: str) -> tuple[int, str, str]:
    return gate(project, "record", item, "--by", "Ana Souza", *extra)


RECORD_ALL = {
    "tests": ["--trx", str(TRX / "all-passed.trx")],
    "staging": ["--jobs", "150", "--persisted", "--retries", "--recurring", "--dashboard"],
    "rollback": ["--minutes", "52"],
    "backup": ["--backup-name", "hangfire_backup_20261128.dump", "--restore-tested"],
    "training": ["--trained", "Ana Souza", "--trained", "Bruno Lima"],
    "stakeholders": ["--channel", "email to stakeholders@meajudaai.com"],
}


def test_status_of_the_committed_release_is_blocked(project):
    code, out, _ = gate(project, "status")
    assert code == 1
    assert "blocked (risky)" in out
    assert "Hangfire.PostgreSql 1.21.1 is built against Npgsql 6.0.11" in out
    assert "missing: 1, 2, 4, 5, 6, 7" in out


def test_recording_every_item_unblocks_and_keeps_the_rest_of_the_file(project):
    stack_file = project / "Pulumi.prod.yaml"
    before = stack_file.read_text()
    for item, extra in RECORD_ALL.items():
        code, out, err = record(project, item, *extra)
        assert (code, err) == (0, ""), item
        assert "recorded" in out
    after = stack_file.read_text()
    # Comments, flow style, secrets and key order are untouched; the evidence is appended.
    assert after.startswith(before)
    config = yaml.safe_load(after)["config"]
    assert config["meajudaai-infra:keycloakClientSecret"] == {
        "secure": "v1:PLACEHOLDER:not-a-real-ciphertext"
    }
    evidence = config["meajudaai-infra:gateEvidence"]
    assert list(evidence) == [
        "integrationTests", "stagingValidation", "rollbackTested", "backupVerified", "teamTrained",
        "stakeholdersNotified",
    ]  # fmt: skip
    report = evidence["integrationTests"]["report"]
    assert report["sha256"] == hashlib.sha256((TRX / "all-passed.trx").read_bytes()).hexdigest()
    assert report["categoryExecuted"] == 6
    # Times are quoted strings, so no YAML reader turns them into another type.
    assert isinstance(evidence["teamTrained"]["recordedAt"], str)
    assert evidence["teamTrained"]["release"] == "cc4de0a8"

    code, out, _ = gate(project, "status")
    assert code == 0
    assert "pass (risky)" in out
    assert "[~] (3) production monitoring" in out


def test_status_json(project):
    code, out, _ = gate(project, "status", "--json")
    data = json.loads(out)
    assert code == 1
    assert (data["stack"], data["environment"], data["status"]) == ("prod", "prod", "blocked")
    assert len(data["missingItems"]) == 6


def test_evidence_ages_out(project):
    for item, extra in RECORD_ALL.items():
        assert record(project, item, *extra)[0] == 0
    later = (NOW + timedelta(days=3)).isoformat()
    code, out, _ = gate(project, "status", "--now", later)
    # Only the backup (24 h limit) is stale three days later.
    assert code == 1
    assert "missing: 5" in out


@pytest.mark.parametrize(
    ("item", "extra", "fragment"),
    [
        ("tests", ["--trx", str(TRX / "one-failed.trx")], "failed: 1"),
        ("tests", ["--trx", str(TRX / "zero-executed.trx")], "zero tests"),
        ("tests", ["--trx", str(TRX / "not-hangfire.trx")], "0 HangfireIntegration tests executed"),
        ("tests", ["--trx", str(TRX / "malformed.trx")], "malformed.trx: not well-formed"),
        ("staging", ["--jobs", "40", "--persisted", "--retries", "--recurring", "--dashboard"], "40 jobs"),
        ("backup", ["--backup-name", "x.dump"], "restore was not tested"),
        ("rollback", ["--minutes", "0"], "durationMinutes"),
        ("training", ["--trained", "  "], "trained"),
    ],
)
def test_invalid_evidence_is_refused_and_nothing_is_written(project, item, extra, fragment):
    before = (project / "Pulumi.prod.yaml").read_text()
    code, _, err = record(project, item, *extra)
    assert code == 2
    assert fragment in err
    assert (project / "Pulumi.prod.yaml").read_text() == before


def test_evidence_for_another_release_is_recorded_but_does_not_count(project):
    code, out, _ = record(project, "stakeholders", "--channel", "email", "--release", "v2.0.0")
    assert code == 0
    assert "does not count yet" in out
    _, status, _ = gate(project, "status")
    assert "evidence is for release v2.0.0" in status


def test_time_without_zone_is_rejected(project):
    with pytest.raises(SystemExit) as info:
        record(project, "stakeholders", "--channel", "email", "--at", "2026-11-28T10:00:00")
    assert info.value.code == 2


def test_bad_evidence_in_the_file_names_the_key(project):
    stack_file = project / "Pulumi.prod.yaml"
    stack_file.write_text(
        stack_file.read_text() + "  meajudaai-infra:gateEvidence:\n    stakeholderNotified: {}\n"
    )
    code, _, err = gate(project, "status")
    assert code == 2
    assert "meajudaai-infra:gateEvidence.stakeholderNotified" in err


def test_missing_stack_file_is_a_clear_error(tmp_path):
    code, _, err = gate(tmp_path, "status")
    assert code == 2
    assert "Pulumi.prod.yaml: stack file not found" in err


def test_missing_props_file_is_a_clear_error(project):
    (project / "pinned.props").unlink()
    code, _, err = gate(project, "status")
    assert code == 2
    assert "pinned.props: Directory.Packages.props not found" in err
