"""Malformed stack configs, generated: each one is refused by `load_settings` with a `SettingsError` that
names the key (`meajudaai-infra:<path>`), never with any other exception; and through the real program
under the mock engine, a bad config is the program's error naming the key, with no resource registered.

The configs start from the committed stack files, as the engine hands them to the program (every value a
string, objects as JSON), and break one thing: an unknown key, a value of the wrong type, a value out of
range, a required key left out, a secret given in plaintext, or structured config that is not JSON. Which
keys exist, their types and their bounds are read from the settings models themselves, so the fuzzing
follows the models as they grow.

The number of configs tried is printed at the end of the run (as a warning when the tests run under
xdist, whose workers cannot write to the terminal).
"""

from __future__ import annotations

import json
import re
import types
import typing
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import annotated_types
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from components.settings import PROJECT, SECRET_KEYS, Settings, SettingsError, load_settings
from offline.stackconfig import load_project, load_stack
from tests.program import ROOT, STACKS, run_stack

TRIED: Counter[str] = Counter()
FUZZ = settings(
    max_examples=70, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


class FuzzSummary(UserWarning):
    """How many bad configs were tried (a warning only so that it reaches the terminal under xdist)."""


@pytest.fixture(scope="module", autouse=True)
def report_count(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    total = sum(TRIED.values())
    if not total:
        return
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(TRIED.items()))
    line = f"config fuzz: {total} malformed stack configs refused, each naming its key ({kinds})"
    worker = getattr(request.config, "workerinput", None)
    if worker is not None:
        warnings.warn(f"{worker['workerid']}: {line}", FuzzSummary, stacklevel=1)
        return

    class Summary:
        def pytest_terminal_summary(self, terminalreporter: Any) -> None:
            terminalreporter.write_line(line)

    request.config.pluginmanager.register(Summary(), "config-fuzz-summary")


# ------------------------------------------------------------------------------ the committed configs
@dataclass(frozen=True)
class Base:
    stack: str
    config: dict[str, Any]  # top-level key (no project prefix) -> parsed value
    secret_keys: frozenset[str]
    region: str


def _base(stack: str) -> Base:
    loaded = load_stack(load_project(ROOT), stack)
    prefix = f"{PROJECT}:"
    config = {}
    for key, value in loaded.values.items():
        if key.startswith(prefix):
            config[key.removeprefix(prefix)] = json.loads(value) if value[:1] in "{[" else value
    secret = frozenset(k.removeprefix(prefix) for k in loaded.secret_keys if k.startswith(prefix))
    return Base(stack, config, secret, loaded.values["azure-native:location"])


BASES = {stack: _base(stack) for stack in STACKS}


def wire(config: dict[str, Any]) -> dict[str, str]:
    """What the engine passes: strings, objects and lists as JSON."""
    return {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in config.items()}


def refused(stack: str, config: dict[str, Any], secret_keys: frozenset[str], key: str, kind: str) -> None:
    try:
        load_settings(wire(config), set(secret_keys), stack, region=BASES[stack].region)
    except SettingsError as error:
        assert f"{PROJECT}:{key}" in str(error), f"{kind}: {key!r} not named in:\n{error}"
        TRIED[kind] += 1
        return
    except Exception as error:  # the property under test: nothing but SettingsError escapes
        pytest.fail(f"{kind} at {key}: {type(error).__name__} instead of SettingsError: {error}")
    pytest.fail(f"{kind} at {key}: accepted")


def test_the_committed_configs_load() -> None:
    for base in BASES.values():
        settings = load_settings(wire(base.config), set(base.secret_keys), base.stack, region=base.region)
        assert settings.environment == base.stack


# ------------------------------------------------------------------------------ the models, as data
@dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]
    kind: str  # bool | int | float | str | literal | list | dict | model
    choices: tuple[Any, ...] = ()
    metadata: tuple[Any, ...] = ()
    strict: bool = True  # the settings models are strict; the gate's models coerce "7" to 7


def _kind(annotation: Any) -> tuple[str, tuple[Any, ...], Any]:
    """(kind, literal choices, model class) of an annotation, with `X | None` read as X."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _kind(members[0]) if len(members) == 1 else ("union", (), None)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return "literal", typing.get_args(annotation), None
    if origin is list:
        return "list", (), None
    if origin is dict:
        return "dict", (), None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", (), annotation
    for kind in (bool, int, float, str):
        if annotation is kind:
            return kind.__name__, (), None
    return "other", (), None


def leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[Leaf]:
    found = []
    strict = bool(model.model_config.get("strict"))
    for name, field in model.model_fields.items():
        path = (*prefix, field.alias or name)
        kind, choices, inner = _kind(field.annotation)
        if kind == "model":
            found.append(Leaf(path, "model", strict=strict))
            found.extend(leaves(inner, path))
        elif kind not in ("union", "other"):
            found.append(Leaf(path, kind, choices, tuple(field.metadata), strict))
    return found


LEAVES = leaves(Settings)
NESTED = [leaf for leaf in LEAVES if len(leaf.path) > 1]
WRONG_TYPES: dict[str, list[Any]] = {
    "bool": [1, "true", [True], {"on": True}],
    "int": ["7", 7.5, True, [7]],
    "float": ["50", True, [1.0]],
    "str": [5, True, ["text"], {"a": "b"}],
    "literal": [5, False, ["x"], "not-one-of-them"],
    "list": ["text", 5, {"a": 1}],
    "dict": ["text", 5, ["a"]],
    "model": ["text", 5, ["a"]],
}
# What a lax (coercing) model still refuses.
WRONG_TYPES_LAX: dict[str, list[Any]] = {
    **WRONG_TYPES,
    "bool": ["maybe", [True], {"on": True}],
    "int": ["seven", 7.5, [7]],
    "float": ["fifty", [1.0]],
    "str": [5, ["text"], {"a": "b"}],
    "literal": [["x"], "not-one-of-them"],
}


def out_of_range(leaf: Leaf) -> list[Any]:
    """Values of the right type that its bounds refuse."""
    values: list[Any] = []
    step = 1 if leaf.kind == "int" else 0.5
    for item in leaf.metadata:
        bound: Any = next((getattr(item, a) for a in ("ge", "gt", "le", "lt") if hasattr(item, a)), None)
        if isinstance(item, annotated_types.Ge):
            values.append(bound - step)
        elif isinstance(item, (annotated_types.Gt, annotated_types.Lt)):
            values.append(bound)
        elif isinstance(item, annotated_types.Le):
            values.append(bound + step)
        elif isinstance(item, annotated_types.MinLen) and leaf.kind == "str":
            values.append("x" * (item.min_length - 1))
        elif isinstance(item, annotated_types.MaxLen) and leaf.kind == "str":
            values.append("x" * (item.max_length + 1))
        elif getattr(item, "pattern", None) and leaf.kind == "str":
            values.append("no such value !")
    if leaf.kind == "literal":
        values.append("NotAChoice" if all(isinstance(c, str) for c in leaf.choices) else -123456)
    return values


RANGED = [(leaf, value) for leaf in LEAVES for value in out_of_range(leaf)]


def put(config: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of the config with `value` at `path` (sections created as needed)."""
    result = json.loads(json.dumps(config))
    target = result
    for part in path[:-1]:
        current = target.get(part)
        target[part] = current if isinstance(current, dict) else {}
        target = target[part]
    target[path[-1]] = value
    return result


stacks = st.sampled_from(STACKS)


# ------------------------------------------------------------------------------------ the properties
@FUZZ
@given(stack=stacks, leaf=st.sampled_from(NESTED), data=st.data())
def test_a_value_of_the_wrong_type_is_refused_naming_its_key(stack: str, leaf: Leaf, data: Any) -> None:
    base = BASES[stack]
    value = data.draw(st.sampled_from((WRONG_TYPES if leaf.strict else WRONG_TYPES_LAX)[leaf.kind]))
    if leaf.kind == "literal" and value in leaf.choices:
        return
    refused(stack, put(base.config, leaf.path, value), base.secret_keys, ".".join(leaf.path), "wrong type")


@FUZZ
@given(stack=stacks, case=st.sampled_from(RANGED))
def test_a_value_out_of_range_is_refused_naming_its_key(stack: str, case: tuple[Leaf, Any]) -> None:
    leaf, value = case
    base = BASES[stack]
    if len(leaf.path) == 1:
        value = str(value)  # top-level scalars reach the program as strings
    refused(stack, put(base.config, leaf.path, value), base.secret_keys, ".".join(leaf.path), "out of range")


SECTIONS = [leaf.path for leaf in LEAVES if leaf.kind == "model"]
KNOWN = {leaf.path for leaf in LEAVES}
unknown_names = st.from_regex(r"[a-z][a-zA-Z0-9]{2,15}", fullmatch=True)


@FUZZ
@given(stack=stacks, section=st.sampled_from([(), *SECTIONS]), name=unknown_names)
def test_an_unknown_key_is_refused_naming_it(stack: str, section: tuple[str, ...], name: str) -> None:
    path = (*section, name)
    if path in KNOWN or (not section and name in SECRET_KEYS):
        return
    base = BASES[stack]
    refused(stack, put(base.config, path, "value"), base.secret_keys, ".".join(path), "unknown key")


def required_paths(base: Base) -> list[tuple[str, ...]]:
    """Keys the committed config gives that the models (or the stack) cannot do without."""
    paths: list[tuple[str, ...]] = []
    for field_name, field in Settings.model_fields.items():
        alias = field.alias or field_name
        # environment defaults to the stack name; location comes from azure-native:location.
        if field.is_required() and alias not in ("environment", "location"):
            paths.append((alias,))
        _, _, inner = _kind(field.annotation)
        section = base.config.get(alias)
        if inner is not None and isinstance(section, dict):
            for name, sub in inner.model_fields.items():
                if sub.is_required() and (sub.alias or name) in section:
                    paths.append((alias, sub.alias or name))
    if "keycloakClientSecret" in base.config:
        paths.append(("keycloakClientSecret",))
    return paths


REQUIRED = [(stack, path) for stack in STACKS for path in required_paths(BASES[stack])]


def without(config: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    result = json.loads(json.dumps(config))
    target = result
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return result


@FUZZ
@given(case=st.sampled_from(REQUIRED))
def test_a_missing_required_key_is_refused_naming_it(case: tuple[str, tuple[str, ...]]) -> None:
    stack, path = case
    base = BASES[stack]
    refused(stack, without(base.config, path), base.secret_keys, ".".join(path), "missing key")


@FUZZ
@given(stack=stacks, secret=st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1))
def test_a_secret_in_plaintext_is_refused_naming_it(stack: str, secret: str) -> None:
    base = BASES[stack]
    config = {**base.config, SECRET_KEYS[0]: secret}
    refused(stack, config, base.secret_keys - {SECRET_KEYS[0]}, SECRET_KEYS[0], "plaintext secret")


@FUZZ
@given(stack=stacks, key=st.sampled_from([leaf.path[0] for leaf in LEAVES if leaf.kind == "model"]),
       junk=st.sampled_from(["{", "[1,", "{'single': 'quotes'}", "{a: 1}", "[}"]))  # fmt: skip
def test_structured_config_that_is_not_json_is_refused_naming_it(stack: str, key: str, junk: str) -> None:
    base = BASES[stack]
    raw = {**wire(base.config), key: junk}
    with pytest.raises(SettingsError, match=re.escape(f"{PROJECT}:{key}")):
        load_settings(raw, set(base.secret_keys), stack, region=base.region)
    TRIED["broken JSON"] += 1


def test_the_generators_cover_the_models() -> None:
    assert len(NESTED) >= 60
    assert {leaf.kind for leaf in NESTED} >= {
        "bool",
        "int",
        "float",
        "str",
        "literal",
        "list",
        "dict",
        "model",
    }
    assert len(RANGED) >= 30
    assert ("release",) in {p for _, p in REQUIRED} and ("keycloakClientSecret",) in {p for _, p in REQUIRED}


# ------------------------------------------------------------------------- through the real program
@pytest.mark.parametrize(
    ("stack", "extra", "key"),
    [
        ("prod", {"database": {"backupRetentionDays": 3}}, "database.backupRetentionDays"),
        ("dev", {"api": {"planSku": "F1"}}, "api.planSku"),
        ("staging", {"keycloakClientSecret": "in-plaintext"}, "keycloakClientSecret"),
        ("dev", {"messaging": {"topicz": []}}, "messaging.topicz"),
        # A top-level key the settings do not know reaches the program only in the language host's
        # PULUMI_CONFIG (the SDK cannot list keys), and is refused all the same.
        ("prod", {"databse": {"backupRetentionDays": 35}}, "databse"),
    ],
)
def test_the_program_refuses_a_bad_config_before_registering_anything(
    stack: str, extra: dict[str, Any], key: str
) -> None:
    run = run_stack(stack, extra=extra)
    assert run.error is not None and f"{PROJECT}:{key}" in run.error, run.error
    assert run.raw.error is not None and run.raw.error.kind == "RunError" and run.raw.error.traceback is None
    assert [r.type for r in run.raw.resources] == ["pulumi:pulumi:Stack"]
    TRIED["through the program"] += 1


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"meajuda-infra:database": {"backupRetentionDays": 35}}, "meajuda-infra:database"),
        ({"meajudaai-infra:location": "eastus"}, "meajudaai-infra:location"),
    ],
)
def test_the_program_refuses_keys_outside_what_it_reads(extra: dict[str, Any], named: str) -> None:
    # A namespace typo would otherwise be ignored, and a second region key would not be the region used.
    run = run_stack("prod", extra=extra)
    assert run.error is not None and named in run.error, run.error
    assert [r.type for r in run.raw.resources] == ["pulumi:pulumi:Stack"]
    TRIED["through the program"] += 1
