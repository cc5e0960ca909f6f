"""Offline KQL check: parse and analyse queries with Microsoft's Kusto.Language against the telemetry
contract.

Kusto.Language is a .NET library; its JavaScript build (npm `@kusto/language-service-next`, pinned in
monitoring/kqlcheck/package.json) runs on Node.js with no network and no Azure account. No parser on
PyPI works offline here: the one Python wrapper of Kusto.Language needs a .NET 6+ runtime, which no
reachable registry ships for this machine. Install the checker with `npm ci --prefix monitoring/kqlcheck`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from monitoring.telemetry import TABLES

CHECKER_DIR = Path(__file__).resolve().parent / "kqlcheck"
_PARSER_PACKAGE = CHECKER_DIR / "node_modules" / "@kusto" / "language-service-next"
INSTALL_HINT = "npm ci --prefix monitoring/kqlcheck"


class KqlCheckUnavailable(RuntimeError):
    """Node.js or the Kusto.Language package is not installed, so no check could run."""


def kql_diagnostics(
    queries: Mapping[str, str], tables: Mapping[str, Mapping[str, str]] = TABLES
) -> dict[str, list[str]]:
    """Every parse and semantic diagnostic per query id; an empty list means the query is valid."""
    node = shutil.which("node")
    if node is None:
        raise KqlCheckUnavailable(f"the KQL check needs Node.js (`node` on PATH), then `{INSTALL_HINT}`")
    if not _PARSER_PACKAGE.is_dir():
        raise KqlCheckUnavailable(f"the KQL check needs its npm package: run `{INSTALL_HINT}`")
    request = json.dumps({"tables": tables, "queries": dict(queries)})
    result = subprocess.run(
        [node, str(CHECKER_DIR / "check.js")],
        input=request,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the KQL checker failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    diagnostics: dict[str, list[str]] = json.loads(result.stdout)
    return diagnostics
