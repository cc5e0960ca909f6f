"""The parity loader's reading of Bicep syntax, checked against Bicep's own semantics (not pycep's)."""

from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from parity.errors import ParityInputError
from parity.expr import render
from parity.syntax import parse_bicep_text
from parity.template import DeploymentScope, _Template

SCOPE = DeploymentScope("00000000-0000-0000-0000-000000000000", "my-rg", "brazilsouth")


def grouped(expression: str) -> str:
    parsed = parse_bicep_text(f"var v = {expression}\n", Path("t.bicep"))
    return render(parsed.variables["v"].value)


def evaluate(expression: str, **params: str) -> object:
    lines = [f"param {name} string = '{value}'" for name, value in params.items()]
    parsed = parse_bicep_text("\n".join([*lines, f"var v = {expression}", ""]), Path("t.bicep"))
    template = _Template(parsed, SCOPE, {}, prefix="", stack=(), deployed=True)
    return template.symbol("v", 1)


# pycep's own JSON, kept as canaries: if one of these starts failing, pycep changed and the
# workaround in parity/syntax.py (documented in docs/bicep-parity.md) can be revisited.
def test_pycep_groups_inequality_and_conjunction_right_nested():
    parsed: Any = BicepParser().parse(text="var v = a != '' && b != ''\n")
    top = parsed["variables"]["v"]["value"]["operator"]
    assert top["type"] == "not_equals"
    assert top["operands"]["operand_2"]["operator"]["type"] == "and"


def test_pycep_renders_literal_and_identifier_as_the_same_text():
    parsed: Any = BicepParser().parse(text="var a = 'location'\nvar b = location\n")
    assert parsed["variables"]["a"]["value"] == parsed["variables"]["b"]["value"] == "location"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a != '' && b != ''", "((a != '') && (b != ''))"),
        ("!a && b", "((!a) && b)"),
        ("a || b && c", "(a || (b && c))"),
        ("a && (b || c)", "(a && (b || c))"),
        ("(a || b) && c", "((a || b) && c)"),
        ("x.y == 'z'", "(x.y == 'z')"),
        ("a != '' ? b.properties.c[0].d : ''", "((a != '') ? b.properties.c[0].d : '')"),
        ("a ? b : c ? d : e", "(a ? b : (c ? d : e))"),
        ("1 + 2 * 3 - 4", "((1 + (2 * 3)) - 4)"),
        ("-x.y", "(-x.y)"),
        ("a.?b", "a.?b"),
        ("p::c.name", "p::c.name"),
    ],
)
def test_operators_are_grouped_by_bicep_precedence(source, expected):
    assert grouped(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("10 - 2 - 3", 5),  # left-associative: pycep alone would give 10 - (2 - 3) = 11
        ("2 * 3 + 4", 10),
        ("7 / 2", 3),
        ("-7 % 3", -1),
        ("a != '' && b != ''", False),
        ("!(a == '') && b == ''", True),
        ("a == 'x' || b == 'y' ? 'one' : 'two'", "one"),
        ("toLower('MeAjudaAi')", "meajudaai"),
        ("empty(b) && !empty(a)", True),
        ("'${a}-${toUpper(a)}'", "x-X"),
        ("'it\\'s \\${not} a hole'", "it's ${not} a hole"),
        ("uniqueString(resourceGroup().id)", "bmg7c6xu4tw46"),  # known ARM value (tests/test_naming.py)
        (
            "'${resourceGroup().location}/${subscription().subscriptionId}'",
            "brazilsouth/00000000-0000-0000-0000-000000000000",
        ),
        ("1 == true", False),
        ("'A' =~ 'a'", True),
    ],
)
def test_expressions_evaluate_as_bicep_does(source, expected):
    assert evaluate(source, a="x", b="") == expected


def test_multi_line_strings_are_verbatim():
    assert evaluate("'''\nno ${hole} here\\n'''") == "no ${hole} here\\n"


def test_quoted_object_keys_lose_their_quotes():
    parsed = parse_bicep_text("var v = {\n  'hidden-link:x': 'Resource'\n  plain: 1\n}\n", Path("t.bicep"))
    assert render(parsed.variables["v"].value) == "{hidden-link:x: 'Resource', plain: 1}"


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        ("param a string\nresource x 'T/y@1' = {\n  name: 'n'\n  bad bad\n}\n", 4, "syntax error"),
        ("var a = 1\nvar b = $$\n", 2, "unexpected character '$'"),
        ("var a = '''\nopen\n", 1, "unterminated multi-line string"),
        ("var a = [for i in range(0, 2): i]\n", 1, "`for` expressions are not supported"),
        ("var a = 1\nvar a = 2\n", 2, "declared twice"),
        ("func f() string => 'x'\n", 1, "'func' declarations are not supported"),
        ("var a = 'x\\q'\n", 1, "invalid escape"),
    ],
)
def test_malformed_or_unsupported_syntax_names_the_line(source, line, fragment):
    with pytest.raises(ParityInputError) as raised:
        parse_bicep_text(source, Path("bad.bicep"))
    assert raised.value.line == line
    assert fragment in str(raised.value)
    assert str(raised.value).startswith(f"bad.bicep:{line}: ")
