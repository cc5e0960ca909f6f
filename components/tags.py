"""The tags every taggable resource carries, so a resource found in the portal names its origin."""

from __future__ import annotations

from components.settings import PROJECT, Settings


def base_tags(settings: Settings, stack: str) -> dict[str, str]:
    # Extra tags come first so they can never overwrite the four that policies rely on.
    return {
        **settings.extra_tags,
        "environment": settings.environment,
        "project": "meajudaai",
        "managed-by": "pulumi",
        "repository": settings.repository,
        "stack": f"{PROJECT}/{stack}",
    }
