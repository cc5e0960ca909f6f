"""Values the loader produces besides plain JSON data: what only exists at deploy time, and secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Runtime:
    """A value ARM only knows after deploying (`server.properties.fullyQualifiedDomainName`).

    Reported as such, never guessed: `what` is the Bicep expression it comes from.
    """

    what: str

    def __str__(self) -> str:
        return f"<runtime: {self.what}>"


@dataclass(frozen=True)
class Secret:
    """A `@secure()` parameter's value: only whether it is set matters for parity, never the value."""

    source: str

    def __str__(self) -> str:
        return f"<secret: {self.source}>"


def show(value: Any) -> str:
    """A value as the report prints it: JSON-like, with runtime and secret markers."""
    if isinstance(value, Runtime | Secret):
        return str(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def to_json(value: Any) -> Any:
    """JSON-serialisable form (markers become strings) for `--json` files."""
    if isinstance(value, Runtime | Secret):
        return str(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value
