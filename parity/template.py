"""Evaluates a Bicep file (and its modules) into the ARM resources and outputs it would deploy.

Only what the comparison needs is evaluated; anything else is an error naming the file and line, never a
guess. Deploy-time values (`x.properties.y`, `listKeys()`) stay symbolic (`Runtime`), secure parameters
stay hidden (`Secret`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.naming import resource_group_id, unique_string
from parity.errors import ParityInputError
from parity.expr import (
    ArrayExpr,
    Binary,
    Call,
    Cond,
    Expr,
    Ident,
    Index,
    Interp,
    Lit,
    Member,
    MethodCall,
    Nested,
    ObjectExpr,
    Unary,
    render,
)
from parity.syntax import BicepFile, ModuleDecl, ParamDecl, ResourceDecl, parse_bicep
from parity.values import Runtime, Secret

# Keys of a resource body that are not part of the deployed resource's own definition.
_META_KEYS = ("name", "parent", "dependsOn")
_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


@dataclass(frozen=True)
class DeploymentScope:
    """The resource group a template is deployed to: what `resourceGroup()` returns."""

    subscription_id: str
    resource_group: str
    location: str

    @property
    def resource_group_id(self) -> str:
        return resource_group_id(self.subscription_id, self.resource_group)


@dataclass(frozen=True)
class Supplied:
    """A parameter value given from outside the file (parameters file, command line, module call)."""

    value: Any
    file: Path | None = None
    line: int | None = None


@dataclass
class ArmResource:
    symbol: str  # module path and symbol, e.g. `serviceBus/managementPolicy`
    arm_type: str
    api_version: str
    name: str  # full ARM name (`namespace/rule` for a child)
    resource_id: str
    body: dict[str, Any]  # location, sku, properties, tags, ... as ARM receives them
    deployed: bool  # the `if` condition (and the module's) evaluated to true
    existing: bool  # `existing`: referenced, never deployed by this template
    file: Path
    line: int


@dataclass
class TemplateResult:
    file: Path
    resources: list[ArmResource]
    outputs: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _ResourceHandle:
    symbol: str


@dataclass(frozen=True)
class _ModuleHandle:
    symbol: str


@dataclass(frozen=True)
class _Outputs:
    module: str


@dataclass(frozen=True)
class _Identity:
    deployed: bool
    declared_name: str
    full_name: str
    resource_id: str


def load_template(
    path: Path,
    scope: DeploymentScope,
    parameters_file: Path | None = None,
    overrides: Mapping[str, str] | None = None,
) -> TemplateResult:
    """Loads the Bicep file `path` with values from an ARM parameters file and `name=value` overrides."""
    declared = parse_bicep(path)
    supplied: dict[str, Supplied] = {}
    if parameters_file is not None:
        supplied.update(read_parameters_file(parameters_file, declared))
    for name, text in (overrides or {}).items():
        supplied[name] = Supplied(_parse_override(declared, name, text))
    return _Template(declared, scope, supplied, prefix="", stack=(path.resolve(),), deployed=True).result()


def read_parameters_file(path: Path, declared: BicepFile) -> dict[str, Supplied]:
    """Values from an ARM deploymentParameters JSON file; undeclared parameters are rejected, as ARM does."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ParityInputError(
            path, None, f"cannot read the parameters file: {err.strerror or err}"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ParityInputError(path, err.lineno, f"invalid JSON: {err.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        raise ParityInputError(
            path, 1, "expected an ARM deployment parameters file: an object with 'parameters'"
        )
    schema = data.get("$schema", "")
    if schema and "deploymentParameters" not in schema:
        raise ParityInputError(
            path, _json_line(text, "$schema"), f"$schema {schema!r} is not deploymentParameters"
        )
    result: dict[str, Supplied] = {}
    for name, entry in data["parameters"].items():
        line = _json_line(text, name)
        if name not in declared.params:
            raise ParityInputError(path, line, f"parameter {name!r} is not declared in {declared.path.name}")
        if isinstance(entry, dict) and "value" in entry:
            result[name] = Supplied(entry["value"], path, line)
        elif isinstance(entry, dict) and "reference" in entry:
            result[name] = Supplied(Secret(f"Key Vault reference for {name}"), path, line)
        else:
            raise ParityInputError(
                path, line, f"parameter {name!r}: expected an object with 'value' or 'reference'"
            )
    return result


def _json_line(text: str, key: str) -> int:
    match = re.search(r'"' + re.escape(key) + r'"\s*:', text)
    return text[: match.start()].count("\n") + 1 if match else 1


def _parse_override(declared: BicepFile, name: str, text: str) -> Any:
    param = declared.params.get(name)
    if param is None:
        raise ParityInputError(None, None, f"--param {name}: {declared.path} declares no parameter {name!r}")
    if param.type_name == "string":
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ParityInputError(
            None, None, f"--param {name}: expected a JSON {param.type_name} value, got {text!r}"
        ) from None


class _Template:
    def __init__(
        self,
        declared: BicepFile,
        scope: DeploymentScope,
        supplied: Mapping[str, Supplied],
        *,
        prefix: str,
        stack: tuple[Path, ...],
        deployed: bool,
    ) -> None:
        self.declared = declared
        self.scope = scope
        self.supplied = supplied
        self.prefix = prefix
        self.stack = stack
        self.deployed = deployed
        self.values: dict[str, Any] = {}
        self.identities: dict[str, _Identity] = {}
        self.modules: dict[str, TemplateResult] = {}
        self.busy: set[str] = set()
        if declared.target_scope != "resourceGroup":
            raise self.error(
                1, f"targetScope {declared.target_scope!r} is not supported (resourceGroup only)"
            )
        for name in supplied:
            if name not in declared.params:
                raise self.error(1, f"no parameter {name!r} is declared")

    def error(self, line: int | None, message: str) -> ParityInputError:
        return ParityInputError(self.declared.path, line, message)

    def result(self) -> TemplateResult:
        parameters = {name: self.symbol(name, param.line) for name, param in self.declared.params.items()}
        resources: list[ArmResource] = []
        for symbol, decl in self.declared.resources.items():
            resources.append(self.resource(symbol, decl))
        for symbol in self.declared.modules:
            resources.extend(self.module(symbol).resources)
        outputs = {name: _plain(self.eval(o.value)) for name, o in self.declared.outputs.items()}
        return TemplateResult(
            self.declared.path, resources, outputs, {k: _plain(v) for k, v in parameters.items()}
        )

    # symbols

    def symbol(self, name: str, line: int) -> Any:
        decl = self.declared
        if name in decl.resources:
            return _ResourceHandle(name)
        if name in decl.modules:
            return _ModuleHandle(name)
        if name in self.values:
            return self.values[name]
        if name not in decl.params and name not in decl.variables:
            raise self.error(line, f"unknown symbol {name!r}")
        if name in self.busy:
            raise self.error(line, f"{name!r} depends on itself")
        self.busy.add(name)
        try:
            if name in decl.params:
                value = self.param(decl.params[name])
            else:
                value = self.eval(decl.variables[name].value)
        finally:
            self.busy.discard(name)
        self.values[name] = value
        return value

    def param(self, param: ParamDecl) -> Any:
        given = self.supplied.get(param.name)
        if given is not None:
            value, file, line = given.value, given.file or self.declared.path, given.line or param.line
        elif param.default is not None:
            value, file, line = self.eval(param.default), self.declared.path, param.line
        elif param.secure:
            return Secret(f"parameter {param.name}")
        else:
            raise self.error(
                param.line,
                f"parameter {param.name!r} has no default and no value: give it in a parameters file "
                f"or with --param {param.name}=VALUE",
            )
        if isinstance(value, Runtime | Secret):
            return value
        check = _TYPE_CHECKS.get(param.type_name)
        if check is not None and not check(value):
            raise ParityInputError(
                file, line, f"parameter {param.name!r} expects {param.type_name}, got {value!r}"
            )
        allowed = param.decorators.get("allowed")
        if allowed:
            options = self.eval(allowed[0])
            if isinstance(options, list) and value not in options:
                raise ParityInputError(
                    file,
                    line,
                    f"parameter {param.name!r}: {value!r} is not one of the @allowed values {options!r} "
                    "(Bicep compares them literally: '*' is not a wildcard)",
                )
        return Secret(f"parameter {param.name}") if param.secure else value

    # resources

    def identity(self, symbol: str, line: int) -> _Identity:
        if symbol in self.identities:
            return self.identities[symbol]
        decl = self.declared.resources[symbol]
        key = f"resource {symbol}"
        if key in self.busy:
            raise self.error(line, f"the name of resource {symbol!r} depends on itself")
        self.busy.add(key)
        try:
            identity = self.compute_identity(decl)
        finally:
            self.busy.discard(key)
        self.identities[symbol] = identity
        return identity

    def compute_identity(self, decl: ResourceDecl) -> _Identity:
        deployed = self.deployed and self.condition(decl.condition)
        parent_name = ""
        if decl.enclosing is not None:
            enclosing = self.identity(decl.enclosing, decl.line)
            parent_name = enclosing.full_name
            deployed = deployed and enclosing.deployed  # Bicep gives nested resources the parent's condition
        parent_expr = decl.body.get("parent")
        if parent_expr is not None:
            parent = self.eval(parent_expr)
            if not isinstance(parent, _ResourceHandle):
                raise self.error(parent_expr.line, "'parent' must be a resource symbol")
            parent_name = self.identity(parent.symbol, parent_expr.line).full_name
        name_expr = decl.body.get("name")
        if name_expr is None:
            raise self.error(decl.line, f"resource {decl.symbol!r} has no name")
        name = self.eval(name_expr)
        if not isinstance(name, str):
            raise self.error(
                name_expr.line, f"the name of resource {decl.symbol!r} is not a known string: {name}"
            )
        full_name = f"{parent_name}/{name}" if parent_name else name
        resource_id = self.arm_id(decl.arm_type, full_name, decl.line)
        return _Identity(deployed, name, full_name, resource_id)

    def arm_id(self, arm_type: str, full_name: str, line: int) -> str:
        namespace, *types = arm_type.split("/")
        names = full_name.split("/")
        if not types or len(types) != len(names):
            raise self.error(
                line, f"name {full_name!r} does not fit type {arm_type!r} (one segment per type level)"
            )
        path = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
        return f"{self.scope.resource_group_id}/providers/{namespace}/{path}"

    def condition(self, expr: Expr | None) -> bool:
        if expr is None:
            return True
        value = self.eval(expr)
        if not isinstance(value, bool):
            raise self.error(expr.line, f"the `if` condition is not a known boolean: {value}")
        return value

    def resource(self, symbol: str, decl: ResourceDecl) -> ArmResource:
        identity = self.identity(symbol, decl.line)
        body = {key: _plain(self.eval(value)) for key, value in decl.body.pairs if key not in _META_KEYS}
        if "scope" in body:
            raise self.error(
                decl.line, f"resource {symbol!r}: 'scope' is not supported (resource group scope only)"
            )
        return ArmResource(
            symbol=self.prefix + symbol,
            arm_type=decl.arm_type,
            api_version=decl.api_version,
            name=identity.full_name,
            resource_id=identity.resource_id,
            body=body,
            deployed=identity.deployed and not decl.existing,
            existing=decl.existing,
            file=self.declared.path,
            line=decl.line,
        )

    # modules

    def module(self, symbol: str) -> TemplateResult:
        if symbol in self.modules:
            return self.modules[symbol]
        decl = self.declared.modules[symbol]
        key = f"module {symbol}"
        if key in self.busy:
            raise self.error(decl.line, f"module {symbol!r} depends on itself")
        self.busy.add(key)
        try:
            result = self.run_module(decl)
        finally:
            self.busy.discard(key)
        self.modules[symbol] = result
        return result

    def run_module(self, decl: ModuleDecl) -> TemplateResult:
        if ":" in decl.path:
            raise self.error(
                decl.line, f"module {decl.symbol!r}: only local module files are supported, not {decl.path!r}"
            )
        if decl.body.get("scope") is not None:
            raise self.error(
                decl.line, f"module {decl.symbol!r}: 'scope' is not supported (same resource group only)"
            )
        path = (self.declared.path.parent / decl.path).resolve()
        if not path.is_file():
            raise self.error(
                decl.line, f"module {decl.symbol!r}: file {decl.path!r} not found (looked for {path})"
            )
        if path in self.stack:
            raise self.error(decl.line, f"module {decl.symbol!r}: {decl.path!r} includes itself")
        deployed = self.deployed and self.condition(decl.condition)
        params_expr = decl.body.get("params")
        supplied: dict[str, Supplied] = {}
        if params_expr is not None:
            if not isinstance(params_expr, ObjectExpr):
                raise self.error(
                    params_expr.line, f"module {decl.symbol!r}: 'params' must be an object literal"
                )
            for name, value in params_expr.pairs:
                supplied[name] = Supplied(_plain(self.eval(value)), self.declared.path, value.line)
        child = parse_bicep(path)
        for name, given in supplied.items():
            if name not in child.params:
                raise self.error(
                    given.line, f"module {decl.symbol!r}: {decl.path} declares no parameter {name!r}"
                )
        prefix = f"{self.prefix}{decl.symbol}/"
        template = _Template(
            child, self.scope, supplied, prefix=prefix, stack=(*self.stack, path), deployed=deployed
        )
        return template.result()

    # expressions

    def eval(self, expr: Expr) -> Any:
        method = getattr(self, f"eval_{type(expr).__name__}")
        return method(expr)

    def eval_Lit(self, expr: Lit) -> Any:
        return expr.value

    def eval_Ident(self, expr: Ident) -> Any:
        return self.symbol(expr.name, expr.line)

    def eval_ArrayExpr(self, expr: ArrayExpr) -> Any:
        return [self.eval(item) for item in expr.items]

    def eval_ObjectExpr(self, expr: ObjectExpr) -> Any:
        return {key: self.eval(value) for key, value in expr.pairs}

    def eval_Interp(self, expr: Interp) -> Any:
        pieces: list[str] = []
        for part in expr.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = self.eval(part)
            if isinstance(value, Secret):
                return value
            if isinstance(value, Runtime):
                return Runtime(render(expr))
            pieces.append(self.text(value, part.line))
        return "".join(pieces)

    def text(self, value: Any, line: int) -> str:
        if isinstance(value, bool):
            return "True" if value else "False"  # how ARM's string() renders booleans
        if isinstance(value, str | int):
            return str(value)
        if value is None:
            return ""
        if isinstance(value, list | dict):
            return json.dumps(value, separators=(",", ":"))
        raise self.error(line, f"cannot put {value} into a string")

    def eval_Member(self, expr: Member) -> Any:
        target = self.eval(expr.target)
        if isinstance(target, _ResourceHandle):
            return self.resource_member(target.symbol, expr)
        if isinstance(target, _ModuleHandle):
            if expr.name == "outputs":
                return _Outputs(target.symbol)
            if expr.name == "name":
                name_expr = self.declared.modules[target.symbol].body.get("name")
                return self.eval(name_expr) if name_expr is not None else Runtime(render(expr))
            raise self.error(expr.line, f"module {target.symbol!r} has no property {expr.name!r}")
        if isinstance(target, _Outputs):
            outputs = self.module(target.module).outputs
            if expr.name not in outputs:
                raise self.error(expr.line, f"module {target.module!r} has no output {expr.name!r}")
            return outputs[expr.name]
        if isinstance(target, Runtime | Secret):
            return Runtime(render(expr))
        if isinstance(target, dict):
            if expr.name in target:
                return target[expr.name]
            if expr.safe:
                return None
            raise self.error(expr.line, f"{render(expr.target)} has no property {expr.name!r}")
        if target is None and expr.safe:
            return None
        raise self.error(expr.line, f"cannot read property {expr.name!r} of {target!r}")

    def resource_member(self, symbol: str, expr: Member) -> Any:
        decl = self.declared.resources[symbol]
        if expr.name == "name":
            return self.identity(symbol, expr.line).declared_name
        if expr.name == "id":
            return self.identity(symbol, expr.line).resource_id
        if expr.name == "type":
            return decl.arm_type
        if expr.name == "apiVersion":
            return decl.api_version
        # Everything else (properties, location, sku, ...) is read back from ARM after the deployment.
        return Runtime(render(expr))

    def eval_Nested(self, expr: Nested) -> Any:
        target = self.eval(expr.target)
        if not isinstance(target, _ResourceHandle):
            raise self.error(expr.line, f"'::' needs a resource on its left: {render(expr)}")
        symbol = f"{target.symbol}::{expr.name}"
        if symbol not in self.declared.resources:
            raise self.error(
                expr.line, f"resource {target.symbol!r} declares no nested resource {expr.name!r}"
            )
        return _ResourceHandle(symbol)

    def eval_Index(self, expr: Index) -> Any:
        target = self.eval(expr.target)
        index = self.eval(expr.index)
        if isinstance(target, Runtime | Secret) or isinstance(index, Runtime | Secret):
            return Runtime(render(expr))
        if isinstance(target, list) and isinstance(index, int) and not isinstance(index, bool):
            if -len(target) <= index < len(target):
                return target[index]
            raise self.error(expr.line, f"index {index} is out of range in {render(expr)}")
        if isinstance(target, dict) and isinstance(index, str):
            if index in target:
                return target[index]
            raise self.error(expr.line, f"{render(expr.target)} has no property {index!r}")
        if isinstance(target, _Outputs):
            return self.eval_Member(Member(line=expr.line, target=expr.target, name=str(index)))
        raise self.error(expr.line, f"cannot index {target!r} with {index!r}")

    def eval_MethodCall(self, expr: MethodCall) -> Any:
        return Runtime(render(expr))  # listKeys() and the like are answered by ARM at deploy time

    def eval_Unary(self, expr: Unary) -> Any:
        value = self.eval(expr.operand)
        if isinstance(value, Runtime | Secret):
            return Runtime(render(expr))
        if expr.op == "!":
            if not isinstance(value, bool):
                raise self.error(expr.line, f"'!' needs a boolean, got {value!r}")
            return not value
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(expr.line, f"'-' needs an integer, got {value!r}")
        return -value

    def eval_Binary(self, expr: Binary) -> Any:
        op = expr.op
        left = self.eval(expr.left)
        if op in ("&&", "||"):
            if isinstance(left, bool) and left == (op == "||"):
                return left  # short-circuit, as ARM's and()/or() give the same answer either way
            right = self.eval(expr.right)
            if isinstance(left, Runtime | Secret) or isinstance(right, Runtime | Secret):
                return Runtime(render(expr))
            if not isinstance(left, bool) or not isinstance(right, bool):
                raise self.error(expr.line, f"'{op}' needs booleans: {render(expr)}")
            return right
        if op == "??":
            return self.eval(expr.right) if left is None else left
        right = self.eval(expr.right)
        if isinstance(left, Runtime | Secret) or isinstance(right, Runtime | Secret):
            return Runtime(render(expr))
        if op in ("==", "!="):
            return _same(left, right) == (op == "==")
        if op in ("=~", "!~"):
            if not isinstance(left, str) or not isinstance(right, str):
                raise self.error(expr.line, f"'{op}' needs strings: {render(expr)}")
            return (left.casefold() == right.casefold()) == (op == "=~")
        if not _is_int(left) or not _is_int(right):
            if op in ("<", "<=", ">", ">=") and isinstance(left, str) and isinstance(right, str):
                return _compare(op, left, right)
            raise self.error(expr.line, f"'{op}' needs integers: {render(expr)}")
        if op in ("<", "<=", ">", ">="):
            return _compare(op, left, right)
        if op in ("/", "%") and right == 0:
            raise self.error(expr.line, f"division by zero: {render(expr)}")
        return _ARITHMETIC[op](left, right)

    def eval_Cond(self, expr: Cond) -> Any:
        test = self.eval(expr.test)
        if isinstance(test, Runtime | Secret):
            return Runtime(render(expr))
        if not isinstance(test, bool):
            raise self.error(expr.line, f"the condition of '?:' is not a boolean: {render(expr.test)}")
        return self.eval(expr.then if test else expr.other)

    def eval_Call(self, expr: Call) -> Any:
        if expr.name == "resourceGroup" and not expr.args:
            return {
                "id": self.scope.resource_group_id,
                "name": self.scope.resource_group,
                "location": self.scope.location,
                "type": "Microsoft.Resources/resourceGroups",
            }
        if expr.name == "subscription" and not expr.args:
            sub = self.scope.subscription_id
            return {"id": f"/subscriptions/{sub}", "subscriptionId": sub}
        function = _FUNCTIONS.get(expr.name)
        if function is None:
            raise self.error(expr.line, f"function {expr.name}() is not supported by the parity loader")
        args = [self.eval(a) for a in expr.args]
        if any(isinstance(a, Runtime | Secret) for a in args):
            return Runtime(render(expr))
        try:
            return function(*args)
        except (TypeError, ValueError) as err:
            raise self.error(expr.line, f"{render(expr)}: {err}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _same(left: Any, right: Any) -> bool:
    # Python says True == 1; Bicep's `==` does not.
    return type(left) is type(right) and bool(left == right)


def _compare(op: str, left: Any, right: Any) -> bool:
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


_ARITHMETIC: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: int(a / b),  # ARM's div truncates toward zero
    "%": lambda a, b: a - b * int(a / b),
}


def _strings(name: str, *values: Any) -> None:
    if not all(isinstance(v, str) for v in values):
        raise TypeError(f"{name}() needs strings")


def _uniquestring(*parts: Any) -> str:
    _strings("uniqueString", *parts)
    return unique_string(*parts)


def _lower(value: Any) -> str:
    _strings("toLower", value)
    return str(value).lower()


def _upper(value: Any) -> str:
    _strings("toUpper", value)
    return str(value).upper()


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str | list | dict):
        return len(value) == 0
    raise TypeError("empty() needs a string, array or object")


def _concat(*values: Any) -> Any:
    if values and all(isinstance(v, list) for v in values):
        return [item for v in values for item in v]
    if all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        return "".join(str(v) for v in values)
    raise TypeError("concat() needs all strings or all arrays")


def _length(value: Any) -> int:
    if isinstance(value, str | list | dict):
        return len(value)
    raise TypeError("length() needs a string, array or object")


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str) and isinstance(item, str):
        return item in container
    if isinstance(container, list):
        return any(_same(item, v) for v in container)
    if isinstance(container, dict) and isinstance(item, str):
        return item in container
    raise TypeError("contains() needs a string, array or object")


def _starts(value: Any, prefix: Any) -> bool:
    _strings("startsWith", value, prefix)
    return bool(value.lower().startswith(prefix.lower()))  # ARM compares case-insensitively


def _ends(value: Any, suffix: Any) -> bool:
    _strings("endsWith", value, suffix)
    return bool(value.lower().endswith(suffix.lower()))


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "uniqueString": _uniquestring,
    "toLower": _lower,
    "toUpper": _upper,
    "empty": _empty,
    "concat": _concat,
    "length": _length,
    "contains": _contains,
    "startsWith": _starts,
    "endsWith": _ends,
    "coalesce": _coalesce,
}


def _plain(value: Any) -> Any:
    """Replaces symbol handles (a resource or module used as a value) by runtime markers."""
    if isinstance(value, _ResourceHandle | _ModuleHandle | _Outputs):
        return Runtime(getattr(value, "symbol", getattr(value, "module", "")))
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
