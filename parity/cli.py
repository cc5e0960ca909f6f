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

from parity.differences import DELIBERATE, differences_markdown
from parity.errors import ParityInputError
from parity.paths import leaves
from parity.template import DeploymentScope, TemplateResult, load_template
from parity.values import show, to_json

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
PROJECT_DIR = Path(__file__).resolve().parent.parent


def _pairs(pairs: Sequence[str], flag: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ParityInputError(None, None, f"{flag} expects NAME=VALUE, got {pair!r}")
        result[name] = value
    return result


def _json_or_text(text: str) -> object:
    try:
        return json.loads(text)  # true, 3, {"a": 1}, as the stack's YAML would give them
    except json.JSONDecodeError:
        return text


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

    compare = commands.add_parser(
        "compare",
        help="compare a Bicep file with a stack of the program (exit 1 on a difference without a reason)",
    )
    template_args(compare)
    compare.add_argument("--stack", required=True, help="the stack whose resources are compared (dev, ...)")
    compare.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="stack config override (repeatable)",
    )
    compare.add_argument("--project", type=Path, default=PROJECT_DIR, help="the Pulumi project directory")

    commands.add_parser("differences", help="print the deliberate differences as a Markdown table")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command == "resources":
            scope = DeploymentScope(args.subscription, args.resource_group, args.location)
            result = load_template(args.bicep, scope, args.parameters, _pairs(args.param, "--param"))
            print_template(result, scope, out)
            if args.json:
                _write_json(args.json, template_json(result))
            return 0
        if args.command == "compare":
            return _compare(args, out)
        if args.command == "differences":
            out.write(differences_markdown(DELIBERATE))
            return 0
    except ParityInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    raise AssertionError(f"unhandled command {args.command}")


def _compare(args: argparse.Namespace, out: TextIO) -> int:
    # Imported here: capturing a stack loads the Pulumi SDK and the offline engine, `resources` needs neither.
    from parity.compare import compare  # noqa: PLC0415
    from parity.program import capture_stack  # noqa: PLC0415
    from parity.report import comparison_json, print_comparison  # noqa: PLC0415

    overrides = _pairs(args.param, "--param")
    program = capture_stack(
        args.stack, args.project, {k: _json_or_text(v) for k, v in _pairs(args.config, "--config").items()}
    )
    template = load_template(args.bicep, program.scope, args.parameters, overrides)
    comparison = compare(template, program)
    print_comparison(comparison, out)
    if args.json:
        _write_json(args.json, comparison_json(comparison))
    return 1 if comparison.unexplained else 0


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
