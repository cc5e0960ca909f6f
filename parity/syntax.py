"""Bicep source to declarations and expression trees, on top of pycep-parser's grammar.

pycep-parser's LALR grammar (`BicepParser().lark_parser`) tokenises and parses the file; we read its
Lark tree rather than its JSON rendering because the JSON loses what Bicep semantics need:

* Operators have no precedence in the grammar and Lark resolves every conflict by shifting, so any chain
  comes out right-nested: `a != '' && b != ''` parses as `a != ('' && (b != ''))`, `!a && b` as
  `!(a && b)`, `a.b == c` as `a.(b == c)`. Parentheses leave no node either. We flatten each chain
  back into operands and operators (a child stays a unit when the source shows parentheses around it)
  and regroup it with Bicep's precedence table (`_PRECEDENCE`).
* The JSON renders the literal `'name'` and the identifier `name` as the same text (only the Python
  class differs), keeps the quotes on quoted object keys, leaves `${...}` holes as raw text and does not
  unescape `\\'`. We read the token type instead (`STRING` is an identifier, `QUOTED_INTERPOLATION` a
  literal), unescape literals ourselves and parse each `${...}` hole with the same grammar.
* `.?` (safe dereference) leaves no trace in the tree; we read it from the source between operands.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

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
)

# Bicep's operator precedence (higher binds tighter); all binary operators are left-associative.
_PRECEDENCE = {
    "??": 2,
    "||": 3,
    "&&": 4,
    "==": 5,
    "!=": 5,
    "=~": 5,
    "!~": 5,
    "<": 6,
    "<=": 6,
    ">": 6,
    ">=": 6,
    "+": 7,
    "-": 7,
    "*": 8,
    "/": 8,
    "%": 8,
}
_TERNARY = 1  # `c ? a : b` binds loosest and is right-associative

_BINARY_RULES = {
    "and_op": "&&",
    "or_op": "||",
    "coalesce": "??",
    "equals": "==",
    "not_equals": "!=",
    "equals_case_insens": "=~",
    "not_equals_case_insens": "!~",
    "greater_than": ">",
    "greater_than_or_equals": ">=",
    "less_than": "<",
    "less_than_or_equals": "<=",
    "add": "+",
    "substract": "-",
    "multiply": "*",
    "divide": "/",
    "modulo": "%",
}

_ESCAPES = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


@dataclass(frozen=True)
class ParamDecl:
    name: str
    type_name: str
    default: Expr | None
    decorators: dict[str, tuple[Expr, ...]]
    line: int

    @property
    def secure(self) -> bool:
        return "secure" in self.decorators


@dataclass(frozen=True)
class VarDecl:
    name: str
    value: Expr
    line: int


@dataclass(frozen=True)
class ResourceDecl:
    symbol: str  # `child` or, for a resource declared inside another's body, `parent::child`
    arm_type: str
    api_version: str
    existing: bool
    body: ObjectExpr
    condition: Expr | None
    line: int
    enclosing: str | None = None  # symbol of the resource whose body declares this one


@dataclass(frozen=True)
class ModuleDecl:
    symbol: str
    path: str
    body: ObjectExpr
    condition: Expr | None
    line: int


@dataclass(frozen=True)
class OutputDecl:
    name: str
    type_name: str
    value: Expr
    line: int


@dataclass
class BicepFile:
    path: Path
    target_scope: str = "resourceGroup"
    params: dict[str, ParamDecl] = field(default_factory=dict)
    variables: dict[str, VarDecl] = field(default_factory=dict)
    resources: dict[str, ResourceDecl] = field(default_factory=dict)
    modules: dict[str, ModuleDecl] = field(default_factory=dict)
    outputs: dict[str, OutputDecl] = field(default_factory=dict)


@functools.cache
def _lark() -> Lark:
    from pycep import BicepParser  # noqa: PLC0415 - building the grammar is only needed when parsing

    parser: Lark = BicepParser().lark_parser
    return parser


def parse_bicep(path: Path) -> BicepFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ParityInputError(path, None, f"cannot read the Bicep file: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise ParityInputError(path, None, f"not UTF-8 text ({err.reason})") from None
    return parse_bicep_text(text, path)


def parse_bicep_text(text: str, path: Path) -> BicepFile:
    if text.count("'''") % 2:
        line = text[: text.rfind("'''")].count("\n") + 1
        raise ParityInputError(path, line, "unterminated multi-line string (''')")
    tree = _parse_tree(text, path, 0)
    return _Reader(text, path, 0).file(tree)


def _parse_tree(text: str, path: Path, line_offset: int) -> Tree[Token]:
    try:
        return _lark().parse(text if text.endswith("\n") else text + "\n")
    except UnexpectedInput as err:
        raise ParityInputError(path, err.line + line_offset, _syntax_message(err, text)) from None


def _syntax_message(err: UnexpectedInput, text: str) -> str:
    if isinstance(err, UnexpectedToken):
        token = err.token
        if token.type == "$END":
            return "syntax error: unexpected end of file"
        return f"syntax error at column {err.column}: unexpected {str(token)!r}"
    if isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream or 0
        char = text[pos] if 0 <= pos < len(text) else "?"
        return f"syntax error at column {err.column}: unexpected character {char!r}"
    if isinstance(err, UnexpectedEOF):
        return "syntax error: unexpected end of file"
    return "syntax error"


# Items of a flattened operator chain, regrouped by `_Regrouper`.
@dataclass(frozen=True)
class _Operand:
    expr: Expr


@dataclass(frozen=True)
class _BinaryOp:
    op: str
    line: int


@dataclass(frozen=True)
class _Prefix:
    op: str
    line: int


@dataclass(frozen=True)
class _Dot:
    safe: bool
    nested: bool  # `::` rather than `.`
    line: int


@dataclass(frozen=True)
class _IndexItem:
    index: Expr
    line: int


@dataclass(frozen=True)
class _MethodItem:
    name: str
    args: tuple[Expr, ...]
    line: int


@dataclass(frozen=True)
class _TernaryItem:
    then: Expr
    line: int


_Item = _Operand | _BinaryOp | _Prefix | _Dot | _IndexItem | _MethodItem | _TernaryItem

# A node of pycep's Lark tree: a `Tree`, a `Token`, or `None` for an absent optional part. Lark's own
# annotations cannot say which one each grammar position holds, so the reader checks where it matters.
_Node = Any


class _Reader:
    """Converts one source text's Lark tree; `line_offset` places `${...}` holes on their file line."""

    def __init__(self, text: str, path: Path, line_offset: int) -> None:
        self.text = text
        self.path = path
        self.offset = line_offset

    def error(self, line: int, message: str) -> ParityInputError:
        return ParityInputError(self.path, line, message)

    def line(self, node: _Node, default: int = 0) -> int:
        if isinstance(node, Token):
            return node.line + self.offset if node.line else default
        if node.meta.empty:
            return default
        return node.meta.line + self.offset

    # declarations

    def file(self, tree: _Node) -> BicepFile:
        result = BicepFile(self.path)
        for element in tree.children:
            if isinstance(element, Tree):
                self.element(element, result)
        return result

    def element(self, node: _Node, out: BicepFile) -> None:
        kind = node.data
        if kind == "scope":
            out.target_scope = str(node.children[0])[1:-1]
        elif kind == "param":
            decorators, name, data_type, default = node.children
            line = self.line(name)
            self.unique(out, str(name), line)
            out.params[str(name)] = ParamDecl(
                str(name),
                self.source(data_type),
                None if default is None else self.expr(default, line),
                self.decorators(decorators, line),
                line,
            )
        elif kind == "var":
            _, name, _, value = node.children
            line = self.line(name)
            self.unique(out, str(name), line)
            out.variables[str(name)] = VarDecl(str(name), self.expr(value, line), line)
        elif kind == "output":
            _, name, data_type, value = node.children
            line = self.line(name)
            if str(name) in out.outputs:
                raise self.error(line, f"output {name!s} is declared twice")
            out.outputs[str(name)] = OutputDecl(
                str(name), self.source(data_type), self.expr(value, line), line
            )
        elif kind == "resource":
            _, name, type_pair, existing, value = node.children
            arm_type, _, api_version = str(type_pair.children[0])[1:-1].partition("@")
            self.resource(
                out,
                symbol=str(name),
                arm_type=arm_type,
                api_version=api_version,
                existing=existing is not None,
                value=value,
                line=self.line(name),
                enclosing=None,
            )
        elif kind == "module":
            _, name, path_node, value = node.children
            line = self.line(name)
            self.unique(out, str(name), line)
            condition, body_node = self.conditional_body(value, line, "module")
            pairs, _ = self.object_pairs(body_node, line, allow_children=False)
            body = ObjectExpr(line=line, pairs=pairs)
            out.modules[str(name)] = ModuleDecl(
                str(name), str(path_node.children[0])[1:-1], body, condition, line
            )
        elif kind in ("metadata", "custom_type"):
            return  # no effect on what gets deployed
        else:
            keyword = {"custom_import": "import", "custom_func": "func"}.get(kind, kind)
            raise self.error(
                self.line(node), f"'{keyword}' declarations are not supported by the parity loader"
            )

    def unique(self, out: BicepFile, name: str, line: int) -> None:
        if name in out.params or name in out.variables or name in out.resources or name in out.modules:
            raise self.error(line, f"symbol {name!r} is declared twice")

    def resource(
        self,
        out: BicepFile,
        *,
        symbol: str,
        arm_type: str,
        api_version: str,
        existing: bool,
        value: _Node,
        line: int,
        enclosing: str | None,
    ) -> None:
        if enclosing is None:
            self.unique(out, symbol, line)
        elif symbol in out.resources:
            raise self.error(line, f"symbol {symbol!r} is declared twice")
        condition, body_node = self.conditional_body(value, line, "resource")
        pairs, children = self.object_pairs(body_node, line, allow_children=True)
        out.resources[symbol] = ResourceDecl(
            symbol,
            arm_type,
            api_version,
            existing,
            ObjectExpr(line=line, pairs=pairs),
            condition,
            line,
            enclosing,
        )
        for child in children:
            child_name, child_type, child_existing, child_value = child.children
            child_line = self.line(child_name, line)
            raw_type, _, raw_version = str(child_type)[1:-1].partition("@")
            # A nested resource may give its type relative to the parent (`virtualNetworkLinks`).
            full_type = raw_type if "." in raw_type.split("/")[0] else f"{arm_type}/{raw_type}"
            self.resource(
                out,
                symbol=f"{symbol}::{child_name}",
                arm_type=full_type,
                api_version=raw_version or api_version,
                existing=child_existing is not None,
                value=child_value,
                line=child_line,
                enclosing=symbol,
            )

    def conditional_body(self, value: _Node, line: int, what: str) -> tuple[Expr | None, _Node]:
        if value.data == "loop":
            raise self.error(
                self.line(value, line), f"{what} loops (`for`) are not supported by the parity loader"
            )
        if value.data == "deploy_condition":
            test, body = value.children
            if not isinstance(body, Tree) or body.data != "object":
                raise self.error(line, f"a conditional {what} needs an object body")
            return self.expr(test, line), body
        return None, value

    def decorators(self, node: _Node, line: int) -> dict[str, tuple[Expr, ...]]:
        result: dict[str, tuple[Expr, ...]] = {}
        for decorator in node.children if node is not None else []:
            name, *args = decorator.children
            result[str(name).removeprefix("sys.")] = tuple(self.expr(a, line) for a in args if a is not None)
        return result

    def source(self, node: _Node) -> str:
        if isinstance(node, Token):
            return str(node)
        return self.text[node.meta.start_pos : node.meta.end_pos]

    # expressions

    def expr(self, node: _Node, line: int) -> Expr:
        if isinstance(node, Token):
            return Ident(line=self.line(node, line), name=str(node))
        line = self.line(node, line)
        kind = node.data
        kids = node.children
        if kind == "operator":
            return _Regrouper(self, self.items(node, line), line).parse()
        if kind == "string":
            return self.string_token(kids[0], line)
        if kind == "int_type":
            return Lit(line=line, value=int(str(kids[0])))
        if kind in ("true", "false"):
            return Lit(line=line, value=kind == "true")
        if kind == "null":
            return Lit(line=line, value=None)
        if kind == "multi_line_string":
            # Bicep keeps ''' strings verbatim, without interpolation; a newline right after ''' is dropped.
            raw = str(kids[0])[3:-3]
            return Lit(line=line, value=raw.removeprefix("\r\n").removeprefix("\n"))
        if kind == "array":
            return ArrayExpr(line=line, items=tuple(self.expr(item, line) for item in kids))
        if kind == "object":
            pairs, _ = self.object_pairs(node, line, allow_children=False)
            return ObjectExpr(line=line, pairs=pairs)
        if kind == "function":
            name = str(kids[0]).removesuffix("(")
            name = name.removeprefix("sys.").removeprefix("az.")
            return Call(
                line=line, name=name, args=tuple(self.expr(a, line) for a in kids[1:] if a is not None)
            )
        if kind == "loop":
            raise self.error(line, "`for` expressions are not supported by the parity loader")
        if kind == "lambda_expression":
            raise self.error(line, "lambda expressions are not supported by the parity loader")
        raise self.error(line, f"unsupported expression ({kind})")

    def object_pairs(
        self, node: _Node, line: int, allow_children: bool
    ) -> tuple[tuple[tuple[str, Expr], ...], list[_Node]]:
        pairs: list[tuple[str, Expr]] = []
        children: list[_Node] = []
        seen: set[str] = set()
        for item in node.children:
            if not isinstance(item, Tree):
                continue
            if item.data == "child_resource":
                if not allow_children:
                    raise self.error(
                        self.line(item, line), "a nested resource is only allowed in a resource body"
                    )
                children.append(item)
                continue
            key_node, value = item.children
            pair_line = self.line(item, line)
            key = self.key(key_node, pair_line)
            if key in seen:
                raise self.error(pair_line, f"property {key!r} is set twice")
            seen.add(key)
            pairs.append((key, self.expr(value, pair_line)))
        return tuple(pairs), children

    def key(self, node: _Node, line: int) -> str:
        token = node.children[0]
        raw = str(token)
        if not raw.startswith("'"):
            return raw
        value = self.string_token(token, line)
        if not isinstance(value, Lit) or not isinstance(value.value, str):
            raise self.error(line, f"interpolated object keys are not supported: {raw}")
        return value.value

    def string_token(self, token: _Node, line: int) -> Expr:
        assert isinstance(token, Token)
        line = self.line(token, line)
        raw = str(token)
        if token.type == "STRING":
            return Ident(line=line, name=raw)
        parts = self.unquote(raw[1:-1], line)
        if all(isinstance(p, str) for p in parts):
            return Lit(line=line, value="".join(str(p) for p in parts))
        return Interp(line=line, parts=tuple(parts))

    def unquote(self, body: str, line: int) -> list[str | Expr]:
        parts: list[str | Expr] = []
        buffer: list[str] = []
        i = 0
        while i < len(body):
            char = body[i]
            if char == "\\":
                escaped = body[i + 1 : i + 2]
                if escaped == "u":
                    match = re.match(r"\{([0-9A-Fa-f]{1,6})\}", body[i + 2 :])
                    if not match:
                        raise self.error(line, "invalid \\u{...} escape in a string")
                    buffer.append(chr(int(match.group(1), 16)))
                    i += 2 + match.end()
                    continue
                if escaped not in _ESCAPES:
                    raise self.error(line, f"invalid escape sequence \\{escaped} in a string")
                buffer.append(_ESCAPES[escaped])
                i += 2
            elif body.startswith("${", i):
                end = _matching_brace(body, i + 1)
                if end < 0:
                    raise self.error(line, "unterminated ${...} in a string")
                if buffer:
                    parts.append("".join(buffer))
                    buffer = []
                parts.append(self.hole(body[i + 2 : end], line))
                i = end + 1
            else:
                buffer.append(char)
                i += 1
        if buffer or not parts:
            parts.append("".join(buffer))
        return parts

    def hole(self, text: str, line: int) -> Expr:
        """Parses a `${...}` hole with the same grammar, as the value of a throwaway variable."""
        if not text.strip():
            raise self.error(line, "empty ${} in a string")
        source = f"var hole = {text}\n"
        tree = _parse_tree(source, self.path, line - 1)
        reader = _Reader(source, self.path, line - 1)
        element: _Node = tree.children[0]
        return reader.expr(element.children[3], line)

    # operator chains

    def items(self, node: _Node, line: int) -> list[_Item]:
        op = node.children[0]
        assert isinstance(op, Tree)
        kind = op.data
        kids = op.children
        line = self.line(op, line)
        if kind in _BINARY_RULES:
            left, right = kids
            return [
                *self.operand(left, line),
                _BinaryOp(_BINARY_RULES[kind], line),
                *self.operand(right, line),
            ]
        if kind in ("property_accessor", "nested_resource_accessor"):
            left, right = kids
            safe = "?" in self.between(left, right)
            dot = _Dot(safe=safe, nested=kind == "nested_resource_accessor", line=line)
            return [*self.operand(left, line), dot, *self.operand(right, line)]
        if kind == "index_accessor":
            target, index = kids
            return [*self.operand(target, line), _IndexItem(self.expr(index, line), line)]
        if kind == "function_accessor":
            target, name, *args = kids
            method = _MethodItem(str(name), tuple(self.expr(a, line) for a in args if a is not None), line)
            return [*self.operand(target, line), method]
        if kind in ("not_op", "minus"):
            return [_Prefix("!" if kind == "not_op" else "-", line), *self.operand(kids[0], line)]
        if kind == "conditional":
            test, then, other = kids
            return [
                *self.operand(test, line),
                _TernaryItem(self.expr(then, line), line),
                *self.operand(other, line),
            ]
        raise self.error(line, f"unsupported operator ({kind})")

    def operand(self, node: _Node, line: int) -> list[_Item]:
        if isinstance(node, Tree) and node.data == "operator" and not self.parenthesised(node):
            return self.items(node, line)
        return [_Operand(self.expr(node, line))]

    def parenthesised(self, node: _Node) -> bool:
        before = self.text[: node.meta.start_pos].rstrip()
        after = self.text[node.meta.end_pos :].lstrip()
        return before.endswith("(") and after.startswith(")")

    def between(self, left: _Node, right: _Node) -> str:
        end = left.end_pos if isinstance(left, Token) else left.meta.end_pos
        start = right.start_pos if isinstance(right, Token) else right.meta.start_pos
        if end is None or start is None:
            return ""
        return self.text[end:start]


def _matching_brace(text: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


class _Regrouper:
    """Precedence climbing over a flattened operator chain."""

    def __init__(self, reader: _Reader, items: list[_Item], line: int) -> None:
        self.reader = reader
        self.items = items
        self.pos = 0
        self.line = line

    def fail(self, what: str) -> ParityInputError:
        return self.reader.error(self.line, f"cannot regroup this expression ({what})")

    def peek(self) -> _Item | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> _Item:
        item = self.peek()
        if item is None:
            raise self.fail("it ends early")
        self.pos += 1
        return item

    def parse(self) -> Expr:
        result = self.binary(0)
        if self.peek() is not None:
            raise self.fail(f"unexpected {type(self.peek()).__name__.strip('_')}")
        return result

    def binary(self, min_precedence: int) -> Expr:
        left = self.unary()
        while (item := self.peek()) is not None:
            if isinstance(item, _BinaryOp) and _PRECEDENCE[item.op] >= min_precedence:
                self.pos += 1
                right = self.binary(_PRECEDENCE[item.op] + 1)
                left = Binary(line=item.line, op=item.op, left=left, right=right)
            elif isinstance(item, _TernaryItem) and min_precedence <= _TERNARY:
                self.pos += 1
                other = self.binary(_TERNARY)
                left = Cond(line=item.line, test=left, then=item.then, other=other)
            else:
                break
        return left

    def unary(self) -> Expr:
        item = self.take()
        if isinstance(item, _Prefix):
            return Unary(line=item.line, op=item.op, operand=self.unary())
        if not isinstance(item, _Operand):
            raise self.fail(f"an operand was expected, not {type(item).__name__.strip('_')}")
        return self.postfix(item.expr)

    def postfix(self, expr: Expr) -> Expr:
        while (item := self.peek()) is not None:
            if isinstance(item, _Dot):
                self.pos += 1
                name = self.take()
                if not isinstance(name, _Operand) or not isinstance(name.expr, Ident):
                    raise self.fail("a property name was expected after '.'")
                if item.nested:
                    expr = Nested(line=item.line, target=expr, name=name.expr.name)
                else:
                    expr = Member(line=item.line, target=expr, name=name.expr.name, safe=item.safe)
            elif isinstance(item, _IndexItem):
                self.pos += 1
                expr = Index(line=item.line, target=expr, index=item.index)
            elif isinstance(item, _MethodItem):
                self.pos += 1
                expr = MethodCall(line=item.line, target=expr, name=item.name, args=item.args)
            else:
                break
        return expr
