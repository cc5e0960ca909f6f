"""Bicep expression trees as the loader evaluates them, after the grouping fixes in `syntax.py`."""

from __future__ import annotations

from dataclasses import dataclass

Scalar = str | int | bool | None


@dataclass(frozen=True)
class Expr:
    line: int


@dataclass(frozen=True)
class Lit(Expr):
    value: Scalar


@dataclass(frozen=True)
class Interp(Expr):
    """A string with `${...}` holes; literal parts are already unescaped."""

    parts: tuple[str | Expr, ...]


@dataclass(frozen=True)
class Ident(Expr):
    name: str


@dataclass(frozen=True)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Member(Expr):
    target: Expr
    name: str
    safe: bool = False  # `.?`: null instead of an error when the member is missing


@dataclass(frozen=True)
class Nested(Expr):
    """`parent::child`: a resource declared inside another resource's body."""

    target: Expr
    name: str


@dataclass(frozen=True)
class Index(Expr):
    target: Expr
    index: Expr


@dataclass(frozen=True)
class MethodCall(Expr):
    """`x.listKeys()` and friends: always a runtime value."""

    target: Expr
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Unary(Expr):
    op: str
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Cond(Expr):
    test: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True)
class ArrayExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ObjectExpr(Expr):
    pairs: tuple[tuple[str, Expr], ...]

    def get(self, key: str) -> Expr | None:
        return next((value for name, value in self.pairs if name == key), None)


def render(expr: Expr) -> str:
    """Bicep-like text of an expression, fully parenthesised: used in messages and in tests of grouping."""
    if isinstance(expr, Lit):
        return repr(expr.value) if isinstance(expr.value, str) else str(expr.value).lower()
    if isinstance(expr, Interp):
        return "'" + "".join(p if isinstance(p, str) else "${" + render(p) + "}" for p in expr.parts) + "'"
    if isinstance(expr, Ident):
        return expr.name
    if isinstance(expr, Call):
        return f"{expr.name}({', '.join(render(a) for a in expr.args)})"
    if isinstance(expr, Member):
        return f"{render(expr.target)}.{'?' if expr.safe else ''}{expr.name}"
    if isinstance(expr, Nested):
        return f"{render(expr.target)}::{expr.name}"
    if isinstance(expr, Index):
        return f"{render(expr.target)}[{render(expr.index)}]"
    if isinstance(expr, MethodCall):
        return f"{render(expr.target)}.{expr.name}({', '.join(render(a) for a in expr.args)})"
    if isinstance(expr, Unary):
        return f"({expr.op}{render(expr.operand)})"
    if isinstance(expr, Binary):
        return f"({render(expr.left)} {expr.op} {render(expr.right)})"
    if isinstance(expr, Cond):
        return f"({render(expr.test)} ? {render(expr.then)} : {render(expr.other)})"
    if isinstance(expr, ArrayExpr):
        return "[" + ", ".join(render(i) for i in expr.items) + "]"
    if isinstance(expr, ObjectExpr):
        return "{" + ", ".join(f"{k}: {render(v)}" for k, v in expr.pairs) + "}"
    raise TypeError(f"not an expression: {expr!r}")
