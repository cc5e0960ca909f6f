"""Every taggable azure-native resource carries the tags that name its origin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.baseline.model import ENVIRONMENTS, Context, ResourceRule, Unknown, cannot_verify, get
from policies.baseline.taggable import takes_tags

REQUIRED_TAGS = ("environment", "project", "managed-by", "repository", "stack")


def is_azure(token: str) -> bool:
    return token.startswith("azure-native:")


def check_required_tags(props: Mapping[str, Any], ctx: Context) -> list[str]:
    taggable = takes_tags(ctx.resource_type)
    if taggable is None:
        # Without the SDK's class the rule cannot tell; it must not pass everything silently.
        return [
            f"cannot tell whether {ctx.resource_type} takes tags: the azure-native SDK the pack sees has no "
            "such class (install the program's pulumi-azure-native version in the pack's environment)"
        ]
    if not taggable:
        return []
    tags = get(props, "tags")
    if isinstance(tags, Unknown):
        return [cannot_verify(tags, "the required tags")]
    tags = tags if isinstance(tags, Mapping) else {}
    missing, unknown = [], []
    for key in ctx.config["requiredTags"]:
        value = tags.get(key)
        if isinstance(value, Unknown):
            unknown.append(key)
        elif not isinstance(value, str) or not value.strip():
            missing.append(key)
    found = []
    if missing:
        found.append(f"missing required tag(s): {', '.join(missing)}")
    if unknown:
        found.append(cannot_verify(Unknown(f"tags {', '.join(unknown)}"), "the required tags"))
    environment = tags.get("environment")
    if isinstance(environment, str) and environment.strip() and environment not in ENVIRONMENTS:
        found.append(f"tag environment is {environment!r}, expected one of {', '.join(ENVIRONMENTS)}")
    return found


RULES: list[ResourceRule] = [
    ResourceRule(
        name="required-tags",
        description="Every taggable Azure resource carries the tags environment, project, managed-by, "
        "repository and stack (taggable: the azure-native resource class takes `tags`).",
        severity="low",
        remediation="Pass `tags=base_tags(settings, stack)` (components/tags.py) to the resource, merging "
        "any tags of its own on top.",
        applies_to=is_azure,
        check=check_required_tags,
        config={
            "requiredTags": {"type": "array", "items": {"type": "string"}, "default": list(REQUIRED_TAGS)}
        },
    ),
]
