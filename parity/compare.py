"""Bicep resources and outputs against the program's, resource by resource and property by property."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from parity.differences import DELIBERATE, Deliberate, find_reason
from parity.mapping import PLACEMENT_INPUTS, input_path, mapping_for, sdk_api_version
from parity.paths import leaves
from parity.program import ProgramResource, ProgramStack
from parity.template import ArmResource, TemplateResult
from parity.values import Runtime, Secret

_RESOURCE_GROUP = "azure-native:resources:ResourceGroup"

Kind = Literal["same", "differs", "missing", "extra", "runtime", "secret", "not-deployed", "import-diff"]
Status = Literal["mirrored", "deliberate", "UNEXPLAINED", "runtime", "secret", "not deployed"]


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


@dataclass
class Finding:
    kind: Kind
    resource: str  # ARM type or azure-native token (`output` for outputs)
    subject: str  # what a person reads: `Microsoft.ServiceBus/namespaces sb-MeAjudaAi-dev`, `output x`
    path: str = ""  # property path (ARM terms when the Bicep has it, input terms otherwise); "" = whole thing
    program_path: str = ""
    bicep: Any = ABSENT
    program: Any = ABSENT
    token: str = ""
    reason: str = ""

    @property
    def status(self) -> Status:
        if self.kind == "same":
            return "mirrored"
        if self.kind in ("runtime", "secret", "not-deployed"):
            return "not deployed" if self.kind == "not-deployed" else self.kind
        if self.kind == "import-diff":
            return "UNEXPLAINED"  # the first `pulumi up` with adoption would fail: no reason can excuse that
        return "deliberate" if self.reason else "UNEXPLAINED"


@dataclass
class Adoption:
    resource_id: str  # the ARM id Bicep deployed, which the program would import
    token: str
    logical_name: str
    import_id: str  # what the program registered as `import` ("" when adoption is off)


@dataclass
class Comparison:
    stack: str
    template: TemplateResult
    program: ProgramStack
    findings: list[Finding] = field(default_factory=list)
    adoption: list[Adoption] = field(default_factory=list)

    @property
    def unexplained(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "UNEXPLAINED"]


def compare(
    template: TemplateResult, program: ProgramStack, deliberate: Sequence[Deliberate] = DELIBERATE
) -> Comparison:
    result = Comparison(program.stack, template, program)
    deployed = [r for r in template.resources if r.deployed]
    unmatched = list(program.resources)
    group = next((r for r in unmatched if r.token == _RESOURCE_GROUP), None)
    if group is not None and deployed:
        # The Bicep's workflow created the group it deploys into: adopting means importing the group too.
        rg_id = program.scope.resource_group_id
        result.adoption.append(Adoption(rg_id, group.token, group.logical_name, group.import_id))
    for resource in template.resources:
        if not resource.deployed:
            state = "existing" if resource.existing else "if: false for these parameters"
            result.findings.append(
                Finding("not-deployed", resource.arm_type, _subject(resource), bicep=state)
            )
            continue
        match = _match(resource, unmatched)
        if match is None:
            missing = Finding("missing", resource.arm_type, _subject(resource))
            missing.program = _namesake(resource, unmatched)
            result.findings.append(missing)
            continue
        unmatched.remove(match)
        pair = _compare_resource(resource, match)
        result.findings.extend(pair)
        if match.import_id:
            result.findings.extend(_import_diffs(pair, match))
        result.adoption.append(
            Adoption(resource.resource_id, match.token, match.logical_name, match.import_id)
        )
    for extra in unmatched:
        result.findings.append(
            Finding("extra", extra.token, f"{extra.token} {extra.logical_name}", token=extra.token)
        )
    result.findings.extend(_compare_outputs(template.outputs, program.outputs))
    for row in result.adoption:
        if row.import_id and row.import_id.casefold() != row.resource_id.casefold():
            subject = f"{row.token} {row.logical_name}"
            result.findings.append(
                Finding(
                    "differs", row.token, subject, "@import", "", row.resource_id, row.import_id, row.token
                )
            )
    bicep_types = {r.arm_type.lower() for r in deployed}
    for finding in result.findings:
        if finding.kind in ("differs", "missing", "extra"):
            finding.reason = find_reason(finding, program.stack, bicep_types, deliberate)
    return result


def _subject(resource: ArmResource) -> str:
    return f"{resource.arm_type} {resource.name}"


def _match(resource: ArmResource, candidates: list[ProgramResource]) -> ProgramResource | None:
    mapping = mapping_for(resource.arm_type)
    if mapping is None:
        return None
    segments = [s.casefold() for s in resource.name.split("/")]
    for candidate in candidates:
        if candidate.token != mapping.token:
            continue
        names = [str(candidate.inputs.get(key, "")).casefold() for key in mapping.name_inputs]
        if names == segments:  # ARM names are case-insensitive
            return candidate
    return None


def _import_diffs(pair: list[Finding], program: ProgramResource) -> list[Finding]:
    """Inputs an import run would find different from what the Bicep deployed, unless ignored: Pulumi
    refuses an import whose inputs do not match the live resource."""
    found: list[Finding] = []
    for finding in pair:
        path = finding.program_path
        if finding.kind not in ("differs", "extra") or not path or finding.path.startswith("@"):
            continue
        if any(
            path == ignored or path.startswith((ignored + ".", ignored + "["))
            for ignored in program.ignore_changes
        ):
            continue
        found.append(
            Finding("import-diff", finding.resource, finding.subject, finding.path, path,
                    finding.bicep, finding.program, finding.token)
        )  # fmt: skip
    return found


def _namesake(resource: ArmResource, candidates: list[ProgramResource]) -> Any:
    """The ARM name of the closest program resource of the same type: the usual cause of a miss is a name that
    differs (another environmentName, resource group or subscription than the stack's)."""
    mapping = mapping_for(resource.arm_type)
    if mapping is None:
        return ABSENT
    wanted = [s.casefold() for s in resource.name.split("/")]
    best: tuple[int, str] | None = None
    for candidate in candidates:
        if candidate.token != mapping.token:
            continue
        names = [str(candidate.inputs.get(key, "?")) for key in mapping.name_inputs]
        score = sum(a.casefold() == b for a, b in zip(names, wanted, strict=False))
        if best is None or score > best[0]:
            best = (score, "/".join(names))
    return ABSENT if best is None else best[1]


def _compare_resource(resource: ArmResource, program: ProgramResource) -> list[Finding]:
    mapping = mapping_for(resource.arm_type)
    assert mapping is not None
    subject = f"{_subject(resource)} = {program.token} {program.logical_name}"
    skip = set(mapping.name_inputs) | set(PLACEMENT_INPUTS)
    program_leaves = dict(leaves({k: v for k, v in program.inputs.items() if k not in skip}))
    findings: list[Finding] = []

    def add(kind: Kind, path: str, program_path: str, bicep: Any, value: Any) -> None:
        findings.append(
            Finding(kind, resource.arm_type, subject, path, program_path, bicep, value, token=program.token)
        )

    version = sdk_api_version(program.token) or ABSENT
    add(
        "same" if version == resource.api_version else "differs",
        "@apiVersion",
        "",
        resource.api_version,
        version,
    )
    for arm_path, bicep_value in leaves(resource.body):
        target = input_path(arm_path)
        if target not in program_leaves:
            add("missing", arm_path, target, bicep_value, ABSENT)
            continue
        value = program_leaves.pop(target)
        add(_judge(arm_path, bicep_value, value), arm_path, target, bicep_value, value)
    for path, value in program_leaves.items():
        add("extra", path, path, ABSENT, value)
    return findings


def _compare_outputs(bicep: dict[str, Any], program: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for name, value in bicep.items():
        if name not in program:
            findings.append(Finding("missing", "output", f"output {name}", name, bicep=value))
            continue
        kind = _judge(name, value, program[name])
        findings.append(Finding(kind, "output", f"output {name}", name, name, value, program[name]))
    for name, value in program.items():
        if name not in bicep:
            findings.append(Finding("extra", "output", f"output {name}", name, name, program=value))
    return findings


def _judge(path: str, bicep: Any, program: Any) -> Kind:
    if isinstance(bicep, Runtime) or isinstance(program, Runtime):
        return "runtime"  # known only after deployment: reported, never guessed
    if isinstance(bicep, Secret) or isinstance(program, Secret):
        return "secret" if isinstance(bicep, Secret) and isinstance(program, Secret) else "differs"
    return "same" if _normal(path, bicep) == _normal(path, program) else "differs"


def _normal(path: str, value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        if path.rsplit(".", 1)[-1] == "location":
            return value.replace(" ", "").casefold()  # ARM reads 'Brazil South' as brazilsouth
        if value.casefold().startswith("/subscriptions/"):
            return value.casefold()  # ARM ids are case-insensitive
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        # Scalar arrays in these resources are sets (rights, groupIds); ARM does not keep their order.
        return ("set", tuple(sorted(value)))
    if isinstance(value, list):
        return ("list", tuple(_normal(path, v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _normal(k, v)) for k, v in value.items())))
    return (type(value).__name__, value)
