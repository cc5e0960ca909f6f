"""The settings reference is made from the models and kept in sync; every setting is described; a
stack's effective settings can be printed."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from pydantic import BaseModel

from components.__main__ import main
from components.config_model import ConfigModel
from components.reference import missing_descriptions, render, rows

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_has_a_description() -> None:
    assert len(rows()) >= 120
    assert missing_descriptions() == []


def test_the_check_finds_an_undescribed_setting() -> None:
    class Inner(ConfigModel):
        described: int = 1
        """Has one."""
        bare: int = 2

    class Outer(ConfigModel):
        inner: Inner = Inner()
        """The inner settings."""

    assert missing_descriptions(Outer) == ["inner.bare"]
    assert issubclass(Outer, BaseModel)


def test_the_committed_reference_is_what_the_models_say() -> None:
    committed = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: ./venv/bin/python -m components reference > docs/settings.md"


def test_the_reference_shows_types_defaults_and_presets() -> None:
    by_key = {row.key: row for row in rows()}
    retention = by_key["database.backupRetentionDays"]
    assert (retention.kind, retention.default) == ("integer (>= 7, <= 35)", "`7`")
    assert retention.presets == "staging: `14`; prod: `35`"
    assert by_key["api.hosting"].presets == "dev: `kubernetes`"
    assert by_key["release.id"].default == "(required)"
    # The region is azure-native:location, not a key of this program; evidence is written by the gate tool.
    assert "location" not in by_key
    assert not [key for key in by_key if key.startswith("gateEvidence.")]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_show_prints_a_stacks_effective_settings() -> None:
    code, out, err = run("show", "-s", "prod")
    assert (code, err) == (0, "")
    assert out.startswith("azure-native:location: brazilsouth\n")
    # From the prod preset, the model's defaults and the stack file respectively.
    assert "  backupRetentionDays: 35\n" in out
    assert "  maxPoolSize: 100\n" in out
    assert "  publicUrl: https://api.meajudaai.com\n" in out
    assert "meajudaai-infra:keycloakClientSecret: '[secret]'" in out


def test_show_refuses_what_the_program_would_refuse(tmp_path: Path) -> None:
    code, out, err = run("show", "-s", "qa")
    assert (code, out) == (2, "")
    assert "Pulumi.qa.yaml: file not found" in err
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path)
    stack_file = "config:\n  azure-native:location: brazilsouth\n  meajudaai-infra:database:\n"
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_file + "    backupRetentionDay: 7\n")
    code, out, err = run("show", "-s", "dev", "-C", str(tmp_path))
    assert (code, out) == (2, "")
    assert "meajudaai-infra:database.backupRetentionDay: unknown setting (did you mean" in err
    assert "Traceback" not in err
