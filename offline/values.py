"""Property values on the wire: the sentinels Pulumi uses inside protobuf Structs.

Secrets, resource references and output values travel as maps tagged by a signature key; unknown
values (computed, not yet known during preview) as a fixed string. These helpers turn a captured
Struct into what an analyzer receives and into something safe to show a person.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

SECRET_MASK = "[secret]"
UNKNOWN_MASK = "[unknown]"


def to_python(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(value)
    return result


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def _downgrade(value: Any) -> Any:
    if isinstance(value, list):
        return [_downgrade(v) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(SIG_KEY)
    if sig == RESOURCE_SIG:
        # The engine marshals properties for analyzers without resource references: a custom
        # resource becomes its id (unknown while it is not created yet), a component its URN.
        if "id" in value:
            return value["id"] if value["id"] != "" else UNKNOWN
        return value.get("urn", UNKNOWN)
    if sig == OUTPUT_VALUE_SIG:
        inner = _downgrade(value["value"]) if "value" in value else UNKNOWN
        return secret(inner) if value.get("secret") else inner
    if sig == SECRET_SIG:
        return {SIG_KEY: SECRET_SIG, "value": _downgrade(value.get("value"))}
    return {k: _downgrade(v) for k, v in value.items()}


def for_analyzer(struct: struct_pb2.Struct) -> struct_pb2.Struct:
    """The property map as the engine marshals it for analyzers (keeps unknowns and secrets)."""
    plain = to_python(struct)
    return to_struct(_downgrade(plain))


def contains_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    return False


def display(value: Any) -> Any:
    """A value fit for a report: secrets masked, unknowns marked, references shown by URN."""
    if value == UNKNOWN:
        return UNKNOWN_MASK
    if isinstance(value, float) and value.is_integer():
        # Struct numbers are doubles on the wire; show whole numbers as written.
        return int(value)
    if isinstance(value, list):
        return [display(v) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(SIG_KEY)
    if sig == SECRET_SIG:
        return SECRET_MASK
    if sig == RESOURCE_SIG:
        return value.get("urn", UNKNOWN_MASK)
    if sig == OUTPUT_VALUE_SIG:
        if value.get("secret"):
            return SECRET_MASK
        return display(value["value"]) if "value" in value else UNKNOWN_MASK
    if sig == ASSET_SIG:
        return "[asset]"
    if sig == ARCHIVE_SIG:
        return "[archive]"
    return {k: display(v) for k, v in value.items()}


def scrub(value: Any, secrets: set[str]) -> Any:
    """Replace every occurrence of a known placeholder/secret string, wherever it sits."""
    if not secrets:
        return value
    if isinstance(value, str):
        for s in secrets:
            if s and s in value:
                value = value.replace(s, SECRET_MASK)
        return value
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()}
    return value
