"""The GitHub workflows do what the pipeline promises.

Each rule below reads the workflows' YAML and returns the problems it finds; every rule is run once on the
real workflows (no problem expected) and once on a deliberately broken copy (the problem must be found), so
a rule that could never fail would show up here.

Promises checked: prod after staging, and neither waiting for dev, which CI deploys, previews and rolls back
only on request (its kind cluster is a developer's); every stack's update behind its GitHub environment; both
policy packs with their per-stack config on every preview and update, their venvs set up first; every
update right after a policy-pack preview of the same update and only if that preview passed; no secret
echoed; the pull request's first part runnable without secrets; OIDC (no stored credentials) for the cloud
part, the pull request's preview as the preview identity and every deploy as its stack's deploy identity
inside that stack's environment; validation and outputs after each update; the rollback's stop setting
exists in the settings model; the offline preview's policy results uploaded to code scanning (same-repository
pull requests only, the one job with security-events: write).
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"

Workflows = dict[str, dict[str, Any]]
Job = dict[str, Any]
Step = dict[str, Any]

PACKS = ("compatibility_gate", "baseline")
STACKS = ("dev", "staging", "prod")
# Expressions that stand for "this job's stack" in the workflows.
STACK_EXPRESSIONS = ("${{ matrix.stack }}", "${{ inputs.stack }}")
PULUMI_COMMANDS_WITH_POLICIES = ("preview", "up")


class _WorkflowLoader(yaml.SafeLoader):
    """YAML 1.1 reads the `on:` key as the boolean true; GitHub reads it as a string, and so do we."""


_WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_workflow(path: Path) -> dict[str, Any]:
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_WorkflowLoader)
    assert isinstance(doc, dict), f"{path.name} is not a mapping"
    return doc


def load_all() -> Workflows:
    return {p.name: load_workflow(p) for p in sorted(WORKFLOW_DIR.glob("*.yml"))}


@pytest.fixture(scope="module")
def workflows() -> Workflows:
    return load_all()


# ---------------------------------------------------------------------------------------- walking


def jobs(workflows: Workflows) -> Iterator[tuple[str, str, Job]]:
    for name, doc in workflows.items():
        for job_id, job in (doc.get("jobs") or {}).items():
            yield name, job_id, job


def steps(job: Job) -> list[Step]:
    return list(job.get("steps") or [])


def uses(step: Step) -> str:
    return str(step.get("uses") or "")


def is_action(step: Step, action: str) -> bool:
    return uses(step).split("@")[0] == action


def pulumi_command(step: Step) -> str | None:
    if not is_action(step, "pulumi/actions"):
        return None
    command = (step.get("with") or {}).get("command")
    return str(command) if command else None


def lines_of(value: object) -> list[str]:
    return [line.strip() for line in re.split(r"[\n;]", str(value or "")) if line.strip()]


def run_text(step: Step) -> str:
    return str(step.get("run") or "")


def permissions(job: Job) -> dict[str, str]:
    value = job.get("permissions")
    return dict(value) if isinstance(value, dict) else {}


def env_secret_names(*scopes: dict[str, Any]) -> set[str]:
    """Names of env vars whose value comes from a secret, in the given workflow/job/step scopes."""
    names = set()
    for scope in scopes:
        for key, value in (scope.get("env") or {}).items():
            if "secrets." in str(value):
                names.add(key)
    return names


def job_stack_expression(job: Job) -> str | None:
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    if "stack" in matrix:
        return "${{ matrix.stack }}"
    name = str(job.get("name") or "") + str(job.get("concurrency") or "") + str(job.get("env") or "")
    if "inputs.stack" in name:
        return "${{ inputs.stack }}"
    return None


def environment_name(job: Job) -> str | None:
    env = job.get("environment")
    if isinstance(env, dict):
        return str(env.get("name")) if env.get("name") else None
    return str(env) if env else None


def needs(job: Job) -> list[str]:
    value = job.get("needs") or []
    return [value] if isinstance(value, str) else list(value)


# ------------------------------------------------------------------- GitHub expressions (a subset)
#
# Some promises depend on what an `if:` or a matrix evaluates to (dev only with the opt-in), and a textual
# check would pass `vars.X != 'false'`, which is true while the variable is unset. So the rules evaluate
# them: literals, contexts (`vars.NAME`, `inputs.NAME`), `!`, `==`, `!=`, `&&`, `||`, parentheses and
# fromJSON(), with GitHub's semantics for those. Anything else raises, and the rules report it, never guess.


class ExpressionError(ValueError):
    pass


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<op>&&|\|\||==|!=|[!().,])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
_FUNCTIONS: dict[str, Callable[..., object]] = {"fromjson": lambda text: json.loads(str(text))}


def _truthy(value: object) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _as_number(value: object) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan


def _equal(left: object, right: object) -> bool:
    # GitHub compares strings ignoring case and coerces mismatched types to numbers.
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right):
        return left == right
    return _as_number(left) == _as_number(right)


class _Expression:
    def __init__(self, text: str, context: dict[str, dict[str, object]]) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or not match.lastgroup:
                raise ExpressionError(f"cannot read {text[position:]!r}")
            self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
            position = match.end()
        self.position = 0
        self.context = context

    def value(self) -> object:
        result = self._or()
        if self.position != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.position][1]!r}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ExpressionError("the expression ends too early")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, found {token[1]!r}")
        self.position += 1
        return token

    def _or(self) -> object:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left if _truthy(left) else right
        return left

    def _and(self) -> object:
        left = self._comparison()
        while self._peek() == "&&":
            self._take()
            right = self._comparison()
            left = right if _truthy(left) else left
        return left

    def _comparison(self) -> object:
        left = self._unary()
        while self._peek() in ("==", "!="):
            operator = self._take()[1]
            right = self._unary()
            left = _equal(left, right) == (operator == "==")
        return left

    def _unary(self) -> object:
        if self._peek() == "!":
            self._take()
            return not _truthy(self._unary())
        return self._primary()

    def _primary(self) -> object:
        kind, text = self._take()
        if text == "(" and kind == "op":
            inner = self._or()
            self._take(")")
            return inner
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r}")
        literals: dict[str, object] = {"true": True, "false": False, "null": None}
        if text in literals:
            return literals[text]
        if self._peek() == "(":
            function = _FUNCTIONS.get(text.lower())
            if function is None:
                raise ExpressionError(f"unknown function {text}()")
            self._take("(")
            arguments = [] if self._peek() == ")" else [self._or()]
            while self._peek() == ",":
                self._take()
                arguments.append(self._or())
            self._take(")")
            return function(*arguments)
        if text not in self.context:
            raise ExpressionError(f"unknown context {text!r}")
        value: object = self.context[text]
        while self._peek() == ".":
            self._take()
            key = self._take()[1]
            # An unset variable reads as an empty string; any other missing property as null.
            missing: object = "" if text == "vars" else None
            value = value.get(key, missing) if isinstance(value, dict) else None
        return value


def evaluate(expression: object, context: dict[str, dict[str, object]]) -> object:
    """The value of `${{ ... }}` (or a bare `if:` condition) in the given contexts."""
    text = str(expression).strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.DOTALL)
    if match:
        text = match.group(1)
    elif "${{" in text:
        raise ExpressionError(f"text around an expression: {text!r}")
    return _Expression(text, context).value()


# ------------------------------------------------------------------------------------------ rules


# A `pulumi` command in a script (not the word inside a message): at a line start or after ; && ||.
PULUMI_CLI = re.compile(r"(?:^|[;&|])\s*pulumi\s", re.MULTILINE)
# The repository variable that says a runner can reach dev (as committed, dev's API is on a developer's kind
# cluster): only with it does CI deploy, preview or roll back dev.
DEV_OPT_IN = "DEV_REACHABLE_FROM_CI"
WITHOUT_OPT_IN: dict[str, object] = {}
WITH_OPT_IN: dict[str, object] = {DEV_OPT_IN: "true"}


def deploy_jobs(doc: dict[str, Any]) -> dict[str, str]:
    """deploy.yml's stack -> job id, for the jobs that call deploy-stack.yml."""
    return {
        str((job.get("with") or {}).get("stack") or ""): job_id
        for job_id, job in (doc.get("jobs") or {}).items()
        if str(job.get("uses") or "") == "./.github/workflows/deploy-stack.yml"
    }


def upstream(all_jobs: dict[str, Job], job_id: str) -> dict[str, str]:
    """Every job that `job_id` waits for, directly or not, each mapped to the job that needs it."""
    found: dict[str, str] = {}
    pending = [job_id]
    while pending:
        current = pending.pop()
        for needed in needs(all_jobs.get(current) or {}):
            if needed not in found and needed != job_id:
                found[needed] = current
                pending.append(needed)
    return found


def deploy_chain_problems(wf: Workflows) -> list[str]:
    """deploy.yml: staging after checks and security, prod after staging; neither waits for dev in any way.

    dev is a developer's stack (its kind cluster is out of a runner's reach), deployed from CI only on
    request: if staging waited for it, a skipped or failing dev would keep staging and prod from deploying.
    """
    doc = wf.get("deploy.yml")
    if doc is None:
        return ["deploy.yml is missing"]
    problems = []
    on = doc.get("on") or {}
    branches = ((on.get("push") or {}) if isinstance(on, dict) else {}).get("branches") or []
    if "main" not in branches:
        problems.append("deploy.yml does not run on pushes to main")
    by_stack: dict[str, str] = {}
    for job_id, job in (doc.get("jobs") or {}).items():
        if str(job.get("uses") or "") == "./.github/workflows/deploy-stack.yml":
            stack = str((job.get("with") or {}).get("stack") or "")
            if stack in by_stack:
                problems.append(f"stack {stack} is deployed by two jobs")
            by_stack[stack] = job_id
    for stack in STACKS:
        if stack not in by_stack:
            problems.append(f"no deploy job for {stack}")
    if problems:
        return problems
    all_jobs = doc["jobs"]
    dev = by_stack["dev"]
    if by_stack["staging"] not in needs(all_jobs[by_stack["prod"]]):
        problems.append(f"prod ({by_stack['prod']}) does not need staging ({by_stack['staging']})")
    for stack in ("dev", "staging"):
        for gate in ("checks", "security"):
            if gate not in needs(all_jobs[by_stack[stack]]):
                problems.append(f"{stack} deploys without waiting for {gate}")
    for stack in ("staging", "prod"):
        job_id = by_stack[stack]
        job = all_jobs[job_id]
        waited_for = upstream(all_jobs, job_id)
        if dev in waited_for:
            through = "" if waited_for[dev] == job_id else f" through {waited_for[dev]}"
            problems.append(f"{stack} ({job_id}) waits for dev ({dev}){through}: an undeployed dev blocks it")
        condition = str(job.get("if") or "")
        if re.search(r"\b(always|failure|cancelled)\(\)", condition):
            problems.append(f"{stack} ({job_id}) can run after a failed stage: if: {condition}")
        if DEV_OPT_IN in condition or re.search(rf"\bneeds\.{re.escape(dev)}\b", condition):
            problems.append(f"{stack} ({job_id}) is conditioned on dev: if: {condition}")
    return problems


def _opt_in_outcomes(expression: object, context: dict[str, dict[str, object]]) -> tuple[object, object]:
    """The expression's value without and with the dev opt-in."""
    return (
        evaluate(expression, {**context, "vars": WITHOUT_OPT_IN}),
        evaluate(expression, {**context, "vars": WITH_OPT_IN}),
    )


def dev_opt_in_problems(wf: Workflows) -> list[str]:
    """CI deploys, previews and rolls back dev only with DEV_REACHABLE_FROM_CI=true; staging, prod always."""
    problems = []
    deploy = wf.get("deploy.yml") or {}
    dev_job = (deploy.get("jobs") or {}).get(deploy_jobs(deploy).get("dev", ""))
    if dev_job is None:
        problems.append("deploy.yml has no dev job")
    elif "if" not in dev_job:
        problems.append(f"deploy.yml deploys dev on every push: no {DEV_OPT_IN} condition")
    else:
        try:
            without, with_ = _opt_in_outcomes(dev_job["if"], {})
            if _truthy(without):
                problems.append(f"deploy.yml deploys dev without the opt-in ({DEV_OPT_IN} unset)")
            if not _truthy(with_):
                problems.append(f"deploy.yml does not deploy dev with {DEV_OPT_IN}=true")
        except ExpressionError as error:
            problems.append(f"deploy.yml: dev's condition cannot be evaluated: {error}")

    pr = wf.get("pull-request.yml") or {}
    previews = [
        (job_id, job)
        for job_id, job in (pr.get("jobs") or {}).items()
        if any(pulumi_command(s) == "preview" for s in steps(job))
    ]
    if not previews:
        problems.append("pull-request.yml has no cloud preview")
    for job_id, job in previews:
        where = f"pull-request.yml:{job_id}"
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        value = matrix.get("stack")
        try:
            outcomes = (value, value) if isinstance(value, list) else _opt_in_outcomes(value, {})
        except ExpressionError as error:
            problems.append(f"{where}: the stack matrix cannot be evaluated: {error}")
            continue
        for opted_in, stacks in zip((False, True), outcomes, strict=True):
            listed = [str(s) for s in stacks] if isinstance(stacks, list) else []
            if not isinstance(stacks, list):
                problems.append(f"{where}: the stack matrix is not a list ({stacks!r})")
            elif not opted_in and "dev" in listed:
                problems.append(f"{where}: previews dev without the opt-in ({DEV_OPT_IN} unset)")
            elif opted_in and "dev" not in listed:
                problems.append(f"{where}: does not preview dev with {DEV_OPT_IN}=true")
            for stack in ("staging", "prod"):
                if isinstance(stacks, list) and stack not in listed:
                    problems.append(
                        f"{where}: does not preview {stack} (opt-in {'on' if opted_in else 'off'})"
                    )

    rollback = wf.get("rollback.yml") or {}
    for job_id, job in (rollback.get("jobs") or {}).items():
        where = f"rollback.yml:{job_id}"
        job_steps = steps(job)
        first_pulumi = next(
            (
                i
                for i, s in enumerate(job_steps)
                if is_action(s, "pulumi/actions") or PULUMI_CLI.search(run_text(s))
            ),
            len(job_steps),
        )

        def refuses(step: Step, stack: str, opt_in: dict[str, object]) -> bool:
            # A guard: runs only under its condition, says why and fails the job.
            if "if" not in step or not re.search(r"(?m)^\s*exit [1-9]", run_text(step)):
                return False
            context: dict[str, dict[str, object]] = {"inputs": {"stack": stack}, "vars": opt_in}
            try:
                return _truthy(evaluate(step["if"], context))
            except ExpressionError:
                return False

        guards = job_steps[:first_pulumi]
        if not any(refuses(s, "dev", WITHOUT_OPT_IN) for s in guards):
            problems.append(
                f"{where}: rolls back dev without the opt-in: no step refuses it before pulumi runs"
            )
        for stack, opt_in in (("dev", WITH_OPT_IN), ("staging", WITHOUT_OPT_IN), ("prod", WITHOUT_OPT_IN)):
            if any(refuses(s, stack, opt_in) for s in job_steps):
                setting = "with" if opt_in else "without"
                problems.append(f"{where}: refuses {stack} {setting} the opt-in")
    return problems


def environment_problems(wf: Workflows) -> list[str]:
    """Every `pulumi up` runs in a job bound to the stack's GitHub environment (prod: required reviewers)."""
    problems = []
    for name, job_id, job in jobs(wf):
        if not any(pulumi_command(s) == "up" for s in steps(job)):
            continue
        env = environment_name(job)
        expected = job_stack_expression(job)
        if env is None:
            problems.append(f"{name}:{job_id} runs pulumi up outside a GitHub environment")
        elif env not in STACK_EXPRESSIONS and env not in STACKS:
            problems.append(f"{name}:{job_id} environment {env!r} is not the stack's")
        elif expected is not None and env in STACK_EXPRESSIONS and env != expected:
            problems.append(f"{name}:{job_id} environment {env!r} does not follow the job's stack {expected}")
    # The callers' stack values become the environment's name inside deploy-stack.yml.
    for job_id, job in (wf.get("deploy.yml", {}).get("jobs") or {}).items():
        if str(job.get("uses") or "").endswith("deploy-stack.yml"):
            stack = (job.get("with") or {}).get("stack")
            if stack not in STACKS:
                problems.append(f"deploy.yml:{job_id} passes stack {stack!r}, not an environment name")
    return problems


def step_pack_problems(step: Step, stack: str | None) -> list[str]:
    """A pulumi/actions step's packs are both packs, in order, each with its config for the job's stack."""
    with_ = step.get("with") or {}
    packs = lines_of(with_.get("policyPacks"))
    configs = lines_of(with_.get("policyPackConfigs"))
    if [p.rsplit("policies/", 1)[-1] for p in packs] != list(PACKS):
        return [f"policyPacks {packs} are not both packs ({', '.join(PACKS)})"]
    if len(configs) != len(packs):
        return [f"{len(configs)} policyPackConfigs for {len(packs)} packs"]
    problems = []
    for pack, config in zip(packs, configs, strict=True):
        wanted = f"{pack}/config/{stack}.json"
        if stack is None or config != wanted:
            problems.append(f"config {config!r} for {pack} should be {wanted!r}")
    return problems


def policy_pack_problems(wf: Workflows) -> list[str]:
    """Both packs and their per-stack config on every preview/update, their venvs created earlier."""
    problems = []
    for name, job_id, job in jobs(wf):
        job_steps = steps(job)
        stack = job_stack_expression(job)
        venvs_ready_at = next(
            (i for i, s in enumerate(job_steps) if "setup-venvs.sh" in run_text(s)),
            None,
        )
        for index, step in enumerate(job_steps):
            where = f"{name}:{job_id}:{step.get('name') or uses(step)}"
            command = pulumi_command(step)
            if command in PULUMI_COMMANDS_WITH_POLICIES:
                pack_problems = step_pack_problems(step, stack)
                problems += [f"{where}: {p}" for p in pack_problems]
                if pack_problems:
                    continue
                if venvs_ready_at is None or venvs_ready_at > index:
                    problems.append(f"{where}: the packs' venvs are not set up before pulumi {command}")
            script = run_text(step)
            if PULUMI_CLI_UPDATE.search(script):
                for pack in PACKS:
                    if not re.search(rf"--policy-pack[ =]\S*policies/{pack}\b", script):
                        problems.append(f"{where}: pulumi CLI run without --policy-pack for {pack}")
            if re.search(r"-m\s+offline\b", script):
                if "--stack all" not in script:
                    problems.append(f"{where}: the offline preview does not cover every stack")
                for pack in PACKS:
                    if f"--policy-pack policies/{pack}" not in script:
                        problems.append(f"{where}: the offline preview runs without {pack}")
    if not any(pulumi_command(s) == "preview" for _, _, j in jobs(wf) for s in steps(j)):
        problems.append("no pulumi preview step at all")
    return problems


# pulumi/actions inputs that decide what an operation does: a preview that differs from its update in one of
# them checked some other update. `work-dir` is compared normalised (absent means the project directory).
SAME_AS_PREVIEW = (
    "stack-name",
    "work-dir",
    "policyPacks",
    "policyPackConfigs",
    "config-map",
    "secrets-provider",
    "target",
    "target-dependents",
    "exclude",
    "exclude-dependents",
    "replace",
    "refresh",
    "upsert",
    "plan",
    "pulumi-version",
)
# Status functions that make a step run after a failed one (GitHub adds `success() &&` only without them).
RUNS_AFTER_FAILURE = re.compile(r"\b(?:always|failure|cancelled)\s*\(")
PULUMI_CLI_UP = re.compile(r"(?:^|[;&|])\s*pulumi\s+(?:up|update)\b", re.MULTILINE)


def _input(step: Step, key: str) -> object:
    value = (step.get("with") or {}).get(key)
    if key == "work-dir":
        return str(value or ".").rstrip("/") or "."
    return lines_of(value) if isinstance(value, str) else value


def _turned_on(value: object) -> bool:
    # Anything but absent or false may be true at run time (an expression), so it counts as on.
    return value is not None and value is not False and str(value).strip().lower() != "false"


def _waits_for(condition: object, preview_id: str) -> bool:
    """The `if:` lets the step run only when the preview step's own outcome was success."""
    text = str(condition or "").strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.DOTALL)
    expression = match.group(1) if match else text
    if "||" in expression or RUNS_AFTER_FAILURE.search(expression):
        return False
    terms = {term.strip() for term in expression.split("&&")}
    # `outcome`, not `conclusion`: the conclusion of a continue-on-error step that failed is success.
    return f"steps.{preview_id}.outcome == 'success'" in terms


def preview_before_up_problems(wf: Workflows) -> list[str]:
    """Each `pulumi up` comes right after a policy-pack preview of the same update and runs only if it passed.

    pulumi/actions runs `up --yes --skip-preview`, so without such a preview a mandatory violation would stop
    the update partway (resource policies) or only after every step (stack policies).
    """
    problems = []
    for name, job_id, job in jobs(wf):
        job_steps = steps(job)
        stack = job_stack_expression(job)
        for index, step in enumerate(job_steps):
            where = f"{name}:{job_id}:{step.get('name') or uses(step)}"
            if PULUMI_CLI_UP.search(run_text(step)):
                problems.append(f"{where}: pulumi up from a script, where no preview can be required first")
            if pulumi_command(step) != "up":
                continue
            if _turned_on(step.get("continue-on-error")) or _turned_on(
                (step.get("with") or {}).get("continue-on-error")
            ):
                problems.append(f"{where}: continue-on-error hides a failed update (the next stack deploys)")
            before = job_steps[index - 1] if index > 0 else {}
            if pulumi_command(before) != "preview":
                between = ""
                if any(pulumi_command(s) == "preview" for s in job_steps[:index]):
                    between = f" ({before.get('name') or uses(before) or 'a step'!r} runs in between)"
                problems.append(f"{where}: no policy-pack preview right before pulumi up{between}")
                continue
            problems += [f"{where}: its preview: {p}" for p in step_pack_problems(before, stack)]
            for key in SAME_AS_PREVIEW:
                if _input(before, key) != _input(step, key):
                    problems.append(f"{where}: the preview differs from the update in {key}")
            if _turned_on(before.get("continue-on-error")) or _turned_on(
                (before.get("with") or {}).get("continue-on-error")
            ):
                problems.append(f"{where}: continue-on-error on its preview lets a mandatory violation pass")
            preview_id = before.get("id")
            if not preview_id:
                problems.append(f"{where}: its preview has no id, so the update cannot be conditioned on it")
            elif not _waits_for(step.get("if"), str(preview_id)):
                problems.append(
                    f"{where}: not conditioned on its preview (if: {step.get('if')!r}; wanted "
                    f"steps.{preview_id}.outcome == 'success', without ||, always(), failure(), cancelled())"
                )
    return problems


# A `pulumi up/preview` command (not the words inside a message): at a line start or after ; && ||.
PULUMI_CLI_UPDATE = re.compile(r"(?:^|[;&|])\s*pulumi\s+(?:up|preview|update)\b", re.MULTILINE)
ECHOING = re.compile(r"\b(echo|printf|cat|tee|print)\b")


def secret_echo_problems(wf: Workflows) -> list[str]:
    """No secret reaches a log: none interpolated into a script, printed, traced or shown by the CLI."""
    problems = []
    for name, doc in wf.items():
        for job_id, job in (doc.get("jobs") or {}).items():
            for step in steps(job):
                where = f"{name}:{job_id}:{step.get('name') or uses(step)}"
                script = run_text(step)
                if not script:
                    continue
                if re.search(r"\$\{\{[^}]*\bsecrets\.", script):
                    problems.append(f"{where}: a secret is interpolated into the script")
                if "--show-secrets" in script:
                    problems.append(f"{where}: --show-secrets prints secret values")
                if re.search(r"\bset\s+-[a-wyz]*x|\bset\s+-o\s+xtrace|\bbash\s+-x\b", script):
                    problems.append(f"{where}: xtrace prints expanded commands")
                for var in env_secret_names(doc, job, step):
                    for line in script.splitlines():
                        if ECHOING.search(line) and re.search(rf"\$\{{?{var}\b", line):
                            problems.append(f"{where}: prints ${var}, which holds a secret")
    return problems


def fork_safe_problems(wf: Workflows) -> list[str]:
    """The pull request's first part (checks.yml) needs no secret, no OIDC token and no write scope."""
    problems = []
    checks = wf.get("checks.yml")
    pr = wf.get("pull-request.yml")
    if checks is None or pr is None:
        return ["checks.yml or pull-request.yml is missing"]
    text = yaml.safe_dump(checks)
    if "secrets." in text or "secrets:" in text:
        problems.append("checks.yml refers to secrets")
    scopes = [checks.get("permissions")] + [j.get("permissions") for j in (checks.get("jobs") or {}).values()]
    for scope in scopes:
        if isinstance(scope, dict):
            if "id-token" in scope:
                problems.append("checks.yml asks for an OIDC token (id-token)")
            writes = sorted(k for k, v in scope.items() if v == "write")
            if writes:
                problems.append(f"checks.yml asks for write scopes {writes}")
        elif scope not in (None, "read-all") and scope != {}:
            problems.append(f"checks.yml permissions {scope!r}")
    on = pr.get("on") or {}
    if not isinstance(on, dict) or "pull_request" not in on:
        problems.append("pull-request.yml does not run on pull_request")
    caller = next(
        (
            (job_id, job)
            for job_id, job in (pr.get("jobs") or {}).items()
            if job.get("uses") == "./.github/workflows/checks.yml"
        ),
        None,
    )
    if caller is None:
        problems.append("pull-request.yml does not run checks.yml")
    else:
        job_id, job = caller
        if "secrets" in job:
            problems.append(f"pull-request.yml:{job_id} passes secrets to checks.yml")
        if "id-token" in permissions(job):
            problems.append(f"pull-request.yml:{job_id} grants id-token to checks.yml")
        if job.get("needs") or job.get("if"):
            problems.append(f"pull-request.yml:{job_id} does not run unconditionally")
        # A pull request must go red on a mandatory violation, as `pulumi preview --policy-pack` would.
        if (job.get("with") or {}).get("preview-must-pass", True) is not True:
            problems.append(f"pull-request.yml:{job_id} ignores mandatory violations in the offline preview")
    # Cloud jobs only where secrets can exist: same-repository pull requests with credentials configured.
    for job_id, job in (pr.get("jobs") or {}).items():
        checked = "cloud-credentials" in needs(job) and "needs.cloud-credentials.outputs.ready" in str(
            job.get("if") or ""
        )
        if any(pulumi_command(s) for s in steps(job)) and not checked:
            problems.append(f"pull-request.yml:{job_id} runs without checking for cloud credentials")
    probe = (pr.get("jobs") or {}).get("cloud-credentials") or {}
    if "github.event.pull_request.head.repo.full_name == github.repository" not in str(probe.get("if") or ""):
        problems.append("pull-request.yml:cloud-credentials does not skip pull requests from forks")
    for name, doc in wf.items():
        if isinstance(doc.get("on"), dict) and "pull_request_target" in doc["on"]:
            problems.append(f"{name}: pull_request_target runs fork code with the repository's secrets")
    return problems


def oidc_problems(wf: Workflows) -> list[str]:
    """Cloud jobs log in to Azure through OIDC: id-token permission, azure/login with ids, no stored creds."""
    problems = []
    for name, job_id, job in jobs(wf):
        job_steps = steps(job)
        first_pulumi = next((i for i, s in enumerate(job_steps) if pulumi_command(s)), None)
        if first_pulumi is None:
            continue
        where = f"{name}:{job_id}"
        if permissions(job).get("id-token") != "write":
            problems.append(f"{where}: no id-token: write for OIDC")
        login = next((i for i, s in enumerate(job_steps) if is_action(s, "azure/login")), None)
        if login is None or login > first_pulumi:
            problems.append(f"{where}: no azure/login before pulumi")
        else:
            with_ = job_steps[login].get("with") or {}
            if "creds" in with_:
                problems.append(f"{where}: azure/login with stored credentials (creds)")
            for key in ("client-id", "tenant-id", "subscription-id"):
                if not with_.get(key):
                    problems.append(f"{where}: azure/login without {key}")
        env = job.get("env") or {}
        if str(env.get("ARM_USE_OIDC")).lower() != "true":
            problems.append(f"{where}: the azure-native provider is not told to use OIDC (ARM_USE_OIDC)")
    for name, doc in wf.items():
        text = yaml.safe_dump(doc)
        if "AZURE_CREDENTIALS" in text or "ARM_CLIENT_SECRET" in text:
            problems.append(f"{name}: uses a stored Azure credential instead of OIDC")
    return problems


# Two Azure identities (docs/ci-cd.md, Azure identities): pull requests preview as a read-mostly identity
# federated on the pull_request subject; deploys and rollbacks sign in as the deploy identity, whose federated
# credentials trust only environment:<stack> subjects, so its jobs must run in the stack's environment.
PREVIEW_IDENTITY = "AZURE_PREVIEW_CLIENT_ID"
DEPLOY_IDENTITY = "AZURE_CLIENT_ID"


def _secret_named(value: object) -> str | None:
    match = re.fullmatch(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", str(value or "").strip())
    return match.group(1) if match else None


def identity_problems(wf: Workflows) -> list[str]:
    """PR previews sign in as the preview identity only; deploys as the deploy identity, in their environment.

    Deploys include rollbacks: every job outside pull-request.yml that signs in to Azure.
    """
    problems = []
    for name, doc in wf.items():
        for job_id, job in (doc.get("jobs") or {}).items():
            logins = [s for s in steps(job) if is_action(s, "azure/login")]
            arm = (job.get("env") or {}).get("ARM_CLIENT_ID", (doc.get("env") or {}).get("ARM_CLIENT_ID"))
            if not logins and arm is None:
                continue
            where = f"{name}:{job_id}"
            # The CLI (azure/login) and the provider (ARM_CLIENT_ID) must be the same identity.
            used = {_secret_named((s.get("with") or {}).get("client-id")) for s in logins}
            if arm is not None:
                used.add(_secret_named(arm))
            in_pull_request = name == "pull-request.yml"
            wanted = PREVIEW_IDENTITY if in_pull_request else DEPLOY_IDENTITY
            if used != {wanted}:
                shown = sorted(str(u) for u in used)
                problems.append(f"{where}: signs in as {shown}, not only as secrets.{wanted}")
            environment = environment_name(job)
            if in_pull_request:
                if re.search(rf"\bsecrets\.{DEPLOY_IDENTITY}\b", yaml.safe_dump(job)):
                    problems.append(f"{where}: refers to the deploy identity (secrets.{DEPLOY_IDENTITY})")
                if environment is not None:
                    problems.append(
                        f"{where}: runs in environment {environment!r}: its OIDC subject is then "
                        "environment:<name>, not the pull_request subject the preview identity trusts"
                    )
            else:
                stack = job_stack_expression(job)
                if environment is None:
                    problems.append(
                        f"{where}: signs in outside a GitHub environment, where no environment:<stack> "
                        "federated credential of the deploy identity applies"
                    )
                elif stack is not None and environment != stack:
                    problems.append(
                        f"{where}: signs in in environment {environment!r}, not the job's stack {stack}"
                    )
    for name, doc in wf.items():
        if name != "pull-request.yml" and PREVIEW_IDENTITY in yaml.safe_dump(doc):
            problems.append(f"{name}: uses the pull requests' preview identity ({PREVIEW_IDENTITY})")
    probe = ((wf.get("pull-request.yml") or {}).get("jobs") or {}).get("cloud-credentials") or {}
    if f"secrets.{PREVIEW_IDENTITY} != ''" not in yaml.safe_dump(probe, width=1000):
        problems.append(f"pull-request.yml:cloud-credentials does not check that {PREVIEW_IDENTITY} is set")
    return problems


def permission_and_pinning_problems(wf: Workflows) -> list[str]:
    """Least privilege everywhere and actions pinned by version (no branch refs)."""
    problems = []
    allowed_writes = {"id-token", "pull-requests", "security-events"}
    for name, doc in wf.items():
        top = doc.get("permissions")
        if top is None:
            problems.append(f"{name}: no top-level permissions (defaults can be write-all)")
        elif top != {} and not (isinstance(top, dict) and set(top.values()) <= {"read", "none"}):
            problems.append(f"{name}: top-level permissions {top!r} are more than read")
        for job_id, job in (doc.get("jobs") or {}).items():
            if "permissions" not in job:
                problems.append(f"{name}:{job_id}: no job-level permissions")
            for scope, level in permissions(job).items():
                if level == "write" and scope not in allowed_writes:
                    problems.append(f"{name}:{job_id}: {scope}: write")
            if permissions(job).get("pull-requests") == "write" and not any(
                (s.get("with") or {}).get("comment-on-pr") for s in steps(job)
            ):
                problems.append(f"{name}:{job_id}: pull-requests: write without a PR comment")
            if permissions(job).get("security-events") == "write" and not any(
                is_action(s, UPLOAD_SARIF) for s in steps(job)
            ):
                problems.append(f"{name}:{job_id}: security-events: write without a SARIF upload")
            for step in steps(job):
                ref = uses(step)
                if not ref or ref.startswith("./") or ref.startswith("docker://"):
                    continue
                version = ref.partition("@")[2]
                if not re.fullmatch(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}", version):
                    problems.append(f"{name}:{job_id}: {ref} is not pinned to a version")
    return problems


def concurrency_problems(wf: Workflows) -> list[str]:
    """One operation per stack: updates (deploy, rollback) share `pulumi-<stack>`, never cancelled."""
    problems = []
    for name, job_id, job in jobs(wf):
        commands = {pulumi_command(s) for s in steps(job)} - {None}
        if not commands:
            continue
        group = job.get("concurrency") or {}
        group_name = str(group.get("group") if isinstance(group, dict) else group)
        stack = job_stack_expression(job) or ""
        if stack not in group_name:
            problems.append(f"{name}:{job_id}: concurrency group {group_name!r} is not per stack")
        if "up" in commands:
            if group_name != f"pulumi-{stack}":
                problems.append(f"{name}:{job_id}: updates must share the group pulumi-<stack>")
            if not isinstance(group, dict) or group.get("cancel-in-progress") is not False:
                problems.append(f"{name}:{job_id}: a running update could be cancelled")
    return problems


def validation_problems(wf: Workflows) -> list[str]:
    """After each update: stack outputs kept as an artifact (without secrets) and the health validation."""
    problems = []
    for name, job_id, job in jobs(wf):
        job_steps = steps(job)
        ups = [i for i, s in enumerate(job_steps) if pulumi_command(s) == "up"]
        if not ups:
            continue
        last_up = ups[-1]
        after = job_steps[last_up + 1 :]
        where = f"{name}:{job_id}"
        output_steps = [s for s in after if "pulumi stack output --json" in run_text(s)]
        if not output_steps:
            problems.append(f"{where}: stack outputs not recorded after pulumi up")
        if not any(
            is_action(s, "actions/upload-artifact") and "stack-outputs" in str(s.get("with")) for s in after
        ):
            problems.append(f"{where}: stack outputs not uploaded as an artifact")
        validate = [s for s in after if "validate_deployment.py" in run_text(s)]
        if not validate:
            problems.append(f"{where}: no health validation after pulumi up")
        for s in validate:
            script = run_text(s)
            if "--outputs" not in script or "--output-name" not in script or "--deadline" not in script:
                problems.append(f"{where}: validation does not read the URL from the outputs with a deadline")
    return problems


def rollback_problems(wf: Workflows) -> list[str]:
    """rollback.yml: manual; stop setting on, update, fallback release, update, health verified."""
    doc = wf.get("rollback.yml")
    if doc is None:
        return ["rollback.yml is missing"]
    problems = []
    on = doc.get("on") or {}
    if not isinstance(on, dict) or set(on) != {"workflow_dispatch"}:
        problems.append("rollback.yml must be manual only (workflow_dispatch)")
    stop_path = (doc.get("env") or {}).get("STOP_CONFIG_PATH")
    if not stop_path:
        problems.append("rollback.yml has no STOP_CONFIG_PATH")
    job: Job = next(iter((doc.get("jobs") or {}).values()), {})
    job_steps = steps(job)

    def index(predicate: Callable[[Step], bool]) -> int | None:
        return next((i for i, s in enumerate(job_steps) if predicate(s)), None)

    stop = index(
        lambda s: re.search(r'pulumi config set --path "\$STOP_CONFIG_PATH" true', run_text(s)) is not None
    )
    ups = [i for i, s in enumerate(job_steps) if pulumi_command(s) == "up"]
    fallback = index(lambda s: is_action(s, "actions/checkout") and "fallback_ref" in str(s.get("with")))
    verify = index(lambda s: "validate_deployment.py" in run_text(s))
    if stop is None:
        problems.append("rollback.yml never sets the stop setting to true")
    if len(ups) < 2:
        problems.append("rollback.yml needs an update to stop the API and one to deploy the fallback")
    if fallback is None:
        problems.append("rollback.yml never checks out the fallback release")
    if verify is None:
        problems.append("rollback.yml never verifies health")
    if problems:
        return problems
    assert stop is not None and fallback is not None and verify is not None
    if not stop < ups[0] < fallback < ups[-1] < verify:
        problems.append("rollback.yml steps are out of order (stop, update, fallback, update, verify)")
    if (job_steps[ups[-1]].get("with") or {}).get("work-dir") != "fallback":
        problems.append("rollback.yml deploys the fallback from the wrong directory")
    return problems


UPLOAD_SARIF = "github/codeql-action/upload-sarif"
SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"


def _offline_output(script: str, flag: str) -> str | None:
    match = re.search(rf"{flag}[ =](\S+)", script)
    return match.group(1) if match else None


def code_scanning_problems(wf: Workflows) -> list[str]:
    """The offline preview's policy results reach GitHub code scanning on every same-repository pull request.

    checks.yml writes them as SARIF and keeps the file in its artifact; one pull-request.yml job, after the
    checks whatever their result (the gate fails them by design until evidence exists), downloads that
    artifact and uploads the same file. It alone has security-events: write, and it skips forks, whose
    read-only token the upload refuses.
    """
    problems = []
    checks = wf.get("checks.yml") or {}
    sarif: str | None = None
    artifact: str | None = None
    for job_id, job in (checks.get("jobs") or {}).items():
        for step in steps(job):
            script = run_text(step)
            if re.search(r"-m\s+offline\b", script):
                sarif = _offline_output(script, "--sarif")
                if sarif is None:
                    problems.append(f"checks.yml:{job_id}: the offline preview writes no --sarif file")
        if sarif is None:
            continue
        kept = [
            s
            for s in steps(job)
            if is_action(s, "actions/upload-artifact")
            and sarif in lines_of((s.get("with") or {}).get("path"))
        ]
        if not kept:
            problems.append(f"checks.yml:{job_id}: {sarif} is not kept in an artifact")
        else:
            artifact = str((kept[0].get("with") or {}).get("name") or "")
            if "always()" not in str(kept[0].get("if")) and "!cancelled()" not in str(kept[0].get("if")):
                problems.append(
                    f"checks.yml:{job_id}: the artifact with {sarif} is kept only when all passed"
                )
    pr = wf.get("pull-request.yml") or {}
    pr_jobs = pr.get("jobs") or {}
    callers = [j for j, job in pr_jobs.items() if job.get("uses") == "./.github/workflows/checks.yml"]
    uploaders = [
        (j, job) for j, job in pr_jobs.items() if any(is_action(s, UPLOAD_SARIF) for s in steps(job))
    ]
    if not uploaders:
        problems.append("pull-request.yml: the offline preview's SARIF is not uploaded to code scanning")
    for job_id, job in uploaders:
        where = f"pull-request.yml:{job_id}"
        job_steps = steps(job)
        upload = next(i for i, s in enumerate(job_steps) if is_action(s, UPLOAD_SARIF))
        uploaded = str((job_steps[upload].get("with") or {}).get("sarif_file") or "")
        if sarif is not None and uploaded != sarif:
            problems.append(f"{where}: uploads {uploaded!r}, not the offline preview's {sarif!r}")
        downloads = [
            i
            for i, s in enumerate(job_steps[:upload])
            if is_action(s, "actions/download-artifact") and (s.get("with") or {}).get("name") == artifact
        ]
        if artifact and not downloads:
            problems.append(f"{where}: does not download the {artifact!r} artifact before uploading")
        if not set(callers) & set(needs(job)):
            problems.append(f"{where}: does not wait for the checks job that writes the SARIF")
        condition = str(job.get("if") or "")
        if SAME_REPOSITORY not in condition:
            problems.append(f"{where}: runs for forks too, whose read-only token the upload refuses")
        if "!cancelled()" not in condition and "always()" not in condition:
            problems.append(f"{where}: uploads only after the checks pass, which a gated stack never does")
        if permissions(job).get("security-events") != "write":
            problems.append(f"{where}: no security-events: write for the upload")
        if "secrets." in yaml.safe_dump(job):
            problems.append(f"{where}: refers to secrets")
    for name, job_id, job in jobs(wf):
        if permissions(job).get("security-events") == "write" and (name, job_id) not in {
            ("pull-request.yml", j) for j, _ in uploaders
        }:
            problems.append(f"{name}:{job_id}: security-events: write outside the SARIF upload")
    return problems


RULES: dict[str, Callable[[Workflows], list[str]]] = {
    "deploy_chain": deploy_chain_problems,
    "dev_opt_in": dev_opt_in_problems,
    "environment": environment_problems,
    "policy_packs": policy_pack_problems,
    "preview_before_up": preview_before_up_problems,
    "secret_echo": secret_echo_problems,
    "fork_safe": fork_safe_problems,
    "oidc": oidc_problems,
    "identities": identity_problems,
    "permissions_pinning": permission_and_pinning_problems,
    "concurrency": concurrency_problems,
    "validation": validation_problems,
    "rollback": rollback_problems,
    "code_scanning": code_scanning_problems,
}


# ------------------------------------------------------------------------------------------ tests


def test_the_expected_workflows_exist(workflows: Workflows) -> None:
    expected = {
        "checks.yml",
        "pull-request.yml",
        "deploy.yml",
        "deploy-stack.yml",
        "security.yml",
        "rollback.yml",
    }
    assert expected <= set(workflows)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_real_workflows_keep_the_promise(workflows: Workflows, rule: str) -> None:
    assert RULES[rule](workflows) == []


def _job(wf: Workflows, workflow: str, job_id: str) -> Job:
    return wf[workflow]["jobs"][job_id]


def _step(wf: Workflows, workflow: str, job_id: str, predicate: Callable[[Step], bool]) -> Step:
    return next(s for s in steps(_job(wf, workflow, job_id)) if predicate(s))


def _pulumi_step(wf: Workflows, workflow: str, job_id: str, command: str) -> Step:
    return _step(wf, workflow, job_id, lambda s: pulumi_command(s) == command)


def _drop(wf: Workflows, workflow: str, job_id: str, predicate: Callable[[Step], bool]) -> None:
    job = _job(wf, workflow, job_id)
    job["steps"] = [s for s in steps(job) if not predicate(s)]


def _swap_preview_and_up(wf: Workflows, workflow: str, job_id: str) -> None:
    job_steps = steps(_job(wf, workflow, job_id))
    up = next(i for i, s in enumerate(job_steps) if pulumi_command(s) == "up")
    job_steps[up - 1], job_steps[up] = job_steps[up], job_steps[up - 1]
    _job(wf, workflow, job_id)["steps"] = job_steps


def _move_before_first_up(
    wf: Workflows, workflow: str, job_id: str, predicate: Callable[[Step], bool]
) -> None:
    job_steps = steps(_job(wf, workflow, job_id))
    moved = next(s for s in job_steps if predicate(s))
    job_steps.remove(moved)
    job_steps.insert(next(i for i, s in enumerate(job_steps) if pulumi_command(s) == "up"), moved)
    _job(wf, workflow, job_id)["steps"] = job_steps


def _baseline_only(wf: Workflows, *commands: str) -> None:
    for command in commands:
        _pulumi_step(wf, "deploy-stack.yml", "up", command)["with"].update(
            policyPacks="policies/baseline",
            policyPackConfigs="policies/baseline/config/${{ inputs.stack }}.json",
        )


def _fallback_step(wf: Workflows, command: str) -> Step:
    return _step(
        wf,
        "rollback.yml",
        "rollback",
        lambda s: pulumi_command(s) == command and (s.get("with") or {}).get("work-dir") == "fallback",
    )


def client_id(secret: str) -> dict[str, Any]:
    return {"with": {"client-id": f"${{{{ secrets.{secret} }}}}", "tenant-id": "t", "subscription-id": "s"}}


def _login(wf: Workflows, workflow: str, job_id: str) -> Step:
    return _step(wf, workflow, job_id, lambda s: is_action(s, "azure/login"))


def _one_identity_for_everything(wf: Workflows) -> None:
    job = _job(wf, "pull-request.yml", "cloud-preview")
    job["env"]["ARM_CLIENT_ID"] = "${{ secrets.AZURE_CLIENT_ID }}"
    _login(wf, "pull-request.yml", "cloud-preview").update(client_id("AZURE_CLIENT_ID"))
    probe = _step(wf, "pull-request.yml", "cloud-credentials", lambda s: s.get("id") == "probe")
    probe["env"]["HAS_AZURE"] = probe["env"]["HAS_AZURE"].replace(
        "AZURE_PREVIEW_CLIENT_ID", "AZURE_CLIENT_ID"
    )


def _wait_for_dev_through(wf: Workflows, job_id: str) -> None:
    all_jobs = wf["deploy.yml"]["jobs"]
    all_jobs[job_id] = {"needs": "dev", "runs-on": "ubuntu-latest", "steps": [{"run": "true"}]}
    all_jobs["staging"]["needs"] = ["checks", "security", job_id]


def _preview_matrix(wf: Workflows, stacks: object) -> None:
    _job(wf, "pull-request.yml", "cloud-preview")["strategy"]["matrix"]["stack"] = stacks


def _is_dev_guard(step: Step) -> bool:
    return "inputs.stack == 'dev'" in str(step.get("if") or "")


def _offline_step(wf: Workflows) -> Step:
    return _step(wf, "checks.yml", "test-and-offline-preview", lambda s: "-m offline" in run_text(s))


def _sarif_upload(wf: Workflows) -> Step:
    return _step(wf, "pull-request.yml", "code-scanning", lambda s: is_action(s, UPLOAD_SARIF))


def _kept_artifact(wf: Workflows) -> Step:
    return _step(
        wf, "checks.yml", "test-and-offline-preview", lambda s: is_action(s, "actions/upload-artifact")
    )


def _upload_before_download(wf: Workflows) -> None:
    job = _job(wf, "pull-request.yml", "code-scanning")
    job["steps"] = [s for s in steps(job) if not is_action(s, "actions/download-artifact")] + [
        s for s in steps(job) if is_action(s, "actions/download-artifact")
    ]


# Each breakage: (rule, what to break, expected words in a problem).
BREAKAGES: list[tuple[str, Callable[[Workflows], None], str]] = [
    (
        "code_scanning",
        lambda wf: _offline_step(wf).update(
            run=run_text(_offline_step(wf)).replace(" --sarif", " --no-sarif")
        ),
        "the offline preview writes no --sarif file",
    ),
    (
        "code_scanning",
        lambda wf: _kept_artifact(wf)["with"].update(path="reports/offline-preview.json"),
        "reports/offline-preview.sarif is not kept in an artifact",
    ),
    (
        "code_scanning",
        lambda wf: _kept_artifact(wf).update(
            {"if": "${{ hashFiles('reports/offline-preview.json') != '' }}"}
        ),
        "kept only when all passed",
    ),
    (
        "code_scanning",
        lambda wf: _drop(wf, "pull-request.yml", "code-scanning", lambda s: is_action(s, UPLOAD_SARIF)),
        "SARIF is not uploaded to code scanning",
    ),
    (
        "code_scanning",
        lambda wf: _sarif_upload(wf)["with"].update(sarif_file="reports/other.sarif"),
        "uploads 'reports/other.sarif', not the offline preview's 'reports/offline-preview.sarif'",
    ),
    (
        "code_scanning",
        _upload_before_download,
        "does not download the 'offline-preview' artifact before uploading",
    ),
    (
        "code_scanning",
        lambda wf: _job(wf, "pull-request.yml", "code-scanning").update(needs=["security"]),
        "does not wait for the checks job",
    ),
    (
        "code_scanning",
        lambda wf: _job(wf, "pull-request.yml", "code-scanning").update({"if": "${{ !cancelled() }}"}),
        "runs for forks too",
    ),
    (
        "code_scanning",
        lambda wf: _job(wf, "pull-request.yml", "code-scanning").update(
            {"if": f"${{{{ {SAME_REPOSITORY} }}}}"}
        ),
        "uploads only after the checks pass",
    ),
    (
        "code_scanning",
        lambda wf: _job(wf, "pull-request.yml", "code-scanning")["permissions"].pop("security-events"),
        "no security-events: write for the upload",
    ),
    (
        "code_scanning",
        lambda wf: _job(wf, "deploy-stack.yml", "up")["permissions"].update({"security-events": "write"}),
        "deploy-stack.yml:up: security-events: write outside the SARIF upload",
    ),
    (
        "permissions_pinning",
        lambda wf: _job(wf, "pull-request.yml", "cloud-preview")["permissions"].update(
            {"security-events": "write"}
        ),
        "pull-request.yml:cloud-preview: security-events: write without a SARIF upload",
    ),
    (
        "permissions_pinning",
        lambda wf: _sarif_upload(wf).update(uses="github/codeql-action/upload-sarif@main"),
        "upload-sarif@main is not pinned",
    ),
    (
        "deploy_chain",
        lambda wf: _job(wf, "deploy.yml", "prod").update(needs="dev"),
        "prod (prod) does not need staging",
    ),
    # The chain as it was: staging behind dev, whose kind cluster no runner reaches: staging never deployed.
    (
        "deploy_chain",
        lambda wf: _job(wf, "deploy.yml", "staging").update(needs="dev"),
        "staging (staging) waits for dev (dev)",
    ),
    (
        "deploy_chain",
        lambda wf: _job(wf, "deploy.yml", "prod").update(needs=["staging", "dev"]),
        "prod (prod) waits for dev (dev)",
    ),
    (
        "deploy_chain",
        lambda wf: _wait_for_dev_through(wf, "dev-smoke"),
        "staging (staging) waits for dev (dev) through dev-smoke",
    ),
    (
        "deploy_chain",
        lambda wf: _job(wf, "deploy.yml", "staging").update(
            {"if": f"${{{{ vars.{DEV_OPT_IN} != 'true' }}}}"}
        ),
        "staging (staging) is conditioned on dev",
    ),
    (
        "deploy_chain",
        lambda wf: _job(wf, "deploy.yml", "staging").pop("needs"),
        "staging deploys without waiting for checks",
    ),
    (
        "deploy_chain",
        lambda wf: _job(wf, "deploy.yml", "prod").update(needs=["checks", "security"]),
        "prod (prod) does not need staging",
    ),
    (
        "deploy_chain",
        lambda wf: _job(wf, "deploy.yml", "prod").update({"if": "always()"}),
        "after a failed stage",
    ),
    ("deploy_chain", lambda wf: _job(wf, "deploy.yml", "prod")["with"].update(stack="staging"), "two jobs"),
    (
        "deploy_chain",
        lambda wf: _job(wf, "deploy.yml", "dev").update(needs=["checks"]),
        "without waiting for security",
    ),
    ("dev_opt_in", lambda wf: _job(wf, "deploy.yml", "dev").pop("if"), "deploys dev on every push"),
    (
        "dev_opt_in",
        lambda wf: _job(wf, "deploy.yml", "dev").update({"if": f"${{{{ vars.{DEV_OPT_IN} != 'false' }}}}"}),
        "deploys dev without the opt-in",
    ),
    (
        "dev_opt_in",
        lambda wf: _job(wf, "deploy.yml", "dev").update({"if": f"${{{{ vars.{DEV_OPT_IN} == 'yes' }}}}"}),
        "does not deploy dev with DEV_REACHABLE_FROM_CI=true",
    ),
    (
        "dev_opt_in",
        lambda wf: _job(wf, "deploy.yml", "dev").update({"if": "${{ github.ref == 'refs/heads/main' }}"}),
        "dev's condition cannot be evaluated",
    ),
    (
        "dev_opt_in",
        lambda wf: _preview_matrix(wf, ["dev", "staging", "prod"]),
        "previews dev without the opt-in",
    ),
    (
        "dev_opt_in",
        lambda wf: _preview_matrix(wf, """${{ fromJSON('["staging", "prod"]') }}"""),
        "does not preview dev with DEV_REACHABLE_FROM_CI=true",
    ),
    (
        "dev_opt_in",
        lambda wf: _preview_matrix(
            wf,
            f"""${{{{ fromJSON(vars.{DEV_OPT_IN} == 'true' && '["dev", "staging"]' || '["staging"]') }}}}""",
        ),
        "does not preview prod (opt-in off)",
    ),
    (
        "dev_opt_in",
        lambda wf: _drop(wf, "rollback.yml", "rollback", _is_dev_guard),
        "rolls back dev without the opt-in",
    ),
    (
        "dev_opt_in",
        lambda wf: _job(wf, "rollback.yml", "rollback").update(
            steps=[s for s in steps(_job(wf, "rollback.yml", "rollback")) if not _is_dev_guard(s)]
            + [_step(wf, "rollback.yml", "rollback", _is_dev_guard)]
        ),
        "no step refuses it before pulumi runs",
    ),
    (
        "dev_opt_in",
        lambda wf: _step(wf, "rollback.yml", "rollback", _is_dev_guard).update(run="echo '::warning::dev'"),
        "rolls back dev without the opt-in",
    ),
    (
        "dev_opt_in",
        lambda wf: _step(wf, "rollback.yml", "rollback", _is_dev_guard).update(
            {"if": "${{ inputs.stack == 'dev' }}"}
        ),
        "refuses dev with the opt-in",
    ),
    (
        "dev_opt_in",
        lambda wf: _step(wf, "rollback.yml", "rollback", _is_dev_guard).update(
            {"if": f"${{{{ inputs.stack != 'prod' && vars.{DEV_OPT_IN} != 'true' }}}}"}
        ),
        "refuses staging without the opt-in",
    ),
    (
        "environment",
        lambda wf: _job(wf, "deploy-stack.yml", "up").pop("environment"),
        "outside a GitHub environment",
    ),
    (
        "environment",
        lambda wf: _job(wf, "deploy-stack.yml", "up").update(environment={"name": "production-ish"}),
        "is not the stack's",
    ),
    ("environment", lambda wf: _job(wf, "rollback.yml", "rollback").pop("environment"), "outside a GitHub"),
    (
        "policy_packs",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "up")["with"].update(
            policyPacks="policies/baseline"
        ),
        "not both packs",
    ),
    (
        "policy_packs",
        lambda wf: _pulumi_step(wf, "pull-request.yml", "cloud-preview", "preview")["with"].pop(
            "policyPackConfigs"
        ),
        "0 policyPackConfigs",
    ),
    (
        "policy_packs",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "up")["with"].update(
            policyPackConfigs="policies/compatibility_gate/config/dev.json\npolicies/baseline/config/dev.json"
        ),
        "should be",
    ),
    (
        "policy_packs",
        lambda wf: _pulumi_step(wf, "rollback.yml", "rollback", "up")["with"].update(
            policyPacks="policies/baseline\npolicies/compatibility_gate"
        ),
        "not both packs",
    ),
    (
        "policy_packs",
        lambda wf: _drop(wf, "pull-request.yml", "cloud-preview", lambda s: "setup-venvs.sh" in run_text(s)),
        "venvs are not set up",
    ),
    (
        "policy_packs",
        lambda wf: _step(
            wf, "checks.yml", "test-and-offline-preview", lambda s: "-m offline" in run_text(s)
        ).update(run="./venv/bin/python -m offline --stack all --policy-pack policies/baseline"),
        "without compatibility_gate",
    ),
    (
        "policy_packs",
        lambda wf: _job(wf, "deploy-stack.yml", "up")["steps"].append(
            {"name": "cli", "run": 'pulumi up --yes --stack "$STACK"'}
        ),
        "without --policy-pack",
    ),
    (
        "preview_before_up",
        lambda wf: _drop(wf, "deploy-stack.yml", "up", lambda s: pulumi_command(s) == "preview"),
        "no policy-pack preview right before pulumi up",
    ),
    (
        "preview_before_up",
        lambda wf: _swap_preview_and_up(wf, "deploy-stack.yml", "up"),
        "no policy-pack preview right before pulumi up",
    ),
    (
        "preview_before_up",
        lambda wf: _drop(wf, "rollback.yml", "rollback", lambda s: s.get("id") == "preview-fallback"),
        "('Start the API in the fallback release' runs in between)",
    ),
    (
        "preview_before_up",
        lambda wf: _move_before_first_up(
            wf, "rollback.yml", "rollback", lambda s: 'STOP_CONFIG_PATH" true' in run_text(s)
        ),
        "('Set the stop setting' runs in between)",
    ),
    (
        "preview_before_up",
        lambda wf: _baseline_only(wf, "preview"),
        "the preview differs from the update in policyPacks",
    ),
    # Preview and update equally without the gate: found as the preview's problem, not only as a difference.
    (
        "preview_before_up",
        lambda wf: _baseline_only(wf, "preview", "up"),
        "its preview: policyPacks ['policies/baseline'] are not both packs",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "preview")["with"].update(
            policyPackConfigs="policies/compatibility_gate/config/dev.json\npolicies/baseline/config/dev.json"
        ),
        "its preview: config 'policies/compatibility_gate/config/dev.json' for policies/compatibility_gate",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "preview")["with"].update(
            {"stack-name": "dev"}
        ),
        "differs from the update in stack-name",
    ),
    (
        "preview_before_up",
        lambda wf: _fallback_step(wf, "preview")["with"].pop("work-dir"),
        "differs from the update in work-dir",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "up")["with"].update(target="urn:pulumi:x"),
        "differs from the update in target",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "up").pop("if"),
        "not conditioned on its preview",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "up").update(
            {"if": "${{ always() && steps.preview.outcome == 'success' }}"}
        ),
        "not conditioned on its preview",
    ),
    (
        "preview_before_up",
        lambda wf: _fallback_step(wf, "up").update(
            {"if": "${{ steps.preview-fallback.outcome == 'success' || inputs.stop_only }}"}
        ),
        "not conditioned on its preview",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "up").update(
            {"if": "${{ steps.preview.conclusion == 'success' }}"}
        ),
        "not conditioned on its preview",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "preview").pop("id"),
        "its preview has no id",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "preview").update({"continue-on-error": True}),
        "continue-on-error on its preview",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "rollback.yml", "rollback", "preview")["with"].update(
            {"continue-on-error": "${{ inputs.stop_only }}"}
        ),
        "continue-on-error on its preview",
    ),
    (
        "preview_before_up",
        lambda wf: _pulumi_step(wf, "deploy-stack.yml", "up", "up").update({"continue-on-error": True}),
        "continue-on-error hides a failed update",
    ),
    (
        "preview_before_up",
        lambda wf: _job(wf, "rollback.yml", "rollback")["steps"].append(
            {"name": "cli", "run": 'pulumi config set x 1 && pulumi up --yes --stack "$STACK"'}
        ),
        "pulumi up from a script",
    ),
    (
        "secret_echo",
        lambda wf: _job(wf, "deploy-stack.yml", "up")["steps"].append(
            {"name": "debug", "run": 'echo "token: ${{ secrets.PULUMI_ACCESS_TOKEN }}"'}
        ),
        "interpolated",
    ),
    (
        "secret_echo",
        lambda wf: _job(wf, "deploy-stack.yml", "up")["steps"].append(
            {"name": "debug", "run": "echo $ARM_CLIENT_ID"}
        ),
        "prints $ARM_CLIENT_ID",
    ),
    (
        "secret_echo",
        lambda wf: _job(wf, "rollback.yml", "rollback")["steps"].append(
            {"name": "debug", "run": "printf '%s' \"${PULUMI_ACCESS_TOKEN}\" | base64"}
        ),
        "prints $PULUMI_ACCESS_TOKEN",
    ),
    (
        "secret_echo",
        lambda wf: _job(wf, "deploy-stack.yml", "up")["steps"].append(
            {"name": "out", "run": "pulumi stack output --json --show-secrets"}
        ),
        "--show-secrets",
    ),
    (
        "secret_echo",
        lambda wf: _job(wf, "deploy-stack.yml", "up")["steps"].append(
            {"name": "trace", "run": "set -euxo pipefail"}
        ),
        "xtrace",
    ),
    (
        "fork_safe",
        lambda wf: _job(wf, "checks.yml", "test-and-offline-preview").update(
            env={"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
        ),
        "refers to secrets",
    ),
    (
        "fork_safe",
        lambda wf: _job(wf, "checks.yml", "test-and-offline-preview")["permissions"].update(
            {"id-token": "write"}
        ),
        "id-token",
    ),
    (
        "fork_safe",
        lambda wf: _job(wf, "pull-request.yml", "checks").update(secrets="inherit"),
        "passes secrets",
    ),
    (
        "fork_safe",
        lambda wf: _job(wf, "pull-request.yml", "checks").update({"with": {"preview-must-pass": False}}),
        "ignores mandatory violations",
    ),
    (
        "fork_safe",
        lambda wf: _job(wf, "pull-request.yml", "cloud-preview").update({"if": "${{ !cancelled() }}"}),
        "without checking for cloud credentials",
    ),
    ("fork_safe", lambda wf: _job(wf, "pull-request.yml", "cloud-credentials").pop("if"), "from forks"),
    (
        "fork_safe",
        lambda wf: wf["pull-request.yml"].update(on={"pull_request_target": {"branches": ["main"]}}),
        "pull_request_target",
    ),
    ("oidc", lambda wf: _job(wf, "deploy-stack.yml", "up")["permissions"].pop("id-token"), "id-token: write"),
    (
        "oidc",
        lambda wf: _drop(wf, "pull-request.yml", "cloud-preview", lambda s: is_action(s, "azure/login")),
        "no azure/login",
    ),
    (
        "oidc",
        lambda wf: _step(wf, "rollback.yml", "rollback", lambda s: is_action(s, "azure/login")).update(
            {"with": {"creds": "${{ secrets.AZURE_CREDENTIALS }}"}}
        ),
        "stored credentials",
    ),
    ("oidc", lambda wf: _job(wf, "deploy-stack.yml", "up")["env"].pop("ARM_USE_OIDC"), "ARM_USE_OIDC"),
    (
        "identities",
        lambda wf: _login(wf, "pull-request.yml", "cloud-preview").update(client_id("AZURE_CLIENT_ID")),
        "not only as secrets.AZURE_PREVIEW_CLIENT_ID",
    ),
    (
        "identities",
        lambda wf: _job(wf, "pull-request.yml", "cloud-preview")["env"].update(
            ARM_CLIENT_ID="${{ secrets.AZURE_CLIENT_ID }}"
        ),
        "pull-request.yml:cloud-preview: signs in as ['AZURE_CLIENT_ID', 'AZURE_PREVIEW_CLIENT_ID']",
    ),
    # The workflows as they were: one identity for previews and deploys.
    (
        "identities",
        _one_identity_for_everything,
        "pull-request.yml:cloud-preview: refers to the deploy identity",
    ),
    (
        "identities",
        lambda wf: _job(wf, "pull-request.yml", "cloud-preview").update(environment="prod"),
        "runs in environment 'prod'",
    ),
    (
        "identities",
        lambda wf: _login(wf, "deploy-stack.yml", "up").update(client_id("AZURE_PREVIEW_CLIENT_ID")),
        "deploy-stack.yml:up: signs in as ['AZURE_CLIENT_ID', 'AZURE_PREVIEW_CLIENT_ID']",
    ),
    (
        "identities",
        lambda wf: _job(wf, "rollback.yml", "rollback")["env"].update(
            ARM_CLIENT_ID="${{ secrets.AZURE_PREVIEW_CLIENT_ID }}"
        ),
        "rollback.yml: uses the pull requests' preview identity",
    ),
    (
        "identities",
        lambda wf: _job(wf, "deploy-stack.yml", "up").pop("environment"),
        "deploy-stack.yml:up: signs in outside a GitHub environment",
    ),
    (
        "identities",
        lambda wf: _job(wf, "rollback.yml", "rollback").update(environment={"name": "prod"}),
        "signs in in environment 'prod', not the job's stack",
    ),
    (
        "identities",
        lambda wf: _job(wf, "deploy.yml", "staging")["secrets"].update(
            AZURE_CLIENT_ID="${{ secrets.AZURE_PREVIEW_CLIENT_ID }}"
        ),
        "deploy.yml: uses the pull requests' preview identity",
    ),
    (
        "identities",
        lambda wf: _step(wf, "pull-request.yml", "cloud-credentials", lambda s: s.get("id") == "probe")[
            "env"
        ].update(HAS_AZURE="${{ secrets.AZURE_TENANT_ID != '' && secrets.AZURE_SUBSCRIPTION_ID != '' }}"),
        "does not check that AZURE_PREVIEW_CLIENT_ID is set",
    ),
    (
        "permissions_pinning",
        lambda wf: _step(wf, "security.yml", "secret-scan", lambda s: "gitleaks" in uses(s)).update(
            uses="gitleaks/gitleaks-action@main"
        ),
        "not pinned",
    ),
    ("permissions_pinning", lambda wf: wf["deploy.yml"].pop("permissions"), "no top-level permissions"),
    (
        "permissions_pinning",
        lambda wf: _job(wf, "checks.yml", "test-and-offline-preview")["permissions"].update(contents="write"),
        "contents: write",
    ),
    (
        "permissions_pinning",
        lambda wf: _job(wf, "security.yml", "iac-scan").pop("permissions"),
        "no job-level",
    ),
    ("concurrency", lambda wf: _job(wf, "deploy-stack.yml", "up").pop("concurrency"), "not per stack"),
    (
        "concurrency",
        lambda wf: _job(wf, "rollback.yml", "rollback")["concurrency"].update({"cancel-in-progress": True}),
        "could be cancelled",
    ),
    (
        "concurrency",
        lambda wf: _job(wf, "rollback.yml", "rollback")["concurrency"].update(
            group="rollback-${{ inputs.stack }}"
        ),
        "share the group",
    ),
    (
        "validation",
        lambda wf: _drop(wf, "deploy-stack.yml", "up", lambda s: "validate_deployment.py" in run_text(s)),
        "no health validation",
    ),
    (
        "validation",
        lambda wf: _drop(wf, "deploy-stack.yml", "up", lambda s: is_action(s, "actions/upload-artifact")),
        "not uploaded",
    ),
    (
        "validation",
        lambda wf: _step(
            wf, "rollback.yml", "rollback", lambda s: "validate_deployment.py" in run_text(s)
        ).update(run="python3 .github/scripts/validate_deployment.py --url https://example.test"),
        "with a deadline",
    ),
    (
        "rollback",
        lambda wf: _drop(wf, "rollback.yml", "rollback", lambda s: 'STOP_CONFIG_PATH" true' in run_text(s)),
        "stop setting",
    ),
    (
        "rollback",
        lambda wf: wf["rollback.yml"].update(on={"workflow_dispatch": {}, "push": {}}),
        "manual only",
    ),
    (
        "rollback",
        lambda wf: _job(wf, "rollback.yml", "rollback").update(
            steps=list(reversed(steps(_job(wf, "rollback.yml", "rollback"))))
        ),
        "out of order",
    ),
]


@pytest.mark.parametrize(
    ("rule", "breakage", "expected"),
    BREAKAGES,
    ids=[f"{rule}-{i}" for i, (rule, _, _) in enumerate(BREAKAGES)],
)
def test_each_rule_catches_a_broken_copy(
    workflows: Workflows, rule: str, breakage: Callable[[Workflows], None], expected: str
) -> None:
    broken = copy.deepcopy(workflows)
    breakage(broken)
    problems = RULES[rule](broken)
    assert any(expected in p for p in problems), problems


def test_every_rule_has_a_negative_case() -> None:
    assert {rule for rule, _, _ in BREAKAGES} == set(RULES)


def test_the_preview_rule_has_updates_to_check(workflows: Workflows) -> None:
    # The rule passes trivially on a job without `pulumi up`; these are the updates it must be seeing.
    counts = {
        f"{name}:{job_id}": [pulumi_command(s) for s in steps(job)].count("up")
        for name, job_id, job in jobs(workflows)
        if any(pulumi_command(s) == "up" for s in steps(job))
    }
    assert counts == {"deploy-stack.yml:up": 1, "rollback.yml:rollback": 2}


def test_the_on_key_is_read_as_a_string(workflows: Workflows) -> None:
    # With PyYAML's default resolver `on:` becomes True and every trigger check above would be vacuous.
    for name, doc in workflows.items():
        assert "on" in doc, name
        assert True not in doc, name


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # An unset variable is an empty string: `!= 'false'` is then true, the trap the opt-in rules catch.
        (f"${{{{ vars.{DEV_OPT_IN} != 'false' }}}}", True),
        (f"${{{{ vars.{DEV_OPT_IN} == 'true' }}}}", False),
        ("vars.OTHER == ''", True),
        # Strings compare without case, as on GitHub.
        ("inputs.stack == 'DEV'", True),
        # && and || give one of their operands, which is how the matrix picks its list.
        ("inputs.stack == 'prod' && 'a' || 'b'", "b"),
        ("inputs.stack == 'dev' && 'a' || 'b'", "a"),
        ("!(inputs.stack == 'dev') || inputs.missing", None),
        ('fromJSON(\'["staging", "prod"]\')', ["staging", "prod"]),
        ("'it''s'", "it's"),
        ("null == 0", True),
    ],
)
def test_the_expression_evaluator(expression: str, expected: object) -> None:
    assert evaluate(expression, {"vars": {}, "inputs": {"stack": "dev"}}) == expected


@pytest.mark.parametrize(
    "expression",
    ["steps.preview.outcome == 'success'", "always()", "inputs.stack ==", "'x' 'y'", "${{ a }} b", "a < b"],
)
def test_the_expression_evaluator_refuses_what_it_does_not_know(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, {"vars": {}, "inputs": {"stack": "dev"}})
