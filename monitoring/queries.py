"""Read the query files: `sql/<name>.sql` as they are, `kql/<name>.kql` with `{{param}}` placeholders filled.

KQL placeholders are filled from typed Python values rendered as KQL literals (a `timedelta` becomes a
timespan such as `1h`, a `str` a quoted and escaped string), so a caller cannot inject query text or
pass a window as a bare number of unknown unit. Every placeholder must be given and every given
parameter must be used: a typo fails here, naming the file, instead of shipping a broken alert.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path

QUERY_ROOT = Path(__file__).resolve().parent

KqlValue = bool | int | float | str | timedelta

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
# Anything between double braces counts as a placeholder attempt, so `{{ window }}` or `{{Window}}` is
# reported as malformed rather than left in the query.
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")

# Largest unit first, so one day renders as `1d`, not `24h`.
_TIMESPAN_UNITS = (
    ("d", timedelta(days=1)),
    ("h", timedelta(hours=1)),
    ("m", timedelta(minutes=1)),
    ("s", timedelta(seconds=1)),
    ("ms", timedelta(milliseconds=1)),
)


class QueryError(ValueError):
    """A query file is missing or malformed, or its parameters do not match its placeholders."""


def sql(name: str) -> str:
    """The text of `monitoring/sql/<name>.sql`, ready for psql or a driver (no parameters)."""
    return _read("sql", name)


def kql(name: str, **params: KqlValue) -> str:
    """The text of `monitoring/kql/<name>.kql` with every `{{param}}` replaced by its KQL literal."""
    return fill_placeholders(_read("kql", name), params, source=_relative("kql", name))


def kql_parameters(name: str) -> frozenset[str]:
    """The placeholder names `monitoring/kql/<name>.kql` expects."""
    return placeholders(_read("kql", name), source=_relative("kql", name))


def sql_names() -> tuple[str, ...]:
    return _names("sql")


def kql_names() -> tuple[str, ...]:
    return _names("kql")


def placeholders(template: str, source: str) -> frozenset[str]:
    found = set()
    for match in _PLACEHOLDER.finditer(template):
        if not _IDENTIFIER.fullmatch(match.group(1)):
            raise QueryError(
                f"{source}: malformed placeholder {match.group(0)!r}; expected {{{{name}}}} with a "
                f"lower-case name of letters, digits and underscores"
            )
        found.add(match.group(1))
    return frozenset(found)


def fill_placeholders(template: str, params: dict[str, KqlValue], source: str) -> str:
    expected = placeholders(template, source)
    missing = sorted(expected - params.keys())
    unknown = sorted(params.keys() - expected)
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing parameter(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown parameter(s) {', '.join(unknown)}")
        raise QueryError(
            f"{source}: {'; '.join(problems)}; the file expects exactly: {', '.join(sorted(expected))}"
        )
    rendered = {key: render_kql_value(key, value, source) for key, value in params.items()}
    return _PLACEHOLDER.sub(lambda match: rendered[match.group(1)], template)


def render_kql_value(param: str, value: object, source: str = "kql") -> str:
    """`value` as a KQL literal; an unsupported type or an unrepresentable value is an error."""
    # bool before int: bool is a subclass of int, and `True` must not render as `1`.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QueryError(f"{source}: parameter {param!r} must be a finite number, got {value!r}")
        return repr(value)
    if isinstance(value, str):
        if any(ord(char) < 32 and char not in "\n\r\t" for char in value):
            raise QueryError(f"{source}: parameter {param!r} contains a control character: {value!r}")
        return _kql_string(value)
    if isinstance(value, timedelta):
        return _kql_timespan(param, value, source)
    raise QueryError(
        f"{source}: parameter {param!r} has unsupported type {type(value).__name__}; "
        f"expected bool, int, float, str or datetime.timedelta"
    )


def _kql_string(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _kql_timespan(param: str, value: timedelta, source: str) -> str:
    if value <= timedelta(0):
        raise QueryError(f"{source}: parameter {param!r} must be a positive duration, got {value}")
    for suffix, unit in _TIMESPAN_UNITS:
        if value % unit == timedelta(0):
            return f"{value // unit}{suffix}"
    raise QueryError(f"{source}: parameter {param!r} must be a whole number of milliseconds, got {value}")


def _read(kind: str, name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise QueryError(
            f"query name {name!r} is not valid: expected a bare lower-case file stem such as "
            f"'failure_rate_24h' (no extension, no path)"
        )
    path = QUERY_ROOT / kind / f"{name}.{kind}"
    if not path.is_file():
        available = ", ".join(_names(kind)) or "none"
        raise QueryError(
            f"no {kind.upper()} query {name!r}: {_relative(kind, name)} does not exist "
            f"(available: {available})"
        )
    return path.read_text(encoding="utf-8")


def _relative(kind: str, name: str) -> str:
    return f"monitoring/{kind}/{name}.{kind}"


def _names(kind: str) -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in (QUERY_ROOT / kind).glob(f"*.{kind}")))
