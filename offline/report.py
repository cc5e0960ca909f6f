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

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from gate.text import WIDTH, shell_lines, wrap

from .analyzer import PackResult
from .engine import ProgramRun
from .overview import overview
from .stackconfig import StackConfig
from .values import SECRET_MASK, display, is_secret, scrub, to_python

LEVEL_ORDER = {"mandatory": 0, "remediate": 1, "advisory": 2, "disabled": 3}
# Version of the JSON report's shape. Raised when a field a consumer reads changes meaning or goes
# away; new fields do not raise it. .github/scripts/preview_summary.py refuses other versions.
SCHEMA_VERSION = 1


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
        "python": p.python,
        "virtualenvMissing": p.missing_virtualenv,
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
                "defaultEnforcementLevel": m.enforcement_level,
                "description": m.description,
                "remediation": m.remediation_steps,
                "severity": m.severity,
                "url": m.url,
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
    for p in packs:
        # After a program error the packs saw only what was registered before it, and the stack
        # policies did not run: their findings are partial and an empty list proves nothing.
        p["evaluated"] = run is not None and run.error is None
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
    *,
    usage_error: str = "",
    engine_logs: list[tuple[str, str, str]] | None = None,
    directory: str = "",
) -> dict[str, Any]:
    stacks = [_stack_entry(sr) for sr in results]
    secrets: set[str] = set()
    for sr in results:
        if sr.config is not None:
            secrets |= sr.config.placeholders
    ok = not usage_error and all(s["ok"] for s in stacks)
    report: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "tool": "offline-preview",
        "project": project,
        "directory": directory,
        "mode": mode,
        "ok": ok,
        "exitCode": 0 if ok else 1,
        "error": usage_error,
        "stacks": stacks,
        # What packs logged through the Engine service (Python packs normally log nothing there).
        "engineLogs": [{"severity": sev, "message": msg, "urn": urn} for sev, msg, urn in engine_logs or []],
    }
    scrubbed: dict[str, Any] = scrub(report, secrets)
    scrubbed["overview"] = overview(scrubbed)
    return scrubbed


# ---- text rendering -------------------------------------------------------------------------
#
# Every line fits WIDTH columns (offline/text.py): long messages wrap under their own indent, a tree
# row too long for the name column puts the name on a line of its own, and long output values are
# shown nested instead of as one JSON line.


def _tree_lines(resources: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(prefix, type, name, continuation prefix) per shown resource, in tree order."""
    shown = [r for r in resources if not r["defaultProvider"]]
    urns = {r["urn"] for r in shown}
    children: dict[str, list[dict[str, Any]]] = {}
    roots = []
    for r in shown:
        if r["parent"] and r["parent"] in urns:
            children.setdefault(r["parent"], []).append(r)
        else:
            roots.append(r)
    lines: list[tuple[str, str, str, str]] = []

    def walk(node: dict[str, Any], prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        pad = "" if depth == 0 else ("   " if last else "│  ")
        kids = sorted(children.get(node["urn"], []), key=lambda r: (r["type"], r["name"]))
        below = prefix + pad + ("│  " if kids else "")
        lines.append((prefix + branch, node["type"], node["name"], below))
        for i, kid in enumerate(kids):
            walk(kid, prefix + pad, i == len(kids) - 1, depth + 1)

    for i, root in enumerate(roots):
        walk(root, "", i == len(roots) - 1, 0)
    return lines


def _fmt_value(value: Any) -> str:
    if isinstance(value, str):
        return value if value in (SECRET_MASK, "[unknown]") else json.dumps(value)
    return json.dumps(value, sort_keys=True)


def _value_lines(key: str, value: Any, indent: str) -> list[str]:
    """`key: value` on one line when it fits, else nested, one key or item per line, strings wrapped."""
    line = f"{indent}{key}: {_fmt_value(value)}"
    if cell_len(line) <= WIDTH or not isinstance(value, (dict, list)) or not value:
        return wrap(f"{key}: {_fmt_value(value)}", indent, indent + "    ")
    lines = [f"{indent}{key}:"]
    inner = indent + "    "
    if isinstance(value, dict):
        for k in sorted(value):
            lines.extend(_value_lines(k, value[k], inner))
    else:
        for item in value:
            text = _fmt_value(item)
            if isinstance(item, (dict, list)) and cell_len(f"{inner}- {text}") > WIDTH:
                lines.append(f"{inner}-")
                children = item.items() if isinstance(item, dict) else enumerate(item)
                for k, v in children:
                    lines.extend(_value_lines(str(k), v, inner + "    "))
            else:
                lines.extend(wrap(text, f"{inner}- ", inner + "    "))
    return lines


def _pack_label(p: dict[str, Any]) -> str:
    return str(p["name"] or Path(p["path"]).name)


def _missing_virtualenvs(report: dict[str, Any]) -> list[str]:
    """One note for every pack that ran without its own virtualenv, however many stacks it ran for."""
    by_python: dict[str, list[str]] = {}
    for s in report["stacks"]:
        for p in s.get("policyPacks", []):
            if p.get("virtualenvMissing"):
                names = by_python.setdefault(p.get("python") or "this venv's python", [])
                if _pack_label(p) not in names:
                    names.append(_pack_label(p))
    return [
        f"note: the virtualenv declared by {', '.join(names)} does not exist (the CLI would create it "
        f"from the pack's requirements.txt); they ran with {python}"
        for python, names in by_python.items()
    ]


def render(report: dict[str, Any], console: Console) -> None:
    def out(text: str = "", style: str = "", hanging: str | None = None) -> None:
        indent = text[: len(text) - len(text.lstrip(" "))]
        for line in wrap(text.strip(" "), indent, hanging):
            console.print(Text(line, style=style), soft_wrap=True)

    def raw(line: str, style: str = "") -> None:
        console.print(Text(line, style=style), soft_wrap=True)

    if report.get("error"):
        out(f"error: {report['error']}", "bold red")
    for s in report["stacks"]:
        _render_stack(report, s, out, raw)
    _render_overview(report, out, raw)


def _render_stack(report: dict[str, Any], s: dict[str, Any], out: Any, raw: Any) -> None:
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
        return
    _render_tree(s.get("resources", []), raw)
    out()
    out("Resources:")
    out(f"    + {s['summary']['create']} to create", "green")
    for typ, n in sorted(s["summary"]["byType"].items(), key=lambda kv: (-kv[1], kv[0])):
        out(f"      {n:>4}  {typ}")
    if s.get("outputs"):
        out()
        out("Outputs:")
        for key in sorted(s["outputs"]):
            for line in _value_lines(key, s["outputs"][key], "    "):
                raw(line)
    if program["diagnostics"]:
        out()
        out("Diagnostics:")
        for d in program["diagnostics"]:
            out(f"    {d['severity']}: {d['message']}", "red" if d["severity"] == "error" else "yellow")
    if program["unansweredInvokes"]:
        out(f"    note: no offline answer for invoke(s) {', '.join(program['unansweredInvokes'])}", "yellow")
    if program["error"]:
        out()
        err = program["error"]
        out(f"    error: program failed ({err['kind']}): {err['message']}", "bold red", "        ")
        if err.get("traceback"):
            tail = err["traceback"].strip().splitlines()[-6:]
            for line in tail:
                out(f"      {line}", "dim", "          ")
    if s["policyPacks"]:
        out()
        out("Policies:")
        for p in s["policyPacks"]:
            _render_pack(p, program, out)
    out()
    verdict = "ok" if s["ok"] else "FAILED: " + "; ".join(s["problems"])
    out(f"Stack {s['stack']}: {verdict}", "bold green" if s["ok"] else "bold red")


def _render_tree(resources: list[dict[str, Any]], raw: Any) -> None:
    lines = _tree_lines(resources)
    width = max((cell_len(p) + cell_len(t) for p, t, _, _ in lines), default=20) + 2
    raw("")
    raw(f"     {'Type':<{width}}Name", "bold")
    for prefix, typ, name, below in lines:
        row = f" +   {(prefix + typ):<{width}}{name}"
        if cell_len(row) <= WIDTH:
            raw(row, "green")
            continue
        # The name does not fit its column: it goes under the type, as far right as it fits.
        raw(f" +   {prefix}{typ}", "green")
        column = min(5 + width, max(WIDTH - cell_len(name), 5 + cell_len(below) + 3))
        raw(f"     {below:<{column - 5}}{name}", "green")


def _render_pack(p: dict[str, Any], program: dict[str, Any], out: Any) -> None:
    label = f"{_pack_label(p)}@v{p['version'] or '?'}"
    mandatory = [v for v in p["violations"] if v["enforcementLevel"] == "mandatory"]
    evaluated = p.get("evaluated", True)
    if p["status"] != "ok" or mandatory:
        icon = "❌"
    elif not evaluated:
        icon = "⏹️ "
    else:
        icon = "⚠️ " if p["violations"] else "✅"
    out(f"    {icon} {label} (local: {p['path']})", "bold", "        ")
    if p["configFile"]:
        out(f"        config: {p['configFile']}", "dim", "          ")
    if p["note"] and not p.get("virtualenvMissing"):
        out(f"        note: {p['note']}", "dim", "          ")
    for w in p["warnings"]:
        out(f"        warning: {w}", "yellow", "          ")
    if p["status"] != "ok":
        out(f"        error: {p['error']}", "bold red", "          ")
        for line in (p["stderr"] or "").splitlines()[-15:]:
            out(f"          {line}", "red", "            ")
        return
    if not evaluated:
        err = (program or {}).get("error") or {}
        out(
            f"        not evaluated: the program failed ({err.get('kind', 'error')}), so the pack saw only "
            f"the {p['analyzedResources']} resource(s) registered before it and no stack policy ran",
            "bold red",
            "          ",
        )
    for v in p["violations"]:
        target = f"{v['resourceType']}: {v['resourceName']}" if v["resourceType"] else "stack"
        tag = (
            "advisory, unknown during preview" if v["skippedUnknownDuringPreview"] else v["enforcementLevel"]
        )
        style = "red" if v["enforcementLevel"] == "mandatory" else "yellow"
        head = f"        - [{tag}]  {v['policy']}  ({target})"
        if cell_len(head) <= WIDTH:
            out(head, style)
        else:
            out(f"        - [{tag}]  {v['policy']}", style, "            ")
            out(f"          ({target})", style, "            ")
        for line in v["message"].splitlines():
            out(f"          {line}", "", "          ")
        if v["remediation"]:
            out(f"          remediation: {v['remediation']}", "cyan", "            ")
    if not p["violations"] and evaluated:
        out(f"        no violations ({p['analyzedResources']} resources analyzed)", "dim")


_STATE_STYLE = {"ok": "bold green", "stopped": "bold cyan", "blocked": "bold yellow", "failed": "bold red"}


def _render_overview(report: dict[str, Any], out: Any, raw: Any) -> None:
    entries = report.get("overview") or []
    notes = _missing_virtualenvs(report)
    if not entries and not notes:
        return
    out()
    for note in notes:
        out(note, "dim", "  ")
    if not entries:
        return
    out()
    out(f"Summary ({len(entries)} stack{'s' if len(entries) != 1 else ''}, mode {report['mode']}):", "bold")
    name_width = max(len(e["stack"]) for e in entries) + 2
    for e in entries:
        head = f"  {e['stack']:<{name_width}}{e['state']:<9}"
        out(f"{head}{e['why']}", _STATE_STYLE.get(e["state"], ""), " " * len(head))
    blocked = [e for e in entries if e["state"] == "blocked" or (e["state"] == "failed" and _items(e))]
    if blocked:
        _render_remedies(blocked, out, raw)
    out()
    failed = [e["stack"] for e in entries if e["state"] in ("blocked", "failed")]
    if report.get("ok"):
        out(f"Result: ok (exit {report['exitCode']})", "bold green")
    else:
        out(f"Result: failed (exit {report['exitCode']}): {', '.join(failed) or 'see above'}", "bold red")


def _items(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return list((entry.get("gate") or {}).get("items") or [])


def _render_remedies(blocked: list[dict[str, Any]], out: Any, raw: Any) -> None:
    names = " and ".join(e["stack"] for e in blocked)
    facts = {
        ((e["gate"] or {}).get("release"), (e["gate"] or {}).get("basis"), (e["gate"] or {}).get("reason"))
        for e in blocked
    }
    shared = ""
    if len(facts) == 1:
        release, basis, reason = next(iter(facts))
        shared = f" Release {release} is {basis}: {reason}."
    out()
    out(
        f"The compatibility gate blocks {names}, as expected while a risky release's checklist evidence "
        f"is missing or out of date (docs/compatibility-gate.md).{shared} Each item clears once its "
        "evidence is recorded; fill in the <placeholders> (`gate status -s <stack>` prints the same):",
        "",
        "",
    )
    for e in blocked:
        gate = e.get("gate") or {}
        out()
        out(f"  {e['stack']}:", "bold")
        if not shared:
            release, basis, reason = gate.get("release"), gate.get("basis"), gate.get("reason")
            out(f"    release {release} is {basis}: {reason}", "", "      ")
        for item in _items(e):
            out(f"    {item['text']}", "yellow", "        ")
            if item["command"]:
                for line in shell_lines(item["command"], "      "):
                    raw(line, "cyan")
