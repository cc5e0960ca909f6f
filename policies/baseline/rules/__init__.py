"""The registry: every rule of the pack, one module per kind of resource.

The pack builds one policy per rule listed here, in this order. A new module (Kubernetes rules, say) adds
its `RULES` to `MODULES`; `kubernetes.py` is already registered and waiting.
"""

from __future__ import annotations

from policies.baseline.model import ResourceRule, StackRule
from policies.baseline.rules import keyvault, kubernetes, postgres, protection, servicebus, tagging, web

MODULES = (web, postgres, servicebus, keyvault, tagging, protection, kubernetes)


def all_rules() -> list[ResourceRule | StackRule]:
    rules: list[ResourceRule | StackRule] = [rule for module in MODULES for rule in module.RULES]
    names = [rule.name for rule in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"policy names must be unique in the pack: {', '.join(duplicates)}")
    return rules
