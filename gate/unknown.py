"""A marker for values that are unknown during preview, so pure checks can fail closed on them.

The policy pack converts the SDK's unknown sentinels to :data:`UNKNOWN` before calling into ``gate``;
``gate`` itself never imports Pulumi.
"""

from __future__ import annotations

from typing import Any, Final


class Unknown:
    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown during preview>"


UNKNOWN: Final = Unknown()


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)
