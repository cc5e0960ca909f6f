"""The program's entry point: stack config → settings → environment → stack outputs."""

from __future__ import annotations

import pulumi

from components.environment import PROJECT_DIR, build_environment, stack_context
from components.settings import SettingsError, load_settings
from components.stack_config import read_stack_config, stack_secrets
from gate.facts import FactsError, resolve_release
from gate.props import PropsError


def main() -> None:
    stack = pulumi.get_stack()
    config = read_stack_config()
    try:
        settings = load_settings(
            config.raw, config.secret_keys, stack, region=config.region, other_keys=config.other_keys
        )
        release = resolve_release(settings.release, base_dir=PROJECT_DIR)
    except (SettingsError, FactsError, PropsError) as error:
        # RunError is reported by the engine as a plain message: no traceback for a config mistake,
        # and nothing is registered, so nothing is half-applied.
        raise pulumi.RunError(str(error)) from None
    outputs = build_environment(settings, stack_secrets(), release, stack_context(stack))
    for name, value in outputs.items():
        pulumi.export(name, value)
