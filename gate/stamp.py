"""The stamp: release facts + evidence summary as a flat string map on the resources that run the app.

Azure tags on the web app and annotations on the Kubernetes Deployment use the same keys. Keys avoid
``<>%&\\?/`` (Azure tag keys) and are valid unprefixed annotation names; every value is <= 256 characters
(Azure tag values). The stamp carries facts, not a verdict: the policy pack re-derives the decision, and
no time-dependent value is stamped, so tags only change when the release or its evidence changes.

Keys (all prefixed ``meajudaai-gate-``):
  stamp              format version, ``2`` (1: before evidence was bound to the package set)
  release            release id (version or commit)
  package-digest     first 16 hex characters of the release's package digest (gate.facts.package_digest)
  npgsql             exact pinned version, or ``transitive:<major>`` when the EF Core provider brings it
  npgsql-efcore      Npgsql.EntityFrameworkCore.PostgreSQL version
  efcore             Microsoft.EntityFrameworkCore version
  hangfire-core      Hangfire.Core version, or ``none`` when the release does not list it
  hangfire-postgresql  Hangfire.PostgreSql version
  limits             ``maxAgeDays=<d>;backupMaxAgeHours=<h>;minTests=<n>``
  item1 item2 item4 item5 item6 item7
                     ``none``, or ``<release>|<digest>|<YYYY-MM-DDTHH:MM:SSZ>|k=v;k=v``: the release
                     and the 16-character package digest it was recorded for, the time it ages from
                     (the test run's finish for item 1, the recording time for the others), and
                     numbers only (see ``gate.evidence.ITEM_VALUE_KEYS``).
Item 3 is derived from planned resources, never stamped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from gate.config import RELEASE_PATTERN, GateEvidence
from gate.evidence import ITEM_VALUE_KEYS, RECORDED_ITEMS, ItemRecord, summarize, to_second
from gate.facts import SHORT_DIGEST, Limits, ReleaseFacts
from gate.versions import is_version, major

PREFIX = "meajudaai-gate-"
FORMAT = "2"
ABSENT = "none"
MAX_VALUE_LENGTH = 256

K_STAMP = PREFIX + "stamp"
K_RELEASE = PREFIX + "release"
K_DIGEST = PREFIX + "package-digest"
K_NPGSQL = PREFIX + "npgsql"
K_NPGSQL_EF = PREFIX + "npgsql-efcore"
K_EF = PREFIX + "efcore"
K_HF_CORE = PREFIX + "hangfire-core"
K_HF_PG = PREFIX + "hangfire-postgresql"
K_LIMITS = PREFIX + "limits"
ITEM_KEYS: dict[int, str] = {n: f"{PREFIX}item{n}" for n in RECORDED_ITEMS}
ALL_KEYS = (
    K_STAMP,
    K_RELEASE,
    K_DIGEST,
    K_NPGSQL,
    K_NPGSQL_EF,
    K_EF,
    K_HF_CORE,
    K_HF_PG,
    K_LIMITS,
    *ITEM_KEYS.values(),
)

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_RELEASE_RE = re.compile(RELEASE_PATTERN)
_DIGEST_RE = re.compile(rf"^[0-9a-f]{{{SHORT_DIGEST}}}$")
_TRANSITIVE = "transitive:"
_LIMIT_KEYS = ("maxAgeDays", "backupMaxAgeHours", "minTests")


class StampError(ValueError):
    """The stamp is missing, unknown or garbled; the message lists every problem."""


@dataclass(frozen=True)
class StampedRelease:
    facts: ReleaseFacts
    items: Mapping[int, ItemRecord]


def _encode_item(record: ItemRecord | None, item: int) -> str:
    if record is None:
        return ABSENT
    values = ";".join(f"{k}={record.values[k]}" for k in ITEM_VALUE_KEYS[item])
    return f"{record.release}|{record.digest}|{to_second(record.as_of).strftime(_TIME_FORMAT)}|{values}"


def stamp(facts: ReleaseFacts, evidence: GateEvidence | None) -> dict[str, str]:
    """Tags/annotations for the web app and the Kubernetes Deployment that run this release."""
    items = summarize(evidence)
    limits = facts.limits
    result = {
        K_STAMP: FORMAT,
        K_RELEASE: facts.release,
        K_DIGEST: facts.short_digest,
        K_NPGSQL: facts.npgsql or f"{_TRANSITIVE}{facts.npgsql_major}",
        K_NPGSQL_EF: facts.npgsql_ef_core,
        K_EF: facts.ef_core,
        K_HF_CORE: facts.hangfire_core or ABSENT,
        K_HF_PG: facts.hangfire_postgresql,
        K_LIMITS: (
            f"maxAgeDays={limits.evidence_max_age_days};backupMaxAgeHours={limits.backup_max_age_hours};"
            f"minTests={limits.min_hangfire_tests}"
        ),
    }
    for item, key in ITEM_KEYS.items():
        result[key] = _encode_item(items.get(item), item)
    too_long = [k for k, v in result.items() if len(v) > MAX_VALUE_LENGTH]
    if too_long:
        raise ValueError(f"stamp values longer than {MAX_VALUE_LENGTH} characters: {', '.join(too_long)}")
    return result


def _pairs(text: str, expected: tuple[str, ...], where: str, problems: list[str]) -> dict[str, int]:
    values: dict[str, int] = {}
    parts = [p for p in text.split(";") if p] if text else []
    for part in parts:
        key, sep, raw = part.partition("=")
        if not sep or key not in expected or key in values or not raw.isdigit():
            problems.append(f"{where}: unexpected '{part}' (expected {'; '.join(expected) or 'nothing'})")
            continue
        values[key] = int(raw)
    missing = [k for k in expected if k not in values]
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
    return values


def _decode_item(item: int, key: str, text: str, problems: list[str]) -> ItemRecord | None:
    if text == ABSENT:
        return None
    fields = text.split("|")
    if len(fields) != 4:
        problems.append(f"{key}: expected 'none' or '<release>|<digest>|<time>|<values>', got '{text}'")
        return None
    release, digest, when, values = fields
    before = len(problems)
    if not _RELEASE_RE.match(release):
        problems.append(f"{key}: '{release}' is not a release id")
    if not _DIGEST_RE.match(digest):
        problems.append(
            f"{key}: '{digest}' is not a package digest ({SHORT_DIGEST} lowercase hex characters)"
        )
    if not _TIME_RE.match(when):
        problems.append(f"{key}: '{when}' is not a UTC time like 2026-11-28T10:00:00Z")
    parsed = _pairs(values, ITEM_VALUE_KEYS[item], key, problems)
    if len(problems) > before:
        return None
    try:
        as_of = datetime.strptime(when, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        problems.append(f"{key}: '{when}' is not a valid date")
        return None
    return ItemRecord(release, digest, as_of, parsed)


def _version(mapping: Mapping[str, str], key: str, problems: list[str]) -> str:
    value = mapping.get(key, "")
    if not is_version(value):
        problems.append(f"{key}: '{value}' is not an exact NuGet version")
    return value


def read_stamp(mapping: Mapping[str, object] | None) -> StampedRelease:
    """Inverse of :func:`stamp`. Fails closed: any missing, unknown or garbled value raises StampError.

    Keys without the ``meajudaai-gate-`` prefix (other tags) are ignored.
    """
    if not mapping:
        raise StampError("no gate stamp: the resource carries none of the meajudaai-gate-* tags/annotations")
    problems: list[str] = []
    ours: dict[str, str] = {}
    for key, value in mapping.items():
        if not key.startswith(PREFIX):
            continue
        if key not in ALL_KEYS:
            problems.append(f"{key}: unknown gate stamp key")
        elif not isinstance(value, str):
            problems.append(f"{key}: expected a string, got {type(value).__name__}")
        else:
            ours[key] = value
    missing = [k for k in ALL_KEYS if k not in ours and k not in mapping]
    if missing:
        problems.append(f"missing gate stamp keys: {', '.join(missing)}")
    if ours.get(K_STAMP, FORMAT) != FORMAT:
        problems.append(f"{K_STAMP}: format '{ours[K_STAMP]}' is not understood (expected '{FORMAT}')")
    release = ours.get(K_RELEASE, "")
    if K_RELEASE in ours and not _RELEASE_RE.match(release):
        problems.append(f"{K_RELEASE}: '{release}' is not a release id")
    digest = ours.get(K_DIGEST, "")
    if K_DIGEST in ours and not _DIGEST_RE.match(digest):
        problems.append(f"{K_DIGEST}: '{digest}' is not {SHORT_DIGEST} lowercase hex characters")

    npgsql_ef = _version(ours, K_NPGSQL_EF, problems)
    ef = _version(ours, K_EF, problems)
    hf_core = None if ours.get(K_HF_CORE) == ABSENT else _version(ours, K_HF_CORE, problems)
    hf_pg = _version(ours, K_HF_PG, problems)
    npgsql_raw = ours.get(K_NPGSQL, "")
    npgsql: str | None = None
    npgsql_major = -1
    if npgsql_raw.startswith(_TRANSITIVE):
        digits = npgsql_raw.removeprefix(_TRANSITIVE)
        # A transitive Npgsql major can only be the provider's; anything else was edited by hand.
        if not digits.isdigit() or not is_version(npgsql_ef) or int(digits) != major(npgsql_ef):
            problems.append(f"{K_NPGSQL}: '{npgsql_raw}' does not match the EF Core provider {npgsql_ef}")
        else:
            npgsql_major = int(digits)
    elif is_version(npgsql_raw):
        npgsql, npgsql_major = npgsql_raw, major(npgsql_raw)
    elif K_NPGSQL in ours:
        problems.append(f"{K_NPGSQL}: '{npgsql_raw}' is neither a version nor 'transitive:<major>'")

    limits_values = (
        _pairs(ours.get(K_LIMITS, ""), _LIMIT_KEYS, K_LIMITS, problems) if K_LIMITS in ours else {}
    )
    if any(v < 1 for v in limits_values.values()):
        problems.append(f"{K_LIMITS}: limits must be >= 1")
    items: dict[int, ItemRecord] = {}
    for item, key in ITEM_KEYS.items():
        if key in ours:
            record = _decode_item(item, key, ours[key], problems)
            if record is not None:
                items[item] = record
    if problems:
        raise StampError("; ".join(problems))
    facts = ReleaseFacts(
        release=release,
        npgsql=npgsql,
        npgsql_major=npgsql_major,
        npgsql_ef_core=npgsql_ef,
        ef_core=ef,
        hangfire_core=hf_core,
        hangfire_postgresql=hf_pg,
        limits=Limits(
            limits_values["maxAgeDays"], limits_values["backupMaxAgeHours"], limits_values["minTests"]
        ),
        digest=digest,
    )
    return StampedRelease(facts, items)
