"""`python -m components`: the settings reference, and a stack's effective settings.

    python -m components reference            the Markdown of docs/settings.md
    python -m components show -s prod         defaults + preset + stack file, as the program sees them

Exit codes: 0 ok, 2 bad input (a stack file or a setting the program would refuse).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import yaml

from components.config_model import PROJECT, SettingsError
from components.reference import render
from components.settings import REGION_KEY, load_settings
from offline.stackconfig import ConfigError, load_project, load_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent


def effective_settings(stack: str, project_dir: Path = PROJECT_DIR) -> str:
    """The stack's settings after defaults, preset and stack file, as YAML (secrets only named)."""
    config = load_stack(load_project(project_dir), stack)
    prefix = f"{PROJECT}:"
    raw = {k.removeprefix(prefix): v for k, v in config.values.items() if k.startswith(prefix)}
    secret = {k.removeprefix(prefix) for k in config.secret_keys if k.startswith(prefix)}
    others = {k for k in config.values if not k.startswith(prefix)}
    region = config.values.get(REGION_KEY)
    settings = load_settings(raw, secret, stack, region=region, other_keys=others)
    values = settings.model_dump(mode="json", by_alias=True, exclude={"location"})
    document = {REGION_KEY: settings.location, **{f"{prefix}{key}": value for key, value in values.items()}}
    document.update({f"{prefix}{key}": "[secret]" for key in sorted(secret)})
    return yaml.safe_dump(document, sort_keys=False, width=100, allow_unicode=True)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="python -m components", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("reference", help="print the settings reference (docs/settings.md)")
    show = commands.add_parser("show", help="print a stack's effective settings")
    show.add_argument("-s", "--stack", required=True, help="stack name: dev, staging or prod")
    show.add_argument(
        "-C", "--cwd", type=Path, default=PROJECT_DIR, help="project directory (with Pulumi.yaml)"
    )
    args = parser.parse_args(argv)
    if args.command == "reference":
        out.write(render())
        return 0
    try:
        out.write(effective_settings(args.stack, args.cwd))
    except (SettingsError, ConfigError) as error:
        print(f"error: {error}", file=err)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
