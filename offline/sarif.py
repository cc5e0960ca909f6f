"""The policy results as SARIF 2.1.0, for GitHub code scanning (`--sarif FILE`).

Built from the report (already scrubbed of secrets), one run per policy pack across every stack:
  * tool.driver: the pack (name, version), its policies as rules: description, remediation as help,
    the policy's own enforcement level as the default level (mandatory -> error, advisory and
    remediate -> warning, disabled -> none), the pulumi severity as GitHub's `security-severity`;
  * results: one per violation, at the level it was reported with in that stack; a finding the SDK
    skipped because a value is unknown during preview is a `note`;
  * location: the stack file `Pulumi.<stack>.yaml`, line 1, since a Pulumi resource has no source
    line; the resource's URN, type and name, the stack and the enforcement level are properties;
  * a fingerprint from stack, pack, policy and URN only, so a reworded message is the same alert;
  * invocations: one per stack, unsuccessful when the program or the pack failed there.
Each run has its own category (`automationDetails.id`): code scanning closes the alerts a category
no longer reports, so one pack's results never close another's.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
SOURCE_ROOT = "%SRCROOT%"
FINGERPRINT = "offlinePreviewFinding/v1"
CATEGORY = "offline-preview"
LEVELS = {"mandatory": "error", "advisory": "warning", "remediate": "warning", "disabled": "none"}
# GitHub ranks security alerts by this number (0.1-10); pulumi's severities mapped to its bands.
SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}


def _pack_key(pack: dict[str, Any]) -> str:
    # The directory, not the name: a pack that crashed before saying its name keeps its category.
    return Path(str(pack.get("path") or "pack")).name


def _stack_uri(stack: dict[str, Any], directory: str) -> tuple[str, str | None]:
    """The stack file relative to the project (and its base id), or an absolute file URI."""
    name = f"Pulumi.{stack['stack']}.yaml"
    config = Path(str(stack.get("configFile") or Path(directory or ".") / name))
    if directory:
        try:
            return config.resolve().relative_to(Path(directory).resolve()).as_posix(), SOURCE_ROOT
        except ValueError:
            return config.resolve().as_uri(), None
    return config.name, SOURCE_ROOT


def _text(value: object, fallback: str) -> str:
    text = str(value or "").strip()
    return text or fallback


def _rule(policy: dict[str, Any], levels: dict[str, str]) -> dict[str, Any]:
    description = _text(policy.get("description"), policy["name"])
    first_line = description.splitlines()[0]
    rule: dict[str, Any] = {
        "id": policy["name"],
        "name": policy["name"],
        "shortDescription": {"text": first_line},
        "fullDescription": {"text": description},
        "defaultConfiguration": {"level": LEVELS.get(str(policy.get("defaultEnforcementLevel")), "warning")},
        "properties": {
            "tags": ["pulumi-policy"],
            "kind": policy.get("kind") or "resource",
            # The level each stack ran it at (a pack config can change it per stack).
            "enforcementLevels": dict(sorted(levels.items())),
        },
    }
    if policy.get("remediation"):
        rule["help"] = {"text": str(policy["remediation"])}
    if policy.get("url"):
        rule["helpUri"] = str(policy["url"])
    severity = SECURITY_SEVERITY.get(str(policy.get("severity") or ""))
    if severity:
        rule["properties"]["security-severity"] = severity
        rule["properties"]["tags"].append("security")
    return rule


def _fingerprint(stack: str, pack: str, policy: str, urn: str) -> str:
    return hashlib.sha256("\0".join((stack, pack, policy, urn)).encode()).hexdigest()


def _result(
    violation: dict[str, Any], stack: dict[str, Any], pack: str, rule_index: int, directory: str
) -> dict[str, Any]:
    uri, base = _stack_uri(stack, directory)
    artifact: dict[str, Any] = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    skipped = bool(violation.get("skippedUnknownDuringPreview"))
    level = "note" if skipped else LEVELS.get(str(violation.get("enforcementLevel")), "warning")
    kind = violation.get("resourceType")
    target = f"{kind} {violation['resourceName']}" if kind else "stack"
    message = _text(violation.get("message"), violation["policy"])
    description = str(violation.get("description") or "").strip()
    # Packs repeat the policy's description as the message's first line; the rule already carries it.
    if description and message.startswith(description) and message != description:
        message = message[len(description) :].strip()
    return {
        "ruleId": violation["policy"],
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": f"{stack['stack']}: {target}: {message}"},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": artifact, "region": {"startLine": 1}},
                "logicalLocations": [
                    {
                        "name": violation.get("resourceName") or stack["stack"],
                        "fullyQualifiedName": violation.get("urn") or f"stack {stack['stack']}",
                        "kind": "resource" if violation.get("urn") else "module",
                    }
                ],
            }
        ],
        "partialFingerprints": {
            FINGERPRINT: _fingerprint(stack["stack"], pack, violation["policy"], violation.get("urn") or "")
        },
        "properties": {
            "stack": stack["stack"],
            "policyPack": pack,
            "enforcementLevel": violation.get("enforcementLevel"),
            "skippedUnknownDuringPreview": skipped,
            "urn": violation.get("urn") or "",
            "resourceType": violation.get("resourceType") or "",
            "resourceName": violation.get("resourceName") or "",
            "phase": violation.get("phase") or "",
        },
    }


def _invocation(stack: dict[str, Any], pack: dict[str, Any] | None) -> dict[str, Any]:
    notes = []
    program = stack.get("program") or {}
    if not program:
        notes.append(f"stack {stack['stack']}: the program did not run: {'; '.join(stack['problems'])}")
    if program.get("error"):
        error = program["error"]
        notes.append(f"stack {stack['stack']}: program failed ({error['kind']}): {error['message']}")
    if pack is None:
        notes.append(f"stack {stack['stack']}: the pack did not run")
    elif pack.get("status") != "ok":
        notes.append(f"stack {stack['stack']}: policy pack failed: {pack.get('error')}")
    return {
        "executionSuccessful": not notes,
        "properties": {"stack": stack["stack"]},
        "toolExecutionNotifications": [{"level": "error", "message": {"text": n}} for n in notes],
    }


def to_sarif(report: dict[str, Any]) -> dict[str, Any]:
    directory = str(report.get("directory") or "")
    packs: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for stack in report.get("stacks") or []:
        for pack in stack.get("policyPacks") or []:
            packs.setdefault(_pack_key(pack), []).append((stack, pack))
    runs = []
    for key, seen in packs.items():
        policies: dict[str, dict[str, Any]] = {}
        levels: dict[str, dict[str, str]] = {}
        for stack, pack in seen:
            for policy in pack.get("policies") or []:
                policies.setdefault(policy["name"], policy)
                levels.setdefault(policy["name"], {})[stack["stack"]] = str(policy.get("enforcementLevel"))
            for violation in pack.get("violations") or []:
                # A policy the pack did not list (an SDK diagnostic): a rule of its own all the same.
                policies.setdefault(violation["policy"], {"name": violation["policy"]})
        names = sorted(policies)
        index = {name: i for i, name in enumerate(names)}
        first = next((pack for _, pack in seen if pack.get("name")), seen[0][1])
        driver: dict[str, Any] = {
            "name": str(first.get("name") or key),
            "rules": [_rule(policies[name], levels.get(name, {})) for name in names],
            "properties": {"path": first.get("path") or ""},
        }
        if first.get("version"):
            driver["version"] = str(first["version"])
        results = [
            _result(v, stack, str(driver["name"]), index[v["policy"]], directory)
            for stack, pack in seen
            for v in pack.get("violations") or []
        ]
        by_stack = {stack["stack"]: pack for stack, pack in seen}
        run: dict[str, Any] = {
            "tool": {"driver": driver},
            "automationDetails": {"id": f"{CATEGORY}/{key}/"},
            "invocations": [_invocation(s, by_stack.get(s["stack"])) for s in report.get("stacks") or []],
            "results": results,
            "columnKind": "unicodeCodePoints",
        }
        if directory:
            run["originalUriBaseIds"] = {SOURCE_ROOT: {"uri": Path(directory).resolve().as_uri() + "/"}}
        runs.append(run)
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}
