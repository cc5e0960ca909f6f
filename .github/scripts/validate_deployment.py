#!/usr/bin/env python3
"""Post-deploy validation: the API's health endpoints and the Hangfire dashboard answer.

Reads the API's base URL from the stack outputs that the workflow saved with
``pulumi stack output --json`` (the output's name is a parameter, so the program can rename it), then polls
every path until each one has answered with an accepted status or the overall deadline has passed. A fresh
App Service can take minutes to warm up, hence retries; a deadline, not a retry count, bounds the job.

Standard library only: it runs on the bare runner Python, before or without the project's venv.

Exit codes: 0 all paths answered, 1 some path never answered in time, 2 bad input (no such output, a
masked or malformed URL).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

# Health endpoints must be healthy (Degraded also answers 200 in ASP.NET Core). Outside Development the
# Hangfire dashboard requires a signed-in admin, so a login redirect or 401/403 proves it is mounted and
# its storage answered; 404 (not mapped) and 5xx (storage down) do not.
DEFAULT_CHECKS: tuple[str, ...] = (
    "/health=200",
    "/health/ready=200",
    "/health/live=200",
    "/hangfire=200,302,401,403",
)


class InputError(Exception):
    """The validation could not even start; retrying would not help."""


@dataclass(frozen=True)
class Check:
    path: str
    accepted: frozenset[int]

    @classmethod
    def parse(cls, spec: str) -> Check:
        path, sep, codes = spec.partition("=")
        if not path.startswith("/"):
            raise InputError(f"check {spec!r}: the path must start with '/'")
        try:
            accepted = frozenset(int(c) for c in codes.split(",")) if sep else frozenset({200})
        except ValueError:
            raise InputError(f"check {spec!r}: expected PATH=CODE[,CODE...]") from None
        if not accepted or any(not 100 <= c <= 599 for c in accepted):
            raise InputError(f"check {spec!r}: status codes must be between 100 and 599")
        return cls(path, accepted)


@dataclass
class Result:
    check: Check
    url: str
    attempts: int = 0
    last: str = "not tried"
    ok: bool = False
    history: list[str] = field(default_factory=list)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect to the identity provider's login page is the answer we want to see, not follow.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _probe(url: str, timeout: float) -> tuple[int | None, str]:
    """One GET; returns (status or None, a short description for the log)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"User-Agent": "meajudaai-infra-validate/1"})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return None, f"no answer ({reason})"


def api_url_from_outputs(outputs_file: Path, output_name: str) -> str:
    try:
        outputs = json.loads(outputs_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"stack outputs file {outputs_file} does not exist") from None
    except json.JSONDecodeError as error:
        raise InputError(f"stack outputs file {outputs_file} is not JSON: {error}") from None
    if not isinstance(outputs, dict):
        raise InputError(f"stack outputs file {outputs_file} must hold a JSON object")
    if output_name not in outputs:
        names = ", ".join(sorted(outputs)) or "none"
        raise InputError(f"the stack has no output {output_name!r} (outputs: {names})")
    value = outputs[output_name]
    if value == "[secret]":
        raise InputError(f"output {output_name!r} is a secret; export the API URL as a plain output")
    if not isinstance(value, str):
        raise InputError(f"output {output_name!r} must be a URL string, got {type(value).__name__}")
    return value


def check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"API URL {url!r} is not an absolute http(s) URL")
    # urljoin drops the last segment of a base without a trailing slash; keep a path prefix intact.
    return url if url.endswith("/") else url + "/"


def validate(
    base_url: str,
    checks: Sequence[Check],
    *,
    deadline_seconds: float,
    interval_seconds: float,
    request_timeout: float,
    probe: Callable[[str, float], tuple[int | None, str]] = _probe,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
) -> list[Result]:
    """Polls each check until it passes; all checks share one deadline."""
    base = check_base_url(base_url)
    results = [Result(c, urljoin(base, c.path.lstrip("/"))) for c in checks]
    give_up_at = clock() + deadline_seconds
    while True:
        for result in results:
            if result.ok:
                continue
            remaining = give_up_at - clock()
            status, description = probe(result.url, max(0.1, min(request_timeout, remaining)))
            result.attempts += 1
            result.last = description
            result.ok = status is not None and status in result.check.accepted
            if not result.history or result.history[-1] != description:
                result.history.append(description)
            mark = "ok " if result.ok else ".. "
            log(f"{mark} {result.check.path}: {description} (attempt {result.attempts})")
        if all(r.ok for r in results):
            return results
        if clock() + interval_seconds > give_up_at:
            return results
        sleep(interval_seconds)


def markdown_report(stack: str, base_url: str, results: Sequence[Result]) -> str:
    lines = [
        f"### Post-deploy validation: `{stack}`",
        "",
        f"API: {base_url}",
        "",
        "| path | accepted | result | attempts |",
        "|---|---|---|---|",
    ]
    for r in results:
        accepted = ", ".join(str(c) for c in sorted(r.check.accepted))
        mark = "pass" if r.ok else "FAIL"
        lines.append(f"| `{r.check.path}` | {accepted} | {mark}: {r.last} | {r.attempts} |")
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--outputs", type=Path, help="JSON file written by `pulumi stack output --json`")
    source.add_argument("--url", help="the API's base URL, instead of reading it from stack outputs")
    parser.add_argument("--output-name", default="apiUrl", help="stack output holding the API's base URL")
    parser.add_argument("--stack", default=os.environ.get("STACK_NAME", "?"), help="for the report only")
    parser.add_argument(
        "--check",
        action="append",
        metavar="PATH=CODES",
        help="path and accepted statuses, repeatable (default: " + " ".join(DEFAULT_CHECKS) + ")",
    )
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for the whole validation")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between rounds")
    parser.add_argument("--request-timeout", type=float, default=10.0, help="seconds per request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.deadline <= 0 or args.interval < 0 or args.request_timeout <= 0:
            raise InputError("--deadline and --request-timeout must be positive, --interval not negative")
        checks = [Check.parse(spec) for spec in (args.check or DEFAULT_CHECKS)]
        base_url = args.url if args.url else api_url_from_outputs(args.outputs, args.output_name)
        check_base_url(base_url)
    except InputError as error:
        print(f"::error title=validation input::{error}", file=sys.stderr)
        return 2
    print(f"validating {base_url} for up to {args.deadline:.0f}s")
    results = validate(
        base_url,
        checks,
        deadline_seconds=args.deadline,
        interval_seconds=args.interval,
        request_timeout=args.request_timeout,
    )
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(markdown_report(args.stack, base_url, results))
    failed = [r for r in results if not r.ok]
    for r in failed:
        seen = "; ".join(r.history)
        print(
            f"::error title=validation::{r.check.path} never answered with {sorted(r.check.accepted)}: {seen}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
