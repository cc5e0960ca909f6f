"""Every citation a reader can follow: no tracked text cites a document that is not in this repository.

Two kinds of problem are caught in every tracked text file (``git ls-files``; ``tests/fixtures`` and binary
files are skipped, and so is this file, whose planted examples are the point):

* citations of the private fact sheet the project was first written from: its section letters
  ("facts b", "facts (h)", "reference facts, section g"), its surprise numbers ("facts f.12", "(f.7)"),
  its file names, and the platform's deleted runbook documents named as if they were here (their record
  in this repository is docs/runbook.md). A platform document is fine on a line that says which
  repository it belongs to (``github.com/...`` or ``frigini/MeAjudaAi``);
* paths and links that lead nowhere: a ``docs/<file>.<ext>`` path that does not exist in this repository,
  and, in Markdown, a relative link to a missing file or to an anchor the target's headings do not
  produce (GitHub's heading ids).
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()
SKIPPED_PREFIXES = ("tests/fixtures/",)

# A line naming another repository may name that repository's documents.
OTHER_REPOSITORY = re.compile(r"github\.com/|frigini/MeAjudaAi", re.IGNORECASE)

SHEET_CITATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bfacts?,?\s+\(?[a-h]\)?(?=[\s,;:)'\"]|$)"), "cites a section of the fact sheet"),
    (re.compile(r"\bfacts?,?\s+section\b|\breference\s+facts\b", re.IGNORECASE), "cites the fact sheet"),
    (re.compile(r"\bfacts?,?\s+f\.\d+|(?<![\w.])f\.\d{1,2}(?![\w.])"), "cites a surprise of the fact sheet"),
    (
        re.compile(r"\bfacts?[\s-]sheet\b|infra-facts|pulumi-notes|shared/reference", re.IGNORECASE),
        "names the fact sheet or its notes",
    ),
    (re.compile(r"\(lead\)"), "is a note to this project's developers"),
)
# The platform's runbook documents, deleted upstream; docs/runbook.md is this project's record of them.
UPSTREAM_DOCUMENTS = re.compile(r"hangfire-npgsql-compatibility|deployment[_-]environments")

DOCS_PATH = re.compile(r"(?<![\w/.-])docs/[\w-]+(?:/[\w-]+)*(?:\.[\w-]+)+")
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:name|id)=\"([^\"]+)\"")


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    return sorted(p for p in listed.decode("utf-8").split("\0") if p)


def read_text(path: str) -> str | None:
    """The file's text, or None for a binary (a NUL byte, or not UTF-8) or a file deleted in the tree."""
    try:
        data = (ROOT / path).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def github_slug(heading: str) -> str:
    """The id GitHub gives a Markdown heading: link text kept, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def outside_fences(text: str) -> list[tuple[int, str]]:
    """(line number, line) for the lines of a Markdown text that are not inside a fenced code block."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in outside_fences(markdown):
        found.update(HTML_ANCHOR.findall(line))
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def citation_problems(path: str, text: str, exists: Callable[[str], bool]) -> list[str]:
    """Citations of the fact sheet, unqualified platform documents and `docs/` paths that do not exist."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{path}:{number}"
        for pattern, what in SHEET_CITATIONS:
            match = pattern.search(line)
            if match:
                problems.append(f"{where}: {what}: {match.group(0)!r}")
        other_repository = bool(OTHER_REPOSITORY.search(line))
        match = UPSTREAM_DOCUMENTS.search(line)
        if match and not other_repository:
            problems.append(
                f"{where}: names the platform's document {match.group(0)!r} without its repository "
                "(cite docs/runbook.md, or say github.com/frigini/MeAjudaAi and the commit)"
            )
        if other_repository:
            continue
        for found in DOCS_PATH.finditer(line):
            if not exists(found.group(0)):
                problems.append(f"{where}: {found.group(0)} does not exist in this repository")
    return problems


def link_problems(
    path: str, text: str, exists: Callable[[str], bool], read: Callable[[str], str | None]
) -> list[str]:
    """Relative Markdown links to missing files, or to anchors their target does not have."""
    problems = []
    for number, raw in outside_fences(text):
        line = CODE_SPAN.sub("code", raw)  # `[a](b)` in backticks is code, not a link
        for found in MARKDOWN_LINK.finditer(line):
            target = found.group(1)
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("//"):
                continue  # a URL (https:, mailto:)
            file_part, _, anchor = target.partition("#")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), unquote(file_part)))
            if file_part and (resolved.startswith("../") or not exists(resolved)):
                problems.append(f"{path}:{number}: link to {target}: no such file in this repository")
                continue
            if not anchor:
                continue
            linked = path if not file_part else resolved
            content = read(linked) if linked.endswith(".md") else None
            if content is not None and unquote(anchor).lower() not in anchors(content):
                problems.append(f"{path}:{number}: link to {target}: {linked} has no heading #{anchor}")
    return problems


def repository_problems() -> list[str]:
    files = tracked_files()
    known = set(files) | {posixpath.dirname(p) for p in files}

    def exists(relative: str) -> bool:
        relative = relative.rstrip("/")
        return relative in known or (ROOT / relative).exists()

    problems = []
    for path in files:
        if path == SELF or path.startswith(SKIPPED_PREFIXES):
            continue
        text = read_text(path)
        if text is None:
            continue
        problems += citation_problems(path, text, exists)
        if path.endswith(".md"):
            problems += link_problems(path, text, exists, read_text)
    return problems


def test_the_repository_cites_only_what_a_reader_can_follow() -> None:
    problems = repository_problems()
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the check itself, on planted examples


def _exists(relative: str) -> bool:
    return relative in {"docs", "docs/runbook.md", "docs/monitoring.md", "README.md"}


def _read(relative: str) -> str | None:
    return {"docs/runbook.md": "# Runbook\n\n## Rollback\n\n### Steps\n\n```\n# not a heading\n```\n"}.get(
        relative
    )


@pytest.mark.parametrize(
    "line",
    [
        "no Bicep resource carries tags (facts b).",
        "# facts (h): uniqueString of this resource group id",
        "the production AppHost runs Redis as a container (facts c, f.12), and",
        "its conditions are uneven (f.5). The program",
        "at each release tag; reference facts, section g). A version",
        "uses one (kv-meajudaai, facts d 'Names used in docs')",
        "facts, section d",
        "    source: docs/hangfire-npgsql-compatibility.md @ c2f3a2362, rollback step 3",
        "see deployment_environments.md for the checklist",
        "as /work/shared/reference/meajudaai-infra-facts.md says",
        "For the program (lead): wire this in.",
        "contract in docs/alerts.md.",
        "the notes in docs/ops/runbook-old.md",
    ],
)
def test_a_planted_citation_is_caught(line: str) -> None:
    assert citation_problems("docs/example.md", f"text\n{line}\n", _exists)


@pytest.mark.parametrize(
    "line",
    [
        "## Release facts and the gate",
        "stamps the facts and the evidence on what runs the release, `gate.facts.resolve_release`",
        "facts = resolve_release(release, base_dir)",
        "the runbook's rollback step 1 (docs/runbook.md); contract: docs/monitoring.md.",
        "[`docs/hangfire-npgsql-compatibility.md`](https://github.com/frigini/MeAjudaAi/blob/c2f3a2362/"
        "docs/hangfire-npgsql-compatibility.md)",
        "docs/ci-cd.md of frigini/MeAjudaAi @ c2f3a2362, and docs/infrastructure.md there",
        "the `PackageReference` of src/Hangfire.PostgreSql/Hangfire.PostgreSql.csproj (xunit/xunit#1052)",
        "globs such as docs/*.md or docs/... are not paths",
    ],
)
def test_a_followable_text_passes(line: str) -> None:
    assert citation_problems("docs/example.md", f"text\n{line}\n", _exists) == []


@pytest.mark.parametrize(
    ("link", "broken"),
    [
        ("[steps](runbook.md#steps)", False),
        ("[rollback](../docs/runbook.md#rollback)", False),
        ("[the runbook](runbook.md)", False),
        ("[site](https://example.org/x.md#nowhere)", False),
        ("[readme](../README.md)", False),
        ("[gone](hangfire-npgsql-compatibility.md)", True),
        ("[anchor](runbook.md#nowhere)", True),
        ("[fenced](runbook.md#not-a-heading)", True),
        ("[out](../../elsewhere.md)", True),
    ],
)
def test_markdown_links_are_checked(link: str, broken: bool) -> None:
    problems = link_problems("docs/example.md", f"See {link}.\n", _exists, _read)
    assert bool(problems) is broken, problems


def test_links_inside_code_are_not_links() -> None:
    assert link_problems("docs/example.md", "```\n[x](missing.md)\n```\n", _exists, _read) == []
    assert link_problems("docs/example.md", "pattern `^[a-z](?:[-a-z]*)$`\n", _exists, _read) == []
    assert link_problems("docs/example.md", "[`x`](missing.md)\n", _exists, _read)


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Rollback (`rollback.yml`)", "rollback-rollbackyml"),
        ("The stop setting (runbook rollback step 1)", "the-stop-setting-runbook-rollback-step-1"),
        ("SQL checks (`monitoring/sql/`)", "sql-checks-monitoringsql"),
        ("dev's database", "devs-database"),
        ("A [linked](x.md) heading", "a-linked-heading"),
    ],
)
def test_github_heading_ids(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_repeated_headings_get_numbered_ids() -> None:
    assert {"notes", "notes-1"} <= anchors("## Notes\n\ntext\n\n## Notes\n")
