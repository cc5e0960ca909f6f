"""``python -m gate``: recording evidence into a stack file and showing the gate's status."""

import atexit
import hashlib
import io
import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from gate.cli import main
from gate.facts import package_digest
from gate.hints import record_command
from gate.props import read_props
from tests.test_gate_reports import FORMATS, REFUSED, V3_ABORTED, fresh_report

FIXTURES = Path(__file__).parent / "fixtures" / "gate"
TRX = FIXTURES / "trx"
NOW = datetime.now(UTC).replace(microsecond=0)
# Item 1 ages from the run's own finish, so recording needs a report of a run that just finished: a
# copy of the fixture dated an hour ago (the end-to-end test records it too).
_FRESH_DIR = Path(tempfile.mkdtemp(prefix="gate-fresh-reports-"))
atexit.register(shutil.rmtree, _FRESH_DIR, True)
FRESH_TRX = fresh_report(TRX / "xunit-six-passed.trx", _FRESH_DIR, NOW - timedelta(hours=1))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(FIXTURES / "stack" / "Pulumi.prod.yaml", tmp_path)
    shutil.copy(FIXTURES / "props" / "pinned.props", tmp_path)
    return tmp_path


def flat(text: str) -> str:
    """Output with its wrapping at 100 columns undone, for phrases that may cross a line break."""
    return " ".join(text.split())


def gate(project: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "-s", "prod", "--project-dir", str(project)], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def record(project: Path, item: str, *extra: str) -> tuple[int, str, str]:
    return gate(project, "record", item, "--by", "Ana Souza", *extra)


RECORD_ALL = {
    "tests": ["--report", str(FRESH_TRX), "--filter", "Category=HangfireIntegration"],
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
    assert "Hangfire.PostgreSql 1.21.1 is built against Npgsql 6.0.11" in flat(out)
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
    assert report["sha256"] == hashlib.sha256(FRESH_TRX.read_bytes()).hexdigest()
    assert (report["format"], report["filter"]) == ("trx", "Category=HangfireIntegration")
    assert (report["category"], report["classPatterns"]) == (
        "HangfireIntegration",
        ["*.HangfireIntegrationTests"],
    )
    assert (report["hangfireRan"], report["hangfirePassed"]) == (6, 6)
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


def test_status_of_a_stopped_api_says_stopped_not_blocked(project):
    # Runbook rollback step 1 takes the API offline; nothing runs Hangfire, so nothing is gated.
    stack_file = project / "Pulumi.prod.yaml"
    text = stack_file.read_text()
    assert "meajudaai-infra:api:\n" in text
    api = "meajudaai-infra:api:\n"
    stack_file.write_text(text.replace(api, api + "    stopped: true\n", 1))
    code, out, _ = gate(project, "status")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("release cc4de0a8 in prod: stopped (api.stopped: the API runs no Hangfire job")
    assert "started again it is blocked, risky" in flat(out)
    assert "missing once the API runs again: 1, 2, 4, 5, 6, 7" in out
    code, out, _ = gate(project, "status", "--json")
    data = json.loads(out)
    assert (code, data["status"], data["verdictWhenRunning"]) == (0, "stopped", "blocked")


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
        ("staging", ["--jobs", "40", "--persisted", "--retries", "--recurring", "--dashboard"], "40 jobs"),
        ("backup", ["--backup-name", "x.dump"], "restore was not tested"),
        ("rollback", ["--minutes", "0"], "durationMinutes"),
        ("training", ["--trained", "  "], "trained"),
        (
            "stakeholders",
            ["--channel", "email", "--at", (NOW - timedelta(days=15)).isoformat()],
            "15d 0h old",
        ),
        ("tests", ["--report", str(TRX / "malformed.trx")], "malformed.trx: not well-formed"),
        ("tests", ["--report", str(TRX / "absent.trx")], "absent.trx: cannot read test report"),
        ("tests", ["--report", str(FIXTURES / "props" / "pinned.props")], "not a test report the gate reads"),
        (
            "tests",
            ["--report", str(FRESH_TRX), "--class", "Hangfire Tests"],
            "--class 'Hangfire Tests' is not",
        ),
        ("tests", ["--report", str(FRESH_TRX), "--category", " "], "--category must not be empty"),
    ],
)
def test_invalid_evidence_is_refused_and_nothing_is_written(project, item, extra, fragment):
    before = (project / "Pulumi.prod.yaml").read_text()
    code, _, err = record(project, item, *extra)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err
    assert (project / "Pulumi.prod.yaml").read_text() == before


def fresh(tmp_path: Path, format_: str, kind: str, finished: datetime = NOW - timedelta(hours=1)) -> Path:
    return fresh_report(FORMATS[format_](kind), tmp_path, finished)


UTC_ARGS = ["--utc-offset", "+00:00"]
LABEL = "Hangfire integration tests (category HangfireIntegration or class *.HangfireIntegrationTests)"
HEADS = {"trx": "TRX", "xunit-v2": "xUnit v2 XML", "xunit-v3": "xUnit v3 XML"}


@pytest.mark.parametrize("format_", FORMATS)
def test_six_passed_hangfire_tests_are_recorded_from_every_format(project, tmp_path, format_):
    report = fresh(tmp_path, format_, "six-passed")
    code, out, err = record(project, "tests", "--report", str(report), *UTC_ARGS)
    assert (code, err) == (0, "")
    assert "recorded integrationTests" in out
    assert f"6 tests ran: 6 passed, 0 failed; 6 of them are {LABEL}, 6 passed" in out
    status = gate(project, "status")[1]
    assert "[x] (1) Hangfire integration tests" in status
    assert f"report {report.name} ({HEADS[format_]}, sha256 " in status
    assert "filter not recorded); Hangfire tests: category HangfireIntegration or class *.Hangfire" in flat(
        status
    )


@pytest.mark.parametrize("format_", FORMATS)
@pytest.mark.parametrize("kind", REFUSED)
def test_bad_runs_are_refused_with_true_counts_and_nothing_is_written(project, tmp_path, format_, kind):
    before = (project / "Pulumi.prod.yaml").read_text()
    report = fresh(tmp_path, format_, kind)
    code, _, err = record(project, "tests", "--report", str(report), *UTC_ARGS)
    assert code == 2
    expected = V3_ABORTED if (format_, kind) == ("xunit-v3", "aborted") else REFUSED[kind]
    counts, required = expected.split("; required: ")
    assert err.startswith(f"error: not recorded: report {report.name} ({HEADS[format_]}, outcome ")
    # The recorder's message also says how the Hangfire tests were told apart.
    assert counts.replace("Hangfire integration tests", LABEL) in err
    assert f"required: {required}" in err
    assert "Traceback" not in err
    assert (project / "Pulumi.prod.yaml").read_text() == before


@pytest.mark.parametrize("format_", FORMATS)
def test_a_report_cut_off_mid_write_is_refused(project, format_):
    path = FORMATS[format_]("malformed")
    code, _, err = record(project, "tests", "--report", str(path), *UTC_ARGS)
    assert code == 2
    assert err.startswith(f"error: {path}: not well-formed XML")
    assert "Traceback" not in err


def test_the_aborted_trx_names_its_outcome_and_run_error(project, tmp_path):
    code, _, err = record(project, "tests", "--report", str(fresh(tmp_path, "trx", "aborted")))
    assert code == 2
    assert "(TRX, outcome Failed, 1 run-level errors)" in err


def test_trx_is_still_accepted_as_the_option_name(project, tmp_path):
    assert record(project, "tests", "--trx", str(fresh(tmp_path, "trx", "six-passed")))[0] == 0


def test_the_later_variant_is_recorded_with_its_class_and_filter(project, tmp_path):
    # MeAjudaAi.Integration.Tests.Infrastructure.Jobs.HangfirePostgreSqlTests, seven tests.
    report = fresh_report(TRX / "not-hangfire.trx", tmp_path, NOW - timedelta(hours=1))
    assert record(project, "tests", "--report", str(report))[0] == 2
    extra = ["--class", "*.HangfirePostgreSqlTests", "--filter", "FullyQualifiedName~HangfirePostgreSqlTests"]
    code, _, err = record(project, "tests", "--report", str(report), *extra)
    assert (code, err) == (0, "")
    config = yaml.safe_load((project / "Pulumi.prod.yaml").read_text())["config"]
    stored = config["meajudaai-infra:gateEvidence"]["integrationTests"]["report"]
    assert stored["classPatterns"] == ["*.HangfirePostgreSqlTests"]
    assert stored["filter"] == "FullyQualifiedName~HangfirePostgreSqlTests"
    assert stored["hangfirePassed"] == 7


def test_an_xunit_v2_report_needs_the_runners_utc_offset(project, tmp_path):
    report = fresh(tmp_path, "xunit-v2", "six-passed")
    code, _, err = record(project, "tests", "--report", str(report))
    assert code == 2
    assert "give that machine's UTC offset with --utc-offset" in err
    assert record(project, "tests", "--report", str(report), "--utc-offset", "Z")[0] == 0


@pytest.mark.parametrize("offset", ["+3", "UTC", "+24:00", "-03:60"])
def test_a_bad_utc_offset_is_a_usage_error(project, offset):
    with pytest.raises(SystemExit) as info:
        record(project, "tests", "--report", str(FRESH_TRX), "--utc-offset", offset)
    assert info.value.code == 2


def test_a_stale_report_is_refused_by_its_finish_time(project, tmp_path):
    report = fresh(tmp_path, "trx", "six-passed", NOW - timedelta(days=20))
    code, _, err = record(project, "tests", "--report", str(report))
    assert code == 2
    assert "the test run finished 20d 0h ago, the limit is 14d 0h" in err


def test_a_report_from_the_future_is_refused(project, tmp_path):
    report = fresh(tmp_path, "trx", "six-passed", NOW + timedelta(hours=2))
    code, _, err = record(
        project, "tests", "--report", str(report), "--at", (NOW + timedelta(hours=3)).isoformat()
    )
    assert code == 2
    assert "the test run is dated in the future" in err


def test_a_report_recorded_before_it_finished_is_refused(project, tmp_path):
    report = fresh(tmp_path, "trx", "six-passed")
    code, _, err = record(
        project, "tests", "--report", str(report), "--at", (NOW - timedelta(hours=3)).isoformat()
    )
    assert code == 2
    assert "after recordedAt" in err


def test_status_of_the_four_package_fallback_passes_and_says_hangfire_core_is_not_listed(project):
    shutil.copy(FIXTURES / "props" / "fallback-four.props", project)
    code, out, _ = gate(project, "status", "--props", str(project / "fallback-four.props"))
    assert code == 0
    assert "pass (validated-combination)" in out
    assert "Hangfire.Core not listed" in out
    code, out, _ = gate(project, "status", "--props", str(project / "fallback-four.props"), "--json")
    assert json.loads(out)["packages"]["Hangfire.Core"] == "not listed"


def test_evidence_for_another_release_is_recorded_but_does_not_count(project):
    code, out, _ = record(project, "stakeholders", "--channel", "email", "--release", "v2.0.0")
    assert code == 0
    assert "does not count yet" in out
    _, status, _ = gate(project, "status")
    assert "evidence is for release v2.0.0" in status


def test_evidence_is_bound_to_the_package_set_of_the_release(project):
    for item, extra in RECORD_ALL.items():
        assert record(project, item, *extra)[0] == 0
    config = yaml.safe_load((project / "Pulumi.prod.yaml").read_text())["config"]
    digests = {r["releaseDigest"] for r in config["meajudaai-infra:gateEvidence"].values()}
    assert digests == {package_digest(read_props(project / "pinned.props"))}
    assert gate(project, "status")[0] == 0
    # Same release id, one package bumped (not even one the gate reads): nothing recorded counts.
    props = project / "pinned.props"
    props.write_text(
        props.read_text().replace(
            '"Hangfire.InMemory" Version="1.0.0"', '"Hangfire.InMemory" Version="1.0.1"'
        )
    )
    code, out, _ = gate(project, "status")
    assert code == 1
    assert "missing: 1, 2, 4, 5, 6, 7" in out
    assert flat(out).count("the package set changed since it was recorded, so record it again") == 6


def test_record_with_props_binds_to_that_package_set(project):
    shutil.copy(FIXTURES / "props" / "fallback-four.props", project)
    code, out, _ = record(
        project, "stakeholders", "--channel", "email", "--props", str(project / "fallback-four.props")
    )
    assert code == 0
    four = package_digest(read_props(project / "fallback-four.props"))
    assert f"(packages {four[:16]})" in out
    _, status, _ = gate(project, "status")
    assert f"evidence is for packages {four[:16]}" in status


def test_an_older_record_without_a_package_digest_is_refused_with_how_to_record_it_again(project):
    stack_file = project / "Pulumi.prod.yaml"
    stack_file.write_text(
        stack_file.read_text()
        + "  meajudaai-infra:gateEvidence:\n    stakeholdersNotified:\n      release: cc4de0a8\n"
        + '      recordedBy: Ana\n      recordedAt: "2026-11-28T10:00:00Z"\n      channel: email\n'
    )
    code, _, err = gate(project, "status")
    assert code == 2
    assert "meajudaai-infra:gateEvidence.stakeholdersNotified: recorded without releaseDigest" in err
    assert "record it again with `python -m gate record stakeholders -s <stack>" in err
    assert "Traceback" not in err


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


def test_status_ends_with_the_commands_that_clear_what_is_missing_within_100_columns(project):
    code, out, _ = gate(project, "status")
    assert code == 1
    assert max(len(line) for line in out.splitlines()) <= 100
    commands = out.split("to record them (fill in the <placeholders>):\n", 1)[1]
    # The same commands the offline preview's summary prints, one per missing item, continued with ` \`.
    joined = flat(commands.replace(" \\\n", " "))
    for number in (1, 2, 4, 5, 6, 7):
        assert record_command("prod", number) in joined
    assert "gate record" in commands and "(3)" not in commands
    # Once everything is recorded there is nothing left to run.
    for item, extra in RECORD_ALL.items():
        assert record(project, item, *extra)[0] == 0
    code, out, _ = gate(project, "status")
    assert (code, "to record them" in out) == (0, False)
