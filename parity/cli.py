"""`python -m parity`: list what a Bicep file deploys, or compare it with a stack of the Pulumi program.

Exit codes: 0 fine, 1 differences without a stated reason (compare), 2 bad or unsupported input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from parity.errors import ParityInputError
from parity.paths import leaves
from parity.template import DeploymentScope, TemplateResult, load_template
from parity.values import show, to_json

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ParityInputError(None, None, f"--param expects NAME=VALUE, got {pair!r}")
        result[name] = value
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m parity", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def template_args(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("bicep", type=Path, help="the Bicep file (its modules are followed)")
        sub.add_argument("-p", "--parameters", type=Path, help="ARM deployment parameters JSON file")
        sub.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="parameter override (repeatable)",
        )
        sub.add_argument("--json", type=Path, help="also write the result as JSON to this file")

    resources = commands.add_parser(
        "resources", help="list the ARM resources and outputs a Bicep file deploys"
    )
    template_args(resources)
    resources.add_argument("--resource-group", required=True, help="name of the target resource group")
    resources.add_argument("--subscription", default=DEFAULT_SUBSCRIPTION, help="subscription id (for ids)")
    resources.add_argument("--location", default="brazilsouth", help="resourceGroup().location")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command == "resources":
            scope = DeploymentScope(args.subscription, args.resource_group, args.location)
            result = load_template(args.bicep, scope, args.parameters, _overrides(args.param))
            print_template(result, scope, out)
            if args.json:
                _write_json(args.json, template_json(result))
            return 0
    except ParityInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    raise AssertionError(f"unhandled command {args.command}")


def print_template(result: TemplateResult, scope: DeploymentScope, out: TextIO) -> None:
    out.write(f"{result.file}: resource group {scope.resource_group} ({scope.location}), ")
    out.write(f"subscription {scope.subscription_id}\n")
    for resource in result.resources:
        state = (
            "existing"
            if resource.existing
            else "deployed"
            if resource.deployed
            else "not deployed (if: false)"
        )
        out.write(f"\n{resource.arm_type}@{resource.api_version} {resource.name}  [{state}]\n")
        out.write(f"  symbol {resource.symbol} at {resource.file.name}:{resource.line}\n")
        out.write(f"  id {resource.resource_id}\n")
        for path, value in leaves(resource.body):
            out.write(f"  {path} = {show(value)}\n")
    if result.outputs:
        out.write("\noutputs\n")
        for name, value in result.outputs.items():
            out.write(f"  {name} = {show(value)}\n")


def template_json(result: TemplateResult) -> dict[str, object]:
    return {
        "file": str(result.file),
        "resources": [
            {
                "symbol": r.symbol,
                "type": r.arm_type,
                "apiVersion": r.api_version,
                "name": r.name,
                "id": r.resource_id,
                "deployed": r.deployed,
                "existing": r.existing,
                "source": f"{r.file}:{r.line}",
                "body": to_json(r.body),
            }
            for r in result.resources
        ],
        "outputs": to_json(result.outputs),
        "parameters": to_json(result.parameters),
    }


def _write_json(path: Path, data: object) -> None:
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        raise ParityInputError(path, None, f"cannot write the JSON report: {err.strerror or err}") from None
