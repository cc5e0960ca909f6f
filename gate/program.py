"""What the Pulumi program calls for the gate's stack outputs (plain values, no Pulumi types)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from gate.config import GateEvidence
from gate.decision import Decision, Derived, decide
from gate.evidence import summarize
from gate.facts import ReleaseFacts
from gate.monitoring import PlannedResource, backup_settings_check, monitoring_check


def gate_decision(
    environment: str,
    facts: ReleaseFacts,
    evidence: GateEvidence | None,
    planned: Sequence[PlannedResource] | None = None,
    now: datetime | None = None,
    *,
    stopped: bool = False,
) -> Decision:
    """The decision the policy pack will reach, as far as the program can know it.

    With ``planned`` (plain descriptions of the alerts, action groups and database servers the
    program creates) items 3 and 5 are judged here too; without it they are left to the stack policy.
    """
    derived = Derived()
    if planned is not None:
        derived = Derived(
            monitoring=monitoring_check(planned),
            backup_settings=backup_settings_check(planned, require_geo_redundant=environment == "prod"),
        )
    now = now or datetime.now(UTC)
    return decide(environment, facts, summarize(evidence), derived, now, stopped=stopped)


def gate_outputs(
    environment: str,
    facts: ReleaseFacts,
    evidence: GateEvidence | None,
    planned: Sequence[PlannedResource] | None = None,
    now: datetime | None = None,
    *,
    stopped: bool = False,
) -> dict[str, object]:
    """``{"status", "verdictWhenRunning", "basis", "reason", "release", "packageDigest", "packages",
    "missingItems", "deferredItems", "laterItems"}`` for pulumi.export (see Decision.as_outputs)."""
    return gate_decision(environment, facts, evidence, planned, now, stopped=stopped).as_outputs()
