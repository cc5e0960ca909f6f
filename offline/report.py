"""The offline preview report: one JSON-ready model, rendered as text like `pulumi preview`.

The text and the `--json` file carry the same content. Secrets never appear in either: secret
values are shown as `[secret]`, and every placeholder that stands in for a secure config value is
scrubbed from every string (a careless policy message or program error cannot leak it).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from .analyzer import PackResult
from .engine import ProgramRun
from .stackconfig import StackConfig
from .values import SECRET_MASK, display, is_secret, scrub, to_python

LEVEL_ORDER = {"mandatory": 0, "remediate": 1, "advisory": 2, "disabled": 3}


@dataclass
class StackResult:
    stack: str
    config: StackConfig | None = None
    config_error: str = ""
    run: ProgramRun | None = None
    packs: list[PackResult] = field(default_factory=list)


def _resource_entry(r: Any) -> dict[str, Any]:
    return {
        "urn": r.urn,
        "type": r.type,
        "name": r.name,
        "custom": r.custom,
        "parent": r.parent,
        "provider": r.provider_urn,
        "id": display(r.id) if r.id else "",
        "dependencies": r.dependencies,
        "propertyDependencies": r.property_dependencies,
        "options": {
            "protect": r.protect,
            "retainOnDelete": r.retain_on_delete,
            "ignoreChanges": r.ignore_changes,
            "importId": r.import_id,
            "deleteBeforeReplace": r.delete_before_replace if r.delete_before_replace_defined else None,
            "additionalSecretOutputs": r.additional_secret_outputs,
            "aliases": r.aliases,
            "customTimeouts": r.custom_timeouts,
        },
        "defaultProvider": r.synthetic,
        "inputs": display(to_python(r.inputs)),
    }


def _pack_entry(p: PackResult) -> dict[str, Any]:
    violations = sorted(
        p.violations, key=lambda v: (LEVEL_ORDER.get(v.level, 9), v.policy, v.resource_type, v.resource_name)
    )
    return {
        "name": p.name,
        "version": p.version,
        "path": p.path,
        "configFile": p.config_file,
        "status": p.status,
        "error": p.error,
        "stderr": p.stderr,
        "stdout": p.stdout,
        "note": p.note,
        "warnings": p.warnings,
        "analyzedResources": p.analyzed,
        "durationSeconds": round(p.duration, 3),
        "policies": [
            {
                "name": m.name,
                "kind": m.kind,
                "enforcementLevel": (p.effective[m.name].enforcement_level if m.name in p.effective else None)
                or m.enforcement_level,
                "config": p.effective[m.name].properties if m.name in p.effective else None,
            }
            for m in p.policies
        ],
        "violations": [
            {
                "policy": v.policy,
                "enforcementLevel": v.level,
                "phase": v.phase,
                "urn": v.urn,
                "resourceType": v.resource_type,
                "resourceName": v.resource_name,
                "message": v.message,
                "description": v.description,
                "remediation": v.remediation,
                "severity": v.severity,
                "skippedUnknownDuringPreview": v.skipped_unknown,
            }
            for v in violations
        ],
        "notApplicable": [{"policy": n, "urn": u, "reason": why} for n, u, why in p.not_applicable],
        "remediations": [{"policy": n, "urn": u, "diagnostic": d} for n, u, d in p.remediations],
    }


def _plaintext_secrets(run: ProgramRun, placeholders: set[str]) -> list[str]:
    """Where a secure config value shows up without the secret marker (it would be stored in clear)."""
    found: list[str] = []

    def walk(value: Any, where: str) -> None:
        if is_secret(value):
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}" if where else key)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")
        elif isinstance(value, str) and any(p in value for p in placeholders):
            found.append(where)

    for r in sorted(run.resources, key=lambda r: r.seq):
        before = len(found)
        walk(to_python(r.inputs), "")
        found[before:] = [f"input {path} of {r.type} {r.name}" for path in found[before:]]
    if run.stack_outputs is not None:
        before = len(found)
        walk(to_python(run.stack_outputs), "")
        found[before:] = [f"stack output {path}" for path in found[before:]]
    return found


def _stack_entry(sr: StackResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"stack": sr.stack, "ok": True, "problems": []}
    problems: list[str] = entry["problems"]
    if sr.config is not None:
        entry["configFile"] = str(sr.config.file)
        entry["warnings"] = list(sr.config.warnings)
    if sr.config_error:
        problems.append(f"configuration error: {sr.config_error}")
    run = sr.run
    if run is not None:
        diagnostics = [{"severity": d.severity, "message": d.message} for d in run.diagnostics]
        entry["program"] = {
            "status": "error" if run.error else "ok",
            "error": None
            if run.error is None
            else {"kind": run.error.kind, "message": run.error.message, "traceback": run.error.traceback},
            "durationSeconds": round(run.duration, 3),
            "diagnostics": diagnostics,
            "unansweredInvokes": run.unanswered_invokes,
        }
        if run.error is not None:
            problems.append(f"program error: {run.error.message}")
        problems.extend(
            f"program logged an error: {d.message}" for d in run.diagnostics if d.severity == "error"
        )
        resources = sorted(run.resources, key=lambda r: r.seq)
        entry["resources"] = [_resource_entry(r) for r in resources]
        shown = [r for r in resources if not r.synthetic]
        entry["summary"] = {
            "create": len(shown),
            "byType": dict(sorted(Counter(r.type for r in shown).items())),
        }
        entry["outputs"] = display(to_python(run.stack_outputs)) if run.stack_outputs is not None else {}
        leaks = _plaintext_secrets(run, sr.config.placeholders) if sr.config is not None else []
        entry["plaintextSecrets"] = leaks
        entry.setdefault("warnings", []).extend(
            f"a secure config value reaches {where} without being marked secret" for where in leaks
        )
    packs = [_pack_entry(p) for p in sr.packs]
    entry["policyPacks"] = packs
    counts: Counter[str] = Counter()
    for p in packs:
        if p["status"] != "ok":
            problems.append(f"policy pack {p['name'] or p['path']} failed: {p['error']}")
        for v in p["violations"]:
            counts["skippedUnknown" if v["skippedUnknownDuringPreview"] else v["enforcementLevel"]] += 1
    entry["policyCounts"] = dict(sorted(counts.items()))
    if counts["mandatory"]:
        problems.append(f"{counts['mandatory']} mandatory policy violation(s)")
    entry["ok"] = not problems
    return entry


def build_report(
    project: str,
    mode: str,
    results: list[StackResult],
    usage_error: str = "",
    engine_logs: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    stacks = [_stack_entry(sr) for sr in results]
    secrets: set[str] = set()
    for sr in results:
        if sr.config is not None:
            secrets |= sr.config.placeholders
    ok = not usage_error and all(s["ok"] for s in stacks)
    report = {
        "tool": "offline-preview",
        "project": project,
        "mode": mode,
        "ok": ok,
        "exitCode": 0 if ok else 1,
        "error": usage_error,
        "stacks": stacks,
        # What packs logged through the Engine service (Python packs normally log nothing there).
        "engineLogs": [{"severity": sev, "message": msg, "urn": urn} for sev, msg, urn in engine_logs or []],
    }
    scrubbed: dict[str, Any] = scrub(report, secrets)
    return scrubbed


# ---- text rendering -------------------------------------------------------------------------


def _tree_lines(resources: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    shown = [r for r in resources if not r["defaultProvider"]]
    urns = {r["urn"] for r in shown}
    children: dict[str, list[dict[str, Any]]] = {}
    roots = []
    for r in shown:
        if r["parent"] and r["parent"] in urns:
            children.setdefault(r["parent"], []).append(r)
        else:
            roots.append(r)
    lines: list[tuple[str, str, str]] = []

    def walk(node: dict[str, Any], prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        lines.append((prefix + branch, node["type"], node["name"]))
        kids = sorted(children.get(node["urn"], []), key=lambda r: (r["type"], r["name"]))
        pad = "" if depth == 0 else ("   " if last else "│  ")
        for i, kid in enumerate(kids):
            walk(kid, prefix + pad, i == len(kids) - 1, depth + 1)

    for i, root in enumerate(roots):
        walk(root, "", i == len(roots) - 1, 0)
    return lines


def _fmt_value(value: Any) -> str:
    if isinstance(value, str):
        return value if value in (SECRET_MASK, "[unknown]") else json.dumps(value)
    return json.dumps(value, sort_keys=True)


def render(report: dict[str, Any], console: Console) -> None:
    def out(text: str = "", style: str = "") -> None:
        console.print(Text(text, style=style), soft_wrap=True)

    if report.get("error"):
        out(f"error: {report['error']}", "bold red")
    for s in report["stacks"]:
        out()
        out(f"Previewing stack {s['stack']} (offline, mode: {report['mode']})", "bold")
        if s.get("configFile"):
            out(f"  config: {s['configFile']}", "dim")
        for w in s.get("warnings", []):
            out(f"  warning: {w}", "yellow")
        program = s.get("program")
        if program is None:
            for p in s["problems"]:
                out(f"  error: {p}", "bold red")
            continue
        resources = s.get("resources", [])
        lines = _tree_lines(resources)
        width = max((len(p) + len(t) for p, t, _ in lines), default=20) + 2
        out()
        out(f"     {'Type':<{width}}Name", "bold")
        for prefix, typ, name in lines:
            out(f" +   {(prefix + typ):<{width}}{name}", "green")
        out()
        out("Resources:")
        out(f"    + {s['summary']['create']} to create", "green")
        for typ, n in sorted(s["summary"]["byType"].items(), key=lambda kv: (-kv[1], kv[0])):
            out(f"      {n:>4}  {typ}")
        if s.get("outputs"):
            out()
            out("Outputs:")
            for key in sorted(s["outputs"]):
                out(f"    {key}: {_fmt_value(s['outputs'][key])}")
        if program["diagnostics"]:
            out()
            out("Diagnostics:")
            for d in program["diagnostics"]:
                out(f"    {d['severity']}: {d['message']}", "red" if d["severity"] == "error" else "yellow")
        if program["unansweredInvokes"]:
            out(
                f"    note: no offline answer for invoke(s) {', '.join(program['unansweredInvokes'])}",
                "yellow",
            )
        if program["error"]:
            out()
            err = program["error"]
            out(f"    error: program failed ({err['kind']}): {err['message']}", "bold red")
            if err.get("traceback"):
                tail = err["traceback"].strip().splitlines()[-6:]
                for line in tail:
                    out(f"      {line}", "dim")
        if s["policyPacks"]:
            out()
            out("Policies:")
            for p in s["policyPacks"]:
                _render_pack(p, out)
        out()
        verdict = "ok" if s["ok"] else "FAILED: " + "; ".join(s["problems"])
        out(f"Stack {s['stack']}: {verdict}", "bold green" if s["ok"] else "bold red")


def _render_pack(p: dict[str, Any], out: Any) -> None:
    label = f"{p['name'] or Path(p['path']).name}@v{p['version'] or '?'}"
    mandatory = [v for v in p["violations"] if v["enforcementLevel"] == "mandatory"]
    icon = "❌" if p["status"] != "ok" or mandatory else ("⚠️ " if p["violations"] else "✅")
    out(f"    {icon} {label} (local: {p['path']})", "bold")
    if p["configFile"]:
        out(f"        config: {p['configFile']}", "dim")
    if p["note"]:
        out(f"        note: {p['note']}", "dim")
    for w in p["warnings"]:
        out(f"        warning: {w}", "yellow")
    if p["status"] != "ok":
        out(f"        error: {p['error']}", "bold red")
        for line in (p["stderr"] or "").splitlines()[-15:]:
            out(f"          {line}", "red")
        return
    for v in p["violations"]:
        target = f"{v['resourceType']}: {v['resourceName']}" if v["resourceType"] else "stack"
        tag = (
            "advisory, unknown during preview" if v["skippedUnknownDuringPreview"] else v["enforcementLevel"]
        )
        style = "red" if v["enforcementLevel"] == "mandatory" else "yellow"
        out(f"        - [{tag}]  {v['policy']}  ({target})", style)
        for line in v["message"].splitlines():
            out(f"          {line}")
        if v["remediation"]:
            out(f"          remediation: {v['remediation']}", "cyan")
    if not p["violations"]:
        out(f"        no violations ({p['analyzedResources']} resources analyzed)", "dim")
