"""The baseline pack's vocabulary: rules as data, plain property values, unknowns, environments.

Rules are pure functions over plain dicts with the wire's camelCase names. A value that is unknown during
preview reaches them as an :class:`Unknown` that remembers where it sat, never as a silent ``None``: each
rule turns it into a violation that names the property, because a mandatory rule must not pass on a value
it could not see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

ENVIRONMENTS: Final = ("dev", "staging", "prod")
Severity = Literal["low", "medium", "high", "critical"]
Level = Literal["advisory", "mandatory", "disabled"]


@dataclass(frozen=True)
class Unknown:
    """A value the engine could not know yet (computed by a resource that does not exist yet)."""

    path: str

    def __str__(self) -> str:
        return f"{self.path} is unknown during preview"


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


def get(props: Any, path: str) -> Any:
    """The value at a dotted path: the value, ``MISSING`` when absent, or the ``Unknown`` that blocks it.

    An unknown object on the way makes everything below it unknown too.
    """
    value = props
    for part in path.split("."):
        if isinstance(value, Unknown):
            return Unknown(path)
        if isinstance(value, Mapping):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, Sequence) and not isinstance(value, str) and part.isdigit():
            index = int(part)
            if index >= len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
    return value


def unknown_in(value: Any) -> Unknown | None:
    """The first unknown anywhere inside a value, if any."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Mapping):
        for item in value.values():
            found = unknown_in(item)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = unknown_in(item)
            if found:
                return found
    return None


def cannot_verify(unknown: Unknown, what: str) -> str:
    return (
        f"{unknown}, so {what} cannot be verified: a mandatory rule does not pass on a value it cannot see "
        "(make the value known at preview, or run the update)"
    )


def whole_numbers(value: Any) -> Any:
    """Protobuf Structs carry every number as a double: give whole ones back their int form."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [whole_numbers(item) for item in value]
    return value


def require(
    props: Mapping[str, Any], path: str, expected: Any, why: str, missing_ok: bool = False
) -> list[str]:
    """The value at `path` must be `expected` (absent is fine only when `missing_ok`, Azure's default)."""
    value = get(props, path)
    if isinstance(value, Unknown):
        return [cannot_verify(value, path)]
    if value is MISSING and missing_ok:
        return []
    same = value is expected if isinstance(expected, bool) else value == expected
    if not same:
        shown = "not set" if value is MISSING else repr(value)
        return [f"{path} is {shown}, expected {expected!r}: {why}"]
    return []


def strictness(environment: str) -> int:
    return ENVIRONMENTS.index(environment)


@dataclass(frozen=True)
class Environment:
    """Which environment a resource belongs to, and whether that had to be assumed."""

    name: str
    assumed: bool = False

    def note(self) -> str:
        return " (environment unknown: prod's requirements applied)" if self.assumed else ""

    def within(self, config: Mapping[str, Any]) -> bool:
        """Whether a rule configured with `environments` applies here."""
        return self.name in config["environments"]


def resolve_environment(tag: Any, stack: str | None, configured: str | None) -> Environment:
    """The strictest environment among the resource's `environment` tag, the program's configured
    environment and the stack name; prod when none of them names one (fail closed).

    The strictest, not the first: a prod resource must not escape prod's rules by a wrong tag.
    """
    named = [value for value in (tag, configured, stack) if isinstance(value, str) and value in ENVIRONMENTS]
    if not named:
        return Environment("prod", assumed=True)
    return Environment(max(named, key=strictness))


@dataclass(frozen=True)
class Context:
    """What a rule may know besides the resource: its environment and the policy's config."""

    environment: Environment
    config: Mapping[str, Any]
    resource_type: str = ""


# A resource check returns violation messages; an empty list means the resource complies.
ResourceCheck = Callable[[Mapping[str, Any], Context], list[str]]


@dataclass(frozen=True)
class StackResource:
    """One resource as a stack rule sees it: its outputs (plain), options and dependencies, by URN."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    protect: bool
    environment: Environment
    parent: str | None = None
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# A stack check returns (message, urn of the resource concerned or None for the stack).
StackCheck = Callable[[Sequence[StackResource], Mapping[str, Any]], list[tuple[str, str | None]]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One concern. `config` is the JSON schema of its properties, each with its default."""

    name: str
    description: str
    severity: Severity
    remediation: str
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        return {key: schema["default"] for key, schema in self.config.items() if "default" in schema}

    def effective_config(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**self.defaults(), **{key: whole_numbers(value) for key, value in (given or {}).items()}}


@dataclass(frozen=True, kw_only=True)
class ResourceRule(Rule):
    applies_to: Callable[[str], bool]
    check: ResourceCheck


@dataclass(frozen=True, kw_only=True)
class StackRule(Rule):
    check: StackCheck


def of_types(*tokens: str) -> Callable[[str], bool]:
    wanted = frozenset(tokens)
    return lambda token: token in wanted


def environments_schema(default: Sequence[str], what: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "enum": list(ENVIRONMENTS)},
        "default": list(default),
        "description": f"Environments in which {what}.",
    }


def tls_at_least(value: Any, minimum: str) -> bool:
    """Whether a TLS version string ("1.0", "1.2", "1.3") is at least `minimum`."""
    if not isinstance(value, str):
        return False
    try:
        return tuple(int(p) for p in value.split(".")) >= tuple(int(p) for p in minimum.split("."))
    except ValueError:
        return False


def tls_problems(
    props: Mapping[str, Any], path: str, minimum: str, required: bool, why_unset: str
) -> list[str]:
    """The TLS setting at `path` must be `minimum` or later; absent is a problem only when `required`."""
    value = get(props, path)
    if isinstance(value, Unknown):
        return [cannot_verify(value, path)]
    if value is MISSING:
        return [f"{path} is not set: {why_unset}"] if required else []
    if not tls_at_least(value, minimum):
        return [f"{path} is {value!r}: TLS older than {minimum} is accepted"]
    return []
